"""Prediction logs: what production models were asked and answered, the outcomes that followed, and
how the live inputs compare with the training data."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import model_data, session
from components import model_views as views
from components.feedback import show_problems
from components.guard import guard
from components.problem_report import problem_report
from components.runtime import database
from components.text import md, when
from flightdeck.core.errors import FlightdeckError, InvalidInput
from flightdeck.core.permissions import can
from flightdeck.models import evaluation, log_reports, outcome_logs, prediction_logs
from flightdeck.tabular import findings, formats

user = guard("predictions")
db = database()
st.title("Prediction logs", anchor=False)
st.caption(
    "Logs of what production models predicted, and the outcomes that followed. Subject keys are "
    "pseudonymised (keyed HMAC-SHA256) before anything is stored."
)
session.show_flash()


def shift(trend: pd.DataFrame, entry: dict) -> tuple[float, str]:
    """How far the last two weeks' live mean sits from the training median, in widths of the
    training p05–p95 range, and the same in words."""
    q = entry.get("quantiles")
    recent = trend["mean"].tail(14).dropna()
    if not q or recent.empty:
        return 0.0, "no training reference"
    mean = float(recent.mean())
    width = (q["p95"] - q["p05"]) or 1.0
    words = (
        f"last 14 days {mean:,.1f} · training median {q['p50']:,.1f}, "
        f"90% within {q['p05']:,.1f}–{q['p95']:,.1f}"
    )
    return abs(mean - q["p50"]) / width, words


registry_stamp = model_data.stamp()
models = [m for m in model_data.models(registry_stamp) if m.versions]
if not models:
    st.info("No model has a version yet.", icon=":material/model_training:")
    st.stop()
ids = [m.id for m in models]
by_id = {m.id: m for m in models}
asked = st.query_params.get("model")
default = next((m.id for m in models if m.production_number), ids[0])
start = int(asked) if asked and asked.isdigit() and int(asked) in ids else default
model_id = st.selectbox(
    "Model",
    ids,
    index=ids.index(start),
    format_func=lambda i: (
        by_id[i].name
        + (f" · v{by_id[i].production_number} in production" if by_id[i].production_number else "")
    ),
)
st.query_params["model"] = str(model_id)
model = by_id[model_id]
versions = model_data.versions(model_id, registry_stamp)
stamp = model_data.log_stamp(model_id)
may_load = can(user, "prediction.ingest", model)
names = ["Overview", "Loads"] + (["Upload predictions", "Upload outcomes"] if may_load else [])
tabs = dict(zip(names, st.tabs(names, key="predictions_tab", on_change="rerun"), strict=True))
presets = {name: text for name, (text, _) in formats.PRESETS.items()}

with tabs["Overview"]:
    volume, live = model_data.log_overview(model_id, stamp)
    if volume.empty:
        st.info("No predictions have been logged for this model yet.", icon=":material/query_stats:")
    else:
        cols = st.columns(4)
        cols[0].metric("Predictions logged", f"{live.predictions:,}", border=True)
        cols[1].metric("Outcomes", f"{live.outcomes:,}", border=True)
        cols[2].metric("Joined to a prediction", f"{live.joined:,}", border=True)
        key, label = views.headline_metric(model.task)
        production = next((v for v in versions if v.stage == "production"), versions[0])
        holdout = production.evaluation.get("metrics", {}).get(key)
        value = live.metrics.get(key)
        cols[3].metric(
            f"Live {label}",
            "—" if value is None else f"{value:.3f}",
            delta=None if value is None or holdout is None else f"{value - holdout:+.3f} against the holdout",
            delta_color="normal" if evaluation.metric_names(model.task)[key][1] else "inverse",
            border=True,
        )
        fig = go.Figure()
        for number, part in volume.groupby("version"):
            fig.add_bar(x=part["day"], y=part["predictions"], name=f"v{number}")
        fig.update_layout(
            title="Predictions per day",
            xaxis_title="Day (UTC)",
            yaxis_title="Predictions",
            barmode="stack",
            height=300,
            margin={"l": 10, "r": 10, "t": 50, "b": 10},
        )
        st.plotly_chart(fig, width="stretch", config=views.PLOT_CONFIG)
        st.caption(f"From {live.first_day} to {live.last_day}.")
        profile = model_data.profile(production.id)
        shifts = {
            m.feature: shift(model_data.feature_trend(model_id, m.feature, stamp), profile.get(m.feature, {}))
            for m in production.feature_maps
            if m.kind == "numeric"
        }
        if shifts:
            st.subheader("Live inputs against the training data", anchor=False)
            ranked = sorted(shifts, key=lambda f: -shifts[f][0])
            feature = st.selectbox(
                "Feature",
                ranked,
                format_func=lambda f: f"{f} · {shifts[f][1]}",
                key="trend_feature",
                help="Sorted by how far the last two weeks' mean moved from the training median.",
            )
            trend = model_data.feature_trend(model_id, feature, stamp)
            entry = profile.get(feature, {})
            fig = go.Figure()
            if entry.get("quantiles"):
                q = entry["quantiles"]
                fig.add_hrect(
                    y0=q["p05"],
                    y1=q["p95"],
                    fillcolor="#1f5f8b",
                    opacity=0.12,
                    line_width=0,
                    layer="below",
                    annotation_text="90% of the training data",
                    annotation_position="top left",
                )
                fig.add_hline(y=q["p50"], line_dash="dot", annotation_text="training median")
            fig.add_scatter(x=trend["day"], y=trend["mean"], mode="lines", name="daily mean of live inputs")
            fig.update_layout(
                title=f"Daily mean of {feature} in the prediction log",
                xaxis_title="Day (UTC)",
                yaxis_title=feature,
                height=320,
                margin={"l": 10, "r": 10, "t": 50, "b": 10},
            )
            st.plotly_chart(fig, width="stretch", config=views.PLOT_CONFIG)
            st.caption(f"Reference from the {md(production.profile_source)} profile of v{production.number}.")

with tabs["Loads"]:
    batches = log_reports.list_batches(db, model_id)
    if not batches:
        st.caption("Nothing loaded yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "#": [b.id for b in batches],
                    "Kind": [b.kind for b in batches],
                    "Version": [f"v{b.version_number}" if b.version_number else "" for b in batches],
                    "File": [b.file_name for b in batches],
                    "Rows": [b.rows for b in batches],
                    "Joined": [b.matched if b.kind == "outcomes" else None for b in batches],
                    "From": [when(b.first_at) for b in batches],
                    "To": [when(b.last_at) for b in batches],
                    "Loaded by": [b.loaded_by_name for b in batches],
                    "Loaded": [when(b.loaded_at) for b in batches],
                }
            ),
            hide_index=True,
            width="stretch",
        )


def load(run: object, file_name: str) -> None:
    """Run one load with a progress bar; report every problem, or the summary after a rerun."""
    with st.status(f"Loading {file_name}…", expanded=True) as status:
        bar = st.progress(0.0)
        try:
            result = run(lambda f, m: bar.progress(min(f, 1.0), text=m))  # type: ignore[operator]
        except findings.Rejected as rejected:
            status.update(label="Rejected: nothing was stored.", state="error", expanded=True)
            problem_report(rejected, file_name, "log")
        except InvalidInput as invalid:
            status.update(label="Rejected: nothing was stored.", state="error", expanded=True)
            show_problems(invalid)
        except FlightdeckError as error:
            status.update(label="Refused: nothing was stored.", state="error", expanded=True)
            st.error(md(str(error)), icon=":material/block:")
        else:
            status.update(label="Loaded.", state="complete")
            model_data.clear()
            session.flash("success", result.summary())
            st.rerun()


if "Upload predictions" in tabs:
    with tabs["Upload predictions"]:
        numbers = [v.number for v in versions]
        features = {v.number: ", ".join(v.features) for v in versions}
        st.caption(
            "Columns: `timestamp`, `subject_key`, `prediction`, an optional `segment`, and every feature "
            "of the version that made the predictions. From a script: "
            "`python -m flightdeck ingest predictions MODEL VERSION FILE`."
        )
        with st.form("upload_predictions"):
            left, right = st.columns(2)
            number = left.selectbox(
                "Version that made them",
                numbers,
                index=numbers.index(model.production_number) if model.production_number in numbers else 0,
                format_func=lambda n: f"v{n}",
            )
            preset = right.selectbox(
                "File format", list(presets), format_func=presets.__getitem__, key="log_format"
            )
            log = st.file_uploader(
                "Prediction log (CSV or Excel)", type=["csv", "txt", "xlsx"], key="log_upload"
            )
            submitted = st.form_submit_button("Load predictions", type="primary", icon=":material/upload:")
        st.caption(f"Features by version: {md('; '.join(f'v{n}: {f}' for n, f in features.items()))}")
        if submitted:
            if log is None:
                st.error("Choose a file first.", icon=":material/error:")
            else:
                load(
                    lambda step: prediction_logs.ingest_predictions(
                        db,
                        user,
                        model_id,
                        number,
                        log.getvalue(),
                        log.name,
                        formats.PRESETS[preset][1],
                        progress=step,
                    ),
                    log.name,
                )

    with tabs["Upload outcomes"]:
        st.caption(
            "Columns: `observed_at`, `subject_key` and `outcome` (1/0 for a classifier, the value for a "
            "regression). Each outcome joins the latest prediction for the same subject at or before it."
        )
        with st.form("upload_outcomes"):
            left, right = st.columns(2)
            horizon = left.number_input(
                "Horizon (days)",
                min_value=1,
                max_value=3650,
                value=outcome_logs.DEFAULT_HORIZON_DAYS,
                help="Join only predictions made at most this long before the outcome.",
            )
            preset = right.selectbox(
                "File format", list(presets), format_func=presets.__getitem__, key="outcome_format"
            )
            outcomes = st.file_uploader(
                "Outcomes (CSV or Excel)", type=["csv", "txt", "xlsx"], key="outcome_upload"
            )
            submitted = st.form_submit_button("Load outcomes", type="primary", icon=":material/upload:")
        if submitted:
            if outcomes is None:
                st.error("Choose a file first.", icon=":material/error:")
            else:
                load(
                    lambda step: outcome_logs.ingest_outcomes(
                        db,
                        user,
                        model_id,
                        outcomes.getvalue(),
                        outcomes.name,
                        formats.PRESETS[preset][1],
                        horizon_days=int(horizon),
                        progress=step,
                    ),
                    outcomes.name,
                )
elif not may_load:
    st.caption("Authors of this model (and admins) load its prediction logs and outcomes.")
