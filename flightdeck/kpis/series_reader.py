"""The KPI series reader: series by day, week or month read from the roll-ups, drill-down along
the KPI's hierarchy, what data a KPI has, and the stamp that keys every cache of KPI data. Other
packages (status, alerts, impact) read KPI values only through `Reader`.

How values combine. Within a period a KPI's `aggregation` applies: `sum` adds values, `mean`
averages every underlying observation, `last` adds each segment's latest value (stock-like
figures). A hierarchy node shows its own observations where it has them, else the value rolled
up from its children at ingest time (a region from its stores, the whole business from its
regions), so loading both levels never counts anything twice. Experiment arms (`treatment`,
`control`) are segments of their own and never roll into the total. A computed KPI combines its
drivers' values period by period.

A page reads one index range per node it shows: the observations' `(kpi_id, period, segment)`
for a segment's own days, the roll-ups' `(kpi_id, grain, segment, period)` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from flightdeck.business.hierarchies import EXPERIMENT_ARMS, Hierarchy, HierarchyNode, hierarchy_of
from flightdeck.core.db import Database, get_or_raise
from flightdeck.orm import HierarchyRow, IngestBatchRow, KpiRow, ObservationRow, RollupRow
from flightdeck.tabular.formats import day, period_start

GRAINS = ("day", "week", "month")
GRAIN_DAYS = {"day": 1, "week": 7, "month": 30.44}
MAX_POINTS = 2000
TOTAL = ""


def coarser(a: str, b: str) -> str:
    return a if GRAINS.index(a) >= GRAINS.index(b) else b


def choose_grain(requested: str, frequency: str, start: date, end: date) -> str:
    """The finest grain at or above both the request and the KPI's frequency that keeps a trace
    at or under MAX_POINTS points: a chart is downsampled by reading a coarser roll-up."""
    grain = coarser(requested, frequency)
    while ((end - start).days + 1) / GRAIN_DAYS[grain] > MAX_POINTS and grain != "month":
        grain = GRAINS[GRAINS.index(grain) + 1]
    return grain


@dataclass(frozen=True)
class Series:
    node: str
    grain: str
    periods: tuple[date, ...]
    values: tuple[float, ...]

    def mean(self) -> float | None:
        return float(np.mean(self.values)) if self.values else None


class Reader:
    """One read session's view of KPIs, their hierarchies and their data."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._kpis: dict[int, KpiRow] = {}
        self._hierarchies: dict[int, Hierarchy] = {}

    def kpi(self, kpi_id: int) -> KpiRow:
        if kpi_id not in self._kpis:
            row = get_or_raise(self.session, KpiRow, kpi_id, "KPI")
            self._kpis[kpi_id] = row
        return self._kpis[kpi_id]

    def hierarchy(self, kpi_id: int) -> Hierarchy | None:
        hierarchy_id = self.kpi(kpi_id).hierarchy_id
        if hierarchy_id is None:
            return None
        if hierarchy_id not in self._hierarchies:
            self._hierarchies[hierarchy_id] = hierarchy_of(self.session, hierarchy_id)
        return self._hierarchies[hierarchy_id]

    def inputs(self, kpi_id: int) -> list[int]:
        row = self.kpi(kpi_id)
        if row.formula == "ratio":
            return [i for i in (row.numerator_id, row.denominator_id) if i is not None]
        if row.formula in ("sum", "mean"):
            query = select(KpiRow.id).where(KpiRow.parent_id == kpi_id).order_by(KpiRow.id)
            return list(self.session.scalars(query))
        return []

    def with_data(self, kpi_id: int, codes: list[str], derived: bool | None = None) -> set[str]:
        """Which of these segments or nodes have data: own or rolled up, or only `derived`
        (which a node has exactly when something below it has data). For a computed KPI: in any
        input. One index range of the month roll-up per code."""
        if not codes:
            return set()
        if self.kpi(kpi_id).formula != "none":
            return set().union(*(self.with_data(i, codes, derived) for i in self.inputs(kpi_id)))
        query = select(RollupRow.segment).where(
            RollupRow.kpi_id == kpi_id, RollupRow.grain == "month", RollupRow.segment.in_(codes)
        )
        if derived is not None:
            query = query.where(RollupRow.derived.is_(derived))
        return set(self.session.scalars(query.distinct()))

    def own_segments(self, kpi_id: int) -> set[str]:
        """Every segment with observations of its own (all stores, for a comparison picker)."""
        if self.kpi(kpi_id).formula != "none":
            return set().union(*(self.own_segments(i) for i in self.inputs(kpi_id)))
        query = select(RollupRow.segment).where(
            RollupRow.kpi_id == kpi_id, RollupRow.grain == "month", RollupRow.derived.is_(False)
        )
        return set(self.session.scalars(query.distinct()))

    def _edge(self, kpi_id: int, newest: bool) -> date | None:
        if self.kpi(kpi_id).formula != "none":
            edges = [self._edge(i, newest) for i in self.inputs(kpi_id)]
            known = [e for e in edges if e is not None]
            if not edges or len(known) < len(edges):
                return None
            return min(known) if newest else max(known)  # where every input has data
        order = ObservationRow.period.desc() if newest else ObservationRow.period
        query = select(ObservationRow.period).where(ObservationRow.kpi_id == kpi_id)
        return self.session.scalar(query.order_by(order).limit(1))

    def latest(self, kpi_id: int) -> date | None:
        return self._edge(kpi_id, newest=True)

    def first(self, kpi_id: int) -> date | None:
        return self._edge(kpi_id, newest=False)

    def values(
        self, kpi_id: int, grain: str, nodes: list[str], start: date, end: date
    ) -> dict[str, dict[date, float]]:
        """Per node, period → value, at `grain` (never finer than the KPI's frequency). A node's
        own value wins over its derived one in the same period."""
        row = self.kpi(kpi_id)
        grain = coarser(grain, row.frequency)
        if row.formula != "none":
            return self._computed(row, grain, nodes, start, end)
        found: dict[str, dict[date, tuple[bool, float]]] = {node: {} for node in nodes}
        for segment, period, is_derived, total, count, last in self._rows(kpi_id, grain, nodes, start, end):
            when = day(period)
            kept = found[segment].get(when)
            if kept is None or (kept[0] and not is_derived):
                found[segment][when] = (bool(is_derived), _combine(row.aggregation, total, count, last))
        return {node: {p: v for p, (_, v) in sorted(points.items())} for node, points in found.items()}

    def _rows(
        self, kpi_id: int, grain: str, nodes: list[str], start: date, end: date
    ) -> list[tuple[str, date, bool, float, int, float]]:
        """(segment, period, derived, total, n, last) rows of these nodes: the observations
        themselves for own days, the roll-ups otherwise; one index range per node."""
        first = _bucket(start, grain)
        r = RollupRow
        query = select(r.segment, r.period, r.derived, r.total, r.n, r.last_value).where(
            r.kpi_id == kpi_id, r.grain == grain, r.segment.in_(nodes)
        )
        rows = list(self.session.execute(query.where(r.period >= first, r.period <= end)).all())
        if grain == "day":
            mine = select(r.segment).where(r.kpi_id == kpi_id, r.grain == "month", r.segment.in_(nodes))
            own_nodes = list(self.session.scalars(mine.where(r.derived.is_(False)).distinct()))
            if own_nodes:  # only these have observations: the others would scan the whole range
                o = ObservationRow
                own = select(o.segment, o.period, literal(False), o.value, literal(1), o.value).where(
                    o.kpi_id == kpi_id, o.segment.in_(own_nodes), o.period >= first, o.period <= end
                )
                rows += self.session.execute(own).all()
        return rows

    def _computed(
        self, row: KpiRow, grain: str, nodes: list[str], start: date, end: date
    ) -> dict[str, dict[date, float]]:
        parts = [self.values(i, grain, nodes, start, end) for i in self.inputs(row.id)]
        result: dict[str, dict[date, float]] = {}
        for node in nodes:
            series = [part[node] for part in parts]
            common = sorted(set.intersection(*(set(s) for s in series))) if series else []
            combined: dict[date, float] = {}
            for period in common:
                values = [s[period] for s in series]
                if row.formula == "sum":
                    combined[period] = sum(values)
                elif row.formula == "mean":
                    combined[period] = sum(values) / len(values)
                elif values[1] != 0:
                    combined[period] = row.ratio_scale * values[0] / values[1]
            result[node] = combined
        return result


