"""The alert inbox: alerts raised once per condition, cleared when it recovers, acknowledged by
whoever owns the goal.

Any monitor (KPI thresholds and trajectories, drift, performance, readiness, impact) calls
`raise_or_keep` while its condition holds and `clear` when it no longer does, inside its own
transaction. A condition key names the condition ("kpi:12:threshold"); a partial unique index
allows one open alert per key, so checking the same condition again never raises it twice. Each
raise, escalation and clearance owes a webhook notification (`webhook.owe`) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from flightdeck.alerts import webhook
from flightdeck.core import audit
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import NotFound
from flightdeck.core.permissions import User, authorize
from flightdeck.orm import AlertRow, GoalRow, UserRow
from flightdeck.orm.alerts import SEVERITIES

MONITOR = "Flightdeck monitor"  # the audit trail's name for changes no person made
RAISED = "alerts_raised"  # session.info key: messages raised or escalated in this transaction
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES, start=1)}


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    severity: str
    entity_type: str
    entity_id: int
    goal_id: int | None
    goal_title: str
    goal_owner_id: int | None
    condition_key: str
    message: str
    details: dict[str, Any] | None
    raised_at: datetime
    escalated_at: datetime | None
    cleared_at: datetime | None
    acknowledged_by_name: str | None
    acknowledged_at: datetime | None

    @property
    def owner_ids(self) -> frozenset[int]:
        return frozenset({self.goal_owner_id} if self.goal_owner_id is not None else ())

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    @property
    def state(self) -> str:
        if self.cleared_at is not None:
            return "cleared"
        return "acknowledged" if self.acknowledged_at is not None else "open"


def _query() -> Select[tuple[AlertRow, str | None, int | None, str | None]]:
    acknowledger = aliased(UserRow, name="acknowledger")
    return (
        select(AlertRow, GoalRow.title, GoalRow.owner_id, acknowledger.display_name)
        .outerjoin(GoalRow, GoalRow.id == AlertRow.goal_id)
        .outerjoin(acknowledger, acknowledger.id == AlertRow.acknowledged_by_id)
    )


def _view(row: AlertRow, goal_title: str | None, goal_owner: int | None, acknowledger: str | None) -> Alert:
    return Alert(
        id=row.id,
        kind=row.kind,
        severity=row.severity,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        goal_id=row.goal_id,
        goal_title=goal_title or "",
        goal_owner_id=goal_owner,
        condition_key=row.condition_key,
        message=row.message,
        details=row.details,
        raised_at=row.raised_at,
        escalated_at=row.escalated_at,
        cleared_at=row.cleared_at,
        acknowledged_by_name=acknowledger,
        acknowledged_at=row.acknowledged_at,
    )


def list_alerts(
    db: Database,
    *,
    owner_id: int | None = None,
    states: tuple[str, ...] = ("open", "acknowledged", "cleared"),
    limit: int = 500,
) -> list[Alert]:
    """Newest first; `owner_id` narrows to alerts on that person's goals (their inbox)."""
    query = _query().order_by(AlertRow.cleared_at.is_not(None), AlertRow.raised_at.desc()).limit(limit)
    if owner_id is not None:
        query = query.where(GoalRow.owner_id == owner_id)
    conditions = []
    if "open" in states:
        conditions.append(AlertRow.cleared_at.is_(None) & AlertRow.acknowledged_at.is_(None))
    if "acknowledged" in states:
        conditions.append(AlertRow.cleared_at.is_(None) & AlertRow.acknowledged_at.is_not(None))
    if "cleared" in states:
        conditions.append(AlertRow.cleared_at.is_not(None))
    if not conditions:
        return []
    query = query.where(or_(*conditions))
    with db.read() as session:
        return [_view(*found) for found in session.execute(query)]


def open_alerts_for(db: Database, entity_type: str, entity_ids: list[int]) -> dict[int, list[Alert]]:
    """Open alerts per subject, for pages that badge what they show."""
    if not entity_ids:
        return {}
    query = _query().where(
        AlertRow.entity_type == entity_type, AlertRow.entity_id.in_(entity_ids), AlertRow.cleared_at.is_(None)
    )
    found: dict[int, list[Alert]] = {}
    with db.read() as session:
        for row in session.execute(query):
            alert = _view(*row)
            found.setdefault(alert.entity_id, []).append(alert)
    return found


