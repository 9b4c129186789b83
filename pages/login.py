"""Sign in, at /login. Anonymous visitors get the same screen on any page they open, which then
opens once they are signed in; this page only sends signed-in users home (its guard)."""

import streamlit as st

from components import navigation, session, sign_in

if session.current_user() is not None:
    st.switch_page(navigation.HOME.path)
sign_in.view()
