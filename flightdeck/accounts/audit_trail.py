"""The audit trail as admins read it: filtered lists, the facets of the filter menus, a CSV export
safe to open in a spreadsheet, and the verification of the whole hash chain (`core.audit` appends)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from flightdeck.core.audit import GENESIS_HASH, event_hash
from flightdeck.core.db import Database
from flightdeck.orm import AuditEventRow, AuditHeadRow
from flightdeck.tabular.exports import csv_bytes


@dataclass(frozen=True)
class AuditEvent:
    id: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: str


@dataclass(frozen=True)
class AuditFilter:
    since: date | None = None
    until: date | None = None
    actor_id: int | None = None
    actions: tuple[str, ...] = ()
    entity_type: str | None = None
    entity_id: str | None = None


def _filtered(flt: AuditFilter) -> Select[tuple[AuditEventRow]]:
    query = select(AuditEventRow)
    if flt.since:
        query = query.where(AuditEventRow.occurred_at >= _start_of(flt.since))
    if flt.until:
        query = query.where(AuditEventRow.occurred_at < _start_of(flt.until, days=1))
    if flt.actor_id is not None:
        query = query.where(AuditEventRow.actor_id == flt.actor_id)
    if flt.actions:
        query = query.where(AuditEventRow.action.in_(flt.actions))
    if flt.entity_type:
        query = query.where(AuditEventRow.entity_type == flt.entity_type)
    if flt.entity_id:
        query = query.where(AuditEventRow.entity_id == flt.entity_id)
    return query


def _start_of(day: date, days: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=days)


def _view(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        occurred_at=row.occurred_at,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
        hash=row.hash,
    )


def list_events(db: Database, flt: AuditFilter, limit: int = 500) -> tuple[list[AuditEvent], int]:
    """The newest matching events, and how many match in all."""
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(_filtered(flt).subquery())) or 0
        rows = session.scalars(_filtered(flt).order_by(AuditEventRow.id.desc()).limit(limit))
        return [_view(r) for r in rows], total


def facets(db: Database) -> tuple[list[str], list[str]]:
    """The actions and entity types present, for filter menus."""
    with db.read() as session:
        actions = session.scalars(select(AuditEventRow.action).distinct().order_by(AuditEventRow.action))
        entities = session.scalars(
            select(AuditEventRow.entity_type).distinct().order_by(AuditEventRow.entity_type)
        )
        return list(actions), list(entities)


EXPORT_COLUMNS = [
    "id",
    "occurred_at_utc",
    "actor_id",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "hash",
]


def export_csv(db: Database, flt: AuditFilter) -> bytes:
    """Every matching event, oldest first, as CSV safe to open in a spreadsheet."""
    with db.read() as session:
        rows = session.scalars(_filtered(flt).order_by(AuditEventRow.id).execution_options(yield_per=2000))
        return csv_bytes(EXPORT_COLUMNS, (_export_row(r) for r in rows))


def _export_row(row: AuditEventRow) -> list[object]:
    return [
        row.id,
        row.occurred_at.isoformat(),
        row.actor_id,
        row.actor_name,
        row.action,
        row.entity_type,
        row.entity_id,
        "" if row.before is None else json.dumps(row.before, sort_keys=True),
        "" if row.after is None else json.dumps(row.after, sort_keys=True),
        row.hash,
    ]


# -- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    broken_at: int | None = None
    problem: str = ""


def verify_chain(db: Database) -> ChainReport:
    """Walk the whole chain in id order; stop at the first event that does not hold."""
    with db.read() as session:
        head = session.get(AuditHeadRow, 1)
        rows: Iterable[AuditEventRow] = session.scalars(
            select(AuditEventRow).order_by(AuditEventRow.id).execution_options(yield_per=2000)
        )
        expected_id, prev_hash, checked = 1, GENESIS_HASH, 0
        for row in rows:
            if row.id != expected_id:
                missing = f"#{expected_id}" if row.id == expected_id + 1 else f"#{expected_id}–#{row.id - 1}"
                return ChainReport(False, checked, expected_id, f"Event {missing} was deleted.")
            if row.prev_hash != prev_hash:
                return ChainReport(
                    False, checked, row.id, f"Event #{row.id} does not link to event #{row.id - 1}."
                )
            if event_hash(row) != row.hash:
                return ChainReport(
                    False, checked, row.id, f"Event #{row.id} was altered after it was recorded."
                )
            prev_hash, expected_id, checked = row.hash, expected_id + 1, checked + 1
        if head is None or head.last_event_id != checked or head.last_hash != prev_hash:
            last = head.last_event_id if head else "?"
            return ChainReport(
                False,
                checked,
                checked + 1,
                f"The newest events were deleted: the chain ends at #{checked} but its head records #{last}.",
            )
        return ChainReport(True, checked)


def head_id(db: Database) -> int:
    """The newest event's id: a cheap key for caching anything derived from the whole trail."""
    with db.read() as session:
        return session.scalar(select(AuditHeadRow.last_event_id).where(AuditHeadRow.id == 1)) or 0
