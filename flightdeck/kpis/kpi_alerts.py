"""KPI alerts: a KPI past its warning or critical threshold, or behind its target trajectory
(the status rule in `kpi_status`), raised once and cleared on recovery in the shared inbox.

They are re-checked inside the transaction that moved their evidence: a load of the KPI's data
(`KpiDataLoaded`: the KPI and every KPI above it, whose values move with it) or an edit of its
definition (`KpiChanged`: thresholds, baseline and target may have moved).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from flightdeck.alerts import inbox
from flightdeck.kpis.events import KpiChanged, KpiDataLoaded
from flightdeck.kpis.kpi_status import status_of
from flightdeck.kpis.series_reader import Reader
from flightdeck.kpis.tree import lineage


def evaluate_alerts(session: Session, kpi_ids: Iterable[int]) -> list[str]:
    """Raise, escalate or clear the threshold and trajectory alerts of exactly these KPIs inside
    the caller's transaction. Returns what was newly raised or escalated."""
    reader = Reader(session)
    raised: list[str] = []
    for kpi_id in kpi_ids:
        row = reader.kpi(kpi_id)
        status = status_of(reader, kpi_id)
        details = {"current": status.current, "expected": status.expected, "unit": row.unit}
        for kind, severity, reason in (
            ("kpi_threshold", status.threshold, status.threshold_reason),
            ("kpi_trajectory", status.trajectory, status.trajectory_reason),
        ):
            key = f"kpi:{kpi_id}:{kind.removeprefix('kpi_')}"
            if severity is None:
                inbox.clear(session, key)
                continue
            message = f"{row.name}: {reason}"
            if inbox.raise_or_keep(
                session,
                kind=kind,
                severity=severity,
                entity_type="kpi",
                entity_id=kpi_id,
                goal_id=row.goal_id,
                condition_key=key,
                message=message,
                details=details,
            ):
                raised.append(message)
    return raised


def on_kpi_data_loaded(session: Session, event: KpiDataLoaded) -> None:
    evaluate_alerts(session, event.moved)


def on_kpi_changed(session: Session, event: KpiChanged) -> None:
    evaluate_alerts(session, lineage(session, [event.kpi_id]))
