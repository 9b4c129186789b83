"""How KPIs look everywhere: status badges, the driver tree, the charts and the KPI form.

Charts are plotly, titled, with units on the axes; series arrive already downsampled by the
monitor (a coarser roll-up when a trace would pass 2,000 points).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.owner_picker import owner_choice
from components.text import md
from flightdeck.business.goals import Goal
from flightdeck.business.hierarchies import Hierarchy
from flightdeck.core.formatting import format_value
from flightdeck.core.permissions import User
from flightdeck.kpis import kpi_status, series_reader
from flightdeck.kpis.entities import FORMULA_LABELS, LABELS, Kpi, KpiDraft
from flightdeck.kpis.kpi_status import Status
from flightdeck.kpis.series_reader import Series
from flightdeck.kpis.tree import TreeNode

PRIMARY = "#1f5f8b"
TRAJECTORY = "#2e7d32"
BASELINE = "#6b7785"
WARNING = "#e69500"
CRITICAL = "#c62828"
PALETTE = ("#1f5f8b", "#e07a1f", "#3c9a5f", "#8e5ea2", "#c0392b", "#2a9d8f", "#b08d1a", "#5d6d7e")
STATUS_STYLE = {  # badge colour, icon, tree fill
    "on_track": ("green", ":material/check_circle:", "#e3f4e6"),
    "at_risk": ("orange", ":material/warning:", "#fff1d6"),
    "off_track": ("red", ":material/error:", "#fde2e1"),
    "no_data": ("gray", ":material/hourglass_empty:", "#eef1f4"),
    "not_assessed": ("gray", ":material/remove_circle_outline:", "#eef1f4"),
}
GRAIN_AXIS = {"day": "Day", "week": "Week (starting Monday)", "month": "Month"}


def status_badge(status: Status) -> None:
    colour, icon, _ = STATUS_STYLE[status.level]
    st.badge(status.label, icon=icon, color=colour)


def metric_value(value: float | None, unit: str) -> str:
    """Short enough for a metric card: the unit goes in the label unless it is %."""
    return format_value(value, "%" if unit == "%" else "")


def metric_label(label: str, unit: str) -> str:
    return label if unit == "%" else f"{label} ({unit})"


def status_words(status: Status) -> str:
    return f"{STATUS_STYLE[status.level][1]} {status.label}"


def kpi_label(kpi: Kpi) -> str:
    return f"{kpi.name} ({kpi.unit})"


def formula_line(kpi: Kpi, names: dict[int, str]) -> str:
    if kpi.formula == "ratio" and kpi.numerator_id and kpi.denominator_id:
        scale = f" × {kpi.ratio_scale:g}" if kpi.ratio_scale != 1 else ""
        return f"{names.get(kpi.numerator_id, '?')} ÷ {names.get(kpi.denominator_id, '?')}{scale}"
    return FORMULA_LABELS[kpi.formula]


# -- the tree ---------------------------------------------------------------------------------


def _dot_escaped(text: str) -> str:
    """A quoted DOT label is drawn as plain text; only quotes and backslashes need escaping."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def tree_dot(roots: Sequence[TreeNode], statuses: dict[int, Status], selected: int | None = None) -> str:
    """Drivers to the right of what they drive, each node filled with its status colour."""
    lines = [
        "digraph {",
        'rankdir=LR; bgcolor="transparent"; nodesep=0.25; ranksep=0.45;',
        'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, color="#9fb3c8", '
        'margin="0.15,0.06"];',
        'edge [color="#8aa0b6", arrowhead=none];',
    ]
    for root in roots:
        for node in root.walk():
            kpi, status = node.kpi, statuses.get(node.kpi.id)
            level = status.level if status else "not_assessed"
            value = format_value(status.current, kpi.unit) if status and status.current is not None else ""
            caption = f"{kpi_status.STATUS_LABELS[level]}{' · ' + value if value else ''}"
            width = ", penwidth=2.5" if kpi.id == selected else ""
            lines.append(
                f'k{kpi.id} [label="{_dot_escaped(kpi.name)}\\n{_dot_escaped(caption)}", '
                f'fillcolor="{STATUS_STYLE[level][2]}"{width}];'
            )
            lines.extend(f"k{kpi.id} -> k{child.kpi.id};" for child in node.children)
    lines.append("}")
    return "\n".join(lines)


