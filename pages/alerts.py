"""Alerts: the inbox of KPIs off track and of models in trouble (drift, performance, refresh, impact,
readiness), for the goals you own (or every goal). Owners and admins acknowledge them; an alert clears
itself when its condition recovers."""

import pandas as pd
import streamlit as st

from components import kpi_data, session
from components.guard import guard
from components.navigation import BY_KEY
from components.row_picker import picked_rows
from components.runtime import database
from components.text import md, when
from flightdeck.alerts import inbox, webhook
from flightdeck.business import goals
from flightdeck.core.permissions import can
from flightdeck.core.roles import Role

STATES = {"open": "Open", "acknowledged": "Acknowledged", "cleared": "Cleared"}
KINDS = {
    "kpi_threshold": "Past a threshold",
    "kpi_trajectory": "Off the target trajectory",
    "model_drift": "Model input drift",
    "model_performance": "Model performance drop",
    "model_refresh": "Model refresh overdue",
    "model_impact": "Model impact negative",
    "readiness": "Readiness fell a level",
}
# Where each kind of alert is explained: (page key, query parameter, link label, icon).
WHERE = {
    "kpi": ("monitor", "kpi", "Open the KPI", ":material/monitoring:"),
    "model_impact": ("impact", "model", "Open the model's impact", ":material/trending_up:"),
    "model": ("model_monitoring", "model", "Open the model's monitoring", ":material/query_stats:"),
    "model_version": ("readiness", "version", "Open the version's readiness", ":material/checklist:"),
}
SEVERITY = {"critical": "Critical", "warning": "Warning"}

user = guard("alerts")
db = database()
st.title("Alerts", anchor=False)
st.caption(
    "Raised once when a KPI crosses a threshold or falls off its target trajectory, or when a model in "
    "production drifts, performs worse than on its holdout, is overdue for a refresh, moves its KPI the "
    "wrong way, or falls a readiness level; cleared by itself when the condition recovers."
)
session.show_flash()

owns_goals = any(g.owner_id == user.id for g in goals.list_goals(db))
left, right, _ = st.columns([2, 3, 2])
scope = left.segmented_control(
    "Show",
    ["mine", "all"],
    default="mine" if owns_goals else "all",
    format_func={"mine": "My goals", "all": "All goals"}.get,
)
states = right.multiselect(
    "State", list(STATES), default=["open", "acknowledged"], format_func=STATES.get, placeholder="Any state"
)
kpi_keys = {k.id: k.key for k in kpi_data.all_kpis(kpi_data.stamp())}
found = inbox.list_alerts(
    db, owner_id=user.id if scope == "mine" else None, states=tuple(states) or tuple(STATES)
)

counts = {s: sum(a.state == s for a in found) for s in STATES}
cells = st.columns(3)
cells[0].metric("Open", counts["open"], border=True)
cells[1].metric("Acknowledged", counts["acknowledged"], border=True)
cells[2].metric(
    "Critical, not cleared", sum(a.severity == "critical" and a.is_open for a in found), border=True
)

if not found:
    where = "your goals" if scope == "mine" else "any goal"
    st.success(f"No alerts for {where} in these states.", icon=":material/check_circle:")
else:
    table = pd.DataFrame(
        {
            "Severity": [SEVERITY.get(a.severity, a.severity) for a in found],
            "Alert": [a.message for a in found],
            "Goal": [a.goal_title for a in found],
            "Raised": [when(a.raised_at) for a in found],
            "State": [
                STATES[a.state]
                + (
                    f" by {a.acknowledged_by_name}"
                    if a.state == "acknowledged" and a.acknowledged_by_name
                    else ""
                )
                for a in found
            ],
        }
    )
    picked = picked_rows(
        table,
        "alerts_table",
        column_config={  # the message gets the room; the rest is short
            "Severity": st.column_config.TextColumn(width=70),
            "Alert": st.column_config.TextColumn(width=430),
            "Goal": st.column_config.TextColumn(width=170),
            "Raised": st.column_config.TextColumn(width=120),
            "State": st.column_config.TextColumn(width=100),
        },
    )
    chosen = [found[i] for i in picked]
    if not chosen:
        st.caption("Select alerts to acknowledge them or to open what they are about.")
    for alert in chosen[:5]:
        with st.container(border=True):
            st.markdown(f"**{md(KINDS.get(alert.kind, alert.kind))}** · {md(alert.goal_title)}")
            st.markdown(md(alert.message))
            facts = [f"Raised {when(alert.raised_at)}"]
            if alert.escalated_at:
                facts.append(f"escalated {when(alert.escalated_at)}")
            if alert.acknowledged_at:
                facts.append(
                    f"acknowledged by {md(alert.acknowledged_by_name or '?')} {when(alert.acknowledged_at)}"
                )
            if alert.cleared_at:
                facts.append(f"cleared {when(alert.cleared_at)}")
            st.caption(" · ".join(facts))
            page, param, label, icon = WHERE.get(alert.kind) or WHERE[alert.entity_type]
            target = kpi_keys.get(alert.entity_id) if alert.entity_type == "kpi" else str(alert.entity_id)
            if target:
                st.page_link(BY_KEY[page].path, label=label, icon=icon, query_params={param: target})
    acknowledgeable = [a for a in chosen if a.state == "open" and can(user, "alert.acknowledge", a)]
    if chosen and can(user, "alert.acknowledge"):
        label = f"Acknowledge {len(acknowledgeable)} alert(s)" if acknowledgeable else "Acknowledge"
        if st.button(label, type="primary", icon=":material/done_all:", disabled=not acknowledgeable):
            for alert in acknowledgeable:
                inbox.acknowledge(db, user, alert.id)
            session.flash("success", f"{len(acknowledgeable)} alert(s) acknowledged.")
            st.rerun()
        if len(acknowledgeable) < len([a for a in chosen if a.state == "open"]):
            st.caption("Only the goal's owner or an admin can acknowledge an alert.")

if user.has(Role.ADMIN):
    state = webhook.delivery_state(db)
    with st.expander("Webhook delivery", icon=":material/webhook:"):
        if not state.configured:
            st.markdown(
                f"No webhook is configured. Set `{webhook.WEBHOOK_ENV}` or `[alerts] webhook_url` in "
                "`.streamlit/secrets.toml` to receive each alert as a JSON POST."
            )
        else:
            st.markdown(
                f"**{state.delivered}** notifications delivered, **{state.pending}** pending "
                "(failed posts are retried with backoff; `python -m flightdeck alerts deliver` sends them "
                "now)."
            )
            if state.last_attempt_at:
                outcome = f"failed: {md(state.last_error)}" if state.last_error else "succeeded"
                st.caption(f"Last attempt {when(state.last_attempt_at)} {outcome}.")
