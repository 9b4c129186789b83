"""Appending to the audit trail: events chained by sha256, inside the caller's transaction.

Each event's hash covers its own content and the previous event's hash, and ids are consecutive,
so editing, deleting or reordering any past event breaks verification at that event. Appenders lock
the single `audit_head` row, which keeps the chain linear across processes; the head also exposes
a deleted tail. Values are redacted of secrets before they are stored.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core.clock import utcnow
from flightdeck.orm import AuditEventRow, AuditHeadRow

GENESIS_HASH = "0" * 64
SECRET_MARKERS = ("password", "secret", "token", "credential", "api_key")
REDACTED = "[redacted]"


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if any(m in str(key).lower() for m in SECRET_MARKERS) else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_redact(item) for item in items]
    return value


def _json_value(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the database will hand back: plain JSON, so the hash recomputes from stored values."""
    if value is None:
        return None
    return json.loads(json.dumps(_redact(value), default=str))


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(row: AuditEventRow) -> str:
    payload = {
        "id": row.id,
        "occurred_at": row.occurred_at.isoformat(),
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "before": row.before,
        "after": row.after,
        "prev_hash": row.prev_hash,
    }
    return hashlib.sha256(_canonical(payload)).hexdigest()


class Actor(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def display_name(self) -> str: ...


def record(
    session: Session,
    *,
    action: str,
    entity_type: str,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    by: Actor | None = None,
    actor_id: int | None = None,
    actor_name: str = "",
) -> AuditEventRow:
    """Append one event inside the caller's transaction; it commits or rolls back with the change.
    `by` is the signed-in user; `actor_id`/`actor_name` name anyone else (a failed sign-in, the
    command line)."""
    if by is not None:
        actor_id, actor_name = by.id, by.display_name
    head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one()
    row = AuditEventRow(
        id=head.last_event_id + 1,
        occurred_at=utcnow(),
        actor_id=actor_id,
        actor_name=actor_name[:120],
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id)[:64],
        before=_json_value(before),
        after=_json_value(after),
        prev_hash=head.last_hash,
    )
    # Hash what the database will return: microsecond UTC, as UTCDateTime stores it.
    row.hash = event_hash(row)
    session.add(row)
    head.last_event_id = row.id
    head.last_hash = row.hash
    session.flush()
    return row


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, so an event says what an edit did."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
