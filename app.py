"""Flightdeck: where business goals meet the models meant to move them.

Entry point for `streamlit run app.py`: prepares the database on first start, resolves who is
signed in, builds the menu for their roles and runs the page they asked for.
"""

from pathlib import Path

import streamlit as st

from components import navigation, session
from components.runtime import database
from components.text import md
from flightdeck.core import workspace

st.set_page_config(page_title="Flightdeck", page_icon=":material/flight_takeoff:", layout="wide")
st.logo(Path(__file__).parent / "assets" / "logo.svg", size="large")

database()
user = session.current_user()
page = navigation.build(user)

with st.sidebar:
    if user is not None:
        roles = ", ".join(sorted(r.label for r in user.roles))
        st.caption(f":material/person: **{md(user.display_name)}** · {roles}")
    if workspace.is_demo(database()):
        st.caption(":material/science: Demo workspace: fictional data")
    session.sync_cookie()

page.run()
