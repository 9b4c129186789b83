"""Account administration: create users, assign roles, deactivate, reset passwords, unlock.

The workspace must always keep one active admin, so no change may remove the last one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.accounts.passwords import hash_password, password_problem, verify_password
from flightdeck.accounts.sessions import revoke_user_sessions
from flightdeck.core import audit
from flightdeck.core.actors import COMMAND_LINE
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.editing import check_version, save_edit, touch
from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.core.permissions import User, authorize, user_view
from flightdeck.core.roles import Role
from flightdeck.orm import UserRoleRow, UserRow

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Account:
    """A user as the admin page shows them."""

    id: int
    username: str
    display_name: str
    email: str | None
    roles: frozenset[Role]
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    version: int

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class AccountDraft:
    username: str
    display_name: str
    email: str | None
    roles: frozenset[Role]


def _account(row: UserRow) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        roles=row.role_set,
        is_active=row.is_active,
        locked_until=row.locked_until,
        last_login_at=row.last_login_at,
        created_at=row.created_at,
        version=row.version,
    )


def _audited_fields(row: UserRow) -> dict[str, object]:
    return {
        "username": row.username,
        "display_name": row.display_name,
        "email": row.email,
        "roles": sorted(r.value for r in row.role_set),
        "is_active": row.is_active,
    }


def list_accounts(db: Database) -> list[Account]:
    with db.read() as session:
        return [_account(r) for r in session.scalars(select(UserRow).order_by(UserRow.display_name))]


def users_with_role(db: Database, role: Role) -> list[User]:
    """Active users holding `role`, for owner and reviewer pickers."""
    with db.read() as session:
        rows = session.scalars(
            select(UserRow)
            .join(UserRoleRow)
            .where(UserRoleRow.role == role.value, UserRow.is_active.is_(True))
            .order_by(UserRow.display_name)
        )
        return [user_view(r) for r in rows]


def count_users(db: Database) -> int:
    with db.read() as session:
        return len(session.scalars(select(UserRow.id).limit(1)).all())


# -- validation ------------------------------------------------------------------------------


def _validate(session: Session, draft: AccountDraft, user_id: int | None) -> AccountDraft:
    problems: list[Problem] = []
    username = draft.username.strip().lower()
    email = (draft.email or "").strip().lower() or None
    display_name = draft.display_name.strip()
    if not USERNAME_PATTERN.match(username):
        problems.append(
            Problem(
                "username",
                "Username must be 2–64 characters: lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter or digit.",
            )
        )
    elif session.scalar(select(UserRow.id).where(UserRow.username == username, UserRow.id != user_id)):
        problems.append(Problem("username", f"Username '{username}' is already taken."))
    if not display_name:
        problems.append(Problem("display_name", "Name is required."))
    elif len(display_name) > 120:
        problems.append(Problem("display_name", "Name must be at most 120 characters."))
    if email is not None:
        if len(email) > 254 or not EMAIL_PATTERN.match(email):
            problems.append(Problem("email", f"E-mail '{email[:60]}' is not a valid address."))
        elif session.scalar(select(UserRow.id).where(UserRow.email == email, UserRow.id != user_id)):
            problems.append(Problem("email", f"E-mail '{email}' already belongs to another user."))
    if not draft.roles:
        problems.append(Problem("roles", "Give the user at least one role."))
    if problems:
        raise InvalidInput(problems)
    return AccountDraft(username, display_name, email, frozenset(draft.roles))


def _set_roles(row: UserRow, roles: Iterable[Role]) -> None:
    wanted = {r.value for r in roles}
    row.roles = [r for r in row.roles if r.role in wanted] + [
        UserRoleRow(role=value) for value in sorted(wanted - {r.role for r in row.roles})
    ]


def _guard_last_admin(session: Session, row: UserRow, keeps_admin: bool) -> None:
    if keeps_admin or Role.ADMIN not in row.role_set or not row.is_active:
        return
    others = session.scalar(
        select(UserRow.id)
        .join(UserRoleRow)
        .where(UserRoleRow.role == Role.ADMIN.value, UserRow.is_active.is_(True), UserRow.id != row.id)
        .limit(1)
    )
    if others is None:
        raise InvalidInput(Problem("roles", f"{row.display_name} is the last active admin; keep one."))


def _load(session: Session, user_id: int) -> UserRow:
    return get_or_raise(session, UserRow, user_id, "User")


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


# -- services --------------------------------------------------------------------------------


def create_user(
    db: Database,
    actor: User | None,
    draft: AccountDraft,
    password: str | None = None,
    system: str = COMMAND_LINE,
) -> tuple[Account, str | None]:
    """Create an account. Without a password, a temporary one is generated, returned once, and
    must be changed at first sign-in. `actor=None` is a trusted operator with shell access (the
    command line, or the demo setup), named by `system` in the audit trail."""
    with db.transaction() as session:
        if actor is not None:
            authorize(actor, "user.manage", entity="users")
        clean = _validate(session, draft, None)
        generated = None
        if password is None:
            password = generated = temporary_password()
        elif problem := password_problem(password, clean.username):
            raise InvalidInput(Problem("password", problem))
        row = UserRow(
            username=clean.username,
            display_name=clean.display_name,
            email=clean.email,
            password_hash=hash_password(password),
            must_change_password=generated is not None,
            updated_by_id=actor.id if actor else None,
        )
        _set_roles(row, clean.roles)
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor_id=actor.id if actor else None,
            actor_name=actor.display_name if actor else system,
            action="user.create",
            entity_type="user",
            entity_id=row.id,
            after=_audited_fields(row),
        )
        return _account(row), generated


def update_user(
    db: Database, actor: User, user_id: int, expected_version: int, draft: AccountDraft
) -> Account:
    with db.transaction() as session:
        authorize(actor, "user.manage", entity=f"user {user_id}")
        row = _load(session, user_id)
        check_version(session, row, expected_version, "user")
        clean = _validate(session, draft, user_id)
        _guard_last_admin(session, row, Role.ADMIN in clean.roles)
        before = _audited_fields(row)
        row.username, row.display_name, row.email = clean.username, clean.display_name, clean.email
        _set_roles(row, clean.roles)
        save_edit(session, actor, row, "user", "user.update", "user", before, lambda: _audited_fields(row))
        return _account(row)


def set_active(db: Database, actor: User, user_id: int, active: bool) -> Account:
    with db.transaction() as session:
        authorize(actor, "user.manage", entity=f"user {user_id}")
        row = _load(session, user_id)
        if not active:
            _guard_last_admin(session, row, keeps_admin=False)
            revoke_user_sessions(session, row.id, utcnow())
        row.is_active = active
        touch(row, actor.id)
        audit.record(
            session,
            by=actor,
            action="user.activate" if active else "user.deactivate",
            entity_type="user",
            entity_id=row.id,
            before={"is_active": not active},
            after={"is_active": active},
        )
        return _account(row)


def reset_password(db: Database, actor: User, user_id: int) -> str:
    """A new temporary password, shown once to the admin; every session of the user ends."""
    with db.transaction() as session:
        authorize(actor, "user.manage", entity=f"user {user_id}")
        row = _load(session, user_id)
        password = temporary_password()
        row.password_hash = hash_password(password)
        row.must_change_password = True
        row.failed_logins, row.locked_until = 0, None
        touch(row, actor.id)
        revoke_user_sessions(session, row.id, utcnow())
        audit.record(
            session,
            by=actor,
            action="user.reset_password",
            entity_type="user",
            entity_id=row.id,
        )
        return password


def unlock(db: Database, actor: User, user_id: int) -> Account:
    with db.transaction() as session:
        authorize(actor, "user.manage", entity=f"user {user_id}")
        row = _load(session, user_id)
        row.failed_logins, row.locked_until = 0, None
        touch(row, actor.id)
        audit.record(
            session,
            by=actor,
            action="user.unlock",
            entity_type="user",
            entity_id=row.id,
        )
        return _account(row)


def change_own_password(db: Database, actor: User, current: str, new: str) -> None:
    """Every signed-in user may change their own password, knowing the current one."""
    with db.transaction() as session:
        row = _load(session, actor.id)
        if not verify_password(row.password_hash, current):
            raise InvalidInput(Problem("current_password", "The current password is not correct."))
        if problem := password_problem(new, row.username):
            raise InvalidInput(Problem("new_password", problem))
        if verify_password(row.password_hash, new):
            raise InvalidInput(Problem("new_password", "Choose a password different from the current one."))
        row.password_hash = hash_password(new)
        row.must_change_password = False
        touch(row, actor.id)
        audit.record(
            session,
            by=actor,
            action="user.change_password",
            entity_type="user",
            entity_id=row.id,
        )
