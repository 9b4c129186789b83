"""One model (?model=ID&version=N): its versions, what Flightdeck measured, the value of its errors,
its features in business terms, the four-eyes lifecycle and which version served when."""

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from components import feedback, model_data, readiness_data, readiness_views, session
from components import model_views as views
from components.edit_pin import EditPin
from components.feedback import show_problems
from components.guard import guard
from components.navigation import BY_KEY
from components.problem_report import problem_report
from components.runtime import database
from components.text import day, md, when
from flightdeck.business import dictionary
from flightdeck.core.clock import utcnow
from flightdeck.core.errors import FlightdeckError, InvalidInput, StaleEdit
from flightdeck.core.permissions import can
from flightdeck.kpis import definitions
from flightdeck.models import lifecycle, model_card, records, registry, versioning
from flightdeck.models.evaluation import ErrorValues, value_curve
from flightdeck.models.records import STAGE_LABELS, TASK_LABELS
from flightdeck.tabular import findings, formats

DOCS_PIN = EditPin("model_docs")
MODEL_PIN = EditPin("model")

user = guard("model")
db = database()


def act(run: Callable[[], object], success: str) -> None:
    feedback.act(run, success, after=model_data.clear)


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
current_id = int(wanted) if wanted and wanted.isdigit() and int(wanted) in model_ids else None
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
    base = MODEL_PIN.base(model)
    with st.expander("Edit model details", icon=":material/edit:", expanded=MODEL_PIN.is_stale(model.id)):
        goal_kpis = {k.id: k.name for k in definitions.list_kpis(db) if k.goal_id == model.goal_id}
        with st.form(MODEL_PIN.form_key(model)):
            name = st.text_input("Name", value=base.name, max_chars=120)
            chosen_kpis = st.multiselect(
                "KPIs it should move",
                list(goal_kpis),
                default=[k for k in base.kpi_ids if k in goal_kpis],
                format_func=goal_kpis.__getitem__,
            )
            description = st.text_area("Description", value=base.description, max_chars=4000)
            saved = st.form_submit_button("Save model", type="primary", icon=":material/save:")
        if saved:
            draft = records.ModelDraft(
                base.key, name, base.goal_id, base.task, description, tuple(chosen_kpis)
            )
            try:
                registry.update_model(db, user, model.id, base.version, draft)
            except StaleEdit as refusal:
                MODEL_PIN.refused(model.id, refusal)
            except InvalidInput as invalid:
                show_problems(invalid)
            else:
                MODEL_PIN.done(model.id)
                model_data.clear()
                session.flash("success", "Model saved.")
                st.rerun()
        MODEL_PIN.show_refusal(model.id)

numbers = [v.number for v in versions]
by_number = {v.number: v for v in versions}
asked = st.query_params.get("version")
default = model.production_number or (numbers[0] if numbers else None)
number = int(asked) if asked and asked.isdigit() and int(asked) in by_number else default
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


# -- lifecycle actions ---------------------------------------------------------------------------


def lifecycle_actions(v: records.ModelVersion) -> None:
    """What this user may do with this version now, and why not when they may not."""
    author = user.id in v.author_ids
    if v.stage == "draft":
        if can(user, "model.evidence", v):
            with st.form(f"request_review_{v.id}", border=False):
                note = st.text_input("Note for the reviewer (optional)", max_chars=4000)
                if st.form_submit_button("Request review", type="primary", icon=":material/rate_review:"):
                    act(
                        lambda: lifecycle.request_review(db, user, v.id, note),
                        f"Review of v{v.number} requested.",
                    )
        else:
            st.caption("An author of this model requests review once the version is ready.")
    elif v.stage == "in_review":
        if can(user, "model.review") and author:
            st.warning(
                "You are an author of this model, so another reviewer must decide on it (four eyes).",
                icon=":material/group:",
            )
        elif can(user, "model.review"):
            with st.form(f"decide_{v.id}", border=False):
                rationale = st.text_area(
                    "Rationale", max_chars=4000, help="Required: it goes on the record with your decision."
                )
                left, right = st.columns(2)
                approve = left.form_submit_button("Approve", type="primary", icon=":material/task_alt:")
                reject = right.form_submit_button("Reject", icon=":material/undo:")
            if approve:
                act(lambda: lifecycle.approve(db, user, v.id, rationale), f"v{v.number} approved.")
            if reject:
                act(lambda: lifecycle.reject(db, user, v.id, rationale), f"v{v.number} sent back to draft.")
        else:
            st.caption("Waiting for a reviewer who is not an author of this model.")
    elif v.stage == "approved":
        if can(user, "model.deploy", v):
            with st.form(f"promote_{v.id}", border=False):
                scope = st.text_input("Scope", max_chars=120, placeholder="e.g. All regions, or Pilot: North")
                note = st.text_input("Note (optional)", max_chars=4000)
                live = model.production_number
                label = f"Promote to production (retires v{live})" if live else "Promote to production"
                if st.form_submit_button(label, type="primary", icon=":material/rocket_launch:"):
                    act(
                        lambda: lifecycle.promote(db, user, v.id, scope, note),
                        f"v{v.number} is in production.",
                    )
        else:
            st.caption("Approved. An author of the model (or an admin) promotes it to production.")
        st.caption(
            "Promotion needs the version to be Production-ready, or a reviewer's override recorded on its "
            "readiness page."
        )
    if v.stage in ("approved", "production") and can(user, "model.deploy", v):
        with (
            st.popover("Retire this version", icon=":material/archive:"),
            st.form(f"retire_{v.id}", border=False),
        ):
            why = st.text_area("Why", max_chars=4000)
            if st.form_submit_button("Retire", icon=":material/archive:"):
                act(lambda: lifecycle.retire(db, user, v.id, why), f"v{v.number} retired.")


