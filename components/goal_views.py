"""How a goal looks everywhere it appears: card, status badge, details and the edit form."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import streamlit as st

from components.navigation import BY_KEY
from components.owner_picker import owner_choice
from components.text import day, md, when
from flightdeck.business.goals import LIMITS, Goal, GoalDraft, GoalStatus
from flightdeck.core.permissions import User

STATUS_COLOURS = {
    GoalStatus.DRAFT: "gray",
    GoalStatus.ACTIVE: "blue",
    GoalStatus.ON_HOLD: "orange",
    GoalStatus.ACHIEVED: "green",
    GoalStatus.RETIRED: "gray",
}
STATUS_ICONS = {
    GoalStatus.DRAFT: ":material/edit_note:",
    GoalStatus.ACTIVE: ":material/play_circle:",
    GoalStatus.ON_HOLD: ":material/pause_circle:",
    GoalStatus.ACHIEVED: ":material/check_circle:",
    GoalStatus.RETIRED: ":material/archive:",
}


def status_counts(goals: Sequence[Goal]) -> Counter[GoalStatus]:
    return Counter(g.status for g in goals)


def status_badge(status: GoalStatus) -> None:
    st.badge(status.label, icon=STATUS_ICONS[status], color=STATUS_COLOURS[status])


def _shorten(text: str, limit: int = 180) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def goal_card(goal: Goal) -> None:
    with st.container(border=True, height="stretch"):
        st.markdown(f"**{md(goal.title)}**")
        status_badge(goal.status)
        st.caption(f":material/person: {md(goal.owner_name)} · {md(goal.business_unit or 'no unit')}")
        if goal.value_statement:
            st.markdown(md(_shorten(goal.value_statement)))
        st.caption(f":material/event: Target {day(goal.target_date)}")
        st.page_link(
            BY_KEY["goals"].path,
            label="Details",
            icon=":material/open_in_new:",
            query_params={"goal": str(goal.id)},
        )


def goal_details(goal: Goal) -> None:
    st.subheader(md(goal.title), anchor=False)
    status_badge(goal.status)
    st.markdown(
        f"**Owner** {md(goal.owner_name)}  \n"
        f"**Business unit** {md(goal.business_unit or '—')}  \n"
        f"**Target date** {day(goal.target_date)}"
    )
    st.markdown("**Value statement**")
    st.markdown(md(goal.value_statement) if goal.value_statement else "_Not stated yet._")
    st.markdown("**Description**")
    st.markdown(md(goal.description) if goal.description else "_No description._")
    st.caption(
        f"Last changed by {md(goal.updated_by_name)} on {when(goal.updated_at)} · version {goal.version}"
    )


def goal_form(form_key: str, goal: Goal | None, owners: Sequence[User] | None) -> GoalDraft | None:
    """The form to create (`goal=None`) or edit a goal; `owners` is offered to admins only.
    Returns the draft when submitted; the service validates it."""
    with st.form(form_key, border=False):
        title = st.text_input("Title", value=goal.title if goal else "", max_chars=LIMITS["title"])
        value_statement = st.text_area(
            "Value statement",
            value=goal.value_statement if goal else "",
            max_chars=LIMITS["value_statement"],
            help="What achieving the goal is worth, in the business's own terms and money.",
        )
        description = st.text_area(
            "Description", value=goal.description if goal else "", max_chars=LIMITS["description"]
        )
        left, middle, right = st.columns(3)
        business_unit = left.text_input(
            "Business unit", value=goal.business_unit if goal else "", max_chars=LIMITS["business_unit"]
        )
        target_date = middle.date_input(
            "Target date", value=goal.target_date if goal else None, format="YYYY-MM-DD"
        )
        statuses = list(GoalStatus)
        status = right.selectbox(
            "Status",
            statuses,
            index=statuses.index(goal.status if goal else GoalStatus.DRAFT),
            format_func=lambda s: s.label,
        )
        owner_id = owner_choice(owners, goal.owner_id if goal else None) if owners else None
        label = "Save changes" if goal else "Create goal"
        if not st.form_submit_button(label, type="primary", icon=":material/save:"):
            return None
    return GoalDraft(
        title=title,
        description=description,
        value_statement=value_statement,
        business_unit=business_unit,
        target_date=target_date,
        status=status,
        owner_id=owner_id,
    )
