"""The head of KPI monitoring: the status with its reasons, five figures against the plan and the
trajectory chart. It reads the newest stamp itself, so in live mode it can refresh on its own."""

from __future__ import annotations

from datetime import date

import streamlit as st

from components import kpi_data
from components.kpi_views import metric_label, metric_value, status_badge, trajectory_figure
from components.text import md
from flightdeck.core.formatting import format_delta, format_money
from flightdeck.kpis.entities import Kpi
from flightdeck.kpis.kpi_status import Status

LIVE_SECONDS = 5


def headline(kpi: Kpi, start: date, end: date, grain: str, live: bool) -> None:
    """Status, figures and the main chart of `kpi` from `start` to `end` at `grain`."""
    now = kpi_data.stamp()
    status = kpi_data.statuses((kpi.id,), now)[kpi.id]
    extent = kpi_data.extent(kpi.id, now)
    head, badge = st.columns([4, 1], vertical_alignment="center")
    head.subheader(md(kpi.name), anchor=False)
    with badge:
        status_badge(status)
    for reason in status.reasons:
        st.caption(md(reason))
    figures(kpi, status)
    if extent.last is None:
        return
    total = kpi_data.series(kpi.id, ("",), grain, start, end, now)[""]
    if not total.periods:
        st.warning("No data for the business as a whole in this period.", icon=":material/search_off:")
        return
    title = f"{kpi.name}: actual against baseline and target trajectory"
    figure = trajectory_figure(kpi, total, start, end, title, extent.last)
    st.plotly_chart(figure, width="stretch", key=f"main_{kpi.id}")
    if live:
        st.caption(
            f":material/sync: Live: checks for new values every {LIVE_SECONDS} s. "
            f"Latest value {extent.last:%d %b %Y}."
        )


def figures(kpi: Kpi, status: Status) -> None:
    """Latest 28 days, expected by now, baseline, target and the gap in money a year."""
    cells = st.columns(5)
    unit = kpi.unit
    window = f"{status.window[0]:%d %b} – {status.window[1]:%d %b %Y}" if status.window else "no data yet"
    cells[0].metric(
        metric_label("Latest 28 days", unit),
        metric_value(status.current, unit),
        help=f"Mean over {window}.",
        border=True,
    )
    ahead = None
    if status.expected is not None and status.current is not None:
        ahead = (status.current - status.expected) * (1 if kpi.up_is_good else -1)
    cells[1].metric(
        metric_label("Expected by now", unit),
        metric_value(status.expected, unit),
        delta=None
        if ahead is None
        else f"{format_delta(abs(ahead), unit)} {'ahead' if ahead >= 0 else 'behind'}",
        delta_color="normal" if ahead is None or ahead >= 0 else "inverse",
        delta_arrow="off",
        help="On the straight line from the baseline to the target."
        if ahead is not None
        else "Set a baseline and a target.",
        border=True,
    )
    cells[2].metric(
        metric_label("Baseline", unit),
        metric_value(kpi.baseline_value, unit),
        help=f"In {kpi.baseline_period:%b %Y}." if kpi.baseline_period else None,
        border=True,
    )
    cells[3].metric(
        metric_label("Target", unit),
        metric_value(kpi.target_value, unit),
        help=f"By {kpi.target_date:%d %b %Y}." if kpi.target_date else None,
        border=True,
    )
    cells[4].metric(
        f"Gap ({kpi.currency} a year)",
        format_money(status.gap_value_per_year, "", signed=True),
        help="Ahead (+) or behind (−) the trajectory, times the money value of one unit, per year."
        if status.gap_value_per_year is not None
        else "Set a money value per unit, a baseline and a target.",
        border=True,
    )
