"""Prediction logs and outcomes: what a production model was asked, what it answered, and what
then happened.

A log file (CSV or Excel: timestamp, subject key, the version's features, prediction, optional
segment) is checked with the KPI ingest's readers and row-level report, all or nothing. Subject
keys are pseudonymised before anything is stored: HMAC-SHA256 with a secret that never enters the
database (`[privacy] pseudonymisation_key` in the secrets file or FLIGHTDECK_PSEUDONYMISATION_KEY;
otherwise a random key created once in the data folder, readable by its owner only). Production
must set the secret, so that every app process and the command line derive the same pseudonyms.

Feature values are stored as one JSON object per prediction; `feature_daily` reads one feature
with the database's JSON functions. Outcomes arrive later and are joined to the latest prediction
for the same subject at or before the outcome's time, within a horizon.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from flightdeck import alerts, audit, bulk, drift, evaluation, formats, ingest, readiness
from flightdeck.auth import User, authorize
from flightdeck.config import Settings
from flightdeck.context import actor_id, actor_name
from flightdeck.db import Database
from flightdeck.errors import FlightdeckError, InvalidInput, NotFound, Problem
from flightdeck.orm import LogBatchRow, ModelRow, ModelVersionRow, OutcomeRow, PredictionRow
from flightdeck.registry import authors_of

Progress = Callable[[float, str], None]
KEY_ENV = "FLIGHTDECK_PSEUDONYMISATION_KEY"
KEY_FILE = "pseudonymisation.key"
DEFAULT_HORIZON_DAYS = 90
MAX_SEGMENT = 64
COLUMN_NAMES = {
    "timestamp": ("timestamp", "predicted_at", "scored_at", "time", "datetime", "date"),
    "subject_key": ("subject_key", "subject", "subject_id", "key", "customer_id", "member_id"),
    "prediction": ("prediction", "predicted", "score", "probability", "forecast"),
    "segment": ("segment", "region", "store", "group"),
    "observed_at": ("observed_at", "outcome_at", "timestamp", "time", "datetime", "date"),
    "outcome": ("outcome", "actual", "label", "observed", "target"),
}
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
OUTCOME_COLUMNS = ("model_id", "batch_id", "subject_key", "observed_at", "outcome", "prediction_id")


# -- pseudonyms ------------------------------------------------------------------------------------


def pseudonymisation_key(settings: Settings) -> bytes:
    """The secret behind the pseudonyms: environment, then secrets file, then the data folder's
    key file, created on first use with owner-only permissions and reused ever after."""
    configured = os.environ.get(KEY_ENV) or settings.secrets.get("privacy", {}).get("pseudonymisation_key")
    if configured:
        return str(configured).encode()
    path = Path(settings.data_dir) / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it a moment ago
        return path.read_bytes().strip()
    key = secrets.token_hex(32).encode()
    with os.fdopen(handle, "wb") as file:
        file.write(key)
    return key


def pseudonymise(secret: bytes, keys: Iterable[str]) -> list[str]:
    """HMAC-SHA256 of each subject key: stable for joining, meaningless without the secret."""
    return [hmac.new(secret, key.encode(), hashlib.sha256).hexdigest() for key in keys]


# -- reading files ---------------------------------------------------------------------------------


def find_column(columns: list[str], role: str) -> str | None:
    """The file's column for a role, by its usual names (case and separators ignored)."""
    normal = {c.strip().lower().replace(" ", "_").replace("-", "_"): c for c in columns}
    return next((normal[name] for name in COLUMN_NAMES[role] if name in normal), None)


def _required(columns: list[str], roles: tuple[str, ...], features: Iterable[str] = ()) -> dict[str, str]:
    found = {role: find_column(columns, role) for role in roles}
    missing = [f"{role} (e.g. {', '.join(COLUMN_NAMES[role][:3])})" for role, c in found.items() if c is None]
    missing += [f"the feature '{f}'" for f in features if f not in columns]
    if missing:
        raise InvalidInput(Problem("file", f"The file lacks columns for: {'; '.join(missing)}."))
    return {role: column for role, column in found.items() if column is not None}


@dataclass(frozen=True)
class CleanLog:
    moments: np.ndarray  # datetime64[us], naive UTC
    subjects: list[str]  # raw keys: pseudonymised by `store_predictions`, never stored
    segments: list[str]
    predictions: np.ndarray
    features: pd.DataFrame
    rows: int


