"""Goals: browse every goal; business owners create and edit their own, admins any."""

import pandas as pd
import streamlit as st

from components import session
from components.edit_pin import EditPin
from components.feedback import show_problems
from components.goal_views import goal_details, goal_form
from components.guard import guard
from components.row_picker import picked_row
from components.runtime import database
from components.text import day, when
from flightdeck.accounts.users import users_with_role
from flightdeck.business import goals
from flightdeck.core.errors import InvalidInput
from flightdeck.core.permissions import can
from flightdeck.core.roles import Role

PIN = EditPin("goal")

user = guard("goals")
db = database()
st.title("Goals", anchor=False)
st.caption("What the business wants to achieve. Models and KPIs attach to these goals.")
session.show_flash()

owners = users_with_role(db, Role.BUSINESS_OWNER) if user.has(Role.ADMIN) else None
tabs = ["All goals", "New goal"] if can(user, "goal.create") else ["All goals"]
browse, *create = st.tabs(tabs)

with browse:
    all_goals = goals.list_goals(db)
    left, middle, _ = st.columns([2, 2, 3])
    statuses = left.multiselect(
        "Status", list(goals.GoalStatus), format_func=lambda s: s.label, placeholder="Any status"
    )
    search = middle.text_input("Search", placeholder="Title, owner or business unit")
    needle = search.strip().lower()
    shown = [
        g
        for g in all_goals
        if (not statuses or g.status in statuses)
        and (not needle or needle in f"{g.title} {g.owner_name} {g.business_unit}".lower())
    ]
    table = pd.DataFrame(
        {
            "Goal": [g.title for g in shown],
            "Owner": [g.owner_name for g in shown],
            "Business unit": [g.business_unit for g in shown],
            "Status": [g.status.label for g in shown],
            "Target date": [day(g.target_date) for g in shown],
            "Last change": [when(g.updated_at) for g in shown],
        }
    )
    row = picked_row(table, "goals_table")
    if not shown:
        st.caption("No goal matches these filters.")

    if row is not None:
        st.query_params["goal"] = str(shown[row].id)
    wanted = st.query_params.get("goal")
    goal = next((g for g in all_goals if str(g.id) == wanted), None)

    if goal is None:
        st.caption("Select a goal in the table to see its details.")
    else:
        with st.container(border=True):
            goal_details(goal)
            if can(user, "goal.edit", goal):
                base = PIN.base(goal)
                with st.expander("Edit this goal", icon=":material/edit:", expanded=PIN.is_stale(goal.id)):
                    draft = goal_form(PIN.form_key(goal), base, owners)
                    if draft is not None:
                        PIN.save(
                            goal.id,
                            lambda: goals.update_goal(db, user, goal.id, base.version, draft),
                            "Goal saved.",
                        )
                    PIN.show_refusal(goal.id)

for tab in create:
    with tab:
        draft = goal_form("new_goal", None, owners)
        if draft is not None:
            try:
                created = goals.create_goal(db, user, draft)
            except InvalidInput as invalid:
                show_problems(invalid)
            else:
                session.flash("success", f"Goal “{created.title}” created.")
                st.query_params["goal"] = str(created.id)
                st.rerun()
