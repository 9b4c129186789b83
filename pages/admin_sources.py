"""SQL sources: the named, read-only connections KPIs pull their values from. Admins only.

A connection's URL is never typed here or stored: it is read, by the connection's name, from the
environment or the secrets file on the server, so database passwords stay out of Flightdeck."""

import pandas as pd
import streamlit as st

from components import session
from components.feedback import save, show_problems
from components.guard import guard
from components.runtime import database
from components.text import md
from flightdeck.core.errors import FlightdeckError, InvalidInput
from flightdeck.kpis import sources

user = guard("admin_sources")
db = database()
st.title("SQL sources", anchor=False)
st.caption(
    "Named connections to the business's databases. KPI owners attach a SELECT to a connection on the "
    "Load data page; queries run read-only, with a statement timeout and a row cap."
)
session.show_flash()

connections = sources.list_connections(db)
queries = sources.list_queries(db)
if connections:
    st.dataframe(
        pd.DataFrame(
            {
                "Name": [c.name for c in connections],
                "Description": [c.description for c in connections],
                "URL": ["configured" if c.configured else "NOT configured" for c in connections],
                "Database": [c.dialect or "—" for c in connections],
                "Timeout (s)": [c.timeout_seconds for c in connections],
                "Row cap": [c.row_cap for c in connections],
                "KPIs using it": [sum(q.connection_id == c.id for q in queries) for c in connections],
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No connections yet.", icon=":material/database:")

with st.expander("Where the URL comes from", icon=":material/key:"):
    st.markdown(
        "For a connection named `erp`, Flightdeck reads `FLIGHTDECK_SOURCE_ERP_URL` from the environment, "
        "or this entry of `.streamlit/secrets.toml`:\n\n"
        '```toml\n[sources.erp]\nurl = "postgresql://readonly_user:…@erp-db:5432/erp"\n```\n\n'
        "Give it a database user that can only read. PostgreSQL and SQLite sources are supported."
    )


def connection_form(key: str, current: sources.Connection | None) -> sources.ConnectionDraft | None:
    with st.form(key, border=False):
        a, b, c = st.columns([2, 1, 1])
        name = a.text_input("Name", value=current.name if current else "", max_chars=64, placeholder="erp")
        timeout = b.number_input(
            "Statement timeout (s)", 1, 300, value=current.timeout_seconds if current else 10
        )
        cap = c.number_input(
            "Row cap", 1, 5_000_000, value=current.row_cap if current else 100_000, step=1000
        )
        description = st.text_area(
            "Description", value=current.description if current else "", max_chars=2000
        )
        label = "Save connection" if current else "Add connection"
        if not st.form_submit_button(label, type="primary", icon=":material/save:"):
            return None
    return sources.ConnectionDraft(name, description, int(timeout), int(cap))


if connections:
    by_id = {c.id: c for c in connections}
    chosen = st.selectbox("Connection", list(by_id), format_func=lambda i: by_id[i].name)
    connection = by_id[chosen]
    left, right = st.columns([1, 3], vertical_alignment="center")
    if left.button("Test connection", icon=":material/network_check:", disabled=not connection.configured):
        try:
            right.success(sources.test_connection(db, user, connection.id), icon=":material/check_circle:")
        except FlightdeckError as error:
            right.error(md(str(error)), icon=":material/error:")
    if not connection.configured:
        right.warning(
            f"No URL found: set `{connection.env_var}` or `{connection.secrets_key}`.",
            icon=":material/link_off:",
        )
    with st.expander("Edit this connection", icon=":material/edit:"):
        draft = connection_form(f"connection_{connection.id}_v{connection.version}", connection)
        if draft is not None:
            save(
                lambda: sources.save_connection(db, user, draft, connection.id, connection.version),
                f"Connection {draft.name.strip()} saved.",
            )

with st.expander("Add a connection", icon=":material/add:"):
    draft = connection_form("new_connection", None)
    if draft is not None:
        try:
            created = sources.save_connection(db, user, draft)
        except InvalidInput as invalid:
            show_problems(invalid)
        else:
            session.flash(
                "success", f"Connection {created.name} added. Configure its URL: {created.env_var}."
            )
            st.rerun()
