from datetime import timedelta

import pytest
from sqlalchemy import select

from flightdeck.accounts import passwords, sessions, users
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import AuthenticationFailed
from flightdeck.core.roles import Role
from flightdeck.orm import AuditEventRow, AuthSessionRow, UserRow
from tests.factories import PASSWORD, add_user


def actions(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AuditEventRow.action).order_by(AuditEventRow.id)))


def test_sign_in_returns_the_user_and_a_working_session(db: Database) -> None:
    add_user(db, "bianca", Role.BUSINESS_OWNER, Role.REVIEWER)
    signed = sessions.login(db, "  Bianca ", PASSWORD)
    assert signed.user.username == "bianca"
    assert signed.user.roles == {Role.BUSINESS_OWNER, Role.REVIEWER}
    assert sessions.resolve_session(db, signed.token).user == signed.user
    assert actions(db)[-1] == "auth.login"


def test_only_the_hash_of_a_session_token_is_stored(db: Database) -> None:
    add_user(db, "bianca")
    token = sessions.login(db, "bianca", PASSWORD).token
    with db.read() as session:
        stored = session.scalars(select(AuthSessionRow.token_hash)).all()
    assert token not in stored
    assert len(stored) == 1


def test_wrong_password_and_unknown_user_get_the_same_generic_message(db: Database) -> None:
    add_user(db, "bianca")
    with pytest.raises(AuthenticationFailed) as wrong:
        sessions.login(db, "bianca", "not the password")
    with pytest.raises(AuthenticationFailed) as unknown:
        sessions.login(db, "nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value) == sessions.GENERIC_LOGIN_ERROR
    assert actions(db)[-2:] == ["auth.login_failed", "auth.login_failed"]


def test_five_failures_lock_the_account_for_fifteen_minutes(db: Database) -> None:
    add_user(db, "bianca")
    start = utcnow()
    for attempt in range(5):
        with pytest.raises(AuthenticationFailed):
            sessions.login(db, "bianca", f"wrong {attempt}", now=start)
    assert actions(db)[-1] == "auth.locked"
    with pytest.raises(AuthenticationFailed, match="locked"):
        sessions.login(db, "bianca", PASSWORD, now=start + timedelta(minutes=14))
    assert sessions.login(db, "bianca", PASSWORD, now=start + timedelta(minutes=15, seconds=1)).user


def test_a_successful_sign_in_resets_the_failure_count(db: Database) -> None:
    add_user(db, "bianca")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            sessions.login(db, "bianca", "wrong")
    sessions.login(db, "bianca", PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed, match="Invalid"):
            sessions.login(db, "bianca", "wrong")
    assert sessions.login(db, "bianca", PASSWORD).user


def test_sign_in_does_not_make_an_admin_edit_of_that_user_stale(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    target = add_user(db, "bianca", Role.VIEWER)
    version = next(a.version for a in users.list_accounts(db) if a.id == target.id)
    sessions.login(db, "bianca", PASSWORD)
    draft = users.AccountDraft("bianca", "Bianca R.", None, frozenset({Role.BUSINESS_OWNER}))
    assert users.update_user(db, admin, target.id, version, draft).display_name == "Bianca R."


def test_idle_sessions_expire(db: Database) -> None:
    add_user(db, "bianca")
    start = utcnow()
    token = sessions.login(db, "bianca", PASSWORD, now=start).token
    assert sessions.resolve_session(db, token, now=start + timedelta(minutes=20)).user
    # Activity at minute 20 moved the idle clock: minute 45 is 25 idle minutes later.
    assert sessions.resolve_session(db, token, now=start + timedelta(minutes=45)).user
    check = sessions.resolve_session(db, token, now=start + timedelta(minutes=76))
    assert check.user is None
    assert check.expired
    assert sessions.resolve_session(db, token, now=start + timedelta(minutes=77)).user is None


def test_sessions_end_after_their_lifetime_even_when_active(db: Database) -> None:
    add_user(db, "bianca")
    start = utcnow()
    token = sessions.login(db, "bianca", PASSWORD, now=start).token
    moment = start
    while moment + timedelta(minutes=20) < start + timedelta(hours=12):
        moment += timedelta(minutes=20)
        assert sessions.resolve_session(db, token, now=moment).user
    assert sessions.resolve_session(db, token, now=start + timedelta(hours=12, minutes=1)).user is None


def test_logout_revokes_the_session(db: Database) -> None:
    add_user(db, "bianca")
    token = sessions.login(db, "bianca", PASSWORD).token
    sessions.logout(db, token)
    assert sessions.resolve_session(db, token).user is None
    assert actions(db)[-1] == "auth.logout"


def test_a_deactivated_user_loses_their_session_at_once(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    target = add_user(db, "bianca")
    token = sessions.login(db, "bianca", PASSWORD).token
    users.set_active(db, admin, target.id, False)
    assert sessions.resolve_session(db, token).user is None
    with pytest.raises(AuthenticationFailed, match="Invalid"):
        sessions.login(db, "bianca", PASSWORD)


def test_roles_are_read_fresh_for_every_request(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    target = add_user(db, "bianca", Role.VIEWER)
    token = sessions.login(db, "bianca", PASSWORD).token
    version = next(a.version for a in users.list_accounts(db) if a.id == target.id)
    users.update_user(
        db,
        admin,
        target.id,
        version,
        users.AccountDraft("bianca", "Bianca", None, frozenset({Role.REVIEWER})),
    )
    assert sessions.resolve_session(db, token).user.roles == {Role.REVIEWER}


def test_single_sign_on_matches_the_e_mail_case_insensitively(db: Database) -> None:
    add_user(db, "bianca", Role.BUSINESS_OWNER, email="bianca@greenway.example")
    signed = sessions.login_sso(db, "Bianca@Greenway.Example")
    assert signed.user.username == "bianca"
    with db.read() as session:
        assert session.scalars(select(AuthSessionRow.method)).all() == ["sso"]


def test_single_sign_on_refuses_an_unknown_e_mail(db: Database) -> None:
    with pytest.raises(AuthenticationFailed, match="no active Flightdeck account"):
        sessions.login_sso(db, "stranger@example.com")
    assert actions(db) == ["auth.login_failed"]


def test_outdated_hashes_are_upgraded_at_sign_in(db: Database) -> None:
    add_user(db, "bianca")
    with db.read() as session:
        old = session.scalar(select(UserRow.password_hash))
    stronger = passwords.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
    original, passwords.hasher = passwords.hasher, stronger
    try:
        sessions.login(db, "bianca", PASSWORD)
    finally:
        passwords.hasher = original
    with db.read() as session:
        new = session.scalar(select(UserRow.password_hash))
    assert new != old
    assert "m=1024,t=2,p=1" in new


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 10"),
        ("x" * 300, "at most 256"),
        ("bianca-is-great", "username"),
        ("aaaaaaaaaaaa", "repetitive"),
    ],
)
def test_weak_new_passwords_are_refused_with_the_reason(password: str, problem: str) -> None:
    assert problem in (passwords.password_problem(password, "bianca") or "")


def test_a_reasonable_password_is_accepted() -> None:
    assert passwords.password_problem("correct horse battery", "bianca") is None
