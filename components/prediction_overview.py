"""What a model's prediction log says: predictions per day and version, live performance against the
holdout, and which live inputs moved furthest from the training data."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import model_data
from components import model_views as views
from components.text import md
from flightdeck.models import evaluation
from flightdeck.models.records import Model, ModelVersion


def shift(trend: pd.DataFrame, entry: dict) -> tuple[float, str]:
    """How far the last two weeks' live mean sits from the training median, in widths of the
    training p05–p95 range, and the same in words."""
    q = entry.get("quantiles")
    recent = trend["mean"].tail(14).dropna()
    if not q or recent.empty:
        return 0.0, "no training reference"
    mean = float(recent.mean())
    width = (q["p95"] - q["p05"]) or 1.0
    words = (
        f"last 14 days {mean:,.1f} · training median {q['p50']:,.1f}, "
        f"90% within {q['p05']:,.1f}–{q['p95']:,.1f}"
    )
    return abs(mean - q["p50"]) / width, words


def overview(model: Model, versions: list[ModelVersion], log_stamp: int) -> None:
    """The Overview tab; `log_stamp` is the model's newest log batch, which keys the cached reads."""
    volume, live = model_data.log_overview(model.id, log_stamp)
    if volume.empty:
        st.info("No predictions have been logged for this model yet.", icon=":material/query_stats:")
        return
    cols = st.columns(4)
    cols[0].metric("Predictions logged", f"{live.predictions:,}", border=True)
    cols[1].metric("Outcomes", f"{live.outcomes:,}", border=True)
    cols[2].metric("Joined to a prediction", f"{live.joined:,}", border=True)
    key, label = views.headline_metric(model.task)
    production = next((v for v in versions if v.stage == "production"), versions[0])
    holdout = production.evaluation.get("metrics", {}).get(key)
    value = live.metrics.get(key)
    cols[3].metric(
        f"Live {label}",
        "—" if value is None else f"{value:.3f}",
        delta=None if value is None or holdout is None else f"{value - holdout:+.3f} against the holdout",
        delta_color="normal" if evaluation.metric_names(model.task)[key][1] else "inverse",
        border=True,
    )
    fig = go.Figure()
    for number, part in volume.groupby("version"):
        fig.add_bar(x=part["day"], y=part["predictions"], name=f"v{number}")
    fig.update_layout(
        title="Predictions per day",
        xaxis_title="Day (UTC)",
        yaxis_title="Predictions",
        barmode="stack",
        height=300,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    st.plotly_chart(fig, width="stretch", config=views.PLOT_CONFIG)
    st.caption(f"From {live.first_day} to {live.last_day}.")
    live_inputs(model.id, production, log_stamp)


def live_inputs(model_id: int, production: ModelVersion, log_stamp: int) -> None:
    """The daily mean of one numeric feature against the training range, the furthest moved first."""
    profile = model_data.profile(production.id)
    shifts = {
        m.feature: shift(model_data.feature_trend(model_id, m.feature, log_stamp), profile.get(m.feature, {}))
        for m in production.feature_maps
        if m.kind == "numeric"
    }
    if not shifts:
        return
    st.subheader("Live inputs against the training data", anchor=False)
    ranked = sorted(shifts, key=lambda f: -shifts[f][0])
    feature = st.selectbox(
        "Feature",
        ranked,
        format_func=lambda f: f"{f} · {shifts[f][1]}",
        key="trend_feature",
        help="Sorted by how far the last two weeks' mean moved from the training median.",
    )
    trend = model_data.feature_trend(model_id, feature, log_stamp)
    entry = profile.get(feature, {})
    fig = go.Figure()
    if entry.get("quantiles"):
        q = entry["quantiles"]
        fig.add_hrect(
            y0=q["p05"],
            y1=q["p95"],
            fillcolor="#1f5f8b",
            opacity=0.12,
            line_width=0,
            layer="below",
            annotation_text="90% of the training data",
            annotation_position="top left",
        )
        fig.add_hline(y=q["p50"], line_dash="dot", annotation_text="training median")
    fig.add_scatter(x=trend["day"], y=trend["mean"], mode="lines", name="daily mean of live inputs")
    fig.update_layout(
        title=f"Daily mean of {feature} in the prediction log",
        xaxis_title="Day (UTC)",
        yaxis_title=feature,
        height=320,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    st.plotly_chart(fig, width="stretch", config=views.PLOT_CONFIG)
    st.caption(f"Reference from the {md(production.profile_source)} profile of v{production.number}.")
