"""What the model registry announces. Readiness re-scores on every one of these; model alerts
re-check drift, live performance and refresh when logs arrive (see `flightdeck.wiring`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flightdeck.core.events import Event


@dataclass(frozen=True)
class ModelChanged(Event):
    """A model's details were edited: its goal, KPIs or description."""

    model_id: int


@dataclass(frozen=True)
class VersionChanged(Event):
    """A version's evidence moved: registered, documented, features mapped, or a stage change.
    `cause` says which, in words, for the readiness history."""

    version_id: int
    cause: str
    at: datetime | None = None


@dataclass(frozen=True)
class PredictionsLoaded(Event):
    """A prediction log of one version was stored."""

    model_id: int
    version_id: int
    rows: int


@dataclass(frozen=True)
class OutcomesLoaded(Event):
    """Outcomes of a model's predictions were stored and joined."""

    model_id: int
