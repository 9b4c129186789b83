"""The alert webhook: notifications written as pending deliveries in the transaction that raised,
escalated or cleared an alert, and sent only after it commits, from a background thread
(`dispatch`) or `python -m flightdeck alerts deliver`. Each POST is logged; a failure is retried
with backoff now and again later, and the alert itself stays in the inbox whatever the webhook does.
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

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from flightdeck.core.clock import utcnow
from flightdeck.core.config import Settings
from flightdeck.core.db import Database, after_commit
from flightdeck.orm import AlertDeliveryAttemptRow, AlertDeliveryRow

log = logging.getLogger("flightdeck.alerts")
WEBHOOK_ENV = "FLIGHTDECK_ALERT_WEBHOOK_URL"
POST_TIMEOUT_SECONDS = 5
TRIES_PER_RUN = 3
FIRST_RETRY_SECONDS = 0.5
LATER_RETRY_CAP = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=2)


def webhook_url(settings: Settings) -> str | None:
    """From the environment, else `[alerts] webhook_url` in the secrets file; never from the database."""
    url = os.environ.get(WEBHOOK_ENV) or settings.secrets.get("alerts", {}).get("webhook_url")
    return str(url) if url and str(url).startswith(("http://", "https://")) else None


def deliver_after_commit(session: Session) -> Database | None:
    """When a webhook is configured for the session's database, send what is due once this
    transaction has committed: its own notifications and earlier ones due for a retry. Every
    transaction that checks alert conditions calls this, as every load did before."""
    db = session.info.get("database")
    if db is None or webhook_url(db.settings) is None:
        return None
    after_commit(session, "alerts.webhook", lambda: dispatch(db))
    return db


def owe(session: Session, alert_id: int, event: str, now: datetime) -> None:
    """Queue the notification of an alert's event in the transaction that raised, escalated or
    cleared it; delivery starts in the background once that transaction has committed."""
    if deliver_after_commit(session) is not None:
        session.add(AlertDeliveryRow(alert_id=alert_id, event=event, next_attempt_at=now, created_at=now))


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
