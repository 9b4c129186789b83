"""The admin's users page: create, change roles, deactivate, reset passwords, unlock."""

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from components.text import md
from flightdeck.accounts import sessions, users
from flightdeck.core.db import Database
from flightdeck.core.errors import AuthenticationFailed
from flightdeck.core.roles import Role
from flightdeck.demo import story
from flightdeck.orm import AuthSessionRow
from tests.app.conftest import (
    account,
    assert_shown_literally,
    click,
    events,
    labels,
    only_demo_logins,
    page,
    plain,
    select_row,
    texts,
    widget,
)


def users_page(app) -> AppTest:
    return page(app("ada"), "admin_users")


def select_user(at: AppTest, username: str) -> AppTest:
    row = at.dataframe[0].value["Username"].tolist().index(username)
    return select_row(at, "users_table", row)


def status_of(at: AppTest, username: str) -> str:
    table = at.dataframe[0].value
    return table.loc[table["Username"] == username, "Status"].item()


def open_sessions(db: Database, username: str) -> int:
    with db.read() as session:
        rows = session.scalars(
            select(AuthSessionRow).where(
                AuthSessionRow.user_id == account(db, username).id, AuthSessionRow.revoked_at.is_(None)
            )
        )
        return len(rows.all())


def add_user(at: AppTest, name: str, username: str, email: str, roles: list[Role]) -> AppTest:
    add = at.tabs[1]
    assert add.label == "Add user"
    widget(add, "text_input", "Name").set_value(name)
    widget(add, "text_input", "Username").set_value(username)
    widget(add, "text_input", "E-mail").set_value(email)
    widget(add, "multiselect", "Roles").set_value(roles)
    return click(at, "Create user")


# -- creating ---------------------------------------------------------------------------------


def test_a_new_user_gets_a_temporary_password_shown_once(app, demo_db: Database) -> None:
    at = add_user(users_page(app), "Omar Aziz", "omar", "omar@greenway.example", [Role.BUSINESS_OWNER])
    assert not at.exception
    assert not at.error
    assert "Omar Aziz can now sign in." in [plain(s.value) for s in at.success]
    [code] = at.code
    temporary = code.value
    assert "omar" in at.dataframe[0].value["Username"].tolist()

    signed_in = sessions.login(demo_db, "omar", temporary)
    assert signed_in.user.roles == frozenset({Role.BUSINESS_OWNER})
    assert signed_in.user.must_change_password
    assert events(demo_db, "user.create")[0].after["username"] == "omar"
    assert temporary not in str(events(demo_db, "user.create")[0].after)

    at = at.run()
    assert not at.code  # shown only once
    assert temporary not in texts(at)


@pytest.mark.parametrize(
    ("username", "email", "roles", "message"),
    [
        ("bianca", "", [Role.VIEWER], "Username 'bianca' is already taken."),
        ("Bad Name!", "", [Role.VIEWER], "Username must be 2–64 characters"),
        ("omar", "bianca@greenway.example", [Role.VIEWER], "already belongs to another user"),
        ("omar", "not-an-address", [Role.VIEWER], "is not a valid address"),
        ("omar", "", [], "Give the user at least one role."),
    ],
    ids=["duplicate username", "bad username", "duplicate e-mail", "bad e-mail", "no role"],
)
def test_a_bad_new_user_is_refused_naming_the_problem(
    app, demo_db: Database, username: str, email: str, roles: list[Role], message: str
) -> None:
    at = add_user(users_page(app), "Omar Aziz", username, email, roles)
    assert not at.exception
    [error] = at.error
    assert md(message) in error.value
    assert not at.code
    assert len(users.list_accounts(demo_db)) == 8
    assert widget(at.tabs[1], "text_input", "Name").value == "Omar Aziz"  # the form keeps the draft


def test_a_name_with_markup_is_shown_literally_in_the_notice(app) -> None:
    name = "**Eve** [verify your account](javascript:alert(1))"
    at = add_user(users_page(app), name, "eve", "", [Role.VIEWER])
    assert not at.error
    [notice] = [s.value for s in at.success if "can now sign in" in s.value]
    assert_shown_literally(notice, name)


# -- editing ----------------------------------------------------------------------------------


