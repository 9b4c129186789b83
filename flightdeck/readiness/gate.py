"""The production gate: a version below Production-ready does not serve unless a reviewer who is
not an author recorded an override with a reason, which the promotion then uses up. The lifecycle
consults `gate` as a registered production check (`flightdeck.wiring`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core import audit
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.core.permissions import User, authorize
from flightdeck.models.lifecycle import FourEyes
from flightdeck.models.records import authors_of
from flightdeck.orm import GateOverrideRow, ModelVersionRow
from flightdeck.readiness.rubric import (
    PRODUCTION_READY,
)
from flightdeck.readiness.scoring import assess_many

REASON_LIMIT = 4000


@dataclass(frozen=True)
class Override:
    id: int
    version_id: int
    reason: str
    level: str
    headline: float
    by_name: str
    at: datetime
    used_at: datetime | None


def record_override(
    db: Database, actor: User, version_id: int, reason: str, now: datetime | None = None
) -> Override:
    """A reviewer who is not an author lets an approved version below Production-ready go to
    production, with the reason on the record. It is used up by the next promotion."""
    entity = f"model version {version_id}"
    with db.transaction() as session:
        authorize(actor, "readiness.override", entity=entity)
        row = get_or_raise(session, ModelVersionRow, version_id, "Model version")
        if actor.id in authors_of(session, row.model_id):
            raise FourEyes(actor, row.model.name, "readiness.override", entity)
        clean = reason.strip()
        if not clean:
            raise InvalidInput(Problem("reason", "Give the reason for the override: it goes on the record."))
        if len(clean) > REASON_LIMIT:
            raise InvalidInput(Problem("reason", f"The reason must be at most {REASON_LIMIT} characters."))
        if row.stage != "approved":
            raise InvalidInput(
                Problem("stage", "Only an approved version waiting to go to production needs an override.")
            )
        moment = now or utcnow()
        r = assess_many(session, [version_id], moment.date())[version_id]
        if r.score.level == PRODUCTION_READY:
            raise InvalidInput(
                Problem("stage", f"{r.evidence.label} is Production-ready: no override needed.")
            )
        override = GateOverrideRow(
            version_id=version_id,
            reason=clean,
            level=r.score.level,
            headline=round(r.score.headline, 1),
            by_id=actor.id,
            by_name=actor.display_name,
            at=moment,
        )
        session.add(override)
        session.flush()
        audit.record(
            session,
            by=actor,
            action="readiness.override",
            entity_type="model_version",
            entity_id=version_id,
            after={
                "reason": clean,
                "level": r.score.level,
                "headline": round(r.score.headline, 1),
                "blockers": list(r.score.blocking_failed),
            },
        )
        return _override_view(override)


def _override_view(row: GateOverrideRow) -> Override:
    return Override(
        row.id, row.version_id, row.reason, row.level, row.headline, row.by_name, row.at, row.used_at
    )


def overrides(db: Database, version_id: int) -> list[Override]:
    with db.read() as session:
        rows = session.scalars(
            select(GateOverrideRow)
            .where(GateOverrideRow.version_id == version_id)
            .order_by(GateOverrideRow.id)
        )
        return [_override_view(r) for r in rows]


def gate(session: Session, row: ModelVersionRow, moment: datetime) -> None:
    """Refuse production below Production-ready unless a reviewer recorded an override, which the
    promotion then uses up."""
    r = assess_many(session, [row.id], moment.date())[row.id]
    if r.score.level == PRODUCTION_READY:
        return
    waiver = session.scalar(
        select(GateOverrideRow)
        .where(GateOverrideRow.version_id == row.id, GateOverrideRow.used_at.is_(None))
        .order_by(GateOverrideRow.id.desc())
    )
    if waiver is not None:
        waiver.used_at = moment
        return
    missing = [s.check.title for s in r.next_steps[:3]]
    raise InvalidInput(
        Problem(
            "readiness",
            f"{r.evidence.label} is {r.score.level_label} ({r.score.headline:.0f}/100), not "
            f"Production-ready: {'; '.join(missing)}. A reviewer who is not an author can record an "
            "override with a reason.",
        )
    )
