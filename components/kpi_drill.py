"""Looking inside a KPI: drilling down its hierarchy one level at a time (the path is kept per KPI
in the session), and comparing experiment arms or chosen segments."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from components import kpi_data
from components.kpi_views import comparison_figure, difference_figure
from components.text import md
from flightdeck.business.hierarchies import Hierarchy
from flightdeck.core.formatting import format_value
from flightdeck.kpis import series_reader
from flightdeck.kpis.entities import Kpi
from flightdeck.kpis.series_reader import Extent


def drill_down(
    kpi: Kpi, hierarchy: Hierarchy, grain: str, start: date, end: date, last: date, stamp: kpi_data.Stamp
) -> None:
    """The children of the node opened so far, as a chart and a table; open one or go up. `last` is
    the KPI's latest period: later ones are partial."""
    path = st.session_state.setdefault("drill", {}).setdefault(kpi.id, "")
    trail = hierarchy.ancestors(path) + ([hierarchy.node(path)] if path else [])
    crumbs = ["All"] + [n.code for n in trail if n is not None]
    st.caption(" → ".join(md(c) for c in crumbs) + f" · levels: {md(hierarchy.path)}")
    branches = kpi_data.breakdown(kpi.id, path, stamp)
    if branches:
        codes = [b.node.code for b in branches]
        labels = {b.node.code: b.node.label for b in branches}
        traces = kpi_data.series(kpi.id, tuple(codes), grain, start, end, stamp)
        level = hierarchy.level_name(branches[0].node.depth)
        figure = comparison_figure(
            kpi,
            {labels[c]: traces[c] for c in codes if traces[c].periods},
            f"{kpi.name} by {level.lower()}",
            last,
        )
        st.plotly_chart(figure, width="stretch", key=f"drill_{kpi.id}_{path}")
        table = pd.DataFrame(
            {
                level: [labels[c] for c in codes],
                "Mean in period": [format_value(traces[c].mean(), kpi.unit) for c in codes],
                "Latest": [
                    format_value(traces[c].values[-1], kpi.unit) if traces[c].values else "—" for c in codes
                ],
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")
        deeper = [b.node.code for b in branches if b.deeper]
        if deeper:
            into = st.selectbox(
                f"Open a {level.lower()}",
                [None, *deeper],
                format_func=lambda c: "—" if c is None else labels[c],
            )
            if into:
                st.session_state["drill"][kpi.id] = into
                st.rerun()
    else:
        st.caption("No finer level has data.")
    if path and st.button("Up one level", icon=":material/arrow_upward:"):
        parent = hierarchy.node(path)
        st.session_state["drill"][kpi.id] = parent.parent_code or "" if parent else ""
        st.rerun()


def compare_segments(
    kpi: Kpi,
    hierarchy: Hierarchy | None,
    data: Extent,
    grain: str,
    start: date,
    end: date,
    stamp: kpi_data.Stamp,
) -> None:
    """Treatment against control when the KPI has both arms, else the segments the user picks."""
    last = data.last
    if len(data.arms) == 2:
        arms = kpi_data.series(kpi.id, ("treatment", "control"), grain, start, end, stamp)
        treatment, control = arms["treatment"], arms["control"]
        st.plotly_chart(
            comparison_figure(kpi, {"Treatment": treatment, "Control": control}, "Experiment arms", last),
            width="stretch",
            key=f"arms_{kpi.id}",
        )
        st.plotly_chart(
            difference_figure(
                kpi,
                series_reader.split_partial(treatment, last)[0],
                series_reader.split_partial(control, last)[0],
                "Treatment minus control",
            ),
            width="stretch",
            key=f"diff_{kpi.id}",
        )
        return
    segments = sorted(s for s in data.segments if s)
    if not segments:
        st.caption("This KPI has no segments to compare.")
        return
    labels = {n.code: n.label for n in (hierarchy.nodes if hierarchy else ())}
    picked = st.multiselect(
        "Segments",
        segments,
        default=segments[:3],
        format_func=lambda s: labels.get(s, s),
        max_selections=8,
        key=f"compare_{kpi.id}",
    )
    if picked:
        traces = kpi_data.series(kpi.id, tuple(picked), grain, start, end, stamp)
        shown = {labels.get(s, s): traces[s] for s in picked}
        figure = comparison_figure(kpi, shown, "Selected segments", last)
        st.plotly_chart(figure, width="stretch", key=f"segments_{kpi.id}")