def _bucket(moment: date, grain: str) -> date:
    return day(period_start(np.array([moment], dtype="datetime64[D]"), grain)[0])


def _combine(aggregation: str, total: float, count: int, last: float) -> float:
    if aggregation == "mean":
        return float(total) / count if count else float("nan")
    return float(last if aggregation == "last" else total)


def bucket_end(start: date, grain: str) -> date:
    """The last day of the week or month starting on `start` (the day itself for a day)."""
    if grain == "week":
        return start + timedelta(days=6)
    if grain == "month":
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return start


def split_partial(series: Series, last_day: date | None) -> tuple[Series, Series | None]:
    """The complete periods, and the latest one apart when its data does not reach its end yet
    (a week or month in progress would otherwise look like a sudden drop)."""
    if not series.periods or last_day is None or series.grain == "day":
        return series, None
    if bucket_end(series.periods[-1], series.grain) <= last_day:
        return series, None
    whole = Series(series.node, series.grain, series.periods[:-1], series.values[:-1])
    return whole, Series(series.node, series.grain, series.periods[-1:], series.values[-1:])


def series(
    db: Database, kpi_id: int, nodes: list[str], grain: str, start: date, end: date
) -> dict[str, Series]:
    """One trace per node ('' is the whole business), at most MAX_POINTS points each."""
    with db.read() as session:
        reader = Reader(session)
        frequency = reader.kpi(kpi_id).frequency
        grain = choose_grain(grain, frequency, start, end)
        found = reader.values(kpi_id, grain, nodes, start, end)
    return {
        node: Series(node, grain, tuple(sorted(points)), tuple(points[p] for p in sorted(points)))
        for node, points in found.items()
    }


