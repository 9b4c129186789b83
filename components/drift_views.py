"""How drift and live performance look: the feature drift table with its bands, a feature's shares
against the training data, PSI over time with the band lines, and live metrics against the holdout."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.text import md
from flightdeck.models import evaluation
from flightdeck.models.drift_stats import MAJOR, MODERATE, OTHER, Band, FeatureDrift
from flightdeck.models.monitoring import ModelMonitoring

BAND_COLOURS = {"stable": "#e6f4ea", "moderate": "#fff4e0", "major": "#fde7e7"}
BAND_RULE = (
    f"PSI against the training data's 10 quantile bins: under {MODERATE} stable, {MODERATE}–{MAJOR} "
    f"moderate, over {MAJOR} major. Below 500 values a numeric feature's band counts only if the "
    "Kolmogorov–Smirnov test (p < 0.01) confirms it."
)
LAYOUT = {"height": 340, "margin": {"l": 10, "r": 10, "t": 50, "b": 10}}


def band_label(status: Band | None) -> str:
    return status.value if status is not None else "no values"


def drift_table(features: tuple[FeatureDrift, ...], prediction: FeatureDrift | None) -> None:
    rows = [*features, *([prediction] if prediction else [])]
    ordered = sorted(rows, key=lambda f: -np.nan_to_num(f.psi.value, nan=-1.0))
    table = pd.DataFrame(
        {
            "Feature": [f.feature for f in ordered],
            "Kind": ["model output" if f is prediction else f.kind for f in ordered],
            "Values": [f.n for f in ordered],
            "PSI": [f.psi.value for f in ordered],
            "Drift": [band_label(f.status) for f in ordered],
            "KS p-value": [f"{f.ks.p_value:.2g}" if f.ks else "—" for f in ordered],
        }
    )
    styled = table.style.map(lambda band: f"background-color: {BAND_COLOURS.get(band, '')}", subset=["Drift"])
    st.dataframe(
        styled,
        column_config={
            "PSI": st.column_config.NumberColumn(format="%.3f"),
            "KS p-value": st.column_config.TextColumn(
                help="Kolmogorov–Smirnov test, only for numeric features in small windows."
            ),
        },
        hide_index=True,
        width="stretch",
    )
    st.caption(BAND_RULE)


def _bins(profile: dict) -> list[str]:
    if "categories" in profile:
        return [*map(str, profile["categories"]), OTHER]
    edges = profile["edges"]
    inner = [f"{e:,.4g}" for e in edges[1:-1]]
    return [f"< {inner[0]}", *[f"{a}–{b}" for a, b in pairwise(inner)], f"≥ {inner[-1]}"]


def shares_chart(entry: FeatureDrift, profile: dict) -> go.Figure:
    labels = _bins(profile)
    fig = go.Figure()
    fig.add_bar(x=labels, y=np.array(entry.psi.expected) * 100, name="Training data")
    fig.add_bar(x=labels, y=np.array(entry.psi.actual) * 100, name="This window")
    fig.update_layout(
        title=f"{entry.feature}: share of values per training bin",
        xaxis_title=f"{entry.feature} (bins of the training data)",
        yaxis_title="Share of values (%)",
        barmode="group",
        **LAYOUT,
    )
    return fig


def over_time_chart(over_time: pd.DataFrame, window_days: int) -> go.Figure:
    fig = go.Figure()
    for feature, part in over_time.groupby("feature", sort=True):
        fig.add_scatter(x=part["window_end"], y=part["psi"], mode="lines+markers", name=str(feature))
    fig.add_hrect(y0=MODERATE, y1=MAJOR, fillcolor="orange", opacity=0.08, line_width=0, layer="below")
    fig.add_hline(y=MAJOR, line_dash="dash", line_color="red", annotation_text="major")
    fig.add_hline(y=MODERATE, line_dash="dot", line_color="orange", annotation_text="moderate")
    span = "day" if window_days <= 7 else "week"
    fig.update_layout(
        title=f"Drift over time: PSI per {span}",
        xaxis_title=f"End of the {span} (UTC)",
        yaxis_title="PSI (unitless)",
        **LAYOUT,
    )
    return fig


def performance(view: ModelMonitoring) -> None:
    live = view.live
    if not live.joined:
        st.info(
            "No outcomes joined to predictions yet: live performance shows once outcomes are loaded.",
            icon=":material/hourglass_empty:",
        )
        return
    names = evaluation.metric_names(view.task)
    st.dataframe(
        pd.DataFrame(
            {
                "Metric": [label for label, _ in names.values()],
                "Live": [live.metrics.get(k) for k in names],
                "Holdout": [view.holdout_metrics.get(k) for k in names],
                "Better is": ["higher" if higher else "lower" for _, higher in names.values()],
            }
        ),
        column_config={
            "Live": st.column_config.NumberColumn(format="%.3f"),
            "Holdout": st.column_config.NumberColumn(format="%.3f"),
        },
        hide_index=True,
        width="stretch",
    )
    check = view.performance
    if check is not None:
        box = st.error if check.degraded else st.success
        box(md(check.summary), icon=":material/speed:")
    st.caption(f"{live.joined:,} of {live.predictions:,} predictions have their outcome so far.")
