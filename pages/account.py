"""My account: who I am here, what my roles let me do, and my password."""

import streamlit as st

from components import session
from components.feedback import save
from components.guard import guard
from components.runtime import database
from components.text import md
from flightdeck.accounts import users

user = guard("account")
st.title("My account", anchor=False)
session.show_flash()
if user.must_change_password:
    st.warning(
        "Your password was set by an admin. Choose your own password to continue.", icon=":material/password:"
    )

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Profile", anchor=False)
    st.markdown(
        f"**Name** {md(user.display_name)}  \n**Username** {md(user.username)}  \n"
        f"**E-mail** {md(user.email or '—')}"
    )
    st.subheader("Your roles", anchor=False)
    for role in sorted(user.roles):
        st.markdown(f"**{role.label}**: {role.duty}")
    st.caption("Roles are assigned by an admin.")

with right:
    st.subheader("Change password", anchor=False)
    with st.form("change_password", clear_on_submit=True):
        current = st.text_input("Current password", type="password", autocomplete="current-password")
        new = st.text_input(
            "New password",
            type="password",
            autocomplete="new-password",
            help="At least 10 characters. A short sentence is easy to remember and hard to guess.",
        )
        repeat = st.text_input("Repeat the new password", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Change password", type="primary")
    if submitted:
        if new != repeat:
            st.error("The two new passwords differ.", icon=":material/error:")
        else:
            save(lambda: users.change_own_password(database(), user, current, new), "Password changed.")
