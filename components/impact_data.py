"""Cached impact of the production models: each model's impact is keyed by its own stamp (a load
into its KPIs or their drivers, an edit of those KPIs, a deployment), so a KPI load recomputes only
the models it feeds, and the portfolio is rolled up from the cached parts."""

from __future__ import annotations

import streamlit as st

from components.runtime import database
from flightdeck.impact import measurement


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def model_items(model_id: int, stamp: measurement.Stamp) -> list[measurement.KpiImpact]:
    del stamp  # the key only
    return measurement.model_impact(database(), model_id)


@st.cache_data(ttl=600, max_entries=4, show_spinner="Estimating the impact of the production models…")
def _portfolio(stamps: tuple[tuple[int, measurement.Stamp], ...]) -> measurement.Portfolio:
    return measurement.roll_up([item for model_id, stamp in stamps for item in model_items(model_id, stamp)])


def portfolio() -> measurement.Portfolio:
    """Every production model's impact now, rolled up per goal and for the portfolio."""
    return _portfolio(tuple(measurement.stamps(database()).items()))
