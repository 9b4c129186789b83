"""Typing KPI values in by hand: for the figure nobody exports. They go through the same checks as
a file, so saving the same values again changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import streamlit as st

from components import kpi_data, session
from components.problem_report import problem_report
from flightdeck.business.hierarchies import EXPERIMENT_ARMS, Hierarchy
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput
from flightdeck.core.permissions import User
from flightdeck.kpis import ingest, validation
from flightdeck.kpis.entities import Kpi
from flightdeck.tabular import formats


def enter_values(db: Database, user: User, kpi: Kpi, hierarchy: Hierarchy | None) -> None:
    """An editable table of period, segment (a code of `hierarchy` or an experiment arm) and value."""
    codes = (
        ["", *EXPERIMENT_ARMS, *(n.code for n in hierarchy.nodes)] if hierarchy else ["", *EXPERIMENT_ARMS]
    )
    yesterday = date.today() - timedelta(days=1)
    edited = st.data_editor(
        pd.DataFrame({"Period": [yesterday], "Segment": [""], "Value": [None]}).astype({"Value": "float"}),
        num_rows="dynamic",
        width="stretch",
        key=f"hand_{kpi.id}",
        column_config={
            "Period": st.column_config.DateColumn(required=True, format="YYYY-MM-DD"),
            "Segment": st.column_config.SelectboxColumn(options=codes, help="Blank for the whole business."),
            "Value": st.column_config.NumberColumn(help=f"In {kpi.unit}."),
        },
    )
    st.caption(
        "One row per value; leave the segment empty for the whole business. Values go through the same "
        "checks as a file, and saving the same values again changes nothing."
    )
    if st.button("Save values", type="primary", icon=":material/save:", key="hand_save"):
        frame = edited.astype({"Period": object, "Segment": object, "Value": object}).reset_index(drop=True)
        frame["Segment"] = frame["Segment"].fillna("")
        try:
            mapping = validation.ColumnMapping("Period", "Value", "Segment")
            rows = np.arange(1, len(frame) + 1)
            origin = ingest.Origin("manual", "entered by hand")
            result = ingest.load_frame(db, user, kpi.id, frame, rows, mapping, formats.SourceFormat(), origin)
        except InvalidInput as invalid:
            problem_report(invalid, "entered values", "hand")
        else:
            kpi_data.clear()
            session.flash("success", result.summary())
            st.rerun()
