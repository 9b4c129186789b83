"""Load data: KPI values from CSV or Excel files in their production formats, typed in by hand, or
pulled from SQL sources; and the history of every load. One validation path for all of them:
every bad row is reported and nothing of a rejected load is stored."""

import pandas as pd
import streamlit as st

from components import kpi_data, session
from components.guard import guard
from components.hand_entry import enter_values
from components.kpi_upload import upload_file
from components.runtime import database
from components.sql_query import kpi_query, synced_queries
from components.text import md, when
from flightdeck.core.permissions import can
from flightdeck.kpis import ingest
from flightdeck.kpis.entities import LABELS, Kpi

SOURCE_LABELS = {
    "upload": "Upload",
    "cli": "Command line",
    "sql": "SQL source",
    "manual": "By hand",
    "demo": "Demo",
}

user = guard("ingest")
db = database()
st.title("Load data", anchor=False)
st.caption(
    "Load KPI values as your systems export them. Each load is checked row by row and stored all or "
    "nothing; loading the same rows again changes nothing."
)
session.show_flash()

stamp = kpi_data.stamp()
loadable = [k for k in kpi_data.all_kpis(stamp) if not k.is_computed and can(user, "kpi.ingest", k)]
hierarchies = {h.id: h for h in kpi_data.hierarchies(stamp)}
if not loadable:
    st.info(
        "You own no KPI that takes data. Define one on the KPIs page first.", icon=":material/account_tree:"
    )
    st.stop()
by_key = {k.key: k for k in loadable}


def choose_kpi(key: str) -> Kpi:
    keys = list(by_key)
    wanted = st.query_params.get("kpi")
    chosen = st.selectbox(
        "KPI",
        keys,
        index=keys.index(wanted) if wanted in by_key else 0,
        format_func=lambda k: f"{by_key[k].goal_title} · {by_key[k].name}",
        key=key,
    )
    kpi = by_key[chosen]
    hierarchy = hierarchies.get(kpi.hierarchy_id or 0)
    segments = (
        f"segments from {md(hierarchy.name)} or experiment arms"
        if hierarchy
        else "no segments but experiment arms"
    )
    st.caption(
        f"Unit **{md(kpi.unit)}** · {LABELS[kpi.frequency].lower()} (dates are moved to the start of their "
        f"{kpi.frequency}) · {segments} · combines as {LABELS[kpi.aggregation].lower()}"
    )
    return kpi


upload_tab, hand_tab, sql_tab, history_tab = st.tabs(
    ["Upload a file", "Enter values", "SQL sources", "Load history"]
)

with upload_tab:
    kpi = choose_kpi("upload_kpi")
    upload_file(db, user, kpi, loadable)

with hand_tab:
    kpi = choose_kpi("hand_kpi")
    enter_values(db, user, kpi, hierarchies.get(kpi.hierarchy_id or 0))

with sql_tab:
    queries = synced_queries(db)
    kpi = choose_kpi("sql_kpi")
    kpi_query(db, user, kpi, queries.get(kpi.id))

with history_tab:
    batches = ingest.list_batches(db)
    if not batches:
        st.caption("Nothing has been loaded yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "#": [b.id for b in batches],
                    "When": [when(b.loaded_at) for b in batches],
                    "KPI": [b.kpi_name for b in batches],
                    "How": [SOURCE_LABELS.get(b.source, b.source) for b in batches],
                    "File or query": [b.file_name for b in batches],
                    "Rows": [b.rows_total for b in batches],
                    "New": [b.rows_new for b in batches],
                    "Changed": [b.rows_changed for b in batches],
                    "Unchanged": [b.rows_unchanged for b in batches],
                    "Periods": [f"{b.period_min} – {b.period_max}" if b.period_min else "" for b in batches],
                    "By": [b.loaded_by_name for b in batches],
                }
            ),
            hide_index=True,
            width="stretch",
        )
