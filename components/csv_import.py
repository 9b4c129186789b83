"""Importing business context from a CSV, all or nothing. A rejected file's report stays on screen
after the rerun, beside the upload it belongs to."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import kpi_data, session
from components.problem_report import problem_report
from flightdeck.core.errors import InvalidInput

IMPORT_RESULT = "context_import_result"  # (which import, file name, problems) across the rerun


def import_box(kind: str, label: str, help_text: str, run: Callable[[bytes, str], str]) -> None:
    """Upload a CSV and import it with `run(data, file name)`, which returns the summary."""
    upload = st.file_uploader(label, type=["csv"], key=f"upload_{kind}", help=help_text)
    if upload is not None and st.button("Import", icon=":material/upload:", key=f"import_{kind}"):
        try:
            result = run(upload.getvalue(), upload.name)
        except InvalidInput as invalid:
            st.session_state[IMPORT_RESULT] = (kind, upload.name, invalid)
        else:
            st.session_state.pop(IMPORT_RESULT, None)
            kpi_data.clear()
            session.flash("success", f"{upload.name}: {result}")
            st.rerun()
    outcome = st.session_state.get(IMPORT_RESULT)
    if outcome and outcome[0] == kind:
        problem_report(outcome[2], outcome[1], kind)
