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

from flightdeck import bulk
from flightdeck.context import EXPERIMENT_ARMS, Hierarchy
from flightdeck.formats import day, period_start
from flightdeck.orm import RollupRow
from flightdeck.orm.kpis import OWN_GRAINS, ROLLUP_GRAINS

COLUMNS = ("kpi_id", "grain", "period", "segment", "derived", "n", "total", "last_period", "last_value")
FIELDS = ["n", "total", "last_period", "last_value"]


def iso(days: np.ndarray) -> list[str]:
    """datetime64 days → ISO strings, converting each distinct day once."""
    unique, inverse = np.unique(days.astype("datetime64[D]"), return_inverse=True)
    return np.array([str(d) for d in unique], dtype=object)[inverse].tolist()


def buckets(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Per segment and bucket: n, total, and the value of the latest period."""
    periods = frame["period"].to_numpy(dtype="datetime64[D]")
    segments = frame["segment"].to_numpy(dtype=object)
    values = frame["value"].to_numpy(dtype=float)
    if grain == "day":  # one observation per segment and day
        return pd.DataFrame(
            {
                "node": segments,
                "bucket": periods,
                "n": 1,
                "total": values,
                "last_period": periods,
                "last_value": values,
            }
        )
    keyed = pd.DataFrame(
        {"node": segments, "bucket": period_start(periods, grain), "value": values, "at": periods}
    )
    grouped = keyed.groupby(["node", "bucket"], sort=False)
    latest = grouped["at"].idxmax().to_numpy()
    sums = grouped["value"].agg(["size", "sum"])
    return pd.DataFrame(
        {
            "node": sums.index.get_level_values("node").to_numpy(dtype=object),
            "bucket": sums.index.get_level_values("bucket").to_numpy(dtype="datetime64[D]"),
            "n": sums["size"].to_numpy(dtype=int),
            "total": sums["sum"].to_numpy(dtype=float),
            "last_period": periods[latest],
            "last_value": values[latest],
        }
    )


def derive(own: pd.DataFrame, hierarchy: Hierarchy) -> pd.DataFrame:
    """Derived buckets of every node with data below it, computed level by level upwards."""
    parent = {n.code: n.parent_code or "" for n in hierarchy.nodes}
    depth = {n.code: n.depth for n in hierarchy.nodes}
    own = own[own["node"].isin(list(parent))]
    derived_below = pd.DataFrame(columns=["node", "bucket", *FIELDS])
    found = []
    for level in range(max(depth.values(), default=-1), -1, -1):
        codes = [c for c, d in depth.items() if d == level]
        mine = own[own["node"].isin(codes)]
        below = derived_below[derived_below["node"].isin(codes)]
        if not mine.empty and not below.empty:  # a child's own value wins in its periods
            taken = pd.MultiIndex.from_frame(mine[["node", "bucket"]])
            below = below[~pd.MultiIndex.from_frame(below[["node", "bucket"]]).isin(taken)]
        parts = [frame for frame in (mine, below) if not frame.empty]
        if not parts:
            derived_below = below.iloc[0:0]
            continue
        children = pd.concat(parts, ignore_index=True)
        up = children.assign(node=children["node"].map(parent))
        derived_below = up.groupby(["node", "bucket"], sort=False, as_index=False).agg(
            n=("n", "sum"),
            total=("total", "sum"),
            last_period=("last_period", "max"),
            last_value=("last_value", "sum"),
        )
        found.append(derived_below)
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=["node", "bucket", *FIELDS])


def affected(hierarchy: Hierarchy | None, segments: set[str]) -> set[str]:
    """The nodes whose derived values change when these segments change: all their ancestors."""
    if hierarchy is None:
        return set()
    nodes = {""}
    for code in segments - set(EXPERIMENT_ARMS) - {""}:
        nodes |= {a.code for a in hierarchy.ancestors(code)}
    return nodes


def _rows(kpi_id: int, grain: str, frame: pd.DataFrame, derived: bool) -> list[tuple[object, ...]]:
    count = len(frame)
    return list(
        zip(
            [kpi_id] * count,
            [grain] * count,
            iso(frame["bucket"].to_numpy()),
            frame["node"].astype(object).tolist(),
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
    touched = set(written["segment"].astype(object).unique().tolist())
    nodes = affected(hierarchy, touched)
    for grain in ROLLUP_GRAINS:
        starts = period_start(written["period"].to_numpy(dtype="datetime64[D]"), grain)
        first, last = starts.min(), starts.max()
        at = period_start(full["period"].to_numpy(dtype="datetime64[D]"), grain)
        window = full[(at >= first) & (at <= last)]
        own = buckets(window, grain)
        if grain in OWN_GRAINS:
            _replace(session, kpi_id, grain, False, touched, first, last)
            mine = own[own["node"].isin(list(touched))]
            bulk.insert(session, RollupRow.__tablename__, COLUMNS, _rows(kpi_id, grain, mine, False))
        if nodes:
            assert hierarchy is not None
            derived = derive(own, hierarchy)
            _replace(session, kpi_id, grain, True, nodes, first, last)
            mine = derived[derived["node"].isin(list(nodes))]
            bulk.insert(session, RollupRow.__tablename__, COLUMNS, _rows(kpi_id, grain, mine, True))


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
