"""How business impact looks: the verdict in one sentence, the KPI chart with go-live and version
changes, the counterfactual band or the two arms, the cumulative effect, the method and its
assumptions, and the money roll-up per goal and portfolio."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.model_views import PLOT_CONFIG
from components.text import day, md
from flightdeck.core.formatting import format_delta, format_money, format_value
from flightdeck.impact.estimates import ControlImpact, CounterfactualImpact, Interval, MoneyImpact, Verdict
from flightdeck.impact.measurement import GoalImpact, KpiImpact, Portfolio
from flightdeck.kpis.series_reader import MAX_POINTS

VERDICT_LOOK = {
    Verdict.POSITIVE: (st.success, ":material/trending_up:", "Positive"),
    Verdict.NEGATIVE: (st.error, ":material/trending_down:", "Negative"),
    Verdict.INCONCLUSIVE: (st.info, ":material/help:", "Inconclusive"),
}
LAYOUT = {"height": 360, "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "hovermode": "x unified"}
BAND = "rgba(31, 95, 139, 0.15)"
ACTUAL = "#1f5f8b"


def verdict(item: KpiImpact) -> None:
    """The answer first: one plain sentence with the interval and the money."""
    if item.verdict is None:
        st.info(md(item.sentence), icon=":material/hourglass_empty:")
        return
    box, icon, _ = VERDICT_LOOK[item.verdict]
    box(md(item.sentence), icon=icon)


def _interval(interval: Interval, unit: str) -> str:
    return f"{format_value(interval.low, unit)} to {format_value(interval.high, unit)}"


def _money(interval: Interval, currency: str) -> str:
    low, high = format_money(interval.low, currency), format_money(interval.high, currency)
    return f"95% CI {low} to {high}"


def facts(item: KpiImpact) -> None:
    result = item.result
    if not isinstance(result, ControlImpact | CounterfactualImpact):
        return
    cols = st.columns(4)
    unit = item.unit
    per = "day" if item.frequency == "day" else item.frequency
    cols[0].metric(
        f"Effect per {per}",
        format_delta(result.effect.estimate, unit),
        help=f"95% interval {_interval(result.effect, unit)}. "
        + (
            "Treatment − control, after removing their difference before go-live."
            if isinstance(result, ControlImpact)
            else "Actual − projected without the model."
        ),
        border=True,
    )
    lift = result.relative_lift if isinstance(result, ControlImpact) else result.relative
    cols[1].metric(
        "Relative change",
        "—" if not pd.notna(lift.estimate) else f"{lift.estimate:+.1%}",
        help=None if not pd.notna(lift.estimate) else f"95% interval {lift.low:+.1%} to {lift.high:+.1%}.",
        border=True,
    )
    if item.money is not None:
        cols[2].metric(
            "Value per year",
            format_money(item.money.annual_run_rate.estimate, item.money.currency),
            help=_money(item.money.annual_run_rate, item.money.currency) + ", at the current rate.",
            border=True,
        )
    else:
        cols[2].metric("Value per year", "—", help="The KPI has no money value per unit.", border=True)
    since = item.days_since_go_live
    cols[3].metric("Days since go-live", f"{since:,}" if since else "—", border=True)
    if isinstance(result, ControlImpact) and result.n_treatment is not None:
        check = result.sample_ratio
        st.caption(
            f"Units per arm: {result.n_treatment:,} in treatment, {result.n_control:,} in control. "
            + (md(check.summary) if check else "")
        )
    if item.money is not None:
        st.caption(
            f"To date: {format_money(item.money.to_date.estimate, item.money.currency)} "
            f"({_money(item.money.to_date, item.money.currency)}) since go-live on {day(item.go_live)}."
        )


def _markers(fig: go.Figure, item: KpiImpact) -> None:
    """Go-live and every later version change as vertical lines."""
    for i, change in enumerate(item.changes):
        text = f"go-live v{change.version_number}" if i == 0 else f"v{change.version_number}"
        fig.add_vline(x=pd.Timestamp(change.day).timestamp() * 1000, line_dash="dash", line_color="#555")
        fig.add_annotation(
            x=pd.Timestamp(change.day), y=1, yref="paper", text=text, showarrow=False, yshift=8
        )


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    """At most MAX_POINTS rows per trace (every k-th period of a long daily history)."""
    step = -(-len(frame) // MAX_POINTS)
    return frame.iloc[::step] if step > 1 else frame


def kpi_chart(item: KpiImpact) -> go.Figure:
    """The KPI with what stands for 'without the model': the control arm or the projection band."""
    frame = _thin(item.series)
    fig = go.Figure()
    y_title = f"{item.kpi_name} ({item.unit})" if item.unit else item.kpi_name
    if "control" in frame:
        fig.add_scatter(
            x=frame["period"], y=frame["treatment"], mode="lines", line_color=ACTUAL, name="Treatment"
        )
        fig.add_scatter(
            x=frame["period"], y=frame["control"], mode="lines", line_color="#999", name="Control"
        )
        title = f"{item.kpi_name}: treatment against control"
    elif "expected" in frame:
        fig.add_scatter(
            x=frame["period"], y=frame["expected_high"], mode="lines", line_width=0, showlegend=False,
            hoverinfo="skip",
        )  # fmt: skip
        fig.add_scatter(
            x=frame["period"], y=frame["expected_low"], mode="lines", line_width=0, fill="tonexty",
            fillcolor=BAND, name="95% prediction interval",
        )  # fmt: skip
        fig.add_scatter(x=frame["period"], y=frame["expected"], mode="lines", line_dash="dot",
                        line_color="#666", name="Projected without the model")  # fmt: skip
        fig.add_scatter(x=frame["period"], y=frame["actual"], mode="lines", line_color=ACTUAL, name="Actual")
        where = f" in {item.segment_label}" if item.segment else ""
        title = f"{item.kpi_name}{where}: actual against the projection without the model"
    else:
        fig.add_scatter(x=frame["period"], y=frame.get("actual", []), mode="lines", name="Actual")
        title = item.kpi_name
    _markers(fig, item)
    fig.update_layout(title=title, xaxis_title="Date", yaxis_title=y_title, **LAYOUT)
    return fig


def cumulative_chart(item: KpiImpact) -> go.Figure:
    frame = _thin(item.cumulative)
    fig = go.Figure()
    fig.add_scatter(x=frame["period"], y=frame["high"], mode="lines", line_width=0, showlegend=False,
                    hoverinfo="skip")  # fmt: skip
    fig.add_scatter(x=frame["period"], y=frame["low"], mode="lines", line_width=0, fill="tonexty",
                    fillcolor=BAND, name="95% interval")  # fmt: skip
    fig.add_scatter(
        x=frame["period"], y=frame["estimate"], mode="lines", line_color=ACTUAL, name="Cumulative effect"
    )
    fig.add_hline(y=0, line_color="#999")
    money = item.cumulative_unit == item.currency
    fig.update_layout(
        title="Value to date" if money else "Cumulative effect since go-live",
        xaxis_title="Date",
        yaxis_title=f"Cumulative {'value' if money else 'effect'} ({item.cumulative_unit})",
        **LAYOUT,
    )
    return fig


def method(item: KpiImpact) -> None:
    result = item.result
    with st.expander("Method and assumptions", icon=":material/science:"):
        if result is None:
            st.write("No deployment: nothing to measure yet.")
            return
        st.markdown(f"**Method:** {md(result.method)}")
        st.markdown(f"**Compared with:** {md(item.comparison or 'nothing yet')}")
        if isinstance(result, ControlImpact):
            st.markdown(f"**Adjustment:** {md(result.adjustment)}; {md(result.variance_method)}.")
            st.caption(
                f"{result.pre_periods:,} periods before go-live, {result.post_periods:,} after; "
                f"p = {result.p_value:.2g}."
            )
        elif isinstance(result, CounterfactualImpact):
            st.caption(
                f"Fitted on {result.pre_periods:,} periods before go-live, projected over "
                f"{result.post_periods:,}; "
                f"AR(1) coefficient {result.autocorrelation:.2f}."
            )
        else:
            st.markdown(md(result.summary))
            return
        for assumption in result.assumptions:
            st.markdown(f"- {md(assumption)}")
        if item.money_note:
            st.markdown(f"- {md(item.money_note)}")


def changes_table(item: KpiImpact) -> None:
    if item.changes:
        st.dataframe(
            pd.DataFrame(
                {
                    "From": [c.day for c in item.changes],
                    "Version": [f"v{c.version_number}" for c in item.changes],
                    "Scope": [c.scope or "everywhere" for c in item.changes],
                }
            ),
            hide_index=True,
            width="stretch",
        )


def kpi_section(item: KpiImpact) -> None:
    verdict(item)
    facts(item)
    if not item.series.empty:
        st.plotly_chart(kpi_chart(item), width="stretch", config=PLOT_CONFIG, key=f"kpi_{item.kpi_id}")
    if not item.cumulative.empty:
        st.plotly_chart(
            cumulative_chart(item), width="stretch", config=PLOT_CONFIG, key=f"cumulative_{item.kpi_id}"
        )
    method(item)


def _row(name: str, money: MoneyImpact | None, verdicts: str) -> dict[str, object]:
    def amount(value: float | None) -> str:
        return format_money(value, money.currency) if money and value else "—"

    return {
        "": name,
        "Verdicts": verdicts,
        "Value per year": amount(money.annual_run_rate.estimate if money else None),
        "To date": amount(money.to_date.estimate if money else None),
        "Goal expects a year": amount(money.expected_per_year if money else None),
    }


def _verdicts(items: tuple[KpiImpact, ...]) -> str:
    return "; ".join(f"{i.kpi_name} {i.verdict.value if i.verdict else 'not measured yet'}" for i in items)


def portfolio_table(found: Portfolio) -> None:
    """Money per goal and for the whole portfolio (estimates add; intervals add in quadrature)."""
    rows = [_row(g.goal_title, g.money, _verdicts(g.kpis)) for g in found.goals]
    rows.append(_row("Whole portfolio", found.money, ""))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if found.money is not None:
        st.caption(md(found.money.summary))


def goal_of(found: Portfolio, model_id: int) -> GoalImpact | None:
    return next((g for g in found.goals if any(i.model_id == model_id for i in g.kpis)), None)


def since_label(go_live: date | None) -> str:
    return f"live since {day(go_live)}" if go_live else "not in production"