def count_open(db: Database, owner_id: int | None = None) -> int:
    query = select(func.count()).select_from(AlertRow).where(AlertRow.cleared_at.is_(None))
    if owner_id is not None:
        query = query.join(GoalRow, GoalRow.id == AlertRow.goal_id).where(GoalRow.owner_id == owner_id)
    with db.read() as session:
        return session.scalar(query) or 0


def _open(session: Session, condition_key: str) -> AlertRow | None:
    return session.scalar(
        select(AlertRow)
        .where(AlertRow.condition_key == condition_key, AlertRow.cleared_at.is_(None))
        .with_for_update()
    )


def _record(session: Session, row: AlertRow, action: str) -> None:
    audit.record(
        session,
        actor_id=None,
        actor_name=MONITOR,
        action=action,
        entity_type="alert",
        entity_id=row.id,
        after={
            "kind": row.kind,
            "severity": row.severity,
            "condition": row.condition_key,
            "message": row.message,
        },
    )


def raise_or_keep(
    session: Session,
    *,
    kind: str,
    severity: str,
    entity_type: str,
    entity_id: int,
    goal_id: int | None,
    condition_key: str,
    message: str,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AlertRow | None:
    """The condition holds. Raise an alert if none is open for it; escalate an open one whose
    severity rose (notifying again); otherwise refresh its message quietly. Returns the alert
    when it was raised or escalated, None when it was already known; `raised_in` lists the
    messages of every alert a transaction raised or escalated."""
    if severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {severity!r}")
    webhook.deliver_after_commit(session)
    now = now or utcnow()
    row = _open(session, condition_key)
    if row is None:
        row = AlertRow(
            kind=kind,
            severity=severity,
            entity_type=entity_type,
            entity_id=entity_id,
            goal_id=goal_id,
            condition_key=condition_key,
            message=message,
            details=details,
            raised_at=now,
        )
        session.add(row)
        session.flush()
        webhook.owe(session, row.id, "raised", now)
        _record(session, row, "alert.raise")
        session.info.setdefault(RAISED, []).append(message)
        return row
    escalated = SEVERITY_RANK[severity] > SEVERITY_RANK[row.severity]
    row.severity, row.message, row.details = severity, message, details
    if not escalated:
        return None
    row.escalated_at = now
    row.acknowledged_at = row.acknowledged_by_id = None  # worse than what was acknowledged
    webhook.owe(session, row.id, "escalated", now)
    _record(session, row, "alert.escalate")
    session.info.setdefault(RAISED, []).append(message)
    return row


def clear(session: Session, condition_key: str, *, now: datetime | None = None) -> AlertRow | None:
    """The condition no longer holds: close its open alert, if any."""
    webhook.deliver_after_commit(session)
    row = _open(session, condition_key)
    if row is None:
        return None
    row.cleared_at = now or utcnow()
    webhook.owe(session, row.id, "cleared", row.cleared_at)
    _record(session, row, "alert.clear")
    return row


def raised_in(session: Session) -> tuple[str, ...]:
    """The messages of the alerts this transaction raised or escalated so far, for the summary of
    the load (or edit) that caused them."""
    return tuple(session.info.get(RAISED, ()))


def acknowledge(db: Database, actor: User, alert_id: int) -> Alert:
    """The goal's owner (or an admin) says "seen, on it". Idempotent."""
    with db.transaction() as session:
        found = session.execute(_query().where(AlertRow.id == alert_id)).one_or_none()
        if found is None:
            raise NotFound("Alert", alert_id)
        row = found[0]
        authorize(actor, "alert.acknowledge", _view(*found), entity=f"alert {alert_id}")
        if row.acknowledged_at is None:
            row.acknowledged_at = utcnow()
            row.acknowledged_by_id = actor.id
            audit.record(
                session,
                by=actor,
                action="alert.acknowledge",
                entity_type="alert",
                entity_id=row.id,
                after={"condition": row.condition_key},
            )
            session.flush()
        return _view(*session.execute(_query().where(AlertRow.id == alert_id)).one())
