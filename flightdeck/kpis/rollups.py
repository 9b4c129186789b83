"""Roll-ups, rebuilt in the ingest transaction for exactly the buckets a load touched.

Own rows: each segment's week and month buckets of its own observations (n, total, latest value).
Derived rows: each hierarchy node's day, week and month buckets rolled up from its children, up to
'' (the whole business). In every period a child counts with its own value if it has one, else with
its derived one, so a region loaded explicitly is never also counted through its stores, and
experiment arms never roll into the total. `sum` and `mean` combine through n and total; `last`
adds the children's latest values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import delete
from sqlalchemy.orm import Session

from flightdeck.business.hierarchies import EXPERIMENT_ARMS, Hierarchy
from flightdeck.orm import RollupRow
from flightdeck.orm.kpis import OWN_GRAINS, ROLLUP_GRAINS
from flightdeck.tabular import bulk
from flightdeck.tabular.formats import day, period_start

COLUMNS = ("kpi_id", "grain", "period", "segment", "derived", "n", "total", "last_period", "last_value")


def iso(days: np.ndarray) -> list[str]:
    """datetime64 days → ISO strings, converting each distinct day once."""
    unique, inverse = np.unique(days.astype("datetime64[D]"), return_inverse=True)
    return np.array([str(d) for d in unique], dtype=object)[inverse].tolist()


class Nodes:
    """Segment and node names as integer codes, so a million rows group as fast as numbers do."""

    def __init__(self, segments: pd.Series, hierarchy: Hierarchy | None) -> None:
        self.codes, uniques = pd.factorize(segments)
        known = [str(u) for u in uniques]
        seen = set(known)
        extra = [] if hierarchy is None else [n.code for n in hierarchy.nodes if n.code not in seen]
        self.names = np.array(known + extra + ([""] if "" not in known else []), dtype=object)
        index = {name: i for i, name in enumerate(self.names)}
        self.parent = np.full(len(self.names), -1)
        self.depth = np.full(len(self.names), -2)  # -2: not in the hierarchy (arms, unknown); '' is -1
        if hierarchy is not None:
            for node in hierarchy.nodes:
                self.parent[index[node.code]] = index[node.parent_code or ""]
                self.depth[index[node.code]] = node.depth
        self.depth[index[""]] = -1
        self.index = index


def buckets(periods: np.ndarray, codes: np.ndarray, values: np.ndarray, grain: str) -> pd.DataFrame:
    """Per segment code and bucket: n, total, and the value of the latest period."""
    if grain == "day":  # one observation per segment and day
        return pd.DataFrame(
            {
                "node": codes,
                "bucket": periods,
                "n": 1,
                "total": values,
                "last_period": periods,
                "last_value": values,
            }
        )
    keyed = pd.DataFrame(
        {"node": codes, "bucket": period_start(periods, grain), "value": values, "at": periods}
    )
    grouped = keyed.groupby(["node", "bucket"], sort=False)
    latest = grouped["at"].idxmax().to_numpy()
    sums = grouped["value"].agg(["size", "sum"])
    return pd.DataFrame(
        {
            "node": sums.index.get_level_values("node").to_numpy(),
            "bucket": sums.index.get_level_values("bucket").to_numpy(dtype="datetime64[D]"),
            "n": sums["size"].to_numpy(dtype=int),
            "total": sums["sum"].to_numpy(dtype=float),
            "last_period": periods[latest],
            "last_value": values[latest],
        }
    )


def derive(own: pd.DataFrame, nodes: Nodes) -> pd.DataFrame:
    """Derived buckets of every node with data below it, computed level by level upwards."""
    depth_of = nodes.depth[own["node"].to_numpy()]
    own = own[depth_of >= 0]
    own_depth = depth_of[depth_of >= 0]
    below = own.iloc[0:0]
    found = []
    for level in range(int(nodes.depth.max(initial=-1)), -1, -1):
        mine = own[own_depth == level]
        if not mine.empty and not below.empty:  # a child's own value wins in its periods
            taken = pd.MultiIndex.from_frame(mine[["node", "bucket"]])
            below = below[~pd.MultiIndex.from_frame(below[["node", "bucket"]]).isin(taken)]
        children = pd.concat([mine, below], ignore_index=True) if not below.empty else mine
        if children.empty:
            below = children
            continue
        up = children.assign(node=nodes.parent[children["node"].to_numpy()])
        below = up.groupby(["node", "bucket"], sort=False, as_index=False).agg(
            n=("n", "sum"),
            total=("total", "sum"),
            last_period=("last_period", "max"),
            last_value=("last_value", "sum"),
        )
        found.append(below)
    return pd.concat(found, ignore_index=True) if found else own.iloc[0:0]


def affected(hierarchy: Hierarchy | None, segments: set[str]) -> set[str]:
    """The nodes whose derived values change when these segments change: all their ancestors."""
    if hierarchy is None:
        return set()
    nodes = {""}
    for code in segments - set(EXPERIMENT_ARMS) - {""}:
        nodes |= {a.code for a in hierarchy.ancestors(code)}
    return nodes


def _rows(
    kpi_id: int, grain: str, frame: pd.DataFrame, names: np.ndarray, derived: bool
) -> list[tuple[object, ...]]:
    count = len(frame)
    return list(
        zip(
            [kpi_id] * count,
            [grain] * count,
            iso(frame["bucket"].to_numpy()),
            names[frame["node"].to_numpy()].tolist(),
            [derived] * count,
            frame["n"].astype(int).tolist(),
            frame["total"].astype(float).tolist(),
            iso(frame["last_period"].to_numpy()),
            frame["last_value"].astype(float).tolist(),
            strict=True,
        )
    )


def rebuild(
    session: Session, kpi_id: int, hierarchy: Hierarchy | None, full: pd.DataFrame, written: pd.DataFrame
) -> None:
    """Rebuild every bucket between the first and the last one `written` touches. `full` must hold
    all observations of the KPI in those buckets (the ingest reads them for its comparison)."""
    touched = set(pd.unique(written["segment"]).tolist())
    changed = affected(hierarchy, touched)
    nodes = Nodes(full["segment"], hierarchy)
    touched_codes = [nodes.index[t] for t in touched]
    changed_codes = [nodes.index[c] for c in changed]
    periods = full["period"].to_numpy(dtype="datetime64[D]")
    values = full["value"].to_numpy(dtype=float)
    written_periods = written["period"].to_numpy(dtype="datetime64[D]")
    for grain in ROLLUP_GRAINS:
        starts = period_start(written_periods, grain)
        first, last = starts.min(), starts.max()
        at = period_start(periods, grain)
        inside = (at >= first) & (at <= last)
        own = buckets(periods[inside], nodes.codes[inside], values[inside], grain)
        if grain in OWN_GRAINS:
            _replace(session, kpi_id, grain, False, touched, first, last)
            mine = own[own["node"].isin(touched_codes)]
            bulk.insert(
                session, RollupRow.__tablename__, COLUMNS, _rows(kpi_id, grain, mine, nodes.names, False)
            )
        if changed:
            derived = derive(own, nodes)
            _replace(session, kpi_id, grain, True, changed, first, last)
            mine = derived[derived["node"].isin(changed_codes)]
            bulk.insert(
                session, RollupRow.__tablename__, COLUMNS, _rows(kpi_id, grain, mine, nodes.names, True)
            )


def _replace(
    session: Session, kpi_id: int, grain: str, derived: bool, segments: set[str], first: object, last: object
) -> None:
    session.execute(
        delete(RollupRow).where(
            RollupRow.kpi_id == kpi_id,
            RollupRow.grain == grain,
            RollupRow.derived.is_(derived),
            RollupRow.segment.in_(sorted(segments)),
            RollupRow.period >= day(first),
            RollupRow.period <= day(last),
        )
    )
