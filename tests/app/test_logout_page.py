"""Signing out: the server-side session ends, and the sign-in form comes next."""

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from flightdeck.accounts import sessions
from flightdeck.core.db import Database
from flightdeck.orm import AuthSessionRow
from tests.app.conftest import (
    APP,
    TIMEOUT,
    account,
    events,
    labels,
    only_demo_logins,
    page,
    plain,
    texts,
)


def sessions_of(db: Database, username: str) -> list[AuthSessionRow]:
    with db.read() as session:
        user_id = account(db, username).id
        query = select(AuthSessionRow).where(AuthSessionRow.user_id == user_id).order_by(AuthSessionRow.id)
        return list(session.scalars(query))


def test_signing_out_revokes_the_session_and_shows_the_sign_in_form(app, demo_db: Database) -> None:
    at = app("fatima")
    token = at.session_state["fd_token"]
    assert sessions.resolve_session(demo_db, token).user is not None

    at = page(at, "logout")
    assert not at.exception
    [stored] = sessions_of(demo_db, "fatima")
    assert stored.revoked_at is not None
    assert sessions.resolve_session(demo_db, token).user is None
    assert "fd_token" not in at.session_state
    assert "You are signed out." in [plain(s.value) for s in at.success]
    assert labels(at, "text_input") == ["Username", "Password"]
    assert events(demo_db, "auth.logout")[0].actor_name == "Fatima Haddad"


def test_the_old_token_no_longer_opens_anything(app, demo_db: Database) -> None:
    at = app("fatima")
    token = at.session_state["fd_token"]
    page(at, "logout")

    replay = AppTest.from_file(APP, default_timeout=TIMEOUT)
    replay.session_state["fd_token"] = token  # e.g. a copied cookie
    replay = page(replay.run(), "goals")
    assert not replay.exception
    assert "Sign in to open Goals." in texts(replay)
    assert only_demo_logins(replay)


# Signing in again right after signing out is a browser journey (the page must leave /logout):
# tests/e2e/test_foundation.py::test_signing_out_ends_the_session_and_signing_in_again_works
