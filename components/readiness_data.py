"""Cached readiness read models, keyed by the newest stored snapshot and the registry's stamp:
scores are stored whenever evidence changes, so pages never re-score."""

from __future__ import annotations

import streamlit as st

from components.runtime import database
from flightdeck.readiness import portfolio


def stamp() -> portfolio.Stamp:
    return portfolio.data_stamp(database())


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def rows(stamp_key: portfolio.Stamp) -> list[portfolio.PortfolioRow]:
    """Every version with its latest stored score."""
    return portfolio.portfolio(database())


def by_version(stamp_key: portfolio.Stamp) -> dict[int, portfolio.PortfolioRow]:
    return {r.version_id: r for r in rows(stamp_key)}