# -- tabs ------------------------------------------------------------------------------------------

if version is not None:
    with tabs["Evaluation"]:
        with st.container(border=True):
            st.markdown(f"**Lifecycle of v{version.number}** · {STAGE_LABELS[version.stage]}")
            lifecycle_actions(version)
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
            values = model.error_values
            goal_owner = model.value_owner
            if values is None:
                st.info(
                    "The goal's business owner has not stated yet what a correct or wrong decision is worth.",
                    icon=":material/payments:",
                )
            else:
                curve = value_curve(version.evaluation["thresholds"], values)
                cols = st.columns(3)
                cols[0].metric(
                    "Best threshold",
                    f"{curve.best_threshold:.2f}",
                    border=True,
                    help="Act on everyone scoring at least this.",
                )
                cols[1].metric(
                    "Value per 1,000 decisions",
                    views.money(curve.best_value, values.currency),
                    delta=f"{views.money(curve.gain_over_baseline, values.currency)} against the baseline",
                    border=True,
                )
                cols[2].metric(
                    "Baseline per 1,000 decisions",
                    views.money(curve.baseline_value, values.currency),
                    border=True,
                    help=f"A model that only knows the base rate can at best {curve.baseline_policy}.",
                )
                views.value_chart(curve, values)
                st.caption(
                    "From the holdout's confusion counts at each threshold. Values per decision: "
                    f"true positive {values.tp:,.2f}, false positive {values.fp:,.2f}, "
                    f"false negative {values.fn:,.2f}, true negative {values.tn:,.2f} {values.currency}; "
                    f"stated by {md(model.value_set_by_name)} on "
                    f"{when(model.value_set_at)}."
                )
                if model.value_note:
                    st.markdown(f"> {md(model.value_note)}")
            if can(user, "model.value", goal_owner):
                with (
                    st.expander(
                        "State the value of each decision", icon=":material/edit:", expanded=values is None
                    ),
                    st.form("error_values"),
                ):
                    st.caption(
                        "Money per decision; a cost is negative. E.g. a false positive costs an offer."
                    )
                    c = st.columns(5)
                    tp = c[0].number_input("True positive", value=values.tp if values else 0.0, step=1.0)
                    fp = c[1].number_input("False positive", value=values.fp if values else 0.0, step=1.0)
                    fn = c[2].number_input("False negative", value=values.fn if values else 0.0, step=1.0)
                    tn = c[3].number_input("True negative", value=values.tn if values else 0.0, step=1.0)
                    currency = c[4].text_input(
                        "Currency", value=values.currency if values else "EUR", max_chars=3
                    )
                    note = st.text_area("Where the numbers come from", value=model.value_note, max_chars=2000)
                    if st.form_submit_button("Save values", type="primary", icon=":material/save:"):
                        act(
                            lambda: registry.set_error_values(
                                db,
                                user,
                                model.id,
                                model.version,
                                ErrorValues(tp, fp, fn, tn, currency.strip().upper()),
                                note,
                            ),
                            "Values saved.",
                        )
            elif values is None:
                st.caption("Only the business owner of the goal (or an admin) states these values.")

    with tabs["Features"]:
        unmapped = version.unmapped
        if unmapped:
            st.warning(
                f"**Not mapped to a confirmed business field:** {md(', '.join(unmapped))}.",
                icon=":material/link_off:",
            )
        else:
            st.success("Every feature is mapped to a confirmed business field.", icon=":material/link:")
        for item in version.personal:
            st.error(
                f"**{md(item.feature)} is personal data** ({md(item.field_label)}); lawful basis: "
                f"{md(item.lawful_basis or 'none stated')}.",
                icon=":material/shield_person:",
            )
        st.dataframe(views.feature_table(version), hide_index=True, width="stretch")
        if can(user, "model.evidence", version):
            fields = dictionary.list_fields(db)
            ids = [None, *[f.id for f in fields]]
            labels = {
                f.id: f"{f.label} ({f.key})" + (" · personal data" if f.personal_data else "") for f in fields
            }
            with (
                st.expander("Confirm the mapping", icon=":material/link:", expanded=bool(unmapped)),
                st.form(f"mapping_{version.id}_{version.version}"),
            ):
                st.caption("Suggested by name; choose the field each feature means, or leave it unmapped.")
                chosen: dict[str, int | None] = {}
                for item in version.feature_maps:
                    chosen[item.feature] = st.selectbox(
                        item.feature,
                        ids,
                        index=ids.index(item.field_id) if item.field_id in ids else 0,
                        format_func=lambda i: "— unmapped —" if i is None else labels[i],
                        key=f"map_{version.id}_{item.feature}",
                    )
                if st.form_submit_button("Confirm mapping", type="primary", icon=":material/check:"):
                    act(
                        lambda: versioning.confirm_features(db, user, version.id, version.version, chosen),
                        "Feature mapping confirmed.",
                    )

    with tabs["Training data"]:
        profile = model_data.profile(version.id)
        st.caption(f"Reference distribution per feature, from the {model_card.profile_source(version)}.")
        rows = []
        for feature, entry in profile.items():
            if entry.get("kind") == "numeric" and not entry.get("empty"):
                q = entry["quantiles"]
                summary = f"p05 {q['p05']:,.2f} · median {q['p50']:,.2f} · p95 {q['p95']:,.2f}"
            else:
                top = sorted(entry.get("frequencies", {}).items(), key=lambda kv: -kv[1])[:3]
                summary = ", ".join(f"{k} {v:.0%}" for k, v in top)
            rows.append(
                {
                    "Feature": feature,
                    "Kind": entry.get("kind"),
                    "Missing": entry.get("missing_share"),
                    "Distribution": summary,
                }
            )
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            width="stretch",
            column_config={
                "Missing": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)
            },
        )
        if profile:
            feature = st.selectbox("Show the distribution of", list(profile), key=f"profile_{version.id}")
            views.profile_chart(feature, profile[feature])

    with tabs["Documentation"]:
        st.markdown("**Intended use**")
        st.markdown(md(version.intended_use) if version.intended_use else "_Not written yet._")
        st.markdown("**Limitations**")
        st.markdown(md(version.limitations) if version.limitations else "_Not written yet._")
        cadence = f"every {version.refresh_days} days" if version.refresh_days else "not stated"
        st.markdown(
            f"**Training date** {day(version.training_date)}  \n**Refresh cadence** {cadence}  \n"
            f"**Training code and data** {md(version.training_reference or 'not stated')}  \n"
            f"**Target** {md(version.target)}"
            + (f" (positive class {md(version.positive_label)})" if version.positive_label else "")
        )
        if version.stage == "draft" and can(user, "model.evidence", version):
            base_doc = DOCS_PIN.base(version)
            with st.expander(
                "Edit the documentation", icon=":material/edit:", expanded=DOCS_PIN.is_stale(version.id)
            ):
                with st.form(DOCS_PIN.form_key(version)):
                    docs = views.docs_form(DOCS_PIN.form_key(version), base_doc)
                    saved = st.form_submit_button(
                        "Save documentation", type="primary", icon=":material/save:"
                    )
                if saved:
                    try:
                        versioning.update_docs(db, user, version.id, base_doc.version, docs)
                    except StaleEdit as refusal:
                        DOCS_PIN.refused(version.id, refusal)
                    except InvalidInput as invalid:
                        show_problems(invalid)
                    else:
                        DOCS_PIN.done(version.id)
                        model_data.clear()
                        session.flash("success", "Documentation saved.")
                        st.rerun()
                DOCS_PIN.show_refusal(version.id)
        elif version.stage != "draft":
            st.caption(
                "The documentation is frozen since the version left draft: it is what the reviewer read."
            )