def validate_log(
    table: formats.Table, fmt: formats.SourceFormat, features: list[str], kinds: dict[str, str]
) -> CleanLog:
    """Every row of a prediction log checked; all problems reported at once, nothing stored."""
    frame = table.frame
    columns = _required(table.columns, ("timestamp", "subject_key", "prediction"), features)
    segment = find_column(table.columns, "segment")
    if segment in features:
        segment = None
    if frame.empty:
        raise InvalidInput(Problem("file", "The file has a header but no rows."))
    findings = ingest.Findings(frame, table.rows, [])
    moments = formats.parse_timestamps(frame[columns["timestamp"]], fmt)
    findings.add(~moments.ok, columns["timestamp"], moments.reasons)
    now = np.datetime64(datetime.now(), "us")
    findings.add(moments.ok & (moments.values > now), columns["timestamp"], "the time lies in the future")
    subjects = ingest.cell_texts(frame[columns["subject_key"]])
    findings.add((subjects == "").to_numpy(), columns["subject_key"], "the subject key is missing")
    predicted = formats.parse_numbers(frame[columns["prediction"]], fmt)
    findings.add(~predicted.ok, columns["prediction"], predicted.reasons)
    segments = ingest.cell_texts(frame[segment]) if segment else pd.Series([""] * len(frame))
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


# -- storing ---------------------------------------------------------------------------------------


def _stamp(moments: np.ndarray) -> list[str]:
    """datetime64 → the text both databases read as a timestamp."""
    return pd.DatetimeIndex(moments).strftime("%Y-%m-%d %H:%M:%S.%f").tolist()


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
        _stamp(clean.moments),
        pseudonymise(secret, clean.subjects),
        clean.segments,
        clean.predictions.astype(float).tolist(),
        _json_rows(clean.features),
        strict=True,
    )
    bulk.insert(session, PredictionRow.__tablename__, PREDICTION_COLUMNS, list(rows))
    drift.count_bins(session, version, clean.moments, clean.features, clean.predictions)


@dataclass(frozen=True)
class LogResult:
    batch_id: int
    kind: str
    rows: int
    matched: int
    first_at: datetime | None
    last_at: datetime | None
    alerts: tuple[str, ...] = ()

    def summary(self) -> str:
        span = (
            f" from {self.first_at:%Y-%m-%d %H:%M} to {self.last_at:%Y-%m-%d %H:%M} UTC"
            if self.first_at
            else ""
        )
        raised = "".join(f" Alert: {a}" for a in self.alerts)
        if self.kind == "outcomes":
            return (
                f"{self.rows:,} outcomes stored{span}; {self.matched:,} joined to a prediction, "
                f"{self.rows - self.matched:,} had no prediction within the horizon.{raised}"
            )
        return f"{self.rows:,} predictions stored{span}.{raised}"


class DuplicateLog(FlightdeckError):
    def __init__(self, file_name: str, when: datetime, who: str) -> None:
        super().__init__(
            f"This file was already loaded for this model on {when:%Y-%m-%d %H:%M} UTC by {who} "
            f"('{file_name}'). Loading it again would store every row twice."
        )


def _batch(
    session: Session,
    actor: User | None,
    model_id: int,
    version_id: int | None,
    kind: str,
    source: str,
    file_name: str,
    digest: str | None,
    force: bool,
) -> LogBatchRow:
    if digest and not force:
        prior = session.scalar(
            select(LogBatchRow)
            .where(LogBatchRow.model_id == model_id, LogBatchRow.kind == kind, LogBatchRow.sha256 == digest)
            .limit(1)
        )
        if prior is not None:
            raise DuplicateLog(prior.file_name, prior.loaded_at, prior.loaded_by_name)
    batch = LogBatchRow(
        model_id=model_id,
        version_id=version_id,
        kind=kind,
        source=source,
        file_name=file_name[:255],
        sha256=digest,
        loaded_by_id=actor_id(actor),
        loaded_by_name=actor_name(actor),
    )
    session.add(batch)
    session.flush()
    return batch


@dataclass(frozen=True)
class _Authors:
    """A model's authors, as the resource `prediction.ingest` is checked against."""

    owner_ids: frozenset[int]


def _evaluate_alerts(db: Database, session: Session, model_id: int) -> tuple[str, ...]:
    """The model's drift, performance and refresh alerts, in the load's transaction."""
    from flightdeck import model_alerts  # it reads live performance from this module

    notify = alerts.webhook_url(db.settings) is not None
    return tuple(model_alerts.evaluate_logs(session, model_id, notify=notify))


