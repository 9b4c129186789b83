"""KPI monitoring: each KPI against its baseline and target trajectory, its status with the rule
stated, drill-down along its hierarchy, experiment arms, and its goal's KPI tree. In live mode
the charts refresh themselves and show new values as soon as they are loaded, from anywhere."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from components import kpi_data
from components.guard import guard
from components.kpi_views import (
    comparison_figure,
    default_range,
    difference_figure,
    kpi_facts,
    metric_label,
    metric_value,
    status_badge,
    trajectory_figure,
    tree_dot,
    tree_rows,
)
from components.navigation import BY_KEY
from components.runtime import database
from components.text import md
from flightdeck.alerts import inbox
from flightdeck.core.formatting import format_delta, format_money, format_value
from flightdeck.core.permissions import can
from flightdeck.kpis import kpi_status, series_reader, tree
from flightdeck.kpis.entities import Kpi

LIVE_SECONDS = 5
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


def grain_for(frequency: str) -> str:
    requested = frequency if grain_choice == "auto" else grain_choice
    if grain_choice == "auto" and (end - start).days > AUTO_WEEKLY_AFTER_DAYS:
        requested = series_reader.coarser("week", frequency)
    return series_reader.choose_grain(requested, frequency, start, end)


@st.fragment(run_every=timedelta(seconds=LIVE_SECONDS) if live else None)
def headline() -> None:
    """Status, figures and the main chart; in live mode this reruns on its own."""
    now = kpi_data.stamp()
    status = kpi_data.statuses((kpi.id,), now)[kpi.id]
    extent = kpi_data.extent(kpi.id, now)
    head, badge = st.columns([4, 1], vertical_alignment="center")
    head.subheader(md(kpi.name), anchor=False)
    with badge:
        status_badge(status)
    for reason in status.reasons:
        st.caption(md(reason))
    cells = st.columns(5)
    unit = kpi.unit
    window = f"{status.window[0]:%d %b} – {status.window[1]:%d %b %Y}" if status.window else "no data yet"
    cells[0].metric(
        metric_label("Latest 28 days", unit),
        metric_value(status.current, unit),
        help=f"Mean over {window}.",
        border=True,
    )
    ahead = None
    if status.expected is not None and status.current is not None:
        ahead = (status.current - status.expected) * (1 if kpi.up_is_good else -1)
    cells[1].metric(
        metric_label("Expected by now", unit),
        metric_value(status.expected, unit),
        delta=None
        if ahead is None
        else f"{format_delta(abs(ahead), unit)} {'ahead' if ahead >= 0 else 'behind'}",
        delta_color="normal" if ahead is None or ahead >= 0 else "inverse",
        delta_arrow="off",
        help="On the straight line from the baseline to the target."
        if ahead is not None
        else "Set a baseline and a target.",
        border=True,
    )
    cells[2].metric(
        metric_label("Baseline", unit),
        metric_value(kpi.baseline_value, unit),
        help=f"In {kpi.baseline_period:%b %Y}." if kpi.baseline_period else None,
        border=True,
    )
    cells[3].metric(
        metric_label("Target", unit),
        metric_value(kpi.target_value, unit),
        help=f"By {kpi.target_date:%d %b %Y}." if kpi.target_date else None,
        border=True,
    )
    cells[4].metric(
        f"Gap ({kpi.currency} a year)",
        format_money(status.gap_value_per_year, "", signed=True),
        help="Ahead (+) or behind (−) the trajectory, times the money value of one unit, per year."
        if status.gap_value_per_year is not None
        else "Set a money value per unit, a baseline and a target.",
        border=True,
    )
    if extent.last is None:
        return
    grain = grain_for(kpi.frequency)
    total = kpi_data.series(kpi.id, ("",), grain, start, end, now)[""]
    if not total.periods:
        st.warning("No data for the business as a whole in this period.", icon=":material/search_off:")
        return
    title = f"{kpi.name}: actual against baseline and target trajectory"
    figure = trajectory_figure(kpi, total, start, end, title, extent.last)
    st.plotly_chart(figure, width="stretch", key=f"main_{kpi.id}")
    if live:
        st.caption(
            f":material/sync: Live: checks for new values every {LIVE_SECONDS} s. "
            f"Latest value {extent.last:%d %b %Y}."
        )


if last is not None:
    headline()

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Drill down", anchor=False)
        if hierarchy is None:
            st.caption("This KPI is observed for the whole business only.")
        else:
            path = st.session_state.setdefault("drill", {}).setdefault(kpi.id, "")
            trail = hierarchy.ancestors(path) + ([hierarchy.node(path)] if path else [])
            crumbs = ["All"] + [n.code for n in trail if n is not None]
            st.caption(" → ".join(md(c) for c in crumbs) + f" · levels: {md(hierarchy.path)}")
            branches = kpi_data.breakdown(kpi.id, path, stamp)
            if branches:
                codes = [b.node.code for b in branches]
                labels = {b.node.code: b.node.label for b in branches}
                grain = grain_for(kpi.frequency)
                traces = kpi_data.series(kpi.id, tuple(codes), grain, start, end, stamp)
                level = hierarchy.level_name(branches[0].node.depth)
                figure = comparison_figure(
                    kpi,
                    {labels[c]: traces[c] for c in codes if traces[c].periods},
                    f"{kpi.name} by {level.lower()}",
                    last,
                )
                st.plotly_chart(figure, width="stretch", key=f"drill_{kpi.id}_{path}")
                table = pd.DataFrame(
                    {
                        level: [labels[c] for c in codes],
                        "Mean in period": [format_value(traces[c].mean(), kpi.unit) for c in codes],
                        "Latest": [
                            format_value(traces[c].values[-1], kpi.unit) if traces[c].values else "—"
                            for c in codes
                        ],
                    }
                )
                st.dataframe(table, hide_index=True, width="stretch")
                deeper = [b.node.code for b in branches if b.deeper]
                if deeper:
                    into = st.selectbox(
                        f"Open a {level.lower()}",
                        [None, *deeper],
                        format_func=lambda c: "—" if c is None else labels[c],
                    )
                    if into:
                        st.session_state["drill"][kpi.id] = into
                        st.rerun()
            else:
                st.caption("No finer level has data.")
            if path and st.button("Up one level", icon=":material/arrow_upward:"):
                parent = hierarchy.node(path)
                st.session_state["drill"][kpi.id] = parent.parent_code or "" if parent else ""
                st.rerun()
    with right:
        st.subheader("Compare segments", anchor=False)
        if len(data.arms) == 2:
            grain = grain_for(kpi.frequency)
            arms = kpi_data.series(kpi.id, ("treatment", "control"), grain, start, end, stamp)
            treatment, control = arms["treatment"], arms["control"]
            st.plotly_chart(
                comparison_figure(kpi, {"Treatment": treatment, "Control": control}, "Experiment arms", last),
                width="stretch",
                key=f"arms_{kpi.id}",
            )
            st.plotly_chart(
                difference_figure(
                    kpi,
                    series_reader.split_partial(treatment, last)[0],
                    series_reader.split_partial(control, last)[0],
                    "Treatment minus control",
                ),
                width="stretch",
                key=f"diff_{kpi.id}",
            )
        else:
            segments = sorted(s for s in data.segments if s)
            if not segments:
                st.caption("This KPI has no segments to compare.")
            else:
                labels = {n.code: n.label for n in (hierarchy.nodes if hierarchy else ())}
                picked = st.multiselect(
                    "Segments",
                    segments,
                    default=segments[:3],
                    format_func=lambda s: labels.get(s, s),
                    max_selections=8,
                    key=f"compare_{kpi.id}",
                )
                if picked:
                    grain = grain_for(kpi.frequency)
                    traces = kpi_data.series(kpi.id, tuple(picked), grain, start, end, stamp)
                    shown = {labels.get(s, s): traces[s] for s in picked}
                    figure = comparison_figure(kpi, shown, "Selected segments", last)
                    st.plotly_chart(figure, width="stretch", key=f"segments_{kpi.id}")

goal_kpis = [k for k in every if k.goal_id == kpi.goal_id]
roots = tree.tree(goal_kpis)
statuses = kpi_data.statuses(tuple(k.id for k in goal_kpis), stamp)
st.subheader(f"KPI tree of “{md(kpi.goal_title)}”", anchor=False)
st.graphviz_chart(tree_dot(roots, statuses, kpi.id), alt="The goal's KPI tree, listed in the table below.")
st.dataframe(pd.DataFrame(tree_rows(roots, statuses)).drop(columns=["Key"]), hide_index=True, width="stretch")
with st.expander("Definition and plan", icon=":material/description:"):
    kpi_facts(kpi, names, hierarchy.name if hierarchy else "whole business only")
