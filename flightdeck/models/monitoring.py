"""What the model monitoring page shows of one production model: which version serves, its input
and prediction drift over a chosen window and over time, and its live performance against the
holdout (docs/methods.md, "Monitoring and drift"). Drift is read from the counts kept at ingest
(`drift`), never from rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core.db import Database, get_or_raise
from flightdeck.models import drift, drift_stats, evaluation, log_reports
from flightdeck.models.drift import DriftSummary
from flightdeck.models.drift_stats import PerformanceCheck
from flightdeck.orm import DeploymentRow, ModelRow, ModelVersionRow

WINDOWS = {7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}
OVER_TIME_WINDOWS = 12
HEADLINE = {"classification": "roc_auc", "regression": "mae"}
BOUNDED_TOLERANCE = 0.05  # for metrics between 0 and 1 (ROC AUC): 0.05 worse is a real loss
RELATIVE_TOLERANCE = 0.10  # for error metrics in the target's units (MAE): 10% worse than holdout


@dataclass(frozen=True)
class Serving:
    model: ModelRow
    version: ModelVersionRow


def serving(session: Session, model_id: int) -> Serving | None:
    """The version serving now, if any."""
    found = session.execute(
        select(ModelRow, ModelVersionRow)
        .join(DeploymentRow, DeploymentRow.model_id == ModelRow.id)
        .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
        .where(ModelRow.id == model_id, DeploymentRow.ended_at.is_(None))
    ).first()
    return Serving(*found) if found else None


def tolerance(metric: str, holdout: float) -> float:
    """How much worse than the holdout a live metric may be before it is called a drop."""
    if metric in ("roc_auc", "pr_auc", "f1", "r2"):
        return BOUNDED_TOLERANCE
    return float(f"{RELATIVE_TOLERANCE * abs(holdout):.2g}")


def performance(session: Session, model_id: int) -> PerformanceCheck | None:
    """The serving version's headline metric on the outcomes joined so far against its holdout."""
    found = serving(session, model_id)
    if found is None:
        return None
    metric = HEADLINE[found.model.task]
    holdout = (found.version.evaluation or {}).get("metrics", {}).get(metric)
    live = log_reports.live_performance_in(session, model_id)
    current = live.metrics.get(metric)
    if holdout is None or current is None:
        return None
    label, higher = evaluation.metric_names(found.model.task)[metric]
    return drift_stats.compare_performance(
        label,
        current,
        holdout,
        n_outcomes=live.joined,
        higher_is_better=higher,
        tolerance=tolerance(metric, holdout),
    )


@dataclass(frozen=True)
class ModelMonitoring:
    model_id: int
    model_name: str
    task: str
    version_id: int | None
    version_label: str
    last_day: date | None  # the newest day with logged predictions: windows end here
    window_days: int
    drift: DriftSummary | None
    performance: PerformanceCheck | None
    live: log_reports.LivePerformance
    holdout_metrics: dict[str, float | None]
    over_time: pd.DataFrame = field(repr=False, compare=False)  # window_end, feature, psi, n


def monitoring_view(db: Database, model_id: int, window_days: int = drift.WINDOW_DAYS) -> ModelMonitoring:
    """One read of everything the page needs, whatever the number of logged rows."""
    with db.read() as session:
        model = get_or_raise(session, ModelRow, model_id, "Model")
        found = serving(session, model_id)
        live = log_reports.live_performance_in(session, model_id)
        empty = pd.DataFrame(columns=["window_end", "feature", "psi", "n"])
        if found is None:
            return ModelMonitoring(
                model_id, model.name, model.task, None, "", None, window_days, None, None, live, {}, empty
            )
        version = found.version
        last = drift.last_logged_day(session, version.id)
        summary = over_time = None
        if last is not None:
            summary = drift.window_drift(session, version.id, last - timedelta(days=window_days - 1), last)
            step = 1 if window_days <= 7 else 7  # days per point of the chart over time
            over_time = drift.drift_over_time(session, version.id, last, OVER_TIME_WINDOWS, step)
        return ModelMonitoring(
            model_id=model_id,
            model_name=model.name,
            task=model.task,
            version_id=version.id,
            version_label=f"v{version.number}",
            last_day=last,
            window_days=window_days,
            drift=summary,
            performance=performance(session, model_id),
            live=live,
            holdout_metrics=dict((version.evaluation or {}).get("metrics", {})),
            over_time=empty if over_time is None else over_time,
        )


def monitored_models(db: Database) -> list[tuple[int, str]]:
    """(id, name) of the models serving now, for the page's picker."""
    with db.read() as session:
        rows = session.execute(
            select(ModelRow.id, ModelRow.name)
            .join(DeploymentRow, DeploymentRow.model_id == ModelRow.id)
            .where(DeploymentRow.ended_at.is_(None))
            .order_by(ModelRow.name)
        ).all()
    return [(i, n) for i, n in rows]
