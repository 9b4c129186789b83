"""Alerts on a model in production from its logs: major input drift, live performance worse
than the holdout beyond a tolerance, and a refresh overdue. They share the KPI alerts' inbox and
webhook: each condition has one key per model, so it is raised once and cleared on recovery.

They are re-checked in the transaction of every prediction or outcome load of the model
(`PredictionsLoaded`, `OutcomesLoaded`), and by `python -m flightdeck alerts evaluate` for what
only time changes (a refresh falls due without any load).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from flightdeck.alerts import inbox
from flightdeck.core.clock import utcnow
from flightdeck.models import drift, drift_stats
from flightdeck.models.drift_stats import Band
from flightdeck.models.events import OutcomesLoaded, PredictionsLoaded
from flightdeck.models.monitoring import performance, serving
from flightdeck.orm import ModelRow


def set_model_alert(
    session: Session,
    model: ModelRow,
    condition: str,
    kind: str,
    severity: str | None,
    message: str,
    details: dict[str, object],
) -> str | None:
    """Raise (or keep) the alert while `severity` is set, clear it otherwise."""
    key = f"model:{model.id}:{condition}"
    if severity is None:
        inbox.clear(session, key)
        return None
    raised = inbox.raise_or_keep(
        session,
        kind=kind,
        severity=severity,
        entity_type="model",
        entity_id=model.id,
        goal_id=model.goal_id,
        condition_key=key,
        message=message,
        details=details,
    )
    return message if raised else None


def evaluate_logs(session: Session, model_id: int, today: date | None = None) -> list[str]:
    """Drift, performance and refresh alerts of one model; returns what was newly raised."""
    found = serving(session, model_id)
    if found is None:
        return []
    model, version = found.model, found.version
    label = f"{model.name} v{version.number}"
    raised: list[str | None] = []

    end = drift.last_logged_day(session, version.id)
    major: list[drift_stats.FeatureDrift] = []
    if end is not None:
        window = drift.window_drift(session, version.id, end - timedelta(days=drift.WINDOW_DAYS - 1), end)
        major = [f for f in window.features if f.status is Band.MAJOR]
    message = (
        f"{label}: major input drift in "
        + ", ".join(f"{f.feature} (PSI {f.psi.value:.2f})" for f in major)
        + f" over the {drift.WINDOW_DAYS} days to {end}."
    )
    details = {"features": [f.feature for f in major], "window_end": str(end)}
    raised.append(
        set_model_alert(
            session, model, "drift", "model_drift", "warning" if major else None, message, details
        )
    )

    check = performance(session, model_id)
    degraded = check is not None and check.degraded
    message = f"{label}: live performance dropped. {check.summary if check else ''}"
    details = {"metric": check.metric, "current": check.current, "holdout": check.holdout} if check else {}
    raised.append(
        set_model_alert(
            session,
            model,
            "performance",
            "model_performance",
            "critical" if degraded else None,
            message,
            details,
        )
    )

    day = today or utcnow().date()
    due = (
        version.training_date + timedelta(days=version.refresh_days)
        if version.training_date and version.refresh_days
        else None
    )
    overdue = due is not None and due < day
    message = (
        f"{label}: refresh overdue. Trained on {version.training_date}, to be refreshed every "
        f"{version.refresh_days} days, so due on {due}."
    )
    raised.append(
        set_model_alert(session, model, "refresh", "model_refresh", "warning" if overdue else None, message,
             {"due": str(due)})
    )  # fmt: skip
    return [r for r in raised if r]


def on_logs_loaded(session: Session, event: PredictionsLoaded | OutcomesLoaded) -> None:
    evaluate_logs(session, event.model_id)
