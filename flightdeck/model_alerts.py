"""Alerts on models in production: major input drift, live performance worse than the holdout
beyond a tolerance, a refresh overdue, and an impact that has turned negative with confidence
(DESIGN.md §6). They share the KPI alerts' inbox and webhook (`alerts.raise_or_keep`/`clear`):
each condition has one key per model (and KPI), so it is raised once and cleared on recovery.

They are evaluated where their evidence changes, inside that transaction: drift, performance and
refresh at a prediction or outcome load, impact at a KPI load; `python -m flightdeck alerts
evaluate` runs them all for what only time changes (a refresh falls due without any load).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy.orm import Session

from flightdeck import alerts, drift, drift_stats, impact
from flightdeck.db import Database
from flightdeck.drift_stats import Band
from flightdeck.impact_stats import Verdict
from flightdeck.model_monitoring import performance, serving
from flightdeck.orm import ModelRow, utcnow


def _set(
    session: Session,
    model: ModelRow,
    condition: str,
    kind: str,
    severity: str | None,
    message: str,
    details: dict[str, object],
    notify: bool,
) -> str | None:
    """Raise (or keep) the alert while `severity` is set, clear it otherwise."""
    key = f"model:{model.id}:{condition}"
    if severity is None:
        alerts.clear(session, key, notify=notify)
        return None
    raised = alerts.raise_or_keep(
        session,
        kind=kind,
        severity=severity,
        entity_type="model",
        entity_id=model.id,
        goal_id=model.goal_id,
        condition_key=key,
        message=message,
        details=details,
        notify=notify,
    )
    return message if raised else None


def evaluate_logs(
    session: Session, model_id: int, today: date | None = None, notify: bool = False
) -> list[str]:
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
        _set(session, model, "drift", "model_drift", "warning" if major else None, message, details, notify)
    )

    check = performance(session, model_id)
    degraded = check is not None and check.degraded
    message = f"{label}: live performance dropped. {check.summary if check else ''}"
    details = {"metric": check.metric, "current": check.current, "holdout": check.holdout} if check else {}
    raised.append(
        _set(session, model, "performance", "model_performance", "critical" if degraded else None, message,
             details, notify)
    )  # fmt: skip

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
        _set(session, model, "refresh", "model_refresh", "warning" if overdue else None, message,
             {"due": str(due)}, notify)
    )  # fmt: skip
    return [r for r in raised if r]


def evaluate_impact(session: Session, model_ids: Iterable[int], notify: bool = False) -> list[str]:
    """An alert per KPI whose impact is negative with confidence (the interval excludes zero on the
    bad side); cleared once it no longer is."""
    raised = []
    for item in impact.impacts_in(session, model_ids):
        negative = item.verdict is Verdict.NEGATIVE
        model = session.get_one(ModelRow, item.model_id)
        message = (
            f"{item.model_name} is making {item.kpi_name} worse. {item.result.summary if item.result else ''}"
        )
        found = _set(
            session, model, f"impact:{item.kpi_id}", "model_impact", "critical" if negative else None,
            message, {"kpi_id": item.kpi_id}, notify,
        )  # fmt: skip
        if found:
            raised.append(found)
    return raised


def evaluate_kpis(session: Session, kpi_ids: Iterable[int], notify: bool = False) -> list[str]:
    """The impact alerts a KPI load can change: those of the production models attached to it."""
    return evaluate_impact(session, impact.models_for_kpis(session, kpi_ids), notify)


def evaluate_all(db: Database, today: date | None = None) -> list[str]:
    """Every model alert of every production model (the command line, for time-driven ones)."""
    notify = alerts.webhook_url(db.settings) is not None
    with db.transaction() as session:
        models = impact.production_models(session)
        raised = [m for model_id in models for m in evaluate_logs(session, model_id, today, notify)]
        raised += evaluate_impact(session, models, notify)
    alerts.dispatch(db)
    return raised
