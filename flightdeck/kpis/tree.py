"""KPI driver trees: a KPI and the drivers that explain it, walked down for the tree views and up
(`ancestors`, `lineage`) for whose values move when a driver's do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.kpis.entities import Kpi
from flightdeck.orm import KpiRow


@dataclass(frozen=True)
class TreeNode:
    kpi: Kpi
    depth: int
    children: tuple[TreeNode, ...] = field(default_factory=tuple)

    def walk(self) -> Iterable[TreeNode]:
        yield self
        for child in self.children:
            yield from child.walk()


def tree(kpis: Iterable[Kpi]) -> list[TreeNode]:
    """The driver trees among `kpis`, roots first, each level by name."""
    items = list(kpis)
    by_parent: dict[int | None, list[Kpi]] = {}
    ids = {k.id for k in items}
    for kpi in items:
        by_parent.setdefault(kpi.parent_id if kpi.parent_id in ids else None, []).append(kpi)

    def build(kpi: Kpi, depth: int) -> TreeNode:
        children = sorted(by_parent.get(kpi.id, []), key=lambda k: k.name)
        return TreeNode(kpi, depth, tuple(build(c, depth + 1) for c in children))

    return [build(k, 0) for k in sorted(by_parent.get(None, []), key=lambda k: (k.goal_title, k.name))]


def drivers(kpis: Iterable[Kpi], kpi: Kpi) -> list[Kpi]:
    return sorted((k for k in kpis if k.parent_id == kpi.id), key=lambda k: k.name)


def ancestors(session: Session, kpi_id: int) -> list[int]:
    """The chain of parents above a KPI, nearest first."""
    chain: list[int] = []
    parent = session.scalar(select(KpiRow.parent_id).where(KpiRow.id == kpi_id))
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = session.scalar(select(KpiRow.parent_id).where(KpiRow.id == parent))
    return chain


def lineage(session: Session, kpi_ids: Iterable[int]) -> list[int]:
    """These KPIs and every KPI above them, each once: whose values move when theirs do (a
    computed parent moves with its drivers)."""
    found: list[int] = []
    for kpi_id in kpi_ids:
        found += [k for k in (kpi_id, *ancestors(session, kpi_id)) if k not in found]
    return found
