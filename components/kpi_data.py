"""Cached read models for the KPI pages, keyed by the data stamp so that a load from any process
(the command line, a cron sync, another browser) shows on the next rerun."""

from __future__ import annotations

from datetime import date

import streamlit as st

from components.runtime import database
from flightdeck.business.hierarchies import Hierarchy, list_hierarchies
from flightdeck.kpis import definitions, kpi_status, series_reader
from flightdeck.kpis.entities import Kpi
from flightdeck.kpis.kpi_status import Status
from flightdeck.kpis.series_reader import Branch, Extent, Series

Stamp = tuple[int, str]


def stamp() -> Stamp:
    """Two indexed lookups: the newest batch and the newest KPI edit."""
    return series_reader.data_stamp(database())


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def all_kpis(stamp_key: Stamp) -> list[Kpi]:
    return definitions.list_kpis(database())


@st.cache_data(ttl=600, max_entries=512, show_spinner=False)
def series(
    kpi_id: int, nodes: tuple[str, ...], grain: str, start: date, end: date, stamp_key: Stamp
) -> dict[str, Series]:
    return series_reader.series(database(), kpi_id, list(nodes), grain, start, end)


@st.cache_data(ttl=600, max_entries=128, show_spinner=False)
def statuses(kpi_ids: tuple[int, ...], stamp_key: Stamp) -> dict[int, Status]:
    return kpi_status.statuses(database(), kpi_ids)


@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def extent(kpi_id: int, stamp_key: Stamp) -> Extent:
    return series_reader.extent(database(), kpi_id)


@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def breakdown(kpi_id: int, node: str, stamp_key: Stamp) -> list[Branch]:
    return series_reader.breakdown(database(), kpi_id, node)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def hierarchies(stamp_key: Stamp) -> list[Hierarchy]:
    return list_hierarchies(database())


def clear() -> None:
    """After a write in this process: the stamp also moves, this just frees the memory at once."""
    for cached in (all_kpis, series, statuses, extent, breakdown, hierarchies):
        cached.clear()
