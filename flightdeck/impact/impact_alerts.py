"""Impact alerts: a production model whose impact on one of its KPIs has turned negative with
confidence (the interval excludes zero on the bad side), raised in the transaction of the KPI
load that showed it (`KpiDataLoaded`) and cleared once it no longer is. `evaluate_all` re-checks
every model alert of every production model, for the command line and cron."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from flightdeck.core.db import Database
from flightdeck.impact import measurement
from flightdeck.impact.estimates import Verdict
from flightdeck.kpis.events import KpiDataLoaded
from flightdeck.models.model_alerts import evaluate_logs, set_model_alert
from flightdeck.orm import ModelRow


def evaluate_impact(session: Session, model_ids: Iterable[int]) -> list[str]:
    """An alert per KPI whose impact is negative with confidence (the interval excludes zero on the
    bad side); cleared once it no longer is."""
    raised = []
    for item in measurement.impacts_in(session, model_ids):
        negative = item.verdict is Verdict.NEGATIVE
        model = session.get_one(ModelRow, item.model_id)
        message = (
            f"{item.model_name} is making {item.kpi_name} worse. {item.result.summary if item.result else ''}"
        )
        found = set_model_alert(
            session, model, f"impact:{item.kpi_id}", "model_impact", "critical" if negative else None,
            message, {"kpi_id": item.kpi_id},
        )  # fmt: skip
        if found:
            raised.append(found)
    return raised


def on_kpi_data_loaded(session: Session, event: KpiDataLoaded) -> None:
    """A load moves the impact of the production models attached to the KPI or a KPI above it."""
    evaluate_impact(session, measurement.models_for_kpis(session, event.moved))


def evaluate_all(db: Database, today: date | None = None) -> list[str]:
    """Every model alert of every production model (the command line, for time-driven ones)."""
    with db.transaction() as session:
        models = measurement.production_models(session)
        raised = [m for model_id in models for m in evaluate_logs(session, model_id, today)]
        raised += evaluate_impact(session, models)
    return raised
