"""Domain events: an upstream service states what happened, inside its own transaction, and the
handlers subscribed to that kind of event run in the same transaction, so a load, its alerts and
its readiness snapshots commit or roll back together and the audit chain stays whole.

Services never call the packages that react to them: they `publish` a plain, frozen event
dataclass defined next to them (`flightdeck.kpis.events`, `flightdeck.models.events`, …). Who
reacts is decided in one place, `flightdeck.wiring`, which the app, the command line, the tests
and the benchmarks call once at start. Publishing before that is an error rather than a silent
no-op: a load whose alerts were never evaluated would look like a healthy one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Event:
    """Something that happened, named in the past tense and holding ids, never ORM rows."""


E = TypeVar("E", bound=Event)
Handler = Callable[[Session, Any], None]
_handlers: dict[type[Event], list[Handler]] = {}
_wired = False


def subscribe(event_type: type[E], handler: Callable[[Session, E], None]) -> None:
    """Run `handler(session, event)` for every `event_type` published, after those subscribed
    before it. Only `flightdeck.wiring` subscribes."""
    _handlers.setdefault(event_type, []).append(handler)


def mark_wired() -> None:
    global _wired
    _wired = True


def is_wired() -> bool:
    return _wired


def ensure_wired() -> None:
    if not _wired:
        raise RuntimeError("Events are not wired: call flightdeck.wiring.wire() once at start.")


def publish(session: Session, event: Event) -> None:
    """Hand `event` to its subscribers, in order, inside the caller's transaction."""
    ensure_wired()
    for handler in _handlers.get(type(event), ()):
        handler(session, event)


def subscribers(event_type: type[Event]) -> tuple[Handler, ...]:
    """Who reacts to an event, in order: what the architecture document's table lists."""
    return tuple(_handlers.get(event_type, ()))
