"""The one place that decides who reacts to what. Services publish events in their own
transaction (`flightdeck.core.events`); the handlers below run in that same transaction, in the
order listed, so a change and everything that follows from it commit or roll back together.

The app, the command line, the tests and the benchmarks call `wire()` once at start. The table is
also what `docs/architecture.md` shows a newcomer.
"""

from __future__ import annotations

import threading

from flightdeck.business.events import GoalChanged
from flightdeck.core import events
from flightdeck.core.events import Event, Handler
from flightdeck.impact import impact_alerts
from flightdeck.kpis import kpi_alerts
from flightdeck.kpis.events import KpiChanged, KpiDataLoaded
from flightdeck.models import lifecycle, model_alerts
from flightdeck.models.events import (
    ModelChanged,
    OutcomesLoaded,
    PredictionsLoaded,
    VersionChanged,
)
from flightdeck.readiness import gate, subscribers

SUBSCRIBERS: dict[type[Event], tuple[Handler, ...]] = {
    GoalChanged: (subscribers.on_goal_changed,),
    KpiChanged: (kpi_alerts.on_kpi_changed, subscribers.on_kpi_changed),
    KpiDataLoaded: (kpi_alerts.on_kpi_data_loaded, impact_alerts.on_kpi_data_loaded),
    ModelChanged: (subscribers.on_model_changed,),
    VersionChanged: (subscribers.on_version_changed,),
    PredictionsLoaded: (subscribers.on_predictions_loaded, model_alerts.on_logs_loaded),
    OutcomesLoaded: (model_alerts.on_logs_loaded,),
}
# Vetoes are not events: the lifecycle consults these before a version serves, and any may refuse.
PRODUCTION_CHECKS = (gate.gate,)

_lock = threading.Lock()


def wire() -> None:
    """Subscribe every handler and register every production check, once per process."""
    with _lock:
        if events.is_wired():
            return
        for event_type, handlers in SUBSCRIBERS.items():
            for handler in handlers:
                events.subscribe(event_type, handler)
        for check in PRODUCTION_CHECKS:
            lifecycle.require_before_production(check)
        events.mark_wired()
