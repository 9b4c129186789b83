import pytest

from flightdeck.accounts import sessions, users
from flightdeck.accounts.users import AccountDraft
from flightdeck.core.db import Database
from flightdeck.core.errors import AuthenticationFailed, InvalidInput, PermissionDenied, StaleEdit
from flightdeck.core.roles import Role
from tests.factories import PASSWORD, add_user


def account(db: Database, user_id: int) -> users.Account:
    return next(a for a in users.list_accounts(db) if a.id == user_id)


def test_a_new_user_gets_a_temporary_password_they_must_change(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    created, temporary = users.create_user(
        db,
        admin,
        AccountDraft("Dana ", "Dana Okafor", "Dana@Greenway.example", frozenset({Role.DATA_SCIENTIST})),
    )
    assert (created.username, created.email) == ("dana", "dana@greenway.example")
    assert temporary
    signed = sessions.login(db, "dana", temporary)
    assert signed.user.must_change_password
    users.change_own_password(db, signed.user, temporary, "a much better secret")
    assert not sessions.login(db, "dana", "a much better secret").user.must_change_password


def test_usernames_and_e_mails_are_unique_and_well_formed(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN, email="ada@x.example")
    cases = [
        (AccountDraft("ada", "Other", None, frozenset({Role.VIEWER})), "username", "already taken"),
        (AccountDraft("Not OK!", "Other", None, frozenset({Role.VIEWER})), "username", "lower-case"),
        (AccountDraft("other", "Other", "ADA@x.example", frozenset({Role.VIEWER})), "email", "another user"),
        (AccountDraft("other", "Other", "not-an-address", frozenset({Role.VIEWER})), "email", "not a valid"),
        (AccountDraft("other", "", None, frozenset({Role.VIEWER})), "display_name", "required"),
        (AccountDraft("other", "Other", None, frozenset()), "roles", "at least one role"),
    ]
    for draft, field, words in cases:
        with pytest.raises(InvalidInput) as refused:
            users.create_user(db, admin, draft)
        assert refused.value.problems[0].field == field
        assert words in refused.value.problems[0].message
    assert len(users.list_accounts(db)) == 1


def test_only_admins_manage_users(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER, Role.REVIEWER, Role.DATA_SCIENTIST)
    with pytest.raises(PermissionDenied):
        users.create_user(db, owner, AccountDraft("x1", "X", None, frozenset({Role.ADMIN})))
    with pytest.raises(PermissionDenied):
        users.reset_password(db, owner, owner.id)


def test_roles_can_be_changed_and_several_held(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    kenji = add_user(db, "kenji", Role.DATA_SCIENTIST)
    draft = AccountDraft("kenji", "Kenji Sato", None, frozenset({Role.DATA_SCIENTIST, Role.REVIEWER}))
    updated = users.update_user(db, admin, kenji.id, account(db, kenji.id).version, draft)
    assert updated.roles == {Role.DATA_SCIENTIST, Role.REVIEWER}
    assert [u.username for u in users.users_with_role(db, Role.REVIEWER)] == ["kenji"]


def test_a_stale_user_edit_is_refused(db: Database) -> None:
    ada = add_user(db, "ada", Role.ADMIN)
    max_ = add_user(db, "max", Role.ADMIN)
    kenji = add_user(db, "kenji", Role.DATA_SCIENTIST)
    seen = account(db, kenji.id).version
    users.update_user(db, max_, kenji.id, seen, AccountDraft("kenji", "K", None, frozenset({Role.REVIEWER})))
    with pytest.raises(StaleEdit, match="changed by Max"):
        users.update_user(db, ada, kenji.id, seen, AccountDraft("kenji", "K2", None, frozenset({Role.ADMIN})))
    assert account(db, kenji.id).roles == {Role.REVIEWER}


def test_the_last_active_admin_cannot_be_removed(db: Database) -> None:
    ada = add_user(db, "ada", Role.ADMIN)
    with pytest.raises(InvalidInput, match="last active admin"):
        users.set_active(db, ada, ada.id, False)
    with pytest.raises(InvalidInput, match="last active admin"):
        users.update_user(
            db, ada, ada.id, account(db, ada.id).version, AccountDraft("ada", "A", None, {Role.VIEWER})
        )
    other = add_user(db, "max", Role.ADMIN)
    users.set_active(db, other, ada.id, False)
    assert not account(db, ada.id).is_active


def test_reset_password_unlocks_and_signs_the_user_out_everywhere(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    bianca = add_user(db, "bianca", Role.BUSINESS_OWNER)
    token = sessions.login(db, "bianca", PASSWORD).token
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sessions.login(db, "bianca", "wrong")
    temporary = users.reset_password(db, admin, bianca.id)
    assert sessions.resolve_session(db, token).user is None
    assert sessions.login(db, "bianca", temporary).user.must_change_password


def test_an_admin_unlocks_a_locked_account(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    bianca = add_user(db, "bianca", Role.BUSINESS_OWNER)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sessions.login(db, "bianca", "wrong")
    with pytest.raises(AuthenticationFailed, match="locked"):
        sessions.login(db, "bianca", PASSWORD)
    users.unlock(db, admin, bianca.id)
    assert sessions.login(db, "bianca", PASSWORD).user


def test_changing_your_password_needs_the_current_one(db: Database) -> None:
    bianca = add_user(db, "bianca", Role.BUSINESS_OWNER)
    with pytest.raises(InvalidInput) as refused:
        users.change_own_password(db, bianca, "wrong", "a much better secret")
    assert refused.value.problems[0].field == "current_password"
    with pytest.raises(InvalidInput, match="at least 10"):
        users.change_own_password(db, bianca, PASSWORD, "short")
    with pytest.raises(InvalidInput, match="different"):
        users.change_own_password(db, bianca, PASSWORD, PASSWORD)
    users.change_own_password(db, bianca, PASSWORD, "a much better secret")
    assert sessions.login(db, "bianca", "a much better secret").user
