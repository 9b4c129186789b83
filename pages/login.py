"""Sign in. The one page open without a session (guard: signed-in users are sent home)."""

import streamlit as st

from components import navigation, session, sign_in

if session.current_user() is not None:
    st.switch_page(navigation.HOME.path)

left, right = st.columns([2, 3], gap="large")
with left:
    st.title("Sign in to Flightdeck", anchor=False)
    st.caption("Where business goals meet the models meant to move them.")
    session.show_flash()
    sign_in.form()
with right:
    sign_in.demo_logins()
