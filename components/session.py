"""The browser's sign-in: a server-side session whose token lives in `st.session_state` and in a
cookie, so a reload or a typed URL keeps the user signed in until the session idles out.

Only the token's hash is stored server-side. The cookie is set by a small script because Streamlit
has no API for it; it is SameSite=Strict, Secure on HTTPS, and lapses with the session.
"""

from __future__ import annotations

import json

import streamlit as st

from components.runtime import database
from components.text import md
from flightdeck.accounts import sessions
from flightdeck.core.errors import AuthenticationFailed
from flightdeck.core.permissions import User

COOKIE = "flightdeck_session"
TOKEN = "fd_token"  # noqa: S105 - a session-state key, not a secret
REJECTED = "fd_rejected"  # a cookie token already found invalid: do not look it up every rerun
FLASH = "fd_flash"
SSO_FAILED = "fd_sso_failed"


def flash(kind: str, text: str) -> None:
    """A message for the next run, which survives the st.rerun that usually follows an action."""
    st.session_state[FLASH] = (kind, text)


def show_flash() -> None:
    """Messages often quote user text (a title, a name), so they are always shown literally."""
    if message := st.session_state.pop(FLASH, None):
        kind, text = message
        {"success": st.success, "warning": st.warning, "error": st.error}.get(kind, st.info)(md(text))


def _browser_cookie() -> str | None:
    """The session cookie the browser sent when this Streamlit session connected."""
    cookie = st.context.cookies.get(COOKIE)
    return cookie if isinstance(cookie, str) and cookie else None  # (AppTest hands out mocks)


def _token() -> str | None:
    token = st.session_state.get(TOKEN)
    if token:
        return token
    cookie = _browser_cookie()
    return None if cookie == st.session_state.get(REJECTED) else cookie


def current_user() -> User | None:
    """The signed-in user, validated against the database on every run: a deactivated user or a
    revoked session stops working at once, on every app process."""
    db = database()
    token = _token()
    check = sessions.resolve_session(db, token)
    if check.user is not None:
        st.session_state[TOKEN] = token
        return check.user
    if token:
        st.session_state.pop(TOKEN, None)
        st.session_state[REJECTED] = token
        if check.expired:
            flash("info", "Your session ended after a period of inactivity. Please sign in again.")
    return _single_sign_on()


def _single_sign_on() -> User | None:
    """Turn an identity-provider login (st.login) into a Flightdeck session, matched by e-mail."""
    if not st.user.get("is_logged_in", False):
        return None
    email = str(st.user.get("email") or "")
    if st.session_state.get(SSO_FAILED) == email:
        return None
    try:
        sign_in = sessions.login_sso(database(), email)
    except AuthenticationFailed as refusal:
        st.session_state[SSO_FAILED] = email
        flash("error", str(refusal))
        return None
    start(sign_in.token)
    return sign_in.user


def start(token: str) -> None:
    st.session_state[TOKEN] = token
    st.session_state.pop(REJECTED, None)


def end() -> None:
    sessions.logout(database(), _token())
    st.session_state.pop(TOKEN, None)
    st.session_state[REJECTED] = _browser_cookie()


def sync_cookie() -> None:
    """Keep the browser's cookie equal to this session's token. Rendered on every run until a
    new connection shows the browser has it, so an interrupted run cannot lose the write."""
    token = st.session_state.get(TOKEN) or ""
    if token == (_browser_cookie() or ""):
        return
    lifetime = database().settings.session_lifetime_hours * 3600 if token else 0
    st.html(
        "<script>document.cookie = "
        f"{json.dumps(COOKIE + '=' + token)} + '; Path=/; SameSite=Strict; Max-Age={lifetime}'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
        width="content",
    )
