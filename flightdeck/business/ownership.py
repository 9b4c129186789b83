"""Who owns a goal, KPI or dictionary entry: a business owner, named by an admin or by creating it."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.core.permissions import User
from flightdeck.core.roles import Role
from flightdeck.orm import UserRoleRow, UserRow


class OwnedRow(Protocol):
    owner_id: int


def hand_over(session: Session, actor: User, row: OwnedRow, owner_id: int | None) -> None:
    """Only an admin moves a goal, KPI or dictionary entry to another business owner; an owner's
    own edit never changes who owns it."""
    if actor.has(Role.ADMIN) and owner_id and owner_id != row.owner_id:
        row.owner_id = check_business_owner(session, owner_id)


def check_business_owner(session: Session, owner_id: int | None) -> int:
    is_owner = session.scalar(
        select(UserRow.id)
        .join(UserRoleRow)
        .where(
            UserRow.id == owner_id,
            UserRow.is_active.is_(True),
            UserRoleRow.role == Role.BUSINESS_OWNER.value,
        )
    )
    if owner_id is None or is_owner is None:
        raise InvalidInput(Problem("owner_id", "Owner must be an active user with the business owner role."))
    return owner_id


def owner_for(session: Session, actor: User | None, requested: int | None) -> int:
    """A business owner owns what they create; an admin or the command line names the owner."""
    if actor is not None and not actor.has(Role.ADMIN):
        return actor.id
    return check_business_owner(session, requested)
