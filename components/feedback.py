"""Turning domain errors into messages on the page."""

from __future__ import annotations

import streamlit as st

from components.text import md
from flightdeck.errors import InvalidInput


def show_problems(invalid: InvalidInput) -> None:
    """One error line per problem; each already names its field."""
    for problem in invalid.problems:
        where = f"Row {problem.row}: " if problem.row is not None else ""
        st.error(where + md(problem.message), icon=":material/error:")
