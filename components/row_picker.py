"""Tables the user opens rows of by selecting them: the way lists lead to their details."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import streamlit as st


def picked_rows(
    table: pd.DataFrame,
    key: str,
    mode: Literal["single-row", "multi-row"] = "multi-row",
    **options: Any,
) -> list[int]:
    """Show `table` with row selection; the positions of the selected rows. `options` go to
    st.dataframe (column_config, height)."""
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode=mode,
        key=key,
        **options,
    )
    return list(event.selection.rows)


def picked_row(table: pd.DataFrame, key: str, **options: Any) -> int | None:
    """The same with single-row selection: the position of the selected row, or None."""
    rows = picked_rows(table, key, "single-row", **options)
    return rows[0] if rows else None
