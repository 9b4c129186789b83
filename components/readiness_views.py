"""How readiness looks: the level badge, the headline gauge, the six dimensions, the checks with
their evidence, next steps and the history with the events that moved the score."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.navigation import BY_KEY
from components.text import md, when
from flightdeck.readiness.checks import CheckResult
from flightdeck.readiness.rubric import (
    DIMENSION_TITLES,
    DIMENSIONS,
    LEVEL_LABELS,
    NOT_READY,
    PILOT_MIN,
    PILOT_READY,
    PRODUCTION_MIN,
    STATUS_LABELS,
)
from flightdeck.readiness.scoring import NextStep, Readiness
from flightdeck.readiness.snapshots import Snapshot

LEVEL_COLOURS = {NOT_READY: "red", PILOT_READY: "orange", "production_ready": "green"}
LEVEL_ICONS = {
    NOT_READY: ":material/block:",
    PILOT_READY: ":material/science:",
    "production_ready": ":material/verified:",
}
PLOT_CONFIG = {"displaylogo": False}


def level_badge(level: str | None) -> None:
    if level is None:
        st.badge("Not scored yet", icon=":material/hourglass_empty:", color="gray")
        return
    st.badge(LEVEL_LABELS[level], icon=LEVEL_ICONS[level], color=LEVEL_COLOURS[level])


def readiness_link(version_id: int, label: str) -> None:
    st.page_link(
        BY_KEY["readiness"].path,
        label=label,
        icon=":material/checklist:",
        query_params={"version": str(version_id)},
    )


def gauge(r: Readiness) -> None:
    """The headline (lowest dimension) on a 0–100 dial banded at the level thresholds."""
    fig = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=round(r.score.headline),
            number={"suffix": " / 100"},
            title={"text": f"Readiness: {r.score.level_label}"},
            gauge={
                "axis": {"range": [0, 100]},
                "bar": {"color": "#31333f"},
                "steps": [
                    {"range": [0, PILOT_MIN], "color": "#fbd5d5"},
                    {"range": [PILOT_MIN, PRODUCTION_MIN], "color": "#fde9c8"},
                    {"range": [PRODUCTION_MIN, 100], "color": "#d3f0d9"},
                ],
            },
        )
    )
    fig.update_layout(height=240, margin={"l": 30, "r": 40, "t": 60, "b": 10})
    st.plotly_chart(fig, config=PLOT_CONFIG, width="stretch")


def dimension_chart(r: Readiness) -> None:
    """Six horizontal bars; the lowest decides the headline, so it is the one drawn darkest."""
    titles = [d.title for d in DIMENSIONS]
    values = [r.score.dimensions[d.key] for d in DIMENSIONS]
    lowest = min(v for v in values if v is not None) if any(v is not None for v in values) else None
    colours = ["#c0392b" if v is not None and v == lowest else "#7f8c8d" for v in values]
    fig = go.Figure(
        go.Bar(
            x=[v if v is not None else 0 for v in values],
            y=titles,
            orientation="h",
            marker_color=colours,
            text=[f"{v:.0f}" if v is not None else "n/a" for v in values],
            textposition="outside",
        )
    )
    for threshold in (PILOT_MIN, PRODUCTION_MIN):
        fig.add_vline(x=threshold, line_dash="dot", line_color="#999")
    fig.update_layout(
        title="Score per dimension (the lowest is the headline)",
        xaxis={"title": "Score (0–100 points)", "range": [0, 110]},
        yaxis={"title": "Dimension", "autorange": "reversed"},
        height=300,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    st.plotly_chart(fig, config=PLOT_CONFIG, width="stretch")


def next_steps(steps: Sequence[NextStep], limit: int = 6) -> None:
    if not steps:
        st.success("Every check passes or does not apply. Nothing left to do.", icon=":material/verified:")
        return
    lines = []
    for step in steps[:limit]:
        where = DIMENSION_TITLES[step.check.dimension]
        gain = (
            f"+{step.gain:.0f} headline points"
            if step.gain > 0.05
            else f"+{step.dimension_gain:.0f} in {where}"
        )
        level = f", reaches **{LEVEL_LABELS[step.level_after]}**" if step.raises_level else ""
        blocker = " **(blocker)**" if step.check.blocking else ""
        lines.append(f"1. {md(step.action)}{blocker} — *{step.who}* · {gain}{level}")
    st.markdown("\n".join(lines))
    if len(steps) > limit:
        st.caption(f"{len(steps) - limit} more in the checks below.")


def checks_table(results: Sequence[CheckResult]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Status": [STATUS_LABELS[r.status] for r in results],
            "Check": [r.check.title + (" (blocker)" if r.check.blocking else "") for r in results],
            "Evidence": [r.evidence for r in results],
            "Why it matters": [r.check.why for r in results],
            "Who can fix it": [" or ".join(x.label.lower() for x in r.check.fixers) for r in results],
            "How": ["attested" if r.check.attested else "automatic" for r in results],
            "ML Test Score": [r.check.ml_test_score or "—" for r in results],
        }
    )


def checks_by_dimension(r: Readiness) -> None:
    for d in DIMENSIONS:
        results = [x for x in r.results if x.check.dimension == d.key]
        value = r.score.dimensions[d.key]
        score = "n/a" if value is None else f"{value:.0f}"
        failing = sum(x.status in ("fail", "partial") for x in results)
        with st.expander(
            f"{d.title} · {score} / 100 · {failing} to fix",
            expanded=failing > 0 and value == r.score.headline,
        ):
            st.caption(d.question)
            st.dataframe(checks_table(results), hide_index=True, width="stretch")


def history_chart(snapshots: Sequence[Snapshot]) -> None:
    """Headline and mean over time; each point carries the event that moved it."""
    if not snapshots:
        st.caption("No history yet.")
        return
    shown = snapshots[-2000:]
    hover = [f"{s.cause}<br>{'<br>'.join(s.moved[:4])}" for s in shown]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[s.at for s in shown],
            y=[s.headline for s in shown],
            mode="lines+markers",
            line_shape="hv",
            name="Headline (lowest dimension)",
            hovertext=hover,
            hoverinfo="text+y",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[s.at for s in shown],
            y=[s.mean for s in shown],
            mode="lines",
            line_shape="hv",
            name="Mean",
            line_dash="dot",
        )
    )
    for threshold in (PILOT_MIN, PRODUCTION_MIN):
        fig.add_hline(y=threshold, line_dash="dot", line_color="#999")
    fig.update_layout(
        title="Readiness over time, with the events that moved it",
        xaxis_title="Date (UTC)",
        yaxis={"title": "Score (0–100 points)", "range": [0, 105]},
        height=320,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    st.plotly_chart(fig, config=PLOT_CONFIG, width="stretch")


def history_table(snapshots: Sequence[Snapshot]) -> pd.DataFrame:
    newest = list(reversed(snapshots))[:200]
    return pd.DataFrame(
        {
            "When": [when(s.at) for s in newest],
            "Event": [s.cause for s in newest],
            "Headline": [round(s.headline) for s in newest],
            "Level": [LEVEL_LABELS[s.level] for s in newest],
            "What moved": ["; ".join(s.moved) for s in newest],
        }
    )
