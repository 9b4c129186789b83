"""Home: every goal with its owner and status, the first thing anyone sees after signing in."""

import streamlit as st

from components.goal_views import goal_card, status_counts
from components.guard import guard
from components.navigation import BY_KEY
from components.runtime import database
from flightdeck.business import goals

user = guard("home")
all_goals = goals.list_goals(database())

st.title("Workspace overview", anchor=False)
st.caption("What the business is trying to achieve, who owns it, and how far it has got.")

counts = status_counts(all_goals)
cols = st.columns(4)
cols[0].metric("Goals", len(all_goals), border=True)
cols[1].metric("Active", counts.get(goals.GoalStatus.ACTIVE, 0), border=True)
cols[2].metric("In draft", counts.get(goals.GoalStatus.DRAFT, 0), border=True)
cols[3].metric("Owners", len({g.owner_id for g in all_goals}), border=True)

st.subheader("Goals", anchor=False)
if not all_goals:
    st.info("No goals yet. Business owners state them on the Goals page.", icon=":material/flag:")
for start in range(0, len(all_goals), 3):
    row = st.columns(3)
    for column, goal in zip(row, all_goals[start : start + 3], strict=False):
        with column:
            goal_card(goal)
st.page_link(BY_KEY["goals"].path, label="Open the goals page", icon=":material/arrow_forward:")
