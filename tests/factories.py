"""Small builders for test data, going through the real services."""

from __future__ import annotations

from flightdeck import users
from flightdeck.auth import User, user_view
from flightdeck.db import Database
from flightdeck.orm import UserRow
from flightdeck.roles import Role

PASSWORD = "correct horse battery"


def add_user(db: Database, username: str, *roles: Role, email: str | None = None) -> User:
    draft = users.AccountDraft(username, username.capitalize(), email, frozenset(roles or {Role.VIEWER}))
    account, _ = users.create_user(db, None, draft, password=PASSWORD)
    with db.read() as session:
        return user_view(session.get_one(UserRow, account.id))


def one_per_role(db: Database) -> dict[Role, User]:
    return {role: add_user(db, role.value.replace("_", "-"), role) for role in Role}
