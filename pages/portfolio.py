"""Readiness portfolio: every model version with its goal, stage, headline, level and top blocker,
the overview a review meeting starts from. Reads the stored snapshots; nothing is re-scored here."""

import pandas as pd
import streamlit as st

from components import readiness_data
from components import readiness_views as views
from components.guard import guard
from components.runtime import database
from flightdeck.models.records import STAGE_LABELS
from flightdeck.readiness.rubric import LEVEL_LABELS, LEVEL_RANK

user = guard("portfolio")
db = database()
st.title("Readiness portfolio", anchor=False)
st.caption(
    "How ready every model version is for production, from the evidence Flightdeck holds and what "
    "people attested. The headline is the weakest of six dimensions; open a version for its checks "
    "and next steps."
)


everything = readiness_data.rows(readiness_data.stamp())
live = [r for r in everything if r.stage != "retired"]
waiting = [r for r in live if r.stage in ("in_review", "approved")]

st.subheader("For the review meeting", anchor=False)
counts = st.columns(4)
for column, level in zip(counts, LEVEL_LABELS, strict=False):
    column.metric(LEVEL_LABELS[level], sum(r.level == level for r in live))
counts[3].metric("Awaiting a decision", len(waiting))
if waiting:
    for r in sorted(waiting, key=lambda r: (LEVEL_RANK.get(r.level or "", -1), r.model)):
        level = LEVEL_LABELS.get(r.level or "", "not scored")
        blocker = f" · next: {r.top_blocker}" if r.top_blocker else ""
        views.readiness_link(
            r.version_id,
            f"{r.model} v{r.number} · {STAGE_LABELS[r.stage]} · {level} ({r.headline or 0:.0f}/100){blocker}",
        )
else:
    st.caption("No version waits for review or promotion.")

st.subheader("All versions", anchor=False)
left, middle, right = st.columns(3)
goal_filter = left.multiselect("Goal", sorted({r.goal for r in everything}), placeholder="Any goal")
stage_filter = middle.multiselect(
    "Stage",
    list(STAGE_LABELS),
    default=[s for s in STAGE_LABELS if s != "retired"],
    format_func=STAGE_LABELS.__getitem__,
    placeholder="Any stage",
)
level_filter = right.multiselect(
    "Level", list(LEVEL_LABELS), format_func=LEVEL_LABELS.__getitem__, placeholder="Any level"
)
shown = [
    r
    for r in everything
    if (not goal_filter or r.goal in goal_filter)
    and (not stage_filter or r.stage in stage_filter)
    and (not level_filter or r.level in level_filter)
]
table = pd.DataFrame(
    {
        "Open": [f"/readiness?version={r.version_id}" for r in shown],
        "Goal": [r.goal for r in shown],
        "Model": [r.model for r in shown],
        "Version": [f"v{r.number}" for r in shown],
        "Stage": [STAGE_LABELS[r.stage] for r in shown],
        "Headline": [r.headline for r in shown],
        "Level": [LEVEL_LABELS.get(r.level or "", "Not scored yet") for r in shown],
        "Top blocker or next step": [r.top_blocker for r in shown],
        "Blockers": [r.blockers for r in shown],
    }
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "Headline": st.column_config.ProgressColumn(
            "Headline",
            help="The lowest of the six dimensions (0–100)",
            min_value=0,
            max_value=100,
            format="%.0f",
        ),
        "Open": st.column_config.LinkColumn("Open", display_text="Readiness"),
    },
)
if not shown:
    st.caption("No version matches these filters.")
st.caption(
    "Scores are stored whenever evidence changes; stale logs and overdue retraining are re-checked when "
    "a version's page is opened and by the nightly `python -m flightdeck readiness refresh`."
)
