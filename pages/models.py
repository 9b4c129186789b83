"""Models: the registry. Every model with its goal, stage and authors; data scientists register new
ones here, and reviewers see what waits for their decision."""

import pandas as pd
import streamlit as st

from components import model_data, readiness_data, session
from components.feedback import show_problems
from components.guard import guard
from components.model_views import model_link
from components.navigation import BY_KEY
from components.row_picker import picked_row
from components.runtime import database
from components.text import md, when
from flightdeck.business import goals
from flightdeck.core.errors import InvalidInput
from flightdeck.core.permissions import can
from flightdeck.core.roles import Role
from flightdeck.kpis import definitions
from flightdeck.models import records, registry
from flightdeck.models.records import STAGE_LABELS, TASK_LABELS
from flightdeck.readiness import portfolio
from flightdeck.readiness.rubric import LEVEL_LABELS

user = guard("models")
db = database()
st.title("Models", anchor=False)
st.caption(
    "Every model attached to a business goal. Flightdeck evaluates each version itself; a reviewer "
    "who did not build a model approves it before it goes to production."
)
session.show_flash()


registry_stamp = model_data.stamp()
models, pending = model_data.models(registry_stamp), model_data.pending_reviews(registry_stamp)
scores = {(r.model_id, r.number): r for r in readiness_data.rows(readiness_data.stamp())}


def readiness_label(row: portfolio.PortfolioRow | None) -> str:
    if row is None or row.level is None or row.headline is None:
        return "not scored yet"
    return f"{LEVEL_LABELS[row.level]} · {row.headline:.0f}"


if user.has(Role.REVIEWER) and pending:
    with st.container(border=True):
        st.markdown(f"**:material/rate_review: Waiting for review: {len(pending)}**")
        for version in pending:
            mine = user.id in version.author_ids
            note = " · you are an author, so another reviewer decides" if mine else ""
            model_link(
                version.model_id,
                f"{version.label} · requested {when(version.evaluated_at)}{note}",
                version.number,
            )

tabs = ["All models", "Register a model"] if can(user, "model.create") else ["All models"]
browse, *create = st.tabs(tabs, key="models_tab", on_change="rerun")  # stays open across reruns

with browse:
    left, middle, _ = st.columns([2, 2, 3])
    stage_filter = left.multiselect(
        "Stage", list(STAGE_LABELS), format_func=STAGE_LABELS.__getitem__, placeholder="Any stage"
    )
    search = middle.text_input("Search", placeholder="Model, goal or author")
    needle = search.strip().lower()
    shown = [
        m
        for m in models
        if (
            not stage_filter
            or m.latest_stage in stage_filter
            or (m.production_number and "production" in stage_filter)
        )
        and (not needle or needle in f"{m.name} {m.key} {m.goal_title} {' '.join(m.author_names)}".lower())
    ]
    table = pd.DataFrame(
        {
            "Model": [m.name for m in shown],
            "Goal": [m.goal_title for m in shown],
            "Task": [TASK_LABELS[m.task] for m in shown],
            "In production": [f"v{m.production_number}" if m.production_number else "—" for m in shown],
            "Latest version": [
                f"v{m.latest_number} · {STAGE_LABELS[m.latest_stage]}"
                if m.latest_number and m.latest_stage
                else "none yet"
                for m in shown
            ],
            "Readiness (latest)": [
                readiness_label(scores.get((m.id, m.latest_number))) if m.latest_number else "—"
                for m in shown
            ],
            "Authors": [", ".join(m.author_names) for m in shown],
            "Last change": [when(m.updated_at) for m in shown],
        }
    )
    row = picked_row(table, "models_table")
    if not models:
        st.info(
            "No models yet. Data scientists register them here against a goal.",
            icon=":material/model_training:",
        )
    elif not shown:
        st.caption("No model matches these filters.")
    if row is not None:
        chosen = shown[row]
        st.switch_page(BY_KEY["model"].path, query_params={"model": str(chosen.id)})
    st.caption("Select a model to open it.")

for tab in create:
    with tab:
        all_goals = goals.list_goals(db)
        if not all_goals:
            st.info("Register a model once a business owner has stated a goal.", icon=":material/flag:")
        else:
            goal_ids = [g.id for g in all_goals]
            titles = {g.id: g.title for g in all_goals}
            goal_id = st.selectbox(
                "Goal it serves", goal_ids, format_func=titles.__getitem__, key="new_model_goal"
            )
            goal_kpis = [k for k in definitions.list_kpis(db) if k.goal_id == goal_id]
            with st.form("new_model"):
                left, right = st.columns(2)
                name = left.text_input("Name", max_chars=120, placeholder="e.g. Member churn propensity")
                key = right.text_input(
                    "Key",
                    max_chars=64,
                    placeholder="e.g. member_churn",
                    help="snake_case; the command line names the model by it.",
                )
                task = left.selectbox("Task", list(TASK_LABELS), format_func=TASK_LABELS.__getitem__)
                kpi_names = {k.id: k.name for k in goal_kpis}
                chosen_kpis = right.multiselect(
                    "KPIs it should move",
                    list(kpi_names),
                    format_func=kpi_names.__getitem__,
                    placeholder="The goal's KPIs" if kpi_names else "This goal has no KPIs yet",
                )
                description = st.text_area("Description", max_chars=4000)
                submitted = st.form_submit_button("Register model", type="primary", icon=":material/add:")
            if submitted:
                draft = records.ModelDraft(key, name, goal_id, task, description, tuple(chosen_kpis))
                try:
                    created = registry.create_model(db, user, draft)
                except InvalidInput as invalid:
                    show_problems(invalid)
                else:
                    model_data.clear()
                    session.flash(
                        "success", f"Model “{created.name}” registered. Add its first version here."
                    )
                    st.switch_page(BY_KEY["model"].path, query_params={"model": str(created.id)})
        st.caption(f"You will be this model's first author, {md(user.display_name)}.")
