"""How models look everywhere they appear: stage badges, metric tables, evaluation charts, the value
of errors, feature mappings and the production timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.navigation import BY_KEY
from components.text import md, when
from flightdeck.models import evaluation, records
from flightdeck.models.evaluation import ErrorValues, ValueCurve
from flightdeck.models.records import STAGE_LABELS, Deployment, ModelVersion

STAGE_COLOURS = {
    "draft": "gray",
    "in_review": "orange",
    "approved": "blue",
    "production": "green",
    "retired": "gray",
}
STAGE_ICONS = {
    "draft": ":material/edit_note:",
    "in_review": ":material/rate_review:",
    "approved": ":material/task_alt:",
    "production": ":material/rocket_launch:",
    "retired": ":material/archive:",
}
PLOT_CONFIG = {"displaylogo": False}


def stage_badge(stage: str) -> None:
    st.badge(STAGE_LABELS[stage], icon=STAGE_ICONS[stage], color=STAGE_COLOURS[stage])


def model_link(model_id: int, label: str, version: int | None = None) -> None:
    params = {"model": str(model_id)} | ({"version": str(version)} if version else {})
    st.page_link(BY_KEY["model"].path, label=label, icon=":material/open_in_new:", query_params=params)


def headline_metric(task: str) -> tuple[str, str]:
    return ("roc_auc", "ROC AUC") if task == "classification" else ("mae", "MAE")


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def metrics_table(version: ModelVersion, serving: ModelVersion | None = None) -> pd.DataFrame:
    """Model against baseline, and against the version in production when that is another one."""
    rows = []
    result = version.evaluation
    for key, (label, higher) in evaluation.metric_names(version.task).items():
        model, base = result["metrics"].get(key), result["baseline"].get(key)
        verdict = "—"
        if model is not None and base is not None:
            verdict = "better" if (model > base) == higher and model != base else "not better"
        row: dict[str, object] = {"Metric": label, f"v{version.number}": model, "Baseline": base}
        if serving is not None:
            row[f"v{serving.number} in production"] = serving.evaluation["metrics"].get(key)
        rows.append(row | {"Against the baseline": verdict, "Better is": "higher" if higher else "lower"})
    return pd.DataFrame(rows)


def show_metrics(version: ModelVersion, serving: ModelVersion | None = None) -> None:
    result = version.evaluation
    table = metrics_table(version, serving)
    numbers = [c for c in table.columns if c.startswith("v") or c == "Baseline"]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in numbers},
    )
    if serving is not None:
        st.caption(
            f"v{serving.number} (in production) was measured on its own holdout, {md(serving.holdout_file)}."
        )
    st.caption(
        f"Computed by Flightdeck on {md(version.holdout_file)} ({result.get('rows', 0):,} rows) on "
        f"{when(version.evaluated_at)}. Baseline: {result.get('baseline_name', '—')}."
    )


def latency_tiles(version: ModelVersion) -> None:
    latency = version.evaluation.get("latency") or {}
    if not latency:
        st.caption("Latency was not measured for this version.")
        return
    cols = st.columns(4)
    cols[0].metric("Single row p50", f"{_fmt(latency.get('single_p50_ms'), 2)} ms", border=True)
    cols[1].metric("Single row p95", f"{_fmt(latency.get('single_p95_ms'), 2)} ms", border=True)
    cols[2].metric("Batch of 1,000 p50", f"{_fmt(latency.get('batch_1000_p50_ms'), 1)} ms", border=True)
    cols[3].metric("Batch of 1,000 p95", f"{_fmt(latency.get('batch_1000_p95_ms'), 1)} ms", border=True)
    st.caption(
        f"Measured on the Flightdeck server: {latency.get('single_samples', 0)} single-row calls and "
        f"{latency.get('batch_1000_samples', 0)} batches."
    )


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 340) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def calibration_chart(version: ModelVersion) -> None:
    curve = version.evaluation["calibration"]
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfectly calibrated", line={"dash": "dot"})
    fig.add_scatter(
        x=curve["predicted"], y=curve["observed"], mode="lines+markers", name=f"v{version.number}"
    )
    _layout(fig, "Calibration on the holdout", "Predicted probability", "Observed share of positives")
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG)


def confusion_chart(version: ModelVersion) -> None:
    c = version.evaluation["confusion"]
    label = version.positive_label or "1"
    fig = go.Figure(
        go.Heatmap(
            z=[[c["tp"], c["fn"]], [c["fp"], c["tn"]]],
            x=[f"Predicted {label}", "Predicted other"],
            y=[f"Actually {label}", "Actually other"],
            text=[[f"TP {c['tp']:,}", f"FN {c['fn']:,}"], [f"FP {c['fp']:,}", f"TN {c['tn']:,}"]],
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
        )
    )
    _layout(fig, "Confusion matrix at threshold 0.5", "Prediction", "Actual")
    fig.update_yaxes(autorange="reversed")
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG)


def residual_chart(version: ModelVersion) -> None:
    points = version.evaluation["residuals"]
    fig = go.Figure()
    fig.add_scatter(x=points["predicted"], y=points["residual"], mode="markers", name="Holdout rows",
                    marker={"size": 5, "opacity": 0.5})  # fmt: skip
    fig.add_hline(y=0, line_dash="dot")
    target = version.target
    _layout(fig, "Residuals on the holdout", f"Predicted {target}", f"Actual − predicted {target}")
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG)
    shown = len(points["residual"])
    if shown < version.evaluation.get("rows", 0):
        st.caption(f"{shown:,} evenly spaced holdout rows of {version.evaluation['rows']:,} are plotted.")


def segment_table(version: ModelVersion) -> None:
    segments = version.evaluation.get("segments") or []
    if not segments:
        st.info("No segment column was chosen for this evaluation.", icon=":material/info:")
        return
    names = evaluation.metric_names(version.task)
    frame = pd.DataFrame(
        [
            {"Segment": s["segment"], "Rows": s["n"], **{names[k][0]: v for k, v in s["metrics"].items()}}
            for s in segments
        ]
    )
    key, label = headline_metric(version.task)
    baseline = version.evaluation["metrics"].get(key)
    st.caption(
        f"By **{md(version.evaluation.get('segment_column', ''))}**; the whole holdout scores {label} "
        f"{_fmt(baseline)}."
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={n[0]: st.column_config.NumberColumn(format="%.3f") for n in names.values()},
    )


def value_chart(curve: ValueCurve, values: ErrorValues) -> None:
    fig = go.Figure()
    fig.add_scatter(x=list(curve.thresholds), y=list(curve.per_1000), mode="lines", name="This model")
    fig.add_hline(
        y=curve.baseline_value,
        line_dash="dot",
        annotation_text=f"Baseline: {curve.baseline_policy}",
        annotation_position="bottom right",
    )
    fig.add_scatter(
        x=[curve.best_threshold],
        y=[curve.best_value],
        mode="markers",
        marker={"size": 12, "symbol": "star"},
        name=f"Best threshold {curve.best_threshold:.2f}",
    )
    _layout(
        fig,
        "Expected value per 1,000 decisions by threshold",
        "Threshold (act when the score is at least this)",
        f"Expected value per 1,000 decisions ({values.currency})",
    )
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG)


def feature_table(version: ModelVersion) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Feature": [m.feature for m in version.feature_maps],
            "Kind": [m.kind for m in version.feature_maps],
            "Business field": [
                f"{m.field_label} ({m.field_key})" if m.field_id else "— unmapped —"
                for m in version.feature_maps
            ],
            "Personal data": ["yes" if m.personal_data else "" for m in version.feature_maps],
            "Lawful basis": [m.lawful_basis for m in version.feature_maps],
            "Mapping": [
                f"confirmed by {m.confirmed_by_name}"
                if m.confirmed
                else ("suggested by name" if m.field_id else "none")
                for m in version.feature_maps
            ],
        }
    )


def profile_chart(feature: str, entry: dict[str, Any]) -> None:
    if entry.get("kind") == "numeric" and not entry.get("empty"):
        edges, counts = entry["histogram"]["edges"], entry["histogram"]["counts"]
        pairs = list(pairwise(edges))
        fig = go.Figure(go.Bar(x=[(a + b) / 2 for a, b in pairs], y=counts, width=[b - a for a, b in pairs]))
        _layout(fig, f"Reference distribution of {feature}", feature, "Rows", height=280)
    else:
        freq = entry.get("frequencies", {})
        fig = go.Figure(go.Bar(x=list(freq), y=[v * 100 for v in freq.values()]))
        _layout(fig, f"Reference categories of {feature}", feature, "Share of rows (%)", height=280)
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG)


def timeline_chart(history: Sequence[Deployment], now: datetime) -> None:
    fig = go.Figure()
    for d in history:
        end = d.ended_at or now
        fig.add_scatter(
            x=[d.started_at, end],
            y=[f"v{d.version_number}", f"v{d.version_number}"],
            mode="lines+markers",
            line={"width": 14},
            name=f"v{d.version_number}" + (f" · {d.scope}" if d.scope else ""),
            hovertemplate=f"v{d.version_number}: %{{x|%Y-%m-%d %H:%M}}<extra></extra>",
        )
    _layout(fig, "Which version served in production, and when", "Date (UTC)", "Version", height=260)
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG)


def version_rows(versions: Sequence[ModelVersion], history: Sequence[records.StageEvent]) -> pd.DataFrame:
    """One row per version: stage, headline metric against the baseline, and who did what last."""
    latest = {}
    for event in history:  # newest first
        latest.setdefault(event.version_number, event)
    rows = []
    for v in versions:
        key, label = headline_metric(v.task)
        last = latest.get(v.number)
        rows.append(
            {
                "Version": f"v{v.number}",
                "Stage": STAGE_LABELS[v.stage],
                label: v.evaluation.get("metrics", {}).get(key),
                f"Baseline {label}": v.evaluation.get("baseline", {}).get(key),
                "Estimator": v.estimator,
                "Created by": v.created_by_name,
                "Created": when(v.created_at),
                "Last step": f"{STAGE_LABELS[last.to_stage]} by {last.actor_name}, {when(last.at)}"
                if last
                else "",
                "Unmapped features": len(v.unmapped),
            }
        )
    return pd.DataFrame(rows)


def docs_form(key: str, base: records.ModelVersion | None) -> records.VersionDocs | None:
    """Intended use, limitations and training references; the form's values when submitted."""
    intended = st.text_area(
        "Intended use", value=base.intended_use if base else "", max_chars=4000, key=f"{key}_use"
    )
    limits = st.text_area(
        "Limitations", value=base.limitations if base else "", max_chars=4000, key=f"{key}_lim"
    )
    left, middle = st.columns(2)
    refresh = left.number_input(
        "Refresh cadence (days)",
        min_value=1,
        max_value=3650,
        value=base.refresh_days if base and base.refresh_days else None,
        placeholder="e.g. 90",
        key=f"{key}_refresh",
    )
    trained = middle.date_input(
        "Training date", value=base.training_date if base else None, format="YYYY-MM-DD", key=f"{key}_trained"
    )
    reference = st.text_input(
        "Training code and data",
        value=base.training_reference if base else "",
        max_chars=2000,
        placeholder="e.g. git: team/churn@4f2a9c1; data: crm.member_features 2025-Q2",
        key=f"{key}_ref",
    )
    return records.VersionDocs(intended, limits, int(refresh) if refresh else None, trained, reference)


def money(value: float, currency: str) -> str:
    sign = "−" if value < 0 else ""
    return f"{sign}{currency} {abs(value):,.0f}"