def tree_rows(roots: Sequence[TreeNode], statuses: dict[int, Status]) -> list[dict[str, object]]:
    """The tree as indented table rows, for reading values and selecting a KPI."""
    rows = []
    for root in roots:
        for node in root.walk():
            kpi, status = node.kpi, statuses.get(node.kpi.id)
            rows.append(
                {
                    "KPI": ("    " * node.depth + ("└ " if node.depth else "")) + kpi.name,
                    "Status": status.label if status else "",
                    "Latest 28 days": format_value(status.current, kpi.unit) if status else "",
                    "Target": f"{format_value(kpi.target_value, kpi.unit)} by {kpi.target_date:%b %Y}"
                    if kpi.target_date
                    else "",
                    "Owner": kpi.owner_name,
                    "Key": kpi.key,
                }
            )
    return rows


# -- charts -----------------------------------------------------------------------------------


def _layout(fig: go.Figure, title: str, grain: str, y_title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        xaxis_title=GRAIN_AXIS[grain],
        yaxis_title=y_title,
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
        hovermode="x unified",
        plot_bgcolor="white",
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eef1f4")
    fig.update_yaxes(showgrid=True, gridcolor="#eef1f4", zeroline=False)
    return fig


def _flat(fig: go.Figure, start: date, end: date, value: float, name: str, colour: str, dash: str) -> None:
    fig.add_scatter(
        x=[start, end],
        y=[value, value],
        name=name,
        mode="lines",
        line={"color": colour, "dash": dash, "width": 1.5},
    )


def _trace(
    fig: go.Figure, series: Series, last_day: date | None, name: str, colour: str, width: float, hover: str
) -> None:
    """A line for the complete periods and a hollow marker for one still in progress."""
    whole, partial = series_reader.split_partial(series, last_day)
    fig.add_scatter(
        x=list(whole.periods),
        y=list(whole.values),
        name=name,
        mode="lines",
        line={"color": colour, "width": width},
        hovertemplate=hover,
        legendgroup=name,
    )
    if partial is not None and last_day is not None:
        fig.add_scatter(
            x=list(partial.periods),
            y=list(partial.values),
            name=f"{name}: {partial.grain} so far (to {last_day:%d %b})",
            mode="markers",
            marker={"color": "white", "line": {"color": colour, "width": 2}, "size": 9},
            hovertemplate=hover,
            legendgroup=name,
            showlegend=False,
        )


def _hover(kpi: Kpi) -> str:
    return "%{y:,.2f}" + ("%" if kpi.unit == "%" else f" {kpi.unit}")


def trajectory_figure(
    kpi: Kpi, actual: Series, start: date, end: date, title: str, last_day: date | None
) -> go.Figure:
    """Actual against baseline, target trajectory and thresholds, in the KPI's unit."""
    fig = go.Figure()
    hover = _hover(kpi)
    _trace(fig, actual, last_day, f"Actual ({LABELS[actual.grain].lower()})", PRIMARY, 2, hover)
    if kpi.baseline_value is not None:
        label = f"Baseline {format_value(kpi.baseline_value, kpi.unit)}"
        _flat(fig, start, end, kpi.baseline_value, label, BASELINE, "dot")
    if kpi_status.expected_on(kpi, end) is not None and kpi.target_date is not None:
        marks = (d for d in (kpi.baseline_period, kpi.target_date) if d and start <= d <= end)
        points = sorted({start, end, *marks})
        label = (
            f"Target trajectory to {format_value(kpi.target_value, kpi.unit)} by {kpi.target_date:%d %b %Y}"
        )
        fig.add_scatter(
            x=points,
            y=[kpi_status.expected_on(kpi, p) for p in points],
            name=label,
            mode="lines",
            line={"color": TRAJECTORY, "dash": "dash", "width": 2},
            hovertemplate=hover,
        )
    for name, value, colour in (
        ("Warning threshold", kpi.warning_threshold, WARNING),
        ("Critical threshold", kpi.critical_threshold, CRITICAL),
    ):
        if value is not None:
            _flat(fig, start, end, value, f"{name} {format_value(value, kpi.unit)}", colour, "dashdot")
    return _layout(fig, title, actual.grain, kpi_label(kpi))


def comparison_figure(kpi: Kpi, traces: dict[str, Series], title: str, last_day: date | None) -> go.Figure:
    """One line per segment, for drill-down and experiment arms."""
    fig = go.Figure()
    grain = "day"
    for i, (name, series) in enumerate(traces.items()):
        grain = series.grain
        _trace(fig, series, last_day, name, PALETTE[i % len(PALETTE)], 1.6, _hover(kpi))
    return _layout(fig, title, grain, kpi_label(kpi), height=340)


def difference_figure(kpi: Kpi, a: Series, b: Series, title: str) -> go.Figure:
    """a − b over their common periods, e.g. treatment − control."""
    common = sorted(set(a.periods) & set(b.periods))  # complete periods only: callers split them
    av, bv = dict(zip(a.periods, a.values, strict=True)), dict(zip(b.periods, b.values, strict=True))
    fig = go.Figure()
    fig.add_scatter(
        x=common,
        y=[av[p] - bv[p] for p in common],
        name="Treatment − control",
        mode="lines",
        line={"color": PRIMARY},
    )
    unit = "points" if kpi.unit == "%" else kpi.unit
    return _layout(fig, title, a.grain, f"Difference ({unit})", height=280)


# -- the form -----------------------------------------------------------------------------------

DIRECTIONS = {"up": "Up is good", "down": "Down is good"}


def _number(column: DeltaGenerator, label: str, value: float | None, help: str | None = None) -> float | None:
    return column.number_input(label, value=None if value is None else float(value), help=help)


def kpi_form(
    form_key: str,
    kpi: Kpi | None,
    goal: Goal,
    goal_kpis: Sequence[Kpi],
    hierarchies: Sequence[Hierarchy],
    owners: Sequence[User] | None,
) -> KpiDraft | None:
    """Create (`kpi=None`) or edit a KPI of `goal`. Returns the draft when submitted."""
    base = kpi or KpiDraft(key="", name="", unit="")
    others = [k for k in goal_kpis if kpi is None or k.id != kpi.id]
    drivers = [k for k in goal_kpis if kpi is not None and k.parent_id == kpi.id]
    names = {k.id: k.name for k in goal_kpis}
    with st.form(form_key, border=False):
        st.markdown("**What it measures**")
        left, middle, right = st.columns([3, 2, 1])
        name = left.text_input("Name", value=base.name, max_chars=120, placeholder="e.g. Fresh waste rate")
        key = middle.text_input(
            "Key",
            value=base.key,
            max_chars=64,
            help="snake_case identifier used by files, the command line and models, e.g. fresh_waste_rate.",
        )
        unit = right.text_input("Unit", value=base.unit, max_chars=32, placeholder="%, EUR, members")
        definition = st.text_area(
            "Definition",
            value=base.definition,
            max_chars=4000,
            help="How it is computed, from what, by whom.",
        )
        c1, c2, c3, c4 = st.columns(4)
        direction = c1.segmented_control(
            "Direction", list(DIRECTIONS), default=base.direction, format_func=DIRECTIONS.get
        )
        aggregation = c2.selectbox(
            "Combines as",
            ["sum", "mean", "last"],
            index=["sum", "mean", "last"].index(base.aggregation),
            format_func=LABELS.get,
            help="How values add up over time and across stores or regions: counts and money sum, "
            "rates average, stock-like figures take the latest value.",
        )
        frequency = c3.selectbox(
            "Frequency",
            ["day", "week", "month"],
            index=["day", "week", "month"].index(base.frequency),
            format_func=LABELS.get,
        )
        hierarchy_ids = [None, *(h.id for h in hierarchies)]
        hierarchy_names = {h.id: h.name for h in hierarchies}
        hierarchy_id = c4.selectbox(
            "Segments by",
            hierarchy_ids,
            index=hierarchy_ids.index(base.hierarchy_id) if base.hierarchy_id in hierarchy_ids else 0,
            format_func=lambda i: "Whole business only" if i is None else hierarchy_names[i],
            help="The hierarchy its segment codes come from; values roll up along it.",
        )

        st.markdown("**Driver tree**")
        t1, t2, t3 = st.columns([2, 2, 1])
        parent_ids = [None, *(k.id for k in others)]
        parent_id = t1.selectbox(
            "Driver of",
            parent_ids,
            index=parent_ids.index(base.parent_id) if base.parent_id in parent_ids else 0,
            format_func=lambda i: "— (a top-level KPI of the goal)" if i is None else names[i],
        )
        formulas = ["none", "sum", "mean", "ratio"] if drivers else ["none"]
        formula = t2.selectbox(
            "Value",
            formulas,
            index=formulas.index(base.formula) if base.formula in formulas else 0,
            format_func=FORMULA_LABELS.get,
            help="A KPI with drivers can be computed from them instead of being loaded.",
            disabled=not drivers,
        )
        ratio_scale = _number(
            t3, "Ratio × scale", base.ratio_scale, help="100 turns a ratio into a percentage."
        )
        numerator_id = denominator_id = None
        if drivers:
            d_ids = [None, *(k.id for k in drivers)]
            n1, n2 = st.columns(2)
            numerator_id = n1.selectbox(
                "Ratio numerator",
                d_ids,
                index=d_ids.index(base.numerator_id) if base.numerator_id in d_ids else 0,
                format_func=lambda i: "—" if i is None else names[i],
            )
            denominator_id = n2.selectbox(
                "Ratio denominator",
                d_ids,
                index=d_ids.index(base.denominator_id) if base.denominator_id in d_ids else 0,
                format_func=lambda i: "—" if i is None else names[i],
            )
        else:
            st.caption(
                "Once it has drivers (KPIs whose “Driver of” names it), a KPI can be computed from them."
            )

        st.markdown("**Plan and value**")
        p1, p2, p3, p4 = st.columns(4)
        baseline_value = _number(p1, "Baseline value", base.baseline_value)
        baseline_period = p2.date_input("Baseline period", value=base.baseline_period, format="YYYY-MM-DD")
        target_value = _number(p3, "Target value", base.target_value)
        target_date = p4.date_input(
            "Target date", value=base.target_date or goal.target_date, format="YYYY-MM-DD"
        )
        m1, m2, m3, m4 = st.columns(4)
        value_per_unit = _number(
            m1,
            "Money per unit, per year",
            base.value_per_unit,
            help="What a one-unit improvement sustained for a year is worth (one point for a rate).",
        )
        currency = m2.text_input("Currency", value=base.currency, max_chars=3)
        warning = _number(
            m3, "Warning threshold", base.warning_threshold, help="Raises a warning alert when crossed."
        )
        critical = _number(m4, "Critical threshold", base.critical_threshold, help="Raises a critical alert.")
        source_ids = ["upload", "sql", "manual"]
        s1, s2 = st.columns(2)
        source = s1.selectbox(
            "Source",
            source_ids,
            index=source_ids.index(base.source) if base.source in source_ids else 0,
            format_func=LABELS.get,
        )
        owner_id = None
        if owners:
            with s2:
                owner_id = owner_choice(owners, kpi.owner_id if kpi else None, goal.owner_id)
        label = "Save changes" if kpi else "Create KPI"
        if not st.form_submit_button(label, type="primary", icon=":material/save:"):
            return None
    return KpiDraft(
        key=key,
        name=name,
        unit=unit,
        direction=direction or base.direction,
        aggregation=aggregation,
        frequency=frequency,
        definition=definition,
        parent_id=parent_id,
        formula=formula,
        numerator_id=numerator_id,
        denominator_id=denominator_id,
        ratio_scale=ratio_scale or 1.0,
        baseline_value=baseline_value,
        baseline_period=baseline_period,
        target_value=target_value,
        target_date=target_date if target_value is not None else None,
        value_per_unit=value_per_unit,
        currency=currency,
        warning_threshold=warning,
        critical_threshold=critical,
        hierarchy_id=hierarchy_id,
        source=source,
        owner_id=owner_id,
    )


def kpi_facts(kpi: Kpi, names: dict[int, str], hierarchy: str) -> None:
    """The definition and plan of a KPI, as a business owner states it."""
    st.markdown(md(kpi.definition) if kpi.definition else "_No definition yet._")
    plan = []
    if kpi.baseline_value is not None and kpi.baseline_period:
        plan.append(
            f"**Baseline** {md(format_value(kpi.baseline_value, kpi.unit))} in {kpi.baseline_period:%b %Y}"
        )
    if kpi.target_value is not None and kpi.target_date:
        plan.append(
            f"**Target** {md(format_value(kpi.target_value, kpi.unit))} by {kpi.target_date:%d %b %Y}"
        )
    if kpi.value_per_unit is not None:
        per = "point" if kpi.unit == "%" else md(kpi.unit)
        plan.append(f"**Worth** {kpi.value_per_unit:,.0f} {md(kpi.currency)} a year per {per} of improvement")
    alerts_at = [
        f"{name} at {md(format_value(v, kpi.unit))}"
        for name, v in (("warning", kpi.warning_threshold), ("critical", kpi.critical_threshold))
        if v is not None
    ]
    if alerts_at:
        plan.append("**Alerts** " + ", ".join(alerts_at))
    facts = [
        f"**Key** `{kpi.key}`",
        f"**Unit** {md(kpi.unit)}",
        f"**{DIRECTIONS[kpi.direction]}**",
        f"**Combines as** {LABELS[kpi.aggregation].lower()}",
        f"**Frequency** {LABELS[kpi.frequency].lower()}",
        f"**Segments** {md(hierarchy)}",
        f"**Value** {md(formula_line(kpi, names))}",
        f"**Source** {LABELS[kpi.source].lower()}",
        f"**Owner** {md(kpi.owner_name)}",
    ]
    st.markdown(" · ".join(facts))
    if plan:
        st.markdown("  \n".join(plan))


def default_range(last: date | None, days: int = 365) -> tuple[date, date]:
    end = last or date.today()
    return end - timedelta(days=days - 1), end
