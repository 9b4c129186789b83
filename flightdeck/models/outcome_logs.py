"""Outcome logs: what happened after a prediction (time, subject key, outcome), pseudonymised like
the predictions and joined to the latest prediction of the same subject at or before the outcome,
within a horizon. All or nothing; announces `OutcomesLoaded`."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.alerts import inbox
from flightdeck.core import audit, events
from flightdeck.core.actors import actor_id, actor_name
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.core.permissions import OwnedBy, User, authorize
from flightdeck.models import evaluation
from flightdeck.models.events import OutcomesLoaded
from flightdeck.models.log_files import LogResult, open_batch, required_columns, stored_times, utc_moment
from flightdeck.models.pseudonyms import pseudonymisation_key, pseudonymise
from flightdeck.models.records import authors_of
from flightdeck.orm import ModelRow, OutcomeRow, PredictionRow
from flightdeck.tabular import bulk, files, formats, uploads
from flightdeck.tabular.findings import Findings, cell_texts
from flightdeck.tabular.progress import Progress, silent

DEFAULT_HORIZON_DAYS = 90
OUTCOME_COLUMNS = ("model_id", "batch_id", "subject_key", "observed_at", "outcome", "prediction_id")


def _outcome_values(frame: pd.DataFrame, column: str, task: str, fmt: formats.SourceFormat) -> formats.Parsed:
    if task == "regression":
        return formats.parse_numbers(frame[column], fmt)
    keys = cell_texts(frame[column]).map(evaluation.label_key).to_numpy(dtype=object)
    ok = np.isin(keys, ["0", "1"])
    values = np.where(ok, keys, "nan").astype(float)
    reasons = np.where(ok, "", "an outcome of a classification is 1 or 0 (true/false, yes/no)").astype(object)
    return formats.Parsed(values, ok, reasons)


def _join(
    session: Session, model_id: int, keys: list[str], moments: np.ndarray, horizon_days: int
) -> np.ndarray:
    """For each outcome, the id of the latest prediction of the same subject at or before it and
    no more than the horizon earlier (-1 where there is none)."""
    horizon = np.timedelta64(horizon_days, "D")
    low, high = utc_moment(moments.min() - horizon), utc_moment(moments.max())
    found: list[tuple[int, str, datetime]] = []
    distinct = sorted(set(keys))
    for start in range(0, len(distinct), 5000):
        found += session.execute(
            select(PredictionRow.id, PredictionRow.subject_key, PredictionRow.predicted_at).where(
                PredictionRow.model_id == model_id,
                PredictionRow.subject_key.in_(distinct[start : start + 5000]),
                PredictionRow.predicted_at >= low,
                PredictionRow.predicted_at <= high,
            )
        ).all()
    outcomes = pd.DataFrame({"key": keys, "at": pd.to_datetime(moments), "order": np.arange(len(keys))})
    if not found:
        return np.full(len(keys), -1)
    candidates = pd.DataFrame(found, columns=["id", "key", "at"])
    candidates["at"] = pd.to_datetime(candidates["at"]).dt.tz_localize(None).astype("datetime64[us]")
    outcomes["at"] = outcomes["at"].astype("datetime64[us]")
    joined = pd.merge_asof(
        outcomes.sort_values("at"),
        candidates.sort_values("at"),
        on="at",
        by="key",
        direction="backward",
        tolerance=pd.Timedelta(days=horizon_days),
    ).sort_values("order")
    return joined["id"].fillna(-1).to_numpy(dtype=np.int64)


def ingest_outcomes(
    db: Database,
    actor: User | None,
    model_id: int,
    data: bytes,
    file_name: str,
    fmt: formats.SourceFormat | None = None,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    source: str = "upload",
    force: bool = False,
    progress: Progress | None = None,
) -> LogResult:
    """Outcomes (time, subject key, outcome) joined by pseudonymised key and time to predictions."""
    step = progress or silent
    declared = (fmt or formats.SourceFormat()).checked()
    if not 1 <= horizon_days <= 3650:
        raise InvalidInput(Problem("horizon_days", "The horizon must be 1 to 3,650 days."))
    uploads.check_size(db, len(data), file_name)
    step(0.1, f"Reading {file_name}")
    table = files.read_table(data, file_name, declared)
    secret = pseudonymisation_key(db.settings)
    with db.transaction() as session:
        model = get_or_raise(session, ModelRow, model_id, "Model")
        if actor is not None:
            authorize(
                actor,
                "prediction.ingest",
                OwnedBy(authors_of(session, model_id)),
                entity=f"model {model.key}",
            )
        columns = required_columns(table.columns, ("observed_at", "subject_key", "outcome"))
        frame = table.frame
        if frame.empty:
            raise InvalidInput(Problem("file", "The file has a header but no rows."))
        findings = Findings(frame, table.rows, [])
        moments = formats.parse_timestamps(frame[columns["observed_at"]], declared)
        findings.add(~moments.ok, columns["observed_at"], moments.reasons)
        subjects = cell_texts(frame[columns["subject_key"]])
        findings.add((subjects == "").to_numpy(), columns["subject_key"], "the subject key is missing")
        outcomes = _outcome_values(frame, columns["outcome"], model.task, declared)
        findings.add(~outcomes.ok, columns["outcome"], outcomes.reasons)
        findings.reject_if_any()
        step(0.4, "Pseudonymising subject keys and joining to predictions")
        keys = pseudonymise(secret, subjects.tolist())
        matches = _join(session, model_id, keys, moments.values, horizon_days)
        batch = open_batch(
            session, actor, model_id, None, "outcomes", source, file_name, uploads.sha256(data), force
        )
        n = len(keys)
        rows = zip(
            [model_id] * n,
            [batch.id] * n,
            keys,
            stored_times(moments.values),
            outcomes.values.astype(float).tolist(),
            [int(m) if m >= 0 else None for m in matches],
            strict=True,
        )
        bulk.insert(session, OutcomeRow.__tablename__, OUTCOME_COLUMNS, list(rows))
        batch.rows, batch.matched = n, int((matches >= 0).sum())
        batch.first_at, batch.last_at = utc_moment(moments.values.min()), utc_moment(moments.values.max())
        audit.record(
            session,
            actor_id=actor_id(actor),
            actor_name=actor_name(actor),
            action="prediction.outcomes",
            entity_type="model",
            entity_id=model_id,
            after={"batch": batch.id, "file": file_name, "rows": n, "matched": batch.matched},
        )
        events.publish(session, OutcomesLoaded(model_id))
        raised = inbox.raised_in(session)
        result = LogResult(batch.id, "outcomes", n, batch.matched, batch.first_at, batch.last_at, raised)
    step(1.0, "Done")
    return result
