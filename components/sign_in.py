"""The sign-in form, shown by the login page and by any page opened without a session."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import session
from components.runtime import database
from components.text import md
from flightdeck.accounts import sessions
from flightdeck.core import workspace
from flightdeck.core.errors import AuthenticationFailed
from flightdeck.demo import story


def view(note: str | None = None) -> None:
    """The whole sign-in screen: the form, and the demo accounts while the demo is active."""
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.title("Sign in to Flightdeck", anchor=False)
        st.caption("Where business goals meet the models meant to move them.")
        session.show_flash()
        if note:
            st.info(note, icon=":material/lock:")
        form()
    with right:
        demo_logins()


def form() -> None:
    db = database()
    with st.form("sign_in", border=True):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if submitted:
        try:
            sign_in = sessions.login(db, username, password)
        except AuthenticationFailed as refusal:
            st.error(md(str(refusal)), icon=":material/error:")
        else:
            session.start(sign_in.token)
            st.rerun()
    if db.settings.sso_configured:
        _single_sign_on_buttons(db.settings.secrets["auth"])


def _single_sign_on_buttons(auth_section: dict[str, object]) -> None:
    """One button per named provider (`[auth.name]`), or one for a single unnamed provider."""
    providers = [name for name, value in auth_section.items() if isinstance(value, dict)]
    for name in providers or [None]:
        label = f"Sign in with {name.capitalize()}" if name else "Sign in with single sign-on"
        args = (name,) if name else ()
        st.button(
            label, icon=":material/key:", on_click=st.login, args=args, width="stretch", key=f"sso_{name}"
        )


def demo_logins() -> None:
    """While the demo workspace is active, list its accounts so a visitor can try every role."""
    if not workspace.is_demo(database()):
        return
    st.subheader("Demo workspace", anchor=False)
    st.caption(
        f"You are looking at {story.COMPANY}, a fictional grocery chain. Every demo account uses the "
        f"password **{story.DEMO_PASSWORD}**."
    )
    rows = [
        {
            "Username": p.username,
            "Name": p.display_name,
            "Job": p.title,
            "Roles": ", ".join(r.label for r in p.roles),
        }
        for p in story.DEMO_USERS
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
