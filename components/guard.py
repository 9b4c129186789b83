"""The first line of every page: who is signed in, and may they see this page at all?

Navigation hides what a user may not open, but a URL can still be typed, so each page checks
again here; the services behind it check a third time.
"""

from __future__ import annotations

import streamlit as st

from components import session, sign_in
from components.navigation import BY_KEY, allowed
from components.runtime import database
from components.text import md
from flightdeck.accounts import sessions
from flightdeck.core import permissions
from flightdeck.core.permissions import User


def guard(page_key: str) -> User:
    """Return the user allowed on this page, or render why not and stop the script."""
    spec = BY_KEY[page_key]
    user = session.current_user()
    if user is None:
        sign_in.view(None if spec.key == "home" else f"Sign in to open {spec.title}.")
        st.stop()
    if user.must_change_password and spec.key not in {"account", "logout"}:
        st.switch_page(BY_KEY["account"].path)  # which says why: the password was set by an admin
    if not allowed(user, spec):
        assert spec.action is not None  # a page open to every signed-in user is always allowed
        sessions.record_page_refusal(database(), user, spec.action, spec.key)
        roles = ", ".join(r.label.lower() for r in permissions.roles_for(spec.action))
        st.error(
            f"**Not permitted.** {spec.title} is open to: {roles}. You are signed in as "
            f"{md(user.display_name)} ({', '.join(sorted(r.label.lower() for r in user.roles))}). "
            "Ask an admin if you need access.",
            icon=":material/block:",
        )
        st.stop()
    return user