@dataclass(frozen=True)
class Extent:
    first: date | None
    last: date | None
    segments: frozenset[str]
    arms: tuple[str, ...]


def extent(db: Database, kpi_id: int) -> Extent:
    """What data a KPI has: its date range, own segments and experiment arms."""
    with db.read() as session:
        reader = Reader(session)
        segments = reader.own_segments(kpi_id)
        return Extent(
            reader.first(kpi_id),
            reader.latest(kpi_id),
            frozenset(segments),
            tuple(a for a in EXPERIMENT_ARMS if a in segments),
        )


@dataclass(frozen=True)
class Branch:
    node: HierarchyNode
    deeper: bool  # its own children have data: it can be opened in turn


def breakdown(db: Database, kpi_id: int, node: str) -> list[Branch]:
    """The hierarchy's children of `node` that have data, own or rolled up: one drill-down step."""
    with db.read() as session:
        reader = Reader(session)
        hierarchy = reader.hierarchy(kpi_id)
        if hierarchy is None:
            return []
        codes = [c.code for c in hierarchy.children(node or None)]
        shown = reader.with_data(kpi_id, codes)
        openable = reader.with_data(kpi_id, codes, derived=True)  # something below it has data
        return [Branch(c, c.code in openable) for c in hierarchy.children(node or None) if c.code in shown]


def data_stamp(db: Database) -> tuple[int, str]:
    """Changes whenever KPI data, a KPI or a hierarchy changes, in any process: a cache key.
    One round trip of three indexed lookups."""
    with db.read() as session:
        batch, kpi_edit, hierarchy_edit = session.execute(
            select(
                select(func.max(IngestBatchRow.id)).scalar_subquery(),
                select(func.max(KpiRow.updated_at)).scalar_subquery(),
                select(func.max(HierarchyRow.updated_at)).scalar_subquery(),
            )
        ).one()
    return batch or 0, f"{kpi_edit}|{hierarchy_edit}"
