"""Running a long load of an uploaded file (a model's holdout, a prediction log) with a progress
bar, and saying why nothing was stored when it fails: a row-level report for a rejected file."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from components.feedback import show_problems
from components.problem_report import problem_report
from components.text import md
from flightdeck.core.errors import FlightdeckError, InvalidInput
from flightdeck.tabular import findings
from flightdeck.tabular.progress import Progress

T = TypeVar("T")

REFUSED = "Refused: nothing was stored."


def load_with_progress(
    running: str,
    run: Callable[[Progress], T],
    file_name: str,
    report_key: str,
    *,
    rejected: str,
    invalid: str,
    done: Callable[[T], str],
) -> T | None:
    """`run(progress)` inside a status box labelled `running`; what it returned, with the box
    labelled `done(result)`, or None once the problems are shown (`rejected` heads a row-level
    report of `file_name`, `invalid` other problems)."""
    with st.status(running, expanded=True) as status:
        bar = st.progress(0.0)
        try:
            result = run(lambda fraction, message: bar.progress(min(fraction, 1.0), text=message))
        except findings.Rejected as problems:
            status.update(label=rejected, state="error", expanded=True)
            problem_report(problems, file_name, report_key)
        except InvalidInput as problems:
            status.update(label=invalid, state="error", expanded=True)
            show_problems(problems)
        except FlightdeckError as error:
            status.update(label=REFUSED, state="error", expanded=True)
            st.error(md(str(error)), icon=":material/block:")
        else:
            status.update(label=done(result), state="complete")
            return result
    return None
