"""KPIs: what success means for each goal, as driver trees. Owners define and edit their own."""

import pandas as pd
import streamlit as st

from components import kpi_data, session
from components.edit_pin import EditPin
from components.feedback import show_problems
from components.guard import guard
from components.kpi_views import kpi_facts, kpi_form, status_badge, tree_dot, tree_rows
from components.navigation import BY_KEY
from components.row_picker import picked_row
from components.runtime import database
from components.text import md, when
from flightdeck.accounts.users import users_with_role
from flightdeck.business import goals
from flightdeck.core.errors import InvalidInput
from flightdeck.core.permissions import can
from flightdeck.core.roles import Role
from flightdeck.kpis import definitions, tree

PIN = EditPin("kpi")
TREE_ALT = "The goal's KPI tree; the table below lists the same KPIs with their status."

user = guard("kpis")
db = database()
st.title("KPIs", anchor=False)
st.caption(
    "What success means for each goal, in numbers: baselines, targets, money value, alert thresholds, "
    "and the driver KPIs that move them."
)
session.show_flash()

stamp = kpi_data.stamp()
every = kpi_data.all_kpis(stamp)
statuses = kpi_data.statuses(tuple(k.id for k in every), stamp)
hierarchies = kpi_data.hierarchies(stamp)
hierarchy_names = {h.id: h.name for h in hierarchies}
names = {k.id: k.name for k in every}
all_goals = goals.list_goals(db)
by_goal = {g.id: g for g in all_goals}
owners = users_with_role(db, Role.BUSINESS_OWNER) if user.has(Role.ADMIN) else None
creatable = [g for g in all_goals if can(user, "kpi.create", g)]


def show_kpi(key: str) -> None:
    """After a save: the cached KPIs are stale, and the address follows the KPI's (new) key."""
    kpi_data.clear()
    st.query_params["kpi"] = key


trees, *create = st.tabs(["KPI trees", "New KPI"] if creatable else ["KPI trees"])

with trees:
    wanted = next((k for k in every if k.key == st.query_params.get("kpi")), None)
    goal_ids = [g.id for g in all_goals]
    if not goal_ids:
        st.info("There are no goals yet. KPIs are defined for a goal.", icon=":material/flag:")
        st.stop()
    mine = [k.goal_id for k in every if by_goal[k.goal_id].owner_id == user.id]
    first = wanted.goal_id if wanted else next(iter(mine or [k.goal_id for k in every]), goal_ids[0])
    goal_id = st.selectbox(
        "Goal", goal_ids, index=goal_ids.index(first), format_func=lambda i: by_goal[i].title, key="kpi_goal"
    )
    goal = by_goal[goal_id]
    goal_kpis = [k for k in every if k.goal_id == goal.id]
    roots = tree.tree(goal_kpis)
    selected = wanted if wanted and wanted.goal_id == goal.id else None
    if not goal_kpis:
        hint = " Define the first one on the “New KPI” tab." if can(user, "kpi.create", goal) else ""
        st.info(f"No KPIs for this goal yet.{hint}", icon=":material/account_tree:")
    else:
        st.caption("Drivers sit to the right of the KPI they move; colours show each KPI's status.")
        st.graphviz_chart(tree_dot(roots, statuses, selected.id if selected else None), alt=TREE_ALT)
        rows = tree_rows(roots, statuses)
        row = picked_row(pd.DataFrame(rows).drop(columns=["Key"]), f"kpi_table_{goal.id}")
        if row is not None:
            st.query_params["kpi"] = rows[row]["Key"]
            selected = next(k for k in goal_kpis if k.key == st.query_params["kpi"])
        if selected is None:
            st.caption("Select a KPI in the table to see its definition and plan.")

    if selected is not None:
        status = statuses[selected.id]
        with st.container(border=True):
            st.subheader(md(selected.name), anchor=False)
            status_badge(status)
            for reason in status.reasons:
                st.caption(md(reason))
            kpi_facts(selected, names, hierarchy_names.get(selected.hierarchy_id or 0, "whole business only"))
            links = st.columns([1, 1, 3])
            links[0].page_link(
                BY_KEY["monitor"].path,
                label="Monitor it",
                icon=":material/monitoring:",
                query_params={"kpi": selected.key},
            )
            if can(user, "kpi.ingest", selected) and not selected.is_computed:
                links[1].page_link(
                    BY_KEY["ingest"].path,
                    label="Load data",
                    icon=":material/upload_file:",
                    query_params={"kpi": selected.key},
                )
            st.caption(
                f"Last changed by {md(selected.updated_by_name or '—')} on {when(selected.updated_at)}"
            )
            if can(user, "kpi.edit", selected):
                base = PIN.base(selected)
                with st.expander("Edit this KPI", icon=":material/edit:", expanded=PIN.is_stale(selected.id)):
                    draft = kpi_form(PIN.form_key(selected), base, goal, goal_kpis, hierarchies, owners)
                    if draft is not None:
                        PIN.save(
                            selected.id,
                            lambda: definitions.update_kpi(db, user, selected.id, base.version, draft),
                            f"KPI “{draft.name.strip()}” saved.",
                            lambda: show_kpi(draft.key.strip()),
                        )
                    PIN.show_refusal(selected.id)

for tab in create:
    with tab:
        ids = [g.id for g in creatable]
        goal_id = st.selectbox(
            "For the goal", ids, format_func=lambda i: by_goal[i].title, key="new_kpi_goal"
        )
        goal = by_goal[goal_id]
        draft = kpi_form(
            "new_kpi", None, goal, [k for k in every if k.goal_id == goal.id], hierarchies, owners
        )
        if draft is not None:
            try:
                created = definitions.create_kpi(db, user, goal.id, draft)
            except InvalidInput as invalid:
                show_problems(invalid)
            else:
                show_kpi(created.key)
                session.flash(
                    "success", f"KPI “{created.name}” created. Load its data on the Load data page."
                )
                st.rerun()
