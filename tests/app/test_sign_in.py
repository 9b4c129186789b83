"""The sign-in form: generic refusals, a working sign-in, and the lockout after repeated failures."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from flightdeck.accounts import sessions
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import AuthenticationFailed
from flightdeck.demo import story
from flightdeck.orm import AuthSessionRow
from tests.app.conftest import account, events, labels, only_demo_logins, page, plain, sign_in, texts


@pytest.mark.parametrize(
    ("username", "password"),
    [("bianca", "not her password"), ("nobody", story.DEMO_PASSWORD), ("", "")],
    ids=["wrong password", "unknown user", "blank"],
)
def test_a_failed_sign_in_shows_the_same_generic_error(app, username: str, password: str) -> None:
    at = sign_in(app(None), username, password)
    assert not at.exception
    assert [plain(e.value) for e in at.error] == ["Invalid username or password."]
    assert "fd_token" not in at.session_state
    assert labels(at, "text_input") == ["Username", "Password"]
    assert "Workspace overview" not in texts(at)


def test_a_correct_password_signs_in_and_opens_home(app, demo_db: Database) -> None:
    at = sign_in(app(None), "Bianca ", story.DEMO_PASSWORD)  # usernames are trimmed and case-blind
    assert not at.exception
    assert not at.error
    token = at.session_state["fd_token"]
    assert sessions.resolve_session(demo_db, token).user == account(demo_db, "bianca")
    assert "Workspace overview" in texts(at)
    assert "Password" not in labels(at, "text_input")


def test_signing_in_on_a_deep_link_opens_that_page(app) -> None:
    at = page(app(None), "goals")
    assert "Sign in to open Goals." in texts(at)
    at = sign_in(at, "bruno", story.DEMO_PASSWORD)
    assert not at.exception
    assert at.title[0].value == "Goals"
    assert "Cut fresh-produce waste" in at.dataframe[0].value["Goal"].tolist()


def test_five_failures_lock_the_account_even_against_the_right_password(app, demo_db: Database) -> None:
    at = app(None)
    for _ in range(5):
        at = sign_in(at, "bruno", "guess again please")
        assert [plain(e.value) for e in at.error] == ["Invalid username or password."]
    at = sign_in(at, "bruno", story.DEMO_PASSWORD)
    assert not at.exception
    [refusal] = at.error
    assert "locked" in refusal.value
    assert "ask an admin to unlock it" in refusal.value
    assert "fd_token" not in at.session_state
    assert len(events(demo_db, "auth.locked")) == 1
    with pytest.raises(AuthenticationFailed, match="locked"):
        sessions.login(demo_db, "bruno", story.DEMO_PASSWORD)


def test_four_failures_do_not_lock(app) -> None:
    at = app(None)
    for _ in range(4):
        at = sign_in(at, "bruno", "guess again please")
    at = sign_in(at, "bruno", story.DEMO_PASSWORD)
    assert not at.error
    assert "Workspace overview" in texts(at)


def test_an_idle_session_ends_with_a_message_and_the_sign_in_form(app, demo_db: Database) -> None:
    at = app("dana")
    long_ago = utcnow() - timedelta(minutes=demo_db.settings.idle_timeout_minutes + 1)
    with demo_db.engine.begin() as conn:
        conn.execute(update(AuthSessionRow).values(last_seen_at=long_ago))
    at = page(at, "goals")
    assert not at.exception
    assert "Your session ended after a period of inactivity." in texts(at)
    assert labels(at, "text_input") == ["Username", "Password"]
    assert only_demo_logins(at)
