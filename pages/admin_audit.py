"""Audit trail: every change, sign-in and refusal, with proof that none was altered. Admins only."""

import json
from datetime import timedelta

import pandas as pd
import streamlit as st

from components.guard import guard
from components.row_picker import picked_row
from components.runtime import database
from components.text import md, when
from flightdeck.accounts import audit_trail, users
from flightdeck.core.clock import utcnow

user = guard("admin_audit")
db = database()
st.title("Audit trail", anchor=False)
st.caption(
    "Append-only and hash-chained: each event's fingerprint covers the one before it, so editing or "
    "deleting any past event breaks the chain at that event."
)


@st.cache_data(ttl=60, show_spinner="Verifying the audit chain…")
def verification(head: int) -> audit_trail.ChainReport:
    """Cached for a minute per head event; 'Verify now' forces a fresh walk."""
    return audit_trail.verify_chain(database())


head, check = st.columns([5, 1], vertical_alignment="center")
if check.button("Verify now", icon=":material/verified:"):
    verification.clear()
report = verification(audit_trail.head_id(db))
with head:
    if report.ok:
        st.success(
            f"Chain verified: all {report.events_checked:,} events are intact.",
            icon=":material/verified_user:",
        )
    else:
        st.error(
            f"**Chain broken at event #{report.broken_at}.** {report.problem} "
            f"The {report.events_checked:,} events before it verify.",
            icon=":material/gpp_bad:",
        )

actions, entity_types = audit_trail.facets(db)
accounts = {a.id: a.display_name for a in users.list_accounts(db)}
today = utcnow().date()
c1, c2, c3, c4 = st.columns([3, 2, 3, 2])
period = c1.date_input("Between", value=(today - timedelta(days=30), today), format="YYYY-MM-DD")
actor = c2.selectbox("Who", [None, *accounts], format_func=lambda i: "Anyone" if i is None else accounts[i])
chosen = c3.multiselect("Actions", actions, placeholder="Any action")
entity = c4.selectbox("Entity", [None, *entity_types], format_func=lambda e: "Any" if e is None else e)
since, until = (period[0], period[-1]) if period else (None, None)
flt = audit_trail.AuditFilter(
    since=since, until=until, actor_id=actor, actions=tuple(chosen), entity_type=entity
)

events, total = audit_trail.list_events(db, flt)
st.caption(
    f"{total:,} matching events"
    + (f"; the newest {len(events):,} are listed." if total > len(events) else ".")
)
table = pd.DataFrame(
    {
        "#": [e.id for e in events],
        "When": [when(e.occurred_at) for e in events],
        "Who": [e.actor_name for e in events],
        "Action": [e.action for e in events],
        "Entity": [f"{e.entity_type} {e.entity_id or ''}".strip() for e in events],
        "Change": [json.dumps(e.after, ensure_ascii=False) if e.after else "" for e in events],
    }
)
row = picked_row(
    table,
    "audit_table",
    column_config={
        "#": st.column_config.NumberColumn(width="small"),
        "When": st.column_config.TextColumn(width="small"),
        "Entity": st.column_config.TextColumn(width="medium"),
        "Change": st.column_config.TextColumn(
            width="large", help="Values after the change; select a row for both sides."
        ),
    },
)
st.download_button(
    f"Download {total:,} events as CSV",
    data=lambda: audit_trail.export_csv(db, flt),
    file_name=f"flightdeck-audit-{today:%Y%m%d}.csv",
    mime="text/csv",
    icon=":material/download:",
    disabled=total == 0,
)
if row is not None:
    event = events[row]
    with st.container(border=True):
        st.markdown(
            f"**Event #{event.id}** · {md(event.action)} by {md(event.actor_name)} · "
            f"{when(event.occurred_at)}"
        )
        before, after = st.columns(2)
        before.caption("Before")
        before.json(event.before or {})
        after.caption("After")
        after.json(event.after or {})
        st.caption(f"sha256 {event.hash}")
