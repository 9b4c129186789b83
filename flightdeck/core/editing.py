"""The tails every create and edit share: audit what was created (`save_new`), and optimistic
locking for every `Versioned` entity (`save_edit`), one place that turns a lost race into a
"changed by X at T" message, whether the race was seen before the write or during it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from flightdeck.core import audit
from flightdeck.core.actors import COMMAND_LINE
from flightdeck.core.clock import utcnow
from flightdeck.core.errors import StaleEdit
from flightdeck.core.permissions import User
from flightdeck.orm import UserRow
from flightdeck.orm.base import Versioned


def _editor_name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "the command line"
    user = session.get(UserRow, user_id)
    return user.display_name if user else f"user {user_id}"


def check_version(session: Session, row: Versioned, expected_version: int, entity: str) -> None:
    """Refuse the edit if someone saved since the editor loaded version `expected_version`."""
    if row.version != expected_version:
        raise StaleEdit(entity, _editor_name(session, row.updated_by_id), row.updated_at)


def touch(row: Versioned, actor_id: int | None) -> None:
    """Stamp the editor; it also guarantees an UPDATE (and a version bump) when only child rows
    changed, such as a user's roles."""
    row.updated_at = utcnow()
    row.updated_by_id = actor_id


def flush_or_stale(session: Session, entity: str) -> None:
    """Flush now so a concurrent save that slipped in after `check_version` is caught here."""
    try:
        session.flush()
    except StaleDataError:
        raise StaleEdit(entity, "another user", utcnow()) from None


def save_edit(
    session: Session,
    actor: User,
    row: Versioned,
    entity: str,
    action: str,
    entity_type: str,
    before: dict[str, Any],
    values: Callable[[], dict[str, Any]],
) -> None:
    """The tail of every edit of a `Versioned` row: stamp the editor, flush (a concurrent save
    becomes "changed by X at T") and audit just the fields that changed, in the edit's transaction.
    `values` reads the audited fields of the row as they are now."""
    touch(row, actor.id)
    flush_or_stale(session, entity)
    old, new = audit.changes(before, values())
    audit.record(
        session,
        by=actor,
        action=action,
        entity_type=entity_type,
        entity_id=row.id,
        before=old,
        after=new,
    )


def save_new(
    session: Session,
    actor: User | None,
    row: Any,
    action: str,
    entity_type: str,
    values: Callable[[], dict[str, Any]],
) -> None:
    """The tail of every create: add and flush the row (it gets its id), audit its fields in the
    same transaction, and reload it so server-side defaults are read. `actor=None` is the command
    line."""
    session.add(row)
    session.flush()
    audit.record(
        session,
        by=actor,
        actor_name=COMMAND_LINE,
        action=action,
        entity_type=entity_type,
        entity_id=row.id,
        after=values(),
    )
    session.refresh(row)
