"""What the KPI package announces: a definition edited, data loaded. KPI alerts, model impact
alerts and readiness react to these (see `flightdeck.wiring`)."""

from __future__ import annotations

from dataclasses import dataclass

from flightdeck.core.events import Event


@dataclass(frozen=True)
class KpiChanged(Event):
    """A KPI's definition was edited: thresholds, baseline, target or money value may have moved."""

    kpi_id: int
    goal_id: int


@dataclass(frozen=True)
class KpiDataLoaded(Event):
    """Values were stored for a KPI. `moved` is that KPI and every KPI above it in its tree, whose
    computed or rolled-up values move with it, nearest first."""

    kpi_id: int
    batch_id: int
    moved: tuple[int, ...]
