"""One model (?model=ID&version=N): its versions, what Flightdeck measured, the value of its errors,
its features in business terms, the four-eyes lifecycle and which version served when."""

import streamlit as st

from components import model_data, readiness_data, readiness_views, session
from components import model_views as views
from components.error_values import value_of_errors
from components.guard import guard
from components.model_details import edit_model
from components.model_lifecycle import lifecycle_actions, production_history
from components.navigation import BY_KEY
from components.query_params import query_id
from components.runtime import database
from components.text import md, when
from components.version_docs import documentation
from components.version_features import features, training_data
from components.version_upload import new_version
from flightdeck.core.permissions import can
from flightdeck.models import lifecycle
from flightdeck.models.records import STAGE_LABELS, TASK_LABELS

user = guard("model")
db = database()

stamp = model_data.stamp()
models = model_data.models(stamp)
wanted = st.query_params.get("model")
model_ids = [m.id for m in models]
names = {m.id: m.name for m in models}
if not models:
    st.title("Model", anchor=False)
    st.info("No models are registered yet.", icon=":material/model_training:")
    st.page_link(BY_KEY["models"].path, label="Open the registry", icon=":material/arrow_back:")
    st.stop()
current_id = query_id("model", model_ids)
if current_id is None:
    st.title("Model", anchor=False)
    if wanted:
        st.warning(f"There is no model {md(wanted)}; choose one below.", icon=":material/search_off:")
    chosen = st.selectbox(
        "Model", model_ids, index=None, format_func=names.__getitem__, placeholder="Choose a model"
    )
    if chosen is not None:
        st.query_params["model"] = str(chosen)
        st.rerun()
    st.stop()

model, versions = model_data.model(current_id, stamp)
st.page_link(BY_KEY["models"].path, label="All models", icon=":material/arrow_back:")
st.title(md(model.name), anchor=False)
kpi_text = ", ".join(model.kpi_names) or "no KPI named yet"
st.caption(
    f":material/flag: {md(model.goal_title)} · {TASK_LABELS[model.task]} · KPIs: {md(kpi_text)} · "
    f"authors: {md(', '.join(model.author_names))} · key `{model.key}`"
)
session.show_flash()
if model.description:
    st.markdown(md(model.description))
if model.production_number is not None:
    impact_link, monitoring_link, _ = st.columns([1, 1, 2])
    impact_link.page_link(
        BY_KEY["impact"].path,
        label="Business impact",
        icon=":material/trending_up:",
        query_params={"model": str(model.id)},
    )
    monitoring_link.page_link(
        BY_KEY["model_monitoring"].path,
        label="Drift and live performance",
        icon=":material/query_stats:",
        query_params={"model": str(model.id)},
    )

if can(user, "model.edit", model):
    edit_model(db, user, model)

numbers = [v.number for v in versions]
by_number = {v.number: v for v in versions}
number = query_id("version", by_number) or model.production_number or (numbers[0] if numbers else None)
if number is not None and st.query_params.get("version") != str(number):
    st.query_params["version"] = str(number)


def version_label(n: int) -> str:
    return f"v{n} · {STAGE_LABELS[by_number[n].stage]}"


tab_names = [
    "Evaluation",
    "Value of errors",
    "Features",
    "Training data",
    "Documentation",
    "Lifecycle",
    "Versions",
]
if model.task != "classification":
    tab_names.remove("Value of errors")
if can(user, "model.version"):
    tab_names.append("New version")

version = by_number.get(number) if number is not None else None
if version is not None:
    top_left, top_right = st.columns([2, 3], vertical_alignment="bottom")
    picked = top_left.selectbox(
        "Version", numbers, index=numbers.index(version.number), format_func=version_label
    )
    if picked != version.number:
        st.query_params["version"] = str(picked)
        st.rerun()
    with top_right:
        views.stage_badge(version.stage)
        scored = readiness_data.by_version(readiness_data.stamp()).get(version.id)
        readiness_views.level_badge(scored.level if scored else None)
        readiness_views.readiness_link(
            version.id,
            f"Readiness {scored.headline:.0f}/100"
            + (f" · next: {scored.top_blocker}" if scored.top_blocker else "")
            if scored and scored.headline is not None
            else "Readiness",
        )
        st.caption(
            f"{md(version.estimator)} · {md(version.framework)} · created by "
            f"{md(version.created_by_name)} on "
            f"{when(version.created_at)} · artifact sha256 `{version.artifact_sha256[:16]}…`"
        )
else:
    st.info(
        "This model has no version yet. A data scientist uploads its artifact and a holdout under "
        "**New version**; Flightdeck then evaluates it.",
        icon=":material/upload_file:",
    )

if opened := st.session_state.pop("model_tab_next", None):
    st.session_state["model_tab"] = opened  # e.g. the evaluation of a version just uploaded
# Tracked, so the open tab (and a refusal shown in it) survives the rerun a form submit causes.
tabs = dict(zip(tab_names, st.tabs(tab_names, key="model_tab", on_change="rerun"), strict=True))

if version is not None:
    with tabs["Evaluation"]:
        with st.container(border=True):
            st.markdown(f"**Lifecycle of v{version.number}** · {STAGE_LABELS[version.stage]}")
            lifecycle_actions(db, user, model, version)
        serving = by_number.get(model.production_number) if model.production_number else None
        views.show_metrics(
            version, serving if serving is not None and serving.number != version.number else None
        )
        if model.task == "classification":
            left, right = st.columns(2)
            with left:
                views.calibration_chart(version)
            with right:
                views.confusion_chart(version)
        else:
            views.residual_chart(version)
        st.subheader("Segments", anchor=False)
        views.segment_table(version)
        st.subheader("Latency", anchor=False)
        views.latency_tiles(version)

    if "Value of errors" in tabs:
        with tabs["Value of errors"]:
            value_of_errors(db, user, model, version)
    with tabs["Features"]:
        features(db, user, version)
    with tabs["Training data"]:
        training_data(version)
    with tabs["Documentation"]:
        documentation(db, user, version)

with tabs["Lifecycle"]:
    production_history(db, user, model)

with tabs["Versions"]:
    if versions:
        st.dataframe(
            views.version_rows(versions, lifecycle.stage_history(db, model.id)),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("No versions yet.")

if "New version" in tabs:
    with tabs["New version"]:
        new_version(db, user, model, versions)

if version is not None:
    st.page_link(
        BY_KEY["model_card"].path,
        label=f"Model card of v{version.number}",
        icon=":material/description:",
        query_params={"model": str(model.id), "version": str(version.number)},
    )
