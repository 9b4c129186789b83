"""Alerts: raised once per condition, cleared when it recovers, acknowledged by whoever owns the
goal, and announced to an optional webhook.

Any monitor (KPI thresholds and trajectories here; drift, performance, readiness and impact
later) calls `raise_or_keep` while its condition holds and `clear` when it no longer does, inside
its own transaction. A condition key names the condition ("kpi:12:threshold"); a partial unique
index allows one open alert per key, so checking the same condition again never raises it twice.

Webhook notifications are written as pending deliveries in that same transaction and sent only
after it commits, from a background thread (`dispatch`) or `python -m flightdeck alerts deliver`.
Each POST is logged; a failure is retried with backoff now and again later, and the alert itself
stays in the inbox whatever the webhook does.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from flightdeck import audit
from flightdeck.auth import User, authorize
from flightdeck.config import Settings
from flightdeck.db import Database
from flightdeck.errors import NotFound
from flightdeck.orm import (
    AlertDeliveryAttemptRow,
    AlertDeliveryRow,
    AlertRow,
    GoalRow,
    UserRow,
    utcnow,
)
from flightdeck.orm.alerts import SEVERITIES

log = logging.getLogger("flightdeck.alerts")

WEBHOOK_ENV = "FLIGHTDECK_ALERT_WEBHOOK_URL"
MONITOR = "Flightdeck monitor"  # the audit trail's name for changes no person made
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES, start=1)}
POST_TIMEOUT_SECONDS = 5
TRIES_PER_RUN = 3
FIRST_RETRY_SECONDS = 0.5
LATER_RETRY_CAP = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=2)


def webhook_url(settings: Settings) -> str | None:
    """From the environment, else `[alerts] webhook_url` in the secrets file; never from the database."""
    url = os.environ.get(WEBHOOK_ENV) or settings.secrets.get("alerts", {}).get("webhook_url")
    return str(url) if url and str(url).startswith(("http://", "https://")) else None


# -- views -------------------------------------------------------------------------------------


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


# -- raising and clearing (inside the caller's transaction) -------------------------------------


def notify_for(session: Session) -> bool:
    """Whether alerts raised in this transaction owe a webhook notification: a webhook is
    configured for the database the session belongs to."""
    db = session.info.get("database")
    return db is not None and webhook_url(db.settings) is not None


def _open(session: Session, condition_key: str) -> AlertRow | None:
    return session.scalar(
        select(AlertRow)
        .where(AlertRow.condition_key == condition_key, AlertRow.cleared_at.is_(None))
        .with_for_update()
    )


def _owe(session: Session, row: AlertRow, event: str, notify: bool, now: datetime) -> None:
    if notify:
        session.add(AlertDeliveryRow(alert_id=row.id, event=event, next_attempt_at=now, created_at=now))


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
    notify: bool = False,
    now: datetime | None = None,
) -> AlertRow | None:
    """The condition holds. Raise an alert if none is open for it; escalate an open one whose
    severity rose (notifying again); otherwise refresh its message quietly. Returns the alert
    when it was raised or escalated, None when it was already known."""
    if severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {severity!r}")
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
        _owe(session, row, "raised", notify, now)
        _record(session, row, "alert.raise")
        return row
    escalated = SEVERITY_RANK[severity] > SEVERITY_RANK[row.severity]
    row.severity, row.message, row.details = severity, message, details
    if not escalated:
        return None
    row.escalated_at = now
    row.acknowledged_at = row.acknowledged_by_id = None  # worse than what was acknowledged
    _owe(session, row, "escalated", notify, now)
    _record(session, row, "alert.escalate")
    return row


def clear(
    session: Session, condition_key: str, *, notify: bool = False, now: datetime | None = None
) -> AlertRow | None:
    """The condition no longer holds: close its open alert, if any."""
    row = _open(session, condition_key)
    if row is None:
        return None
    row.cleared_at = now or utcnow()
    _owe(session, row, "cleared", notify, row.cleared_at)
    _record(session, row, "alert.clear")
    return row


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


# -- webhook delivery (after commit, never inside the transaction that raised the alert) --------


@dataclass(frozen=True)
class PostResult:
    ok: bool
    status_code: int | None
    error: str


Poster = Callable[[str, bytes], PostResult]


def post_json(url: str, body: bytes) -> PostResult:
    request = urllib.request.Request(  # noqa: S310 - the URL comes from the operator's secrets, http(s) only
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Flightdeck-alerts/1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:  # noqa: S310
            return PostResult(200 <= response.status < 300, response.status, "")
    except urllib.error.HTTPError as error:
        return PostResult(False, error.code, f"HTTP {error.code} {error.reason}")
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return PostResult(False, None, str(getattr(error, "reason", error))[:500])


def payload(delivery: AlertDeliveryRow, now: datetime) -> bytes:
    alert = delivery.alert
    body = {
        "event": delivery.event,
        "sent_at": now.isoformat(),
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "severity": alert.severity,
            "subject": {"type": alert.entity_type, "id": alert.entity_id},
            "goal_id": alert.goal_id,
            "condition": alert.condition_key,
            "message": alert.message,
            "details": alert.details,
            "raised_at": alert.raised_at.isoformat(),
            "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
        },
    }
    return json.dumps(body, default=str).encode()


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int
    still_pending: int


def _claim(db: Database, now: datetime, limit: int) -> list[int]:
    """Due deliveries, each leased by moving its next attempt ahead (compare-and-set), so two
    processes delivering at once never send the same notification twice."""
    claimed = []
    with db.transaction() as session:
        due = session.execute(
            select(AlertDeliveryRow.id, AlertDeliveryRow.next_attempt_at)
            .where(AlertDeliveryRow.status == "pending", AlertDeliveryRow.next_attempt_at <= now)
            .order_by(AlertDeliveryRow.id)
            .limit(limit)
        ).all()
        for delivery_id, due_at in due:
            taken = session.execute(
                update(AlertDeliveryRow)
                .where(AlertDeliveryRow.id == delivery_id, AlertDeliveryRow.next_attempt_at == due_at)
                .values(next_attempt_at=now + CLAIM_LEASE)
            )
            if taken.rowcount:  # type: ignore[attr-defined]
                claimed.append(delivery_id)
    return claimed


def _attempt(db: Database, delivery_id: int, url: str, post: Poster) -> PostResult:
    with db.read() as session:
        delivery = session.get_one(AlertDeliveryRow, delivery_id)
        body = payload(delivery, utcnow())
    started = time.perf_counter()
    result = post(url, body)
    elapsed = int((time.perf_counter() - started) * 1000)
    with db.transaction() as session:
        session.add(
            AlertDeliveryAttemptRow(
                delivery_id=delivery_id,
                attempted_at=utcnow(),
                ok=result.ok,
                status_code=result.status_code,
                error=result.error,
                duration_ms=elapsed,
            )
        )
    level = logging.INFO if result.ok else logging.WARNING
    log.log(level, "alert webhook delivery %s: %s %s", delivery_id, result.status_code, result.error or "ok")
    return result


def deliver_pending(
    db: Database,
    *,
    post: Poster | None = None,
    sleep: Callable[[float], None] = time.sleep,
    limit: int = 100,
) -> DeliveryReport:
    """Send what is due. Each delivery is tried a few times with growing pauses; one that still
    fails stays pending and is due again later (doubling, at most hourly)."""
    url = webhook_url(db.settings)
    if url is None:
        return DeliveryReport(0, 0, 0)
    post = post or post_json
    delivered = failed = 0
    for delivery_id in _claim(db, utcnow(), limit):
        result = PostResult(False, None, "not attempted")
        for attempt in range(TRIES_PER_RUN):
            if attempt:
                sleep(FIRST_RETRY_SECONDS * 2 ** (attempt - 1))
            result = _attempt(db, delivery_id, url, post)
            if result.ok:
                break
        with db.transaction() as session:
            row = session.get_one(AlertDeliveryRow, delivery_id)
            row.attempts += attempt + 1
            if result.ok:
                row.status, row.delivered_at, row.last_error = "delivered", utcnow(), ""
                delivered += 1
            else:
                wait = min(timedelta(minutes=2 ** min(row.attempts // TRIES_PER_RUN, 10)), LATER_RETRY_CAP)
                row.next_attempt_at = utcnow() + wait
                row.last_error = result.error or f"HTTP {result.status_code}"
                failed += 1
    with db.read() as session:
        pending = session.scalar(
            select(func.count()).select_from(AlertDeliveryRow).where(AlertDeliveryRow.status == "pending")
        )
    return DeliveryReport(delivered, failed, pending or 0)


def dispatch(db: Database, post: Poster | None = None) -> threading.Thread | None:
    """Deliver in the background, so neither an ingest nor a page ever waits for the webhook."""
    if webhook_url(db.settings) is None:
        return None
    worker = threading.Thread(
        target=_deliver_quietly, args=(db, post), name="flightdeck-alert-webhook", daemon=True
    )
    worker.start()
    return worker


def _deliver_quietly(db: Database, post: Poster | None) -> None:
    try:
        deliver_pending(db, post=post)
    except Exception:  # a background thread has nobody to raise to; the deliveries stay pending
        log.exception("alert webhook delivery failed; pending deliveries are retried later")


@dataclass(frozen=True)
class DeliveryState:
    configured: bool
    pending: int
    delivered: int
    last_attempt_at: datetime | None
    last_error: str


def delivery_state(db: Database) -> DeliveryState:
    """For the inbox: is the webhook set up, and is it keeping up?"""
    with db.read() as session:
        counts = dict(
            session.execute(
                select(AlertDeliveryRow.status, func.count()).group_by(AlertDeliveryRow.status)
            ).all()
        )
        last = session.execute(
            select(AlertDeliveryAttemptRow.attempted_at, AlertDeliveryAttemptRow.error)
            .order_by(AlertDeliveryAttemptRow.id.desc())
            .limit(1)
        ).one_or_none()
    return DeliveryState(
        configured=webhook_url(db.settings) is not None,
        pending=counts.get("pending", 0),
        delivered=counts.get("delivered", 0),
        last_attempt_at=last[0] if last else None,
        last_error=last[1] if last else "",
    )
