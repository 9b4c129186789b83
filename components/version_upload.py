"""Uploading a new version of a model: its skops file, a holdout it never saw, an optional sample of
the training data and its documentation. Flightdeck loads the file safely and evaluates it itself,
so the numbers a reviewer reads are not the author's."""

from __future__ import annotations

import streamlit as st

from components import model_data, session
from components import model_views as views
from components.file_load import REFUSED, load_with_progress
from components.source_format import preset_choice
from flightdeck.core.db import Database
from flightdeck.core.permissions import User
from flightdeck.models import versioning
from flightdeck.models.records import Model, ModelVersion
from flightdeck.tabular import formats


def new_version(db: Database, user: User, model: Model, versions: list[ModelVersion]) -> None:
    """The New version tab; the form starts from the latest version's target and documentation."""
    latest = versions[0] if versions else None
    st.caption(
        "Upload the model saved with `skops.io.dump` and a holdout the model never saw (features and "
        "target). Flightdeck loads the file safely, checks the model takes the features, evaluates it "
        "against a baseline, measures latency and profiles the training data. You become an author."
    )
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
        with right:
            preset = preset_choice("File format")
        reference = st.file_uploader(
            "Training-data sample (optional)",
            type=["csv", "txt", "xlsx"],
            key="reference_upload",
            help="The reference distribution drift compares with (else the holdout's features).",
        )
        st.markdown("**Documentation**")
        docs = views.docs_form("new_version_docs", latest)
        submitted = st.form_submit_button("Upload and evaluate", type="primary", icon=":material/upload:")
    if not submitted:
        return
    if artifact is None or holdout is None:
        st.error("Choose both the model file and the holdout file.", icon=":material/error:")
        return
    upload = versioning.VersionUpload(
        artifact=versioning.Upload(artifact.name, artifact.getvalue()),
        holdout=versioning.Upload(holdout.name, holdout.getvalue()),
        target=target,
        segment_column=segment,
        reference=versioning.Upload(reference.name, reference.getvalue()) if reference else None,
        fmt=formats.PRESETS[preset][1],
        docs=docs,
    )
    created = load_with_progress(
        "Evaluating the new version…",
        lambda progress: versioning.create_version(db, user, model.id, upload, progress),
        holdout.name,
        "holdout",
        rejected="The holdout has problems: nothing was stored.",
        invalid=REFUSED,
        done=lambda version: f"v{version.number} evaluated.",
    )
    if created is not None:
        model_data.clear()
        session.flash("success", f"v{created.number} uploaded and evaluated by Flightdeck.")
        st.query_params["version"] = str(created.number)
        st.session_state["model_tab_next"] = "Evaluation"
        st.rerun()
