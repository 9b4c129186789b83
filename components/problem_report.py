"""The row-level report of a rejected file: what is wrong where, as a table to read and download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from flightdeck.core.errors import InvalidInput
from flightdeck.tabular.findings import Rejected, problems_csv


def problem_report(invalid: InvalidInput, file_name: str, key: str) -> None:
    """Say that nothing was stored, list every problem (row, column, value, reason) and offer the
    list as CSV. Problems without a row (a wrong header, an unreadable file) are listed too."""
    problems = invalid.problems
    if isinstance(invalid, Rejected):
        st.error(invalid.summary(), icon=":material/block:")
    else:
        st.error(
            f"{len(problems)} problem(s) in '{file_name}'. Nothing was stored: fix them and try again.",
            icon=":material/block:",
        )
    table = pd.DataFrame(
        {
            "Row": [p.row for p in problems],
            "Column": [p.field for p in problems],
            "Value": [p.value for p in problems],
            "Reason": [p.message for p in problems],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Row": st.column_config.NumberColumn(help="As a spreadsheet counts: the header is row 1."),
            "Reason": st.column_config.TextColumn(width="large"),
        },
    )
    st.download_button(
        "Download the report (CSV)",
        data=problems_csv(problems),
        file_name=f"problems-{file_name.rsplit('.', 1)[0]}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"report_{key}",
    )
