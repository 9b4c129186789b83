"""Readiness snapshots: a version's score stored whenever it changes, with the event that moved
it, and the alert raised when a version's level falls (cleared once it is back).

`refresh(session, version_ids, cause)` runs inside the transaction of whatever changed the
evidence (the subscribers in `readiness.subscribers` call it for a new version, documentation,
feature mapping, a stage change, a prediction load, a goal, KPI or model edit; attestations call
it directly) and stores a snapshot only when the result changed. Time-driven evidence (logs going
stale, a refresh falling due) is re-checked whenever a version's readiness page is read and by
`python -m flightdeck readiness refresh` (for cron); the portfolio reads stored snapshots only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flightdeck.alerts import inbox
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import NotFound
from flightdeck.orm import AlertRow, ModelRow, ModelVersionRow, SnapshotRow
from flightdeck.readiness.rubric import (
    CHECKS_BY_ID,
    LEVEL_LABELS,
    LEVEL_RANK,
    NOT_READY,
    RUBRIC_VERSION,
)
from flightdeck.readiness.scoring import Readiness, assess_many


def current(db: Database, version_id: int) -> Readiness:
    """A version's readiness now; time-driven evidence is re-checked and snapshotted if it moved."""
    with db.transaction() as session:
        refresh(session, [version_id], "Re-checked when read")
        found = assess_many(session, [version_id]).get(version_id)
    if found is None:
        raise NotFound("Model version", version_id)
    return found


# -- snapshots and the level-fall alert -----------------------------------------------------------


def _latest(session: Session, version_ids: list[int]) -> dict[int, SnapshotRow]:
    newest = (
        select(func.max(SnapshotRow.id))
        .where(SnapshotRow.version_id.in_(version_ids))
        .group_by(SnapshotRow.version_id)
    )
    return {s.version_id: s for s in session.scalars(select(SnapshotRow).where(SnapshotRow.id.in_(newest)))}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def refresh(
    session: Session, version_ids: Iterable[int], cause: str, now: datetime | None = None
) -> list[int]:
    """Score the versions in the caller's transaction and store a snapshot for each whose result
    changed, naming the cause. Returns the versions that got a new snapshot."""
    ids = sorted(set(version_ids))
    if not ids:
        return []
    moment = now or utcnow()
    results = assess_many(session, ids, moment.date())
    previous = _latest(session, ids)
    changed = []
    for vid, r in results.items():
        dims = {k: _rounded(v) for k, v in r.score.dimensions.items()}
        before = previous.get(vid)
        if (
            before is not None
            and before.statuses == r.statuses
            and before.dimensions == dims
            and before.rubric_version == RUBRIC_VERSION
        ):
            continue
        session.add(
            SnapshotRow(
                version_id=vid,
                at=moment,
                rubric_version=RUBRIC_VERSION,
                headline=round(r.score.headline, 1),
                mean=round(r.score.mean, 1),
                level=r.score.level,
                dimensions=dims,
                statuses=r.statuses,
                blockers=len(r.score.blocking_failed),
                top_blocker=r.top_blocker[:200],
                cause=cause[:200],
            )
        )
        changed.append(vid)
        _level_alert(session, r, before.level if before is not None else None, moment)
    session.flush()
    return changed


def _level_alert(session: Session, r: Readiness, before: str | None, moment: datetime) -> None:
    """Raise an alert when the level falls below what it was; clear it once it is back."""
    key = f"readiness:{r.evidence.version_id}:level"
    was = LEVEL_RANK[before] if before is not None else -1
    open_alert = session.scalar(
        select(AlertRow).where(AlertRow.condition_key == key, AlertRow.cleared_at.is_(None))
    )
    if open_alert is not None and open_alert.details:
        was = max(was, LEVEL_RANK.get(str(open_alert.details.get("was")), -1))
    now_rank = LEVEL_RANK[r.score.level]
    if now_rank >= was or r.evidence.stage == "retired":
        if open_alert is not None:
            inbox.clear(session, key, now=moment)
        return
    was_level = next(k for k, v in LEVEL_RANK.items() if v == was)
    serving = r.evidence.stage == "production"
    inbox.raise_or_keep(
        session,
        kind="readiness",
        severity="critical" if serving and r.score.level == NOT_READY else "warning",
        entity_type="model_version",
        entity_id=r.evidence.version_id,
        goal_id=r.evidence.goal_id,
        condition_key=key,
        message=f"{r.evidence.label} fell from {LEVEL_LABELS[was_level]} to {r.score.level_label}"
        + (f": {r.top_blocker}" if r.top_blocker else ""),
        details={"was": was_level, "now": r.score.level, "headline": round(r.score.headline, 1)},
        now=moment,
    )


def versions_of(session: Session, model_ids: Iterable[int] = (), goal_id: int | None = None) -> list[int]:
    """The live (not retired) versions of some models or of a goal's models: whose evidence a
    model, goal or KPI edit changes."""
    query = select(ModelVersionRow.id).where(ModelVersionRow.stage != "retired")
    if goal_id is not None:
        query = query.join(ModelRow, ModelRow.id == ModelVersionRow.model_id).where(
            ModelRow.goal_id == goal_id
        )
    else:
        query = query.where(ModelVersionRow.model_id.in_(list(model_ids)))
    return list(session.scalars(query))


def refresh_all(db: Database, cause: str = "Scheduled re-check", chunk: int = 500) -> int:
    """Re-check every version that is not retired (cron: `python -m flightdeck readiness refresh`)."""
    with db.read() as session:
        ids = list(session.scalars(select(ModelVersionRow.id).where(ModelVersionRow.stage != "retired")))
    changed = 0
    for start in range(0, len(ids), chunk):
        with db.transaction() as session:
            changed += len(refresh(session, ids[start : start + chunk], cause))
    return changed


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    headline: float
    mean: float
    level: str
    dimensions: dict[str, float | None]
    statuses: dict[str, str]
    cause: str
    moved: tuple[str, ...]  # "Drift: pass → fail", what changed since the snapshot before


def history(db: Database, version_id: int) -> list[Snapshot]:
    """Every snapshot of a version, oldest first, with the checks that moved each time."""
    with db.read() as session:
        rows = session.scalars(
            select(SnapshotRow).where(SnapshotRow.version_id == version_id).order_by(SnapshotRow.id)
        ).all()
        found, before = [], {}
        for s in rows:
            moved = tuple(
                f"{CHECKS_BY_ID[k].title}: {before.get(k, '–')} → {v}".replace("_", " ")
                for k, v in s.statuses.items()
                if k in CHECKS_BY_ID and before and before.get(k) != v
            )
            found.append(
                Snapshot(
                    s.at, s.headline, s.mean, s.level, dict(s.dimensions), dict(s.statuses), s.cause, moved
                )
            )
            before = s.statuses
        return found