def test_nothing_is_edited_until_a_user_is_selected(app) -> None:
    at = users_page(app)
    assert "Select a user to edit their roles or manage their account." in texts(at)
    assert not {"Deactivate", "Reset password", "Save changes"} & set(labels(at, "button"))


def test_changing_roles_applies_at_once_to_the_users_open_session(app, demo_db: Database) -> None:
    victor = page(app("victor"), "goals")
    assert labels(victor, "tabs") == ["All goals"]

    at = select_user(users_page(app), "victor")
    assert at.subheader[0].value == "Victor Chen"
    widget(at.tabs[0], "multiselect", "Roles").set_value([Role.VIEWER, Role.BUSINESS_OWNER])
    at = click(at, "Save changes")
    assert not at.exception
    assert "Victor Chen updated." in [plain(s.value) for s in at.success]
    assert account(demo_db, "victor").roles == frozenset({Role.VIEWER, Role.BUSINESS_OWNER})
    table = at.dataframe[0].value
    assert table.loc[table["Username"] == "victor", "Roles"].item() == "Business owner, Viewer"
    [change] = events(demo_db, "user.update")
    assert change.after == {"roles": ["business_owner", "viewer"]}

    victor = victor.run()
    assert labels(victor, "tabs") == ["All goals", "New goal"]


def test_the_last_admin_cannot_drop_the_admin_role(app, demo_db: Database) -> None:
    at = select_user(users_page(app), "ada")
    widget(at.tabs[0], "multiselect", "Roles").set_value([Role.VIEWER])
    at = click(at, "Save changes")
    assert not at.exception
    assert "is the last active admin" in at.error[0].value
    assert account(demo_db, "ada").roles == frozenset({Role.ADMIN})


def test_deactivating_a_user_ends_their_sessions(app, demo_db: Database) -> None:
    bianca = page(app("bianca"), "goals")
    assert open_sessions(demo_db, "bianca") == 1

    at = click(select_user(users_page(app), "bianca"), "Deactivate")
    assert not at.exception
    assert "Bianca Romero deactivated." in [plain(s.value) for s in at.success]
    assert status_of(at, "bianca") == "Deactivated"
    assert open_sessions(demo_db, "bianca") == 0
    assert "Reactivate" in labels(at, "button")

    bianca = bianca.run()
    assert labels(bianca, "text_input") == ["Username", "Password"]
    assert only_demo_logins(bianca)
    with pytest.raises(AuthenticationFailed):
        sessions.login(demo_db, "bianca", story.DEMO_PASSWORD)


def test_an_admin_cannot_deactivate_themselves(app) -> None:
    at = select_user(users_page(app), "ada")
    assert widget(at, "button", "Deactivate").disabled
    assert "You cannot deactivate your own account." in texts(at)


def test_a_reset_password_is_shown_once_and_replaces_the_old_one(app, demo_db: Database) -> None:
    bruno = page(app("bruno"), "home")
    at = click(select_user(users_page(app), "bruno"), "Reset password")
    assert not at.exception
    assert "Temporary password for **bruno**" in at.success[0].value
    [code] = at.code
    temporary = code.value
    assert len(temporary) >= 10

    with pytest.raises(AuthenticationFailed):
        sessions.login(demo_db, "bruno", story.DEMO_PASSWORD)
    assert sessions.login(demo_db, "bruno", temporary).user.must_change_password
    assert labels(bruno.run(), "text_input") == ["Username", "Password"]  # his old session ended
    assert not at.run().code


def test_a_locked_account_is_shown_and_can_be_unlocked(app, demo_db: Database) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sessions.login(demo_db, "rita", "wrong password, again")
    at = users_page(app)
    assert status_of(at, "rita") == "Locked"
    at = select_user(at, "rita")
    at = click(at, "Unlock")
    assert not at.exception
    assert "Rita Novak can sign in again." in [plain(s.value) for s in at.success]
    assert status_of(at, "rita") == "Active"
    assert "Unlock" not in labels(at, "button")
    assert sessions.login(demo_db, "rita", story.DEMO_PASSWORD).user.username == "rita"


def test_an_unlocked_account_offers_no_unlock(app) -> None:
    at = select_user(users_page(app), "rita")
    assert at.subheader[0].value == "Rita Novak"
    assert "Reset password" in labels(at, "button")
    assert "Unlock" not in labels(at, "button")
