"""My account: profile and roles, changing one's password, and the forced change after a reset."""

import pytest
from streamlit.testing.v1 import AppTest

from flightdeck.accounts import sessions, users
from flightdeck.core.db import Database
from flightdeck.core.errors import AuthenticationFailed
from flightdeck.demo import story
from tests.app.conftest import account, click, events, labels, page, plain, texts, widget

NEW_PASSWORD = "a quiet harbour at dawn"

RESET_WARNING = "Your password was set by an admin. Choose your own password to continue."


def change_password(at: AppTest, current: str, new: str, repeat: str | None = None) -> AppTest:
    widget(at, "text_input", "Current password").set_value(current)
    widget(at, "text_input", "New password").set_value(new)
    widget(at, "text_input", "Repeat the new password").set_value(new if repeat is None else repeat)
    return click(at, "Change password")


def test_the_page_shows_who_i_am_and_what_my_roles_let_me_do(app) -> None:
    at = page(app("kenji"), "account")
    shown = texts(at)
    assert "**Name** Kenji Sato" in shown
    assert "**E-mail** kenji@greenway.example" in shown
    assert "**Data scientist**: Registers models against goals" in shown
    assert "**Reviewer**: Independently approves models" in shown
    assert "**Admin**" not in shown


def test_a_wrong_current_password_is_refused_by_name(app, demo_db: Database) -> None:
    at = change_password(page(app("dana"), "account"), "not my password", NEW_PASSWORD)
    assert not at.exception
    assert [plain(e.value) for e in at.error] == ["The current password is not correct."]
    assert not events(demo_db, "user.change_password")
    assert sessions.login(demo_db, "dana", story.DEMO_PASSWORD).user.username == "dana"


def test_two_different_new_passwords_are_refused(app, demo_db: Database) -> None:
    at = change_password(
        page(app("dana"), "account"), story.DEMO_PASSWORD, NEW_PASSWORD, "a quiet harbour at dusk"
    )
    assert [plain(e.value) for e in at.error] == ["The two new passwords differ."]
    assert not events(demo_db, "user.change_password")


def test_a_too_short_new_password_is_refused_with_the_rule(app) -> None:
    at = change_password(page(app("dana"), "account"), story.DEMO_PASSWORD, "short")
    assert [plain(e.value) for e in at.error] == ["Password must be at least 10 characters long."]


def test_a_changed_password_is_the_one_that_signs_in(app, demo_db: Database) -> None:
    at = change_password(page(app("dana"), "account"), story.DEMO_PASSWORD, NEW_PASSWORD)
    assert not at.exception
    assert not at.error
    assert [plain(s.value) for s in at.success] == ["Password changed."]
    assert sessions.login(demo_db, "dana", NEW_PASSWORD).user.username == "dana"
    with pytest.raises(AuthenticationFailed):
        sessions.login(demo_db, "dana", story.DEMO_PASSWORD)
    assert "My account" in texts(at)  # still signed in


@pytest.fixture
def reset_bianca(demo_db: Database) -> str:
    """An admin reset Bianca's password; she has the temporary one."""
    return users.reset_password(demo_db, account(demo_db, "ada"), account(demo_db, "bianca").id)


def test_after_a_reset_sign_in_lands_on_my_account(app, reset_bianca: str) -> None:
    at = app("bianca", password=reset_bianca)
    assert not at.exception
    assert at.title[0].value == "My account"
    assert "Your password was set by an admin" in at.warning[0].value


@pytest.mark.parametrize("key", ["home", "goals"])
def test_after_a_reset_every_other_page_sends_the_user_to_my_account(
    app, reset_bianca: str, key: str
) -> None:
    at = page(app("bianca", password=reset_bianca), key)
    assert not at.exception
    assert [plain(w.value) for w in at.warning] == [RESET_WARNING]
    assert "Current password" in labels(at, "text_input")
    assert not at.dataframe
    assert not at.metric
    assert not at.tabs
    assert "Workspace overview" not in texts(at)


def test_after_a_reset_an_admin_page_is_also_closed(app, demo_db: Database) -> None:
    temporary = users.reset_password(demo_db, account(demo_db, "ada"), account(demo_db, "ada").id)
    at = page(app("ada", password=temporary), "admin_users")
    assert [plain(w.value) for w in at.warning] == [RESET_WARNING]
    assert "Current password" in labels(at, "text_input")
    assert not at.dataframe


def test_choosing_a_new_password_after_a_reset_opens_the_workspace(
    app, demo_db: Database, reset_bianca: str
) -> None:
    at = change_password(app("bianca", password=reset_bianca), reset_bianca, NEW_PASSWORD)
    assert not at.exception
    assert [plain(s.value) for s in at.success] == ["Password changed."]
    assert not account(demo_db, "bianca").must_change_password
    assert "Your password was set by an admin" not in texts(at)
    home = page(at, "home")
    assert "Workspace overview" in texts(home)
    assert not home.warning
