"""Sign out: ends the server-side session and clears the browser's cookie."""

import streamlit as st

from components import navigation, session
from components.guard import guard

guard("logout")
session.end()
session.flash("success", "You are signed out.")
if st.user.get("is_logged_in", False):
    st.logout()  # also ends the identity provider's session cookie
# Leave /logout: signing in again here would run this page, and sign out, once more.
st.switch_page(navigation.LOGIN.path)
