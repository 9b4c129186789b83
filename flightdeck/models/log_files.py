"""What prediction logs and outcome logs share: their columns found by their usual names, the
batch record that refuses the same file twice, the load's summary, and timestamps as stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core.actors import actor_id, actor_name
from flightdeck.core.errors import FlightdeckError, InvalidInput, Problem
from flightdeck.core.permissions import User
from flightdeck.orm import LogBatchRow

COLUMN_NAMES = {
    "timestamp": ("timestamp", "predicted_at", "scored_at", "time", "datetime", "date"),
    "subject_key": ("subject_key", "subject", "subject_id", "key", "customer_id", "member_id"),
    "prediction": ("prediction", "predicted", "score", "probability", "forecast"),
    "segment": ("segment", "region", "store", "group"),
    "observed_at": ("observed_at", "outcome_at", "timestamp", "time", "datetime", "date"),
    "outcome": ("outcome", "actual", "label", "observed", "target"),
}


def find_column(columns: list[str], role: str) -> str | None:
    """The file's column for a role, by its usual names (case and separators ignored)."""
    normal = {c.strip().lower().replace(" ", "_").replace("-", "_"): c for c in columns}
    return next((normal[name] for name in COLUMN_NAMES[role] if name in normal), None)


def required_columns(
    columns: list[str], roles: tuple[str, ...], features: Iterable[str] = ()
) -> dict[str, str]:
    found = {role: find_column(columns, role) for role in roles}
    missing = [f"{role} (e.g. {', '.join(COLUMN_NAMES[role][:3])})" for role, c in found.items() if c is None]
    missing += [f"the feature '{f}'" for f in features if f not in columns]
    if missing:
        raise InvalidInput(Problem("file", f"The file lacks columns for: {'; '.join(missing)}."))
    return {role: column for role, column in found.items() if column is not None}


def stored_times(moments: np.ndarray) -> list[str]:
    """datetime64 → the text both databases read as a timestamp."""
    return pd.DatetimeIndex(moments).strftime("%Y-%m-%d %H:%M:%S.%f").tolist()


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


def open_batch(
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


def utc_moment(value: np.datetime64) -> datetime:
    return pd.Timestamp(value).to_pydatetime().replace(tzinfo=UTC)
