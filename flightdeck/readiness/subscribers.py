"""How readiness follows the evidence it reads: each handler re-scores the versions an event can
move, in the event's transaction, naming the cause in the snapshot history. `flightdeck.wiring`
subscribes them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from flightdeck.business.events import GoalChanged
from flightdeck.kpis.events import KpiChanged
from flightdeck.models.events import ModelChanged, PredictionsLoaded, VersionChanged
from flightdeck.readiness.snapshots import refresh, versions_of


def on_goal_changed(session: Session, event: GoalChanged) -> None:
    refresh(session, versions_of(session, goal_id=event.goal_id), "Goal edited")


def on_kpi_changed(session: Session, event: KpiChanged) -> None:
    refresh(session, versions_of(session, goal_id=event.goal_id), "KPI edited")


def on_model_changed(session: Session, event: ModelChanged) -> None:
    refresh(session, versions_of(session, [event.model_id]), "Model details changed")


def on_version_changed(session: Session, event: VersionChanged) -> None:
    refresh(session, [event.version_id], event.cause, event.at)


def on_predictions_loaded(session: Session, event: PredictionsLoaded) -> None:
    refresh(session, [event.version_id], f"Predictions loaded ({event.rows:,} rows)")
