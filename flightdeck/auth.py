"""Who may do what: password and SSO sign-in, sessions, the permission map and `authorize`.

Every mutating service calls `authorize` before it changes anything; the pages only use `can` to
decide what to offer. The permission map below is the single place where that is declared.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from flightdeck import audit
from flightdeck.db import Database
from flightdeck.errors import AuthenticationFailed, PermissionDenied
from flightdeck.orm import AuthSessionRow, UserRow, utcnow
from flightdeck.roles import Role

# argon2id with the RFC 9106 low-memory profile (argon2-cffi's default).
hasher = PasswordHasher()
# Verified against when the user does not exist, so that both cases take the same time.
_DUMMY_HASH = hasher.hash("flightdeck-timing-equaliser")
GENERIC_LOGIN_ERROR = "Invalid username or password."
SESSION_TOUCH_INTERVAL = timedelta(seconds=60)


# -- the acting user -------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """The signed-in person as services see them: a plain value, safe to keep across reruns."""

    id: int
    username: str
    display_name: str
    email: str | None
    roles: frozenset[Role]
    must_change_password: bool = False

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


def user_view(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        roles=row.role_set,
        must_change_password=row.must_change_password,
    )


# -- permissions -----------------------------------------------------------------------------


class Owned(Protocol):
    """A resource some users own (a goal's owner, a model's authors)."""

    @property
    def owner_ids(self) -> frozenset[int]: ...


@dataclass(frozen=True)
class Rule:
    summary: str
    roles: frozenset[Role]
    owner_roles: frozenset[Role] = field(default_factory=frozenset)


ALL_ROLES = frozenset(Role)
A, BO, DS, R = Role.ADMIN, Role.BUSINESS_OWNER, Role.DATA_SCIENTIST, Role.REVIEWER

PERMISSIONS: dict[str, Rule] = {
    "workspace.view": Rule("read the shared pages", ALL_ROLES),
    "goal.create": Rule("create goals", frozenset({BO, A})),
    "goal.edit": Rule("edit goals", frozenset({A}), owner_roles=frozenset({BO})),
    "user.manage": Rule("manage users and roles", frozenset({A})),
    "audit.view": Rule("read and export the audit trail", frozenset({A})),
    "kpi.create": Rule("define KPIs on goals", frozenset({A}), owner_roles=frozenset({BO})),
    "kpi.edit": Rule("edit KPIs and attach their SQL queries", frozenset({A}), owner_roles=frozenset({BO})),
    "kpi.ingest": Rule("load KPI data", frozenset({A}), owner_roles=frozenset({BO})),
    "context.create": Rule("add data-dictionary fields and hierarchies", frozenset({BO, A})),
    "context.edit": Rule(
        "edit data-dictionary fields and hierarchies", frozenset({A}), owner_roles=frozenset({BO})
    ),
    "source.manage": Rule("manage SQL source connections", frozenset({A})),
    "alert.acknowledge": Rule("acknowledge alerts", frozenset({A}), owner_roles=frozenset({BO})),
    "model.create": Rule("register models against goals", frozenset({DS})),
    "model.edit": Rule("edit a model's details and KPIs", frozenset({A}), owner_roles=frozenset({DS})),
    "model.version": Rule("add a version (artifact and holdout) to a model", frozenset({DS})),
    "model.evidence": Rule(
        "document versions, map their features and request review", frozenset(), owner_roles=frozenset({DS})
    ),
    "model.review": Rule("approve or reject versions of models they did not author", frozenset({R})),
    "model.deploy": Rule(
        "promote, roll back and retire versions", frozenset({A}), owner_roles=frozenset({DS})
    ),
    "model.value": Rule(
        "state the money value of decision errors", frozenset({A}), owner_roles=frozenset({BO})
    ),
    "artifact.allowlist": Rule("maintain the artifact allow-list", frozenset({A})),
    "prediction.ingest": Rule(
        "load prediction logs and outcomes", frozenset({A}), owner_roles=frozenset({DS})
    ),
    "readiness.attest": Rule(
        "attest readiness checks their role may attest (data scientists and business owners on their own "
        "models)",
        frozenset({BO, DS, R, A}),
    ),
    "readiness.override": Rule(
        "let a version below Production-ready go to production, with a reason", frozenset({R})
    ),
}


def can(user: User | None, action: str, resource: Owned | None = None) -> bool:
    """Whether `user` may perform `action`. Without a resource, an owner-scoped action answers
    "could this user ever", which is what a page needs to decide whether to offer a control."""
    if user is None:
        return False
    rule = PERMISSIONS[action]
    if user.roles & rule.roles:
        return True
    if user.roles & rule.owner_roles:
        return resource is None or user.id in resource.owner_ids
    return False


def authorize(user: User, action: str, resource: Owned | None = None, entity: str = "") -> None:
    """Raise `PermissionDenied` unless allowed. Owner-scoped actions require the resource."""
    rule = PERMISSIONS[action]
    allowed = bool(user.roles & rule.roles) or (
        resource is not None and bool(user.roles & rule.owner_roles) and user.id in resource.owner_ids
    )
    if not allowed:
        raise PermissionDenied(user.id, user.display_name, action, entity)


def roles_for(action: str) -> list[Role]:
    rule = PERMISSIONS[action]
    return sorted(rule.roles | rule.owner_roles, key=list(Role).index)


# -- passwords -------------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is unacceptable, or None. Length over composition rules (NIST 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters long."
    if username and username.lower() in password.lower():
        return "Password must not contain the username."
    if len(set(password)) < 4:
        return "Password is too repetitive."
    return None


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# -- sessions --------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _open_session(session: Session, db: Database, user: UserRow, method: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=db.settings.session_lifetime_hours)
    session.add(
        AuthSessionRow(
            token_hash=_token_hash(token),
            user_id=user.id,
            method=method,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    _bookkeep(session, user.id, last_login_at=now)
    audit.record(
        session,
        actor_id=user.id,
        actor_name=user.display_name,
        action="auth.login",
        entity_type="user",
        entity_id=user.id,
        after={"method": method},
    )
    return token


def _bookkeep(session: Session, user_id: int, **values: object) -> None:
    """Sign-in counters change with a plain UPDATE: they must not bump the row version, or an
    admin editing that user would be told someone else changed it."""
    session.execute(update(UserRow).where(UserRow.id == user_id).values(**values))


@dataclass(frozen=True)
class SignIn:
    user: User
    token: str


def login(db: Database, username: str, password: str, now: datetime | None = None) -> SignIn:
    """Password sign-in with lockout. Every outcome is audited; failures say as little as possible."""
    now = now or utcnow()
    name = username.strip().lower()[:64]
    settings = db.settings
    failure: str | None = None
    with db.transaction() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == name))
        if row is None or not row.is_active:
            verify_password(None, password)
            failure = GENERIC_LOGIN_ERROR
            audit.record(
                session,
                actor_id=row.id if row else None,
                actor_name=name or "(blank)",
                action="auth.login_failed",
                entity_type="user",
                entity_id=row.id if row else None,
                after={"reason": "inactive account" if row else "unknown username"},
            )
        elif row.locked_until is not None and row.locked_until > now:
            failure = (
                "This account is locked after repeated failed sign-ins. Try again after "
                f"{row.locked_until:%H:%M} UTC, or ask an admin to unlock it."
            )
            audit.record(
                session,
                actor_id=row.id,
                actor_name=row.display_name,
                action="auth.login_refused_locked",
                entity_type="user",
                entity_id=row.id,
            )
        elif not verify_password(row.password_hash, password):
            failed = row.failed_logins + 1
            locked_until = None
            if failed >= settings.max_failed_logins:
                locked_until, failed = now + timedelta(minutes=settings.lockout_minutes), 0
            _bookkeep(session, row.id, failed_logins=failed, locked_until=locked_until)
            failure = GENERIC_LOGIN_ERROR
            audit.record(
                session,
                actor_id=row.id,
                actor_name=row.display_name,
                action="auth.locked" if locked_until else "auth.login_failed",
                entity_type="user",
                entity_id=row.id,
                after={"reason": "wrong password", "locked_until": locked_until},
            )
        else:
            fresh_hash = {}
            if hasher.check_needs_rehash(row.password_hash or ""):
                fresh_hash = {"password_hash": hasher.hash(password)}
            _bookkeep(session, row.id, failed_logins=0, locked_until=None, **fresh_hash)
            token = _open_session(session, db, row, "password", now)
            return SignIn(user_view(row), token)
    raise AuthenticationFailed(failure)


def login_sso(db: Database, email: str, now: datetime | None = None) -> SignIn:
    """Single sign-on: the identity provider vouched for the e-mail; we map it to roles."""
    now = now or utcnow()
    address = email.strip().lower()
    with db.transaction() as session:
        row = session.scalar(select(UserRow).where(func.lower(UserRow.email) == address))
        if row is not None and row.is_active:
            return SignIn(user_view(row), _open_session(session, db, row, "sso", now))
        audit.record(
            session,
            actor_id=row.id if row else None,
            actor_name=address or "(no e-mail)",
            action="auth.login_failed",
            entity_type="user",
            entity_id=row.id if row else None,
            after={"reason": "sso: inactive account" if row else "sso: no account with this e-mail"},
        )
    raise AuthenticationFailed(
        f"Signed in as {address}, but no active Flightdeck account uses that e-mail. "
        "Ask an admin to add it to your account."
    )


@dataclass(frozen=True)
class SessionCheck:
    user: User | None
    expired: bool = False


def resolve_session(db: Database, token: str | None, now: datetime | None = None) -> SessionCheck:
    """The user behind a session token, expiring idle and over-age sessions on the way."""
    if not token:
        return SessionCheck(None)
    now = now or utcnow()
    idle = timedelta(minutes=db.settings.idle_timeout_minutes)
    with db.read() as session:
        found = session.execute(
            select(AuthSessionRow, UserRow)
            .join(UserRow, UserRow.id == AuthSessionRow.user_id)
            .where(AuthSessionRow.token_hash == _token_hash(token))
        ).one_or_none()
        if found is None:
            return SessionCheck(None)
        auth_session, row = found
        user = user_view(row) if row.is_active else None
    if auth_session.revoked_at is not None or user is None:
        return SessionCheck(None)
    if now >= auth_session.expires_at or now - auth_session.last_seen_at >= idle:
        _revoke(db, [auth_session.id], now)
        return SessionCheck(None, expired=True)
    if now - auth_session.last_seen_at >= SESSION_TOUCH_INTERVAL:
        with db.transaction() as session:
            session.execute(
                update(AuthSessionRow).where(AuthSessionRow.id == auth_session.id).values(last_seen_at=now)
            )
    return SessionCheck(user)


def _revoke(db: Database, session_ids: Iterable[int], now: datetime) -> None:
    with db.transaction() as session:
        revoke_sessions(session, session_ids, now)


def revoke_sessions(session: Session, session_ids: Iterable[int], now: datetime) -> None:
    session.execute(
        update(AuthSessionRow)
        .where(AuthSessionRow.id.in_(list(session_ids)), AuthSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_user_sessions(session: Session, user_id: int, now: datetime) -> None:
    """Sign a user out everywhere: after a password reset, deactivation or role change."""
    session.execute(
        update(AuthSessionRow)
        .where(AuthSessionRow.user_id == user_id, AuthSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def logout(db: Database, token: str | None) -> None:
    if not token:
        return
    now = utcnow()
    with db.transaction() as session:
        row = session.scalar(select(AuthSessionRow).where(AuthSessionRow.token_hash == _token_hash(token)))
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = now
        user = session.get(UserRow, row.user_id)
        audit.record(
            session,
            actor_id=row.user_id,
            actor_name=user.display_name if user else "?",
            action="auth.logout",
            entity_type="user",
            entity_id=row.user_id,
        )


def record_page_refusal(db: Database, user: User, action: str, page: str) -> None:
    """A user opened the URL of a page their roles do not allow: worth a line in the trail."""
    db.record_refusal(PermissionDenied(user.id, user.display_name, action, f"page {page}"))
