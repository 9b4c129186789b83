"""Prediction logs: what a production model was asked and what it answered.

A log file (CSV or Excel: timestamp, subject key, the version's features, prediction, optional
segment) is checked with the shared readers and row-level report, all or nothing. Subject keys are
pseudonymised before anything is stored (`pseudonyms`); feature values are stored as one JSON
object per prediction and counted into the drift bins in the same transaction, which then announces
`PredictionsLoaded`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.alerts import inbox
from flightdeck.core import audit, events
from flightdeck.core.actors import actor_id, actor_name
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, NotFound, Problem
from flightdeck.core.permissions import OwnedBy, User, authorize
from flightdeck.models import drift, evaluation
from flightdeck.models.events import PredictionsLoaded
from flightdeck.models.log_files import (
    LogResult,
    find_column,
    open_batch,
    required_columns,
    stored_times,
    utc_moment,
)
from flightdeck.models.pseudonyms import pseudonymisation_key, pseudonymise
from flightdeck.models.records import authors_of
from flightdeck.orm import LogBatchRow, ModelVersionRow, PredictionRow
from flightdeck.tabular import bulk, files, formats, uploads
from flightdeck.tabular.findings import Findings, cell_texts
from flightdeck.tabular.progress import Progress, silent

MAX_SEGMENT = 64


PREDICTION_COLUMNS = (
    "model_id",
    "version_id",
    "batch_id",
    "predicted_at",
    "subject_key",
    "segment",
    "prediction",
    "features",
)


@dataclass(frozen=True)
class CleanLog:
    moments: np.ndarray  # datetime64[us], naive UTC
    subjects: list[str]  # raw keys: pseudonymised by `store_predictions`, never stored
    segments: list[str]
    predictions: np.ndarray
    features: pd.DataFrame
    rows: int


def validate_log(
    table: files.Table, fmt: formats.SourceFormat, features: list[str], kinds: dict[str, str]
) -> CleanLog:
    """Every row of a prediction log checked; all problems reported at once, nothing stored."""
    frame = table.frame
    columns = required_columns(table.columns, ("timestamp", "subject_key", "prediction"), features)
    segment = find_column(table.columns, "segment")
    if segment in features:
        segment = None
    if frame.empty:
        raise InvalidInput(Problem("file", "The file has a header but no rows."))
    findings = Findings(frame, table.rows, [])
    moments = formats.parse_timestamps(frame[columns["timestamp"]], fmt)
    findings.add(~moments.ok, columns["timestamp"], moments.reasons)
    now = np.datetime64(datetime.now(), "us")
    findings.add(moments.ok & (moments.values > now), columns["timestamp"], "the time lies in the future")
    subjects = cell_texts(frame[columns["subject_key"]])
    findings.add((subjects == "").to_numpy(), columns["subject_key"], "the subject key is missing")
    predicted = formats.parse_numbers(frame[columns["prediction"]], fmt)
    findings.add(~predicted.ok, columns["prediction"], predicted.reasons)
    segments = cell_texts(frame[segment]) if segment else pd.Series([""] * len(frame))
    findings.add(
        (segments.str.len() > MAX_SEGMENT).to_numpy(),
        segment or "segment",
        f"longer than {MAX_SEGMENT} characters",
    )
    parsed = evaluation.read_features(frame, features, fmt, findings, kinds)
    findings.reject_if_any()
    return CleanLog(
        moments.values,
        subjects.tolist(),
        segments.tolist(),
        predicted.values,
        parsed.frame.reset_index(drop=True),
        len(frame),
    )


def _json_rows(features: pd.DataFrame) -> list[str]:
    if features.empty or not len(features.columns):
        return ["{}"] * len(features)
    return features.to_json(orient="records", lines=True).splitlines()


def store_predictions(
    session: Session, batch: LogBatchRow, version: ModelVersionRow, clean: CleanLog, secret: bytes
) -> None:
    """The storage step of a load: pseudonymise, bulk-insert and keep the drift counts, all in the
    caller's transaction."""
    n = clean.rows
    rows = zip(
        [version.model_id] * n,
        [version.id] * n,
        [batch.id] * n,
        stored_times(clean.moments),
        pseudonymise(secret, clean.subjects),
        clean.segments,
        clean.predictions.astype(float).tolist(),
        _json_rows(clean.features),
        strict=True,
    )
    bulk.insert(session, PredictionRow.__tablename__, PREDICTION_COLUMNS, list(rows))
    drift.count_bins(session, version, clean.moments, clean.features, clean.predictions)


def ingest_predictions(
    db: Database,
    actor: User | None,
    model_id: int,
    version_number: int,
    data: bytes,
    file_name: str,
    fmt: formats.SourceFormat | None = None,
    *,
    source: str = "upload",
    force: bool = False,
    progress: Progress | None = None,
) -> LogResult:
    """Validate a prediction log of one version, pseudonymise its subject keys and store it, all in
    one transaction. `actor=None` is the command line."""
    step = progress or silent
    declared = (fmt or formats.SourceFormat()).checked()
    uploads.check_size(db, len(data), file_name)
    step(0.1, f"Reading {file_name}")
    table = files.read_table(data, file_name, declared)
    secret = pseudonymisation_key(db.settings)
    with db.transaction() as session:
        version = session.scalar(
            select(ModelVersionRow).where(
                ModelVersionRow.model_id == model_id, ModelVersionRow.number == version_number
            )
        )
        if version is None:
            raise NotFound("Model version", f"v{version_number} of model {model_id}")
        if actor is not None:
            authors = OwnedBy(authors_of(session, model_id))
            authorize(actor, "prediction.ingest", authors, entity=f"model {model_id}")
        step(0.3, f"Checking {len(table.frame):,} rows")
        clean = validate_log(table, declared, list(version.features), dict(version.feature_kinds))
        batch = open_batch(
            session,
            actor,
            model_id,
            version.id,
            "predictions",
            source,
            file_name,
            uploads.sha256(data),
            force,
        )
        step(0.6, "Pseudonymising subject keys and storing the predictions")
        store_predictions(session, batch, version, clean, secret)
        batch.rows = clean.rows
        batch.first_at, batch.last_at = utc_moment(clean.moments.min()), utc_moment(clean.moments.max())
        audit.record(
            session,
            actor_id=actor_id(actor),
            actor_name=actor_name(actor),
            action="prediction.ingest",
            entity_type="model_version",
            entity_id=version.id,
            after={"batch": batch.id, "file": file_name, "rows": clean.rows, "source": source},
        )
        events.publish(session, PredictionsLoaded(model_id, version.id, clean.rows))
        raised = inbox.raised_in(session)
        result = LogResult(batch.id, "predictions", clean.rows, 0, batch.first_at, batch.last_at, raised)
    step(1.0, "Done")
    return result
