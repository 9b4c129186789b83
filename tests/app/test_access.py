"""Every page for every demo role and for anonymous visitors: what is shown, what is refused.

Navigation hides pages a role may not open, but their URLs still reach the scripts, so each page
is opened directly here, as a typed URL would open it.
"""

import pytest
from streamlit.testing.v1 import AppTest

from components.navigation import BY_KEY
from components.text import md
from flightdeck.accounts import audit_trail, users
from flightdeck.business import goals
from flightdeck.core.db import Database
from tests.app.conftest import account, events, labels, only_main_element, page, texts

DEMO_USERS = ["ada", "bianca", "bruno", "fatima", "dana", "kenji", "rita", "victor"]
ADMIN_ONLY = {"admin_users", "admin_audit"}
CONTENT_PAGES = ["home", "goals", "account", "admin_users", "admin_audit"]
ALL_PAGES = ["login", *CONTENT_PAGES, "logout"]


def may_open(username: str, key: str) -> bool:
    """The expected access, stated independently of the app's permission map."""
    return key not in ADMIN_ONLY or username == "ada"


def assert_shows_its_content(at: AppTest, key: str, db: Database, username: str) -> None:
    shown = texts(at)
    if key == "home":
        assert "Workspace overview" in shown
        assert at.metric[0].label == "Goals"
        assert at.metric[0].value == str(len(goals.list_goals(db)))
        assert all(g.title in shown for g in goals.list_goals(db))
    elif key == "goals":
        assert at.title[0].value == "Goals"
        assert sorted(at.dataframe[0].value["Goal"]) == sorted(g.title for g in goals.list_goals(db))
    elif key == "account":
        assert at.title[0].value == "My account"
        assert f"**Username** {username}" in shown
    elif key == "admin_users":
        assert at.title[0].value == "Users"
        listed = at.dataframe[0].value["Username"].tolist()
        assert sorted(listed) == sorted(a.username for a in users.list_accounts(db))
    elif key == "admin_audit":
        assert at.title[0].value == "Audit trail"
        assert at.success[0].value.startswith("Chain verified")
        assert at.download_button[0].label.startswith("Download")
    else:
        raise AssertionError(f"no content check for page {key}")


@pytest.mark.parametrize("key", CONTENT_PAGES)
@pytest.mark.parametrize("username", DEMO_USERS)
def test_each_role_sees_the_pages_it_may_open_and_only_a_refusal_elsewhere(
    app, demo_db: Database, username: str, key: str
) -> None:
    at = page(app(username), key)
    assert not at.exception
    if may_open(username, key):
        assert not at.error
        assert_shows_its_content(at, key, demo_db, username)
        assert not events(demo_db, "permission.denied")
    else:
        refusal = only_main_element(at)  # no title, table, filter or download: just the refusal
        assert refusal.type == "error"
        assert refusal.value.startswith("**Not permitted.**")
        assert "open to: admin" in refusal.value
        assert not at.dataframe
        assert not at.download_button


@pytest.mark.parametrize("key", sorted(ADMIN_ONLY))
@pytest.mark.parametrize("username", [u for u in DEMO_USERS if u != "ada"])
def test_a_refused_page_is_recorded_in_the_audit_trail(
    app, demo_db: Database, username: str, key: str
) -> None:
    page(app(username), key)
    [refusal] = events(demo_db, "permission.denied")
    assert refusal.actor_id == account(demo_db, username).id
    assert refusal.after == {
        "action": "user.manage" if key == "admin_users" else "audit.view",
        "entity": f"page {key}",
    }
    assert audit_trail.verify_chain(demo_db).ok


@pytest.mark.parametrize("username", DEMO_USERS)
def test_a_signed_in_user_opening_the_sign_in_page_is_sent_home(app, username: str) -> None:
    at = page(app(username), "login")
    assert not at.exception
    assert "Workspace overview" in texts(at)
    assert "Password" not in labels(at, "text_input")


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_role_can_sign_out(app, demo_db: Database, username: str) -> None:
    at = page(app(username), "logout")
    assert not at.exception
    assert "You are signed out." in texts(at)
    assert labels(at, "text_input") == ["Username", "Password"]
    assert "fd_token" not in at.session_state
    [logout] = events(demo_db, "auth.logout")
    assert logout.actor_id == account(demo_db, username).id


@pytest.mark.parametrize("key", ALL_PAGES)
def test_anonymous_visitors_get_the_sign_in_form_and_no_content(app, demo_db: Database, key: str) -> None:
    at = page(app(None), key)
    assert not at.exception
    assert labels(at, "text_input") == ["Username", "Password"]
    assert labels(at, "button") == ["Sign in"]
    shown = texts(at)
    assert not at.metric
    assert not at.download_button
    for goal in goals.list_goals(demo_db):
        assert goal.title not in shown
        assert md(goal.title) not in shown
    # Every page offers the same sign-in screen, with the demo logins listed on purpose.
    assert "Sign in to Flightdeck" in shown
    assert at.dataframe[0].value["Username"].tolist() == DEMO_USERS
    if key not in {"login", "home"}:
        assert f"Sign in to open {BY_KEY[key].title}." in shown