with tabs["Lifecycle"]:
    history = lifecycle.production_history(db, model.id)
    if history:
        views.timeline_chart(history, utcnow())
        ask = st.date_input("Which version was in production on", value=utcnow().date(), format="YYYY-MM-DD")
        if isinstance(ask, date):
            serving = next((d for d in reversed(history) if d.serving_at(lifecycle.end_of(ask))), None)
            if serving is None:
                st.markdown(f"On **{day(ask)}** no version of this model was in production.")
            else:
                scope = f" ({md(serving.scope)})" if serving.scope else ""
                st.markdown(
                    f"On **{day(ask)}**, **v{serving.version_number}** was in production{scope}, promoted by "
                    f"{md(serving.started_by_name)} on {when(serving.started_at)}."
                )
        if len(history) > 1 or any(d.ended_at for d in history):
            current = next((d for d in history if d.ended_at is None), None)
            earlier = [
                d
                for d in history
                if d.ended_at is not None and (current is None or d.version_id != current.version_id)
            ]
            if current and earlier and can(user, "model.deploy", model):
                with (
                    st.popover(f"Roll back to v{earlier[-1].version_number}", icon=":material/history:"),
                    st.form("rollback", border=False),
                ):
                    why = st.text_area("Why", max_chars=4000)
                    if st.form_submit_button("Roll back", type="primary"):
                        act(lambda: lifecycle.rollback(db, user, model.id, why), "Rolled back.")
    else:
        st.info("No version of this model has been in production yet.", icon=":material/rocket:")
    st.subheader("Stage history", anchor=False)
    events = lifecycle.stage_history(db, model.id)
    st.dataframe(
        pd.DataFrame(
            {
                "When": [when(e.at) for e in events],
                "Version": [f"v{e.version_number}" for e in events],
                "Change": [
                    f"{STAGE_LABELS.get(e.from_stage, 'Uploaded')} → {STAGE_LABELS[e.to_stage]}"
                    for e in events
                ],
                "By": [e.actor_name for e in events],
                "Rationale": [e.rationale for e in events],
            }
        ),
        hide_index=True,
        width="stretch",
    )

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
        latest = versions[0] if versions else None
        st.caption(
            "Upload the model saved with `skops.io.dump` and a holdout the model never saw (features and "
            "target). Flightdeck loads the file safely, checks the model takes the features, evaluates it "
            "against a baseline, measures latency and profiles the training data. You become an author."
        )
        presets = {name: text for name, (text, _) in formats.PRESETS.items()}
        with st.form("new_version"):
            artifact = st.file_uploader(
                "Model file (.skops)",
                key="artifact_upload",
                max_upload_size=50,
                help="Pickle and joblib files are refused: convert them with skops.io.dump.",
            )
            holdout = st.file_uploader(
                "Holdout (CSV or Excel)", type=["csv", "txt", "xlsx"], key="holdout_upload"
            )
            left, middle, right = st.columns(3)
            target = left.text_input("Target column", value=latest.target if latest else "", max_chars=120)
            segment = middle.text_input(
                "Segment column (optional)",
                value=latest.evaluation.get("segment_column", "") if latest else "",
                max_chars=120,
                help="Metrics are also computed per value of this column, e.g. region.",
            )
            preset = right.selectbox("File format", list(presets), format_func=presets.__getitem__)
            reference = st.file_uploader(
                "Training-data sample (optional)",
                type=["csv", "txt", "xlsx"],
                key="reference_upload",
                help="The reference distribution drift compares with (else the holdout's features).",
            )
            st.markdown("**Documentation**")
            docs = views.docs_form("new_version_docs", latest)
            submitted = st.form_submit_button("Upload and evaluate", type="primary", icon=":material/upload:")
        if submitted:
            if artifact is None or holdout is None:
                st.error("Choose both the model file and the holdout file.", icon=":material/error:")
            else:
                upload = versioning.VersionUpload(
                    artifact=versioning.Upload(artifact.name, artifact.getvalue()),
                    holdout=versioning.Upload(holdout.name, holdout.getvalue()),
                    target=target,
                    segment_column=segment,
                    reference=versioning.Upload(reference.name, reference.getvalue()) if reference else None,
                    fmt=formats.PRESETS[preset][1],
                    docs=docs,
                )
                with st.status("Evaluating the new version…", expanded=True) as status:
                    bar = st.progress(0.0)
                    try:
                        created = versioning.create_version(
                            db, user, model.id, upload, lambda f, m: bar.progress(min(f, 1.0), text=m)
                        )
                    except findings.Rejected as rejected:
                        status.update(
                            label="The holdout has problems: nothing was stored.",
                            state="error",
                            expanded=True,
                        )
                        problem_report(rejected, holdout.name, "holdout")
                    except InvalidInput as invalid:
                        status.update(label="Refused: nothing was stored.", state="error", expanded=True)
                        show_problems(invalid)
                    except FlightdeckError as error:
                        status.update(label="Refused: nothing was stored.", state="error", expanded=True)
                        st.error(md(str(error)), icon=":material/block:")
                    else:
                        status.update(label=f"v{created.number} evaluated.", state="complete")
                        model_data.clear()
                        session.flash("success", f"v{created.number} uploaded and evaluated by Flightdeck.")
                        st.query_params["version"] = str(created.number)
                        st.session_state["model_tab_next"] = "Evaluation"
                        st.rerun()

if version is not None:
    st.page_link(
        BY_KEY["model_card"].path,
        label=f"Model card of v{version.number}",
        icon=":material/description:",
        query_params={"model": str(model.id), "version": str(version.number)},
    )