def _moment(value: np.datetime64) -> datetime:
    return pd.Timestamp(value).to_pydatetime().replace(tzinfo=UTC)


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
    step = progress or (lambda _f, _m: None)
    declared = (fmt or formats.SourceFormat()).checked()
    ingest.check_size(db, len(data), file_name)
    step(0.1, f"Reading {file_name}")
    table = formats.read_table(data, file_name, declared)
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
            authors = _Authors(authors_of(session, model_id))
            authorize(actor, "prediction.ingest", authors, entity=f"model {model_id}")
        step(0.3, f"Checking {len(table.frame):,} rows")
        clean = validate_log(table, declared, list(version.features), dict(version.feature_kinds))
        batch = _batch(
            session, actor, model_id, version.id, "predictions", source, file_name, ingest.sha256(data), force
        )
        step(0.6, "Pseudonymising subject keys and storing the predictions")
        store_predictions(session, batch, version, clean, secret)
        batch.rows = clean.rows
        batch.first_at, batch.last_at = _moment(clean.moments.min()), _moment(clean.moments.max())
        audit.record(
            session,
            actor_id=actor_id(actor),
            actor_name=actor_name(actor),
            action="prediction.ingest",
            entity_type="model_version",
            entity_id=version.id,
            after={"batch": batch.id, "file": file_name, "rows": clean.rows, "source": source},
        )
        readiness.refresh(session, [version.id], f"Predictions loaded ({clean.rows:,} rows)")
        raised = _evaluate_alerts(db, session, model_id)
        result = LogResult(batch.id, "predictions", clean.rows, 0, batch.first_at, batch.last_at, raised)
    alerts.dispatch(db)
    step(1.0, "Done")
    return result


# -- outcomes --------------------------------------------------------------------------------------


def _outcome_values(frame: pd.DataFrame, column: str, task: str, fmt: formats.SourceFormat) -> formats.Parsed:
    if task == "regression":
        return formats.parse_numbers(frame[column], fmt)
    keys = ingest.cell_texts(frame[column]).map(evaluation.label_key).to_numpy(dtype=object)
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
    low, high = _moment(moments.min() - horizon), _moment(moments.max())
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
    step = progress or (lambda _f, _m: None)
    declared = (fmt or formats.SourceFormat()).checked()
    if not 1 <= horizon_days <= 3650:
        raise InvalidInput(Problem("horizon_days", "The horizon must be 1 to 3,650 days."))
    ingest.check_size(db, len(data), file_name)
    step(0.1, f"Reading {file_name}")
    table = formats.read_table(data, file_name, declared)
    secret = pseudonymisation_key(db.settings)
    with db.transaction() as session:
        model = session.get(ModelRow, model_id)
        if model is None:
            raise NotFound("Model", model_id)
        if actor is not None:
            authorize(
                actor,
                "prediction.ingest",
                _Authors(authors_of(session, model_id)),
                entity=f"model {model.key}",
            )
        columns = _required(table.columns, ("observed_at", "subject_key", "outcome"))
        frame = table.frame
        if frame.empty:
            raise InvalidInput(Problem("file", "The file has a header but no rows."))
        findings = ingest.Findings(frame, table.rows, [])
        moments = formats.parse_timestamps(frame[columns["observed_at"]], declared)
        findings.add(~moments.ok, columns["observed_at"], moments.reasons)
        subjects = ingest.cell_texts(frame[columns["subject_key"]])
        findings.add((subjects == "").to_numpy(), columns["subject_key"], "the subject key is missing")
        outcomes = _outcome_values(frame, columns["outcome"], model.task, declared)
        findings.add(~outcomes.ok, columns["outcome"], outcomes.reasons)
        findings.reject_if_any()
        step(0.4, "Pseudonymising subject keys and joining to predictions")
        keys = pseudonymise(secret, subjects.tolist())
        matches = _join(session, model_id, keys, moments.values, horizon_days)
        batch = _batch(
            session, actor, model_id, None, "outcomes", source, file_name, ingest.sha256(data), force
        )
        n = len(keys)
        rows = zip(
            [model_id] * n,
            [batch.id] * n,
            keys,
            _stamp(moments.values),
            outcomes.values.astype(float).tolist(),
            [int(m) if m >= 0 else None for m in matches],
            strict=True,
        )
        bulk.insert(session, OutcomeRow.__tablename__, OUTCOME_COLUMNS, list(rows))
        batch.rows, batch.matched = n, int((matches >= 0).sum())
        batch.first_at, batch.last_at = _moment(moments.values.min()), _moment(moments.values.max())
        audit.record(
            session,
            actor_id=actor_id(actor),
            actor_name=actor_name(actor),
            action="prediction.outcomes",
            entity_type="model",
            entity_id=model_id,
            after={"batch": batch.id, "file": file_name, "rows": n, "matched": batch.matched},
        )
        raised = _evaluate_alerts(db, session, model_id)
        result = LogResult(batch.id, "outcomes", n, batch.matched, batch.first_at, batch.last_at, raised)
    alerts.dispatch(db)
    step(1.0, "Done")
    return result


# -- reading ---------------------------------------------------------------------------------------


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
    model = session.get(ModelRow, model_id)
    if model is None:
        raise NotFound("Model", model_id)
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
