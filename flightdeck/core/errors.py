"""Typed domain errors: each carries a message written for the person who caused it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class FlightdeckError(Exception):
    """Base of every error a page may show to its user as it is."""


class PermissionDenied(FlightdeckError):
    def __init__(self, actor_id: int | None, actor_name: str, action: str, entity: str = "") -> None:
        self.actor_id = actor_id
        self.actor_name = actor_name
        self.action = action
        self.entity = entity
        super().__init__(f"Not permitted: {actor_name} may not {action.replace('.', ' ')}.")


class NotFound(FlightdeckError):
    def __init__(self, entity: str, key: object) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {key} does not exist (it may have been deleted).")


class StaleEdit(FlightdeckError):
    """Someone saved the entity after this editor loaded it; nothing was overwritten."""

    def __init__(self, entity: str, changed_by: str, changed_at: datetime) -> None:
        self.entity = entity
        self.changed_by = changed_by
        self.changed_at = changed_at
        when = changed_at.strftime("%Y-%m-%d %H:%M UTC")
        super().__init__(
            f"This {entity} was changed by {changed_by} at {when} after you opened it. "
            "Nothing was saved: reload to see their version, then apply your change again."
        )


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: which field, why, and where in a file when there is one."""

    field: str
    message: str
    row: int | None = None
    value: str | None = None


class InvalidInput(FlightdeckError):
    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(p.message for p in self.problems[:5]))


class AuthenticationFailed(FlightdeckError):
    """Sign-in refused. The message is deliberately the same for unknown users and bad passwords."""
