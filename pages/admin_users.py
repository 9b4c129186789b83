"""Users: accounts, roles, deactivation, password resets and unlocking. Admins only."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from components import session
from components.edit_pin import EditPin
from components.feedback import show_problems
from components.guard import guard
from components.row_picker import picked_row
from components.runtime import database
from components.text import md, when
from flightdeck.accounts import users
from flightdeck.core.clock import utcnow
from flightdeck.core.errors import FlightdeckError, InvalidInput
from flightdeck.core.roles import Role

PIN = EditPin("user")
ONE_TIME = "user_one_time_password"  # (username, password): shown once, then forgotten

user = guard("admin_users")
db = database()
st.title("Users", anchor=False)
st.caption("Accounts and roles. Every change here is recorded in the audit trail.")
session.show_flash()

if shown := st.session_state.pop(ONE_TIME, None):
    username, password = shown
    st.success(
        f"Temporary password for **{md(username)}**. Hand it over securely: it is shown only now, "
        "and they must choose their own at first sign-in.",
        icon=":material/key:",
    )
    st.code(password, language=None)


def role_picker(key: str, current: frozenset[Role] = frozenset()) -> list[Role]:
    return st.multiselect(
        "Roles",
        list(Role),
        default=sorted(current, key=list(Role).index),
        format_func=lambda r: r.label,
        key=key,
        help="A person may hold several roles. Reviewers never approve models they built.",
    )


def act(action: Callable[..., object], account_id: int, *args: object, success: str) -> None:
    """Run one account service for the selected user and report the outcome."""
    try:
        PIN.save(account_id, lambda: action(db, user, account_id, *args), success)
    except FlightdeckError as error:  # refused for another reason than the form's content
        st.error(md(str(error)), icon=":material/error:")


accounts_tab, add_tab = st.tabs(["Accounts", "Add user"])

with accounts_tab:
    accounts = users.list_accounts(db)
    now = utcnow()
    table = pd.DataFrame(
        {
            "Name": [a.display_name for a in accounts],
            "Username": [a.username for a in accounts],
            "E-mail": [a.email or "" for a in accounts],
            "Roles": [", ".join(sorted(r.label for r in a.roles)) for a in accounts],
            "Status": [
                "Locked" if a.is_locked(now) else "Active" if a.is_active else "Deactivated" for a in accounts
            ],
            "Last sign-in": [when(a.last_login_at) for a in accounts],
        }
    )
    row = picked_row(table, "users_table")
    if row is None:
        st.caption("Select a user to edit their roles or manage their account.")
    else:
        account = accounts[row]
        base = PIN.base(account)
        with st.container(border=True):
            st.subheader(md(account.display_name), anchor=False)
            with st.form(PIN.form_key(account), border=False):
                left, right = st.columns(2)
                display_name = left.text_input("Name", value=base.display_name, max_chars=120)
                username = right.text_input("Username", value=base.username, max_chars=64)
                email = left.text_input("E-mail", value=base.email or "", max_chars=254)
                with right:
                    roles = role_picker(f"{PIN.form_key(account)}_roles", base.roles)
                saved = st.form_submit_button("Save changes", type="primary", icon=":material/save:")
            if saved:
                draft = users.AccountDraft(username, display_name, email or None, frozenset(roles))
                act(users.update_user, account.id, base.version, draft, success=f"{display_name} updated.")
            PIN.show_refusal(account.id)
            buttons = st.columns(3)
            if account.is_active:
                if buttons[0].button(
                    "Deactivate", icon=":material/person_off:", disabled=account.id == user.id
                ):
                    act(users.set_active, account.id, False, success=f"{account.display_name} deactivated.")
            elif buttons[0].button("Reactivate", icon=":material/person_check:"):
                act(users.set_active, account.id, True, success=f"{account.display_name} reactivated.")
            if buttons[1].button("Reset password", icon=":material/lock_reset:"):
                try:
                    temporary = users.reset_password(db, user, account.id)
                except FlightdeckError as error:
                    st.error(md(str(error)))
                else:
                    PIN.done(account.id)
                    st.session_state[ONE_TIME] = (account.username, temporary)
                    st.rerun()
            if account.is_locked(now) and buttons[2].button("Unlock", icon=":material/lock_open:"):
                act(users.unlock, account.id, success=f"{account.display_name} can sign in again.")
            if account.id == user.id:
                st.caption("You cannot deactivate your own account.")

with add_tab:
    with st.form("add_user", clear_on_submit=False):
        left, right = st.columns(2)
        display_name = left.text_input("Name", max_chars=120)
        username = right.text_input(
            "Username", max_chars=64, help="Lower-case letters, digits, '.', '_', '-'."
        )
        email = left.text_input("E-mail", max_chars=254, help="Needed for single sign-on.")
        with right:
            roles = role_picker("new_user_roles")
        submitted = st.form_submit_button("Create user", type="primary", icon=":material/person_add:")
    if submitted:
        try:
            account, temporary = users.create_user(
                db, user, users.AccountDraft(username, display_name, email or None, frozenset(roles))
            )
        except InvalidInput as invalid:
            show_problems(invalid)
        else:
            st.session_state[ONE_TIME] = (account.username, temporary)
            session.flash("success", f"{account.display_name} can now sign in.")
            st.rerun()
