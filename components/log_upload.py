"""Loading a production model's logs by hand: the predictions it made, and the outcomes that
followed (each joined to the latest prediction for the same subject). Subject keys are
pseudonymised before anything is stored."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components import model_data, session
from components.file_load import load_with_progress
from components.source_format import preset_choice
from components.text import md
from flightdeck.core.db import Database
from flightdeck.core.permissions import User
from flightdeck.models import outcome_logs, prediction_logs
from flightdeck.models.log_files import LogResult
from flightdeck.models.records import Model, ModelVersion
from flightdeck.tabular import formats
from flightdeck.tabular.progress import Progress

REJECTED = "Rejected: nothing was stored."


def upload_predictions(db: Database, user: User, model: Model, versions: list[ModelVersion]) -> None:
    """The Upload predictions tab: the version that made them, the format and the file."""
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
        with right:
            preset = preset_choice("File format", key="log_format")
        log = st.file_uploader("Prediction log (CSV or Excel)", type=["csv", "txt", "xlsx"], key="log_upload")
        submitted = st.form_submit_button("Load predictions", type="primary", icon=":material/upload:")
    st.caption(f"Features by version: {md('; '.join(f'v{n}: {f}' for n, f in features.items()))}")
    if submitted:
        load(
            log,
            lambda data, name, step: prediction_logs.ingest_predictions(
                db, user, model.id, number, data, name, formats.PRESETS[preset][1], progress=step
            ),
        )


def upload_outcomes(db: Database, user: User, model: Model) -> None:
    """The Upload outcomes tab: how far back an outcome joins a prediction, the format and the file."""
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
        with right:
            preset = preset_choice("File format", key="outcome_format")
        outcomes = st.file_uploader(
            "Outcomes (CSV or Excel)", type=["csv", "txt", "xlsx"], key="outcome_upload"
        )
        submitted = st.form_submit_button("Load outcomes", type="primary", icon=":material/upload:")
    if submitted:
        load(
            outcomes,
            lambda data, name, step: outcome_logs.ingest_outcomes(
                db,
                user,
                model.id,
                data,
                name,
                formats.PRESETS[preset][1],
                horizon_days=int(horizon),
                progress=step,
            ),
        )


def load(upload: UploadedFile | None, run: Callable[[bytes, str, Progress], LogResult]) -> None:
    """Run `run(data, file name, progress)` on the chosen file with a progress bar; report every
    problem, or the summary after a rerun."""
    if upload is None:
        st.error("Choose a file first.", icon=":material/error:")
        return
    result = load_with_progress(
        f"Loading {upload.name}…",
        lambda step: run(upload.getvalue(), upload.name, step),
        upload.name,
        "log",
        rejected=REJECTED,
        invalid=REJECTED,
        done=lambda _: "Loaded.",
    )
    if result is not None:
        model_data.clear()
        session.flash("success", result.summary())
        st.rerun()
