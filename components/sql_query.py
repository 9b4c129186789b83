"""A KPI's SQL source: the SELECT that pulls its values from a named, read-only connection, and a
sync on demand. The command line syncs them all on a schedule."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import kpi_data, session
from components.feedback import show_problems
from components.problem_report import problem_report
from components.source_format import option_choice
from components.text import md, when
from flightdeck.core.db import Database
from flightdeck.core.errors import FlightdeckError, InvalidInput
from flightdeck.core.permissions import User
from flightdeck.kpis import sources
from flightdeck.kpis.entities import Kpi
from flightdeck.tabular import formats

EXAMPLE_QUERY = "SELECT day AS period, store AS segment, amount AS value\nFROM sales\nWHERE day > :since"


def synced_queries(db: Database) -> dict[int, sources.KpiQuery]:
    """Every KPI's query with its last sync, as a table; by KPI id."""
    queries = {q.kpi_id: q for q in sources.list_queries(db)}
    if queries:
        st.dataframe(
            pd.DataFrame(
                {
                    "KPI": [q.kpi_name for q in queries.values()],
                    "Connection": [q.connection_name for q in queries.values()],
                    "Last sync": [when(q.last_sync_at) for q in queries.values()],
                    "Outcome": [
                        ("✅ " if q.last_sync_ok else "❌ ") + q.last_sync_message
                        if q.last_sync_at
                        else "never synced"
                        for q in queries.values()
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption("`python -m flightdeck sync` pulls them all, e.g. from cron every hour.")
    return queries


def kpi_query(db: Database, user: User, kpi: Kpi, query: sources.KpiQuery | None) -> None:
    """Attach or change the query of `kpi`, and sync it now."""
    connections = sources.list_connections(db)
    if not connections:
        st.info(
            "No SQL connection is named yet: an admin adds them on the SQL sources page.",
            icon=":material/database:",
        )
        return
    ids = [c.id for c in connections]
    names = {c.id: c.name + ("" if c.configured else " (no URL configured)") for c in connections}
    with st.form(f"query_{kpi.id}_v{query.version if query else 0}", border=False):
        connection_id = st.selectbox(
            "Connection",
            ids,
            index=ids.index(query.connection_id) if query else 0,
            format_func=names.__getitem__,
        )
        text = st.text_area(
            "SELECT returning period, value and (optionally) segment",
            value=query.query if query else EXAMPLE_QUERY,
            height=140,
            help="Read-only, with the connection's timeout and row cap. `:since` is the latest period "
            "already loaded.",
        )
        current = query.fmt if query else formats.SourceFormat()
        date_format = option_choice(
            "If the period comes back as text, it is written as", formats.DATE_FORMATS, current.date_format
        )
        if st.form_submit_button("Save query", icon=":material/save:"):
            try:
                sources.attach_query(
                    db,
                    user,
                    kpi.id,
                    connection_id,
                    text,
                    current.with_(date_format=date_format),
                    query.version if query else None,
                )
            except InvalidInput as invalid:
                show_problems(invalid)
            except FlightdeckError as error:
                st.error(md(str(error)), icon=":material/error:")
            else:
                session.flash("success", f"Query saved for {kpi.name}.")
                st.rerun()
    if query is not None and st.button("Sync now", type="primary", icon=":material/sync:"):
        sync(db, user, kpi)


def sync(db: Database, user: User, kpi: Kpi) -> None:
    """Pull the KPI's values now, with a progress bar; the problems, or the outcome after a rerun."""
    failure = None
    with st.status(f"Syncing {kpi.name}…", expanded=True) as status:
        bar = st.progress(0.0)
        try:
            outcome = sources.sync(db, user, kpi.id, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
        except InvalidInput as invalid:
            status.update(label="Nothing was stored", state="error", expanded=False)
            failure = invalid
    if failure is None:
        kpi_data.clear()
        session.flash("success", f"{kpi.name}: {outcome.message}")
        st.rerun()
    problem_report(failure, f"{kpi.name} query", "sync")
