"""Turning domain errors into messages on the page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import session
from components.text import md
from flightdeck.core.errors import FlightdeckError, InvalidInput, StaleEdit


def show_problems(invalid: InvalidInput) -> None:
    """One error line per problem; each already names its field."""
    for problem in invalid.problems:
        where = f"Row {problem.row}: " if problem.row is not None else ""
        st.error(where + md(problem.message), icon=":material/error:")


def act(run: Callable[[], object], success: str, after: Callable[[], object] | None = None) -> None:
    """Run one mutating service and report: typed errors as messages on this run, success as a
    flash after a rerun (`after` first clears what the change made stale)."""
    try:
        run()
    except InvalidInput as invalid:
        show_problems(invalid)
    except FlightdeckError as error:
        st.error(md(str(error)), icon=":material/block:")
    else:
        _succeeded(success, after)


def save(
    run: Callable[[], object],
    success: str,
    after: Callable[[], object] | None = None,
    stale: Callable[[StaleEdit], object] | None = None,
) -> None:
    """Run the service a form saves through (a new record, or an edit of a versioned one). Problems
    show under the form and a stale edit says who saved in between (`stale` may keep it instead,
    as an EditPin does); other errors are not expected of a form the user was offered, so they
    propagate. Success: `after` (e.g. clear a cache), then a flash after a rerun."""
    try:
        run()
    except StaleEdit as refusal:
        if stale is None:
            st.error(md(str(refusal)), icon=":material/sync_problem:")
        else:
            stale(refusal)
    except InvalidInput as invalid:
        show_problems(invalid)
    else:
        _succeeded(success, after)


def _succeeded(success: str, after: Callable[[], object] | None) -> None:
    if after is not None:
        after()
    session.flash("success", success)
    st.rerun()
