"""What the logs say about a model: its log batches, predictions per day, a feature's daily mean
(read with the database's JSON functions) and live performance on the outcomes joined so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from flightdeck.core.db import Database, get_or_raise
from flightdeck.models import evaluation
from flightdeck.orm import LogBatchRow, ModelRow, ModelVersionRow, OutcomeRow, PredictionRow


@dataclass(frozen=True)
class LogBatch:
    id: int
    kind: str
    version_number: int | None
    source: str
    file_name: str
    rows: int
    matched: int
    first_at: datetime | None
    last_at: datetime | None
    loaded_by_name: str
    loaded_at: datetime


def list_batches(db: Database, model_id: int, limit: int = 50) -> list[LogBatch]:
    with db.read() as session:
        rows = session.execute(
            select(LogBatchRow, ModelVersionRow.number)
            .outerjoin(ModelVersionRow, ModelVersionRow.id == LogBatchRow.version_id)
            .where(LogBatchRow.model_id == model_id)
            .order_by(LogBatchRow.id.desc())
            .limit(limit)
        ).all()
        return [
            LogBatch(b.id, b.kind, n, b.source, b.file_name, b.rows, b.matched, b.first_at, b.last_at,
                     b.loaded_by_name, b.loaded_at)
            for b, n in rows
        ]  # fmt: skip


def daily_volume(db: Database, model_id: int) -> pd.DataFrame:
    """Predictions per day and version (aggregated in the database)."""
    day = func.date(PredictionRow.predicted_at)
    with db.read() as session:
        rows = session.execute(
            select(day, ModelVersionRow.number, func.count())
            .join(ModelVersionRow, ModelVersionRow.id == PredictionRow.version_id)
            .where(PredictionRow.model_id == model_id)
            .group_by(day, ModelVersionRow.number)
            .order_by(day)
        ).all()
    frame = pd.DataFrame(rows, columns=["day", "version", "predictions"])
    frame["day"] = pd.to_datetime(frame["day"].astype(str))
    return frame


def feature_daily(db: Database, model_id: int, feature: str) -> pd.DataFrame:
    """Daily mean of one numeric feature, read from the JSON features in the database."""
    value = cast(PredictionRow.features[feature].as_float(), Float)
    day = func.date(PredictionRow.predicted_at)
    with db.read() as session:
        rows = session.execute(
            select(day, func.avg(value), func.count(value))
            .where(PredictionRow.model_id == model_id)
            .group_by(day)
            .order_by(day)
        ).all()
    frame = pd.DataFrame(rows, columns=["day", "mean", "n"])
    frame["day"] = pd.to_datetime(frame["day"].astype(str))
    return frame


@dataclass(frozen=True)
class LivePerformance:
    task: str
    predictions: int
    outcomes: int
    joined: int
    metrics: dict[str, float | None]
    first_day: date | None
    last_day: date | None


def live_performance(db: Database, model_id: int) -> LivePerformance:
    """How the model did on the outcomes joined so far (classification at threshold 0.5)."""
    with db.read() as session:
        return live_performance_in(session, model_id)


def live_performance_in(session: Session, model_id: int) -> LivePerformance:
    """`live_performance` inside the caller's session (the alerts of an outcome load see its rows)."""
    model = get_or_raise(session, ModelRow, model_id, "Model")
    predictions, first, last = session.execute(  # from the loads: no scan of the log itself
        select(
            func.sum(LogBatchRow.rows), func.min(LogBatchRow.first_at), func.max(LogBatchRow.last_at)
        ).where(LogBatchRow.model_id == model_id, LogBatchRow.kind == "predictions")
    ).one()
    outcomes = session.scalar(select(func.count()).where(OutcomeRow.model_id == model_id)) or 0
    pairs = session.execute(
        select(PredictionRow.prediction, OutcomeRow.outcome)
        .join(PredictionRow, PredictionRow.id == OutcomeRow.prediction_id)
        .where(OutcomeRow.model_id == model_id)
    ).all()
    metrics: dict[str, Any] = {}
    if pairs:
        values = np.asarray(pairs, dtype=float)
        if model.task == "classification":
            metrics = evaluation.classification_metrics(values[:, 1].astype(int), values[:, 0])
        else:
            metrics = evaluation.regression_metrics(values[:, 1], values[:, 0])
    return LivePerformance(
        model.task,
        int(predictions or 0),
        int(outcomes),
        len(pairs),
        metrics,
        _as_date(first),
        _as_date(last),
    )


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def data_stamp(db: Database, model_id: int) -> int:
    """The newest batch id of a model: a cheap cache key for anything read from its logs."""
    with db.read() as session:
        return session.scalar(select(func.max(LogBatchRow.id)).where(LogBatchRow.model_id == model_id)) or 0
