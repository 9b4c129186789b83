"""Sign-in and sessions: password sign-in with lockout, single sign-on by e-mail, session tokens
stored only as hashes, idle and absolute expiry, sign-out. Every outcome is audited; failures say as
little as possible."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from flightdeck.accounts.passwords import rehashed, verify_password
from flightdeck.core import audit
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import AuthenticationFailed, PermissionDenied
from flightdeck.core.permissions import User, user_view
from flightdeck.orm import AuthSessionRow, UserRow

GENERIC_LOGIN_ERROR = "Invalid username or password."
SESSION_TOUCH_INTERVAL = timedelta(seconds=60)


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
            fresh = rehashed(row.password_hash, password)
            upgrade = {"password_hash": fresh} if fresh else {}
            _bookkeep(session, row.id, failed_logins=0, locked_until=None, **upgrade)
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
