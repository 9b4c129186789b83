"""KPI monitoring: each KPI against its baseline and target trajectory, its status with the rule
stated, drill-down along its hierarchy, experiment arms, and its goal's KPI tree. In live mode
the charts refresh themselves and show new values as soon as they are loaded, from anywhere."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from components import kpi_data
from components.guard import guard
from components.kpi_drill import compare_segments, drill_down
from components.kpi_headline import LIVE_SECONDS, headline
from components.kpi_views import default_range, kpi_facts, tree_dot, tree_rows
from components.navigation import BY_KEY
from components.runtime import database
from components.text import md
from flightdeck.alerts import inbox
from flightdeck.core.permissions import can
from flightdeck.kpis import kpi_status, series_reader, tree
from flightdeck.kpis.entities import Kpi

AUTO_WEEKLY_AFTER_DAYS = 92  # beyond a quarter, weekly values read better than daily noise
GRAIN_OPTIONS = {"auto": "Auto", "day": "Day", "week": "Week", "month": "Month"}

user = guard("monitor")
st.title("KPI monitoring", anchor=False)

stamp = kpi_data.stamp()
every = kpi_data.all_kpis(stamp)
if not every:
    st.info("No KPIs yet. Business owners define them on the KPIs page.", icon=":material/account_tree:")
    st.stop()
ordered = [node.kpi for root in tree.tree(every) for node in root.walk()]  # goal by goal, tree order
by_key = {k.key: k for k in ordered}
names = {k.id: k.name for k in every}


def favourite() -> str:
    """With no KPI asked for: the user's top-level KPI with the worst open alert, else their first."""
    roots = [k for k in ordered if k.parent_id is None]
    candidates = [k for k in roots if user.id in k.owner_ids] or roots or ordered
    open_alerts = inbox.open_alerts_for(database(), "kpi", [k.id for k in candidates])

    def urgency(kpi: Kpi) -> int:
        severities = [a.severity for a in open_alerts.get(kpi.id, [])]
        return 0 if "critical" in severities else 1 if severities else 2

    return min(candidates, key=urgency).key


top = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
keys = list(by_key)
wanted = st.query_params.get("kpi")
key = top[0].selectbox(
    "KPI",
    keys,
    index=keys.index(wanted if wanted in by_key else favourite()),
    format_func=lambda k: f"{by_key[k].goal_title} · {by_key[k].name}",
)
st.query_params["kpi"] = key
kpi = by_key[key]
data = kpi_data.extent(kpi.id, stamp)
first, last = data.first, data.last
start, end = default_range(last)
if first is not None and start < first:
    start = first
chosen = top[1].date_input("Period", value=(start, end), format="YYYY-MM-DD", key=f"range_{kpi.id}")
if isinstance(chosen, tuple) and len(chosen) == 2:
    start, end = chosen
grain_choice = top[2].selectbox("Grain", list(GRAIN_OPTIONS), format_func=GRAIN_OPTIONS.get)
live = top[3].toggle("Live", help=f"Refresh every {LIVE_SECONDS} s: new values appear without reloading.")
hierarchy = next((h for h in kpi_data.hierarchies(stamp) if h.id == kpi.hierarchy_id), None)

with st.expander("How the status is decided", icon=":material/rule:"):
    st.markdown(kpi_status.STATUS_RULE)

if last is None:
    st.info(
        f"{md(kpi.name)} has no data yet. Load a file on the Load data page, or from the command line with "
        f"`python -m flightdeck ingest kpi {kpi.key} FILE`.",
        icon=":material/hourglass_empty:",
    )
    if can(user, "kpi.ingest", kpi) and not kpi.is_computed:
        st.page_link(
            BY_KEY["ingest"].path, label="Load data", icon=":material/upload_file:", query_params={"kpi": key}
        )


requested = kpi.frequency if grain_choice == "auto" else grain_choice
if grain_choice == "auto" and (end - start).days > AUTO_WEEKLY_AFTER_DAYS:
    requested = series_reader.coarser("week", kpi.frequency)
grain = series_reader.choose_grain(requested, kpi.frequency, start, end)  # of every chart below


@st.fragment(run_every=timedelta(seconds=LIVE_SECONDS) if live else None)
def live_headline() -> None:
    """In live mode this reruns on its own."""
    headline(kpi, start, end, grain, live)


if last is not None:
    live_headline()

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Drill down", anchor=False)
        if hierarchy is None:
            st.caption("This KPI is observed for the whole business only.")
        else:
            drill_down(kpi, hierarchy, grain, start, end, last, stamp)
    with right:
        st.subheader("Compare segments", anchor=False)
        compare_segments(kpi, hierarchy, data, grain, start, end, stamp)

goal_kpis = [k for k in every if k.goal_id == kpi.goal_id]
roots = tree.tree(goal_kpis)
statuses = kpi_data.statuses(tuple(k.id for k in goal_kpis), stamp)
st.subheader(f"KPI tree of “{md(kpi.goal_title)}”", anchor=False)
st.graphviz_chart(tree_dot(roots, statuses, kpi.id), alt="The goal's KPI tree, listed in the table below.")
st.dataframe(pd.DataFrame(tree_rows(roots, statuses)).drop(columns=["Key"]), hide_index=True, width="stretch")
with st.expander("Definition and plan", icon=":material/description:"):
    kpi_facts(kpi, names, hierarchy.name if hierarchy else "whole business only")
