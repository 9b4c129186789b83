"""The readiness portfolio: every version with its latest stored score, in one query and without
re-scoring, and the stamp that keys its caches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from flightdeck.core.db import Database
from flightdeck.models import registry
from flightdeck.orm import GoalRow, ModelRow, ModelVersionRow, SnapshotRow


@dataclass(frozen=True)
class PortfolioRow:
    version_id: int
    model_id: int
    goal: str
    model: str
    number: int
    stage: str
    headline: float | None
    mean: float | None
    level: str | None
    blockers: int
    top_blocker: str
    scored_at: datetime | None


def portfolio(db: Database, version_ids: Iterable[int] | None = None) -> list[PortfolioRow]:
    """Every version (or only these) with its latest stored score: one query, no re-scoring."""
    v, m, g = ModelVersionRow, ModelRow, GoalRow
    ids = None if version_ids is None else list(version_ids)
    newest = select(func.max(SnapshotRow.id).label("id")).group_by(SnapshotRow.version_id)
    query = select(v.id, v.model_id, g.title, m.name, v.number, v.stage)
    if ids is not None:
        newest = newest.where(SnapshotRow.version_id.in_(ids))
        query = query.where(v.id.in_(ids))
    ranked = newest.subquery()
    latest = select(SnapshotRow).join(ranked, ranked.c.id == SnapshotRow.id).subquery()
    with db.read() as session:
        rows = session.execute(
            query.add_columns(
                latest.c.headline,
                latest.c.mean,
                latest.c.level,
                latest.c.blockers,
                latest.c.top_blocker,
                latest.c.at,
            )
            .join(m, m.id == v.model_id)
            .join(g, g.id == m.goal_id)
            .outerjoin(latest, latest.c.version_id == v.id)
            .order_by(g.title, m.name, v.number.desc())
        ).all()
        return [PortfolioRow(*r[:9], r[9] or 0, r[10] or "", r[11]) for r in rows]


def summaries(db: Database, version_ids: Iterable[int]) -> dict[int, PortfolioRow]:
    """The latest stored score of some versions, for pages that show readiness beside other things."""
    return {r.version_id: r for r in portfolio(db, version_ids)}


Stamp = tuple[int, registry.Stamp]


def data_stamp(db: Database) -> Stamp:
    """The portfolio cache key: the newest snapshot (every score change stores one) and the
    registry's stamp (stages, names)."""
    with db.read() as session:
        snapshot = session.scalar(select(func.coalesce(func.max(SnapshotRow.id), 0))) or 0
    return snapshot, registry.data_stamp(db)
