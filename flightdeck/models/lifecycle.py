"""The four-eyes lifecycle of a model version, draft → in_review → approved → production → retired,
and its production history (which version served when).

Authors of a model are the person who registered it and everyone who created a version of it. A
reviewer who is an author never approves or rejects that model's versions, whatever other roles
they hold. Every stage change is audited in its own transaction and announced as a
`VersionChanged` event. Before a version serves, every check registered with
`require_before_production` is consulted (the readiness gate, registered by `flightdeck.wiring`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from flightdeck.core import audit, events
from flightdeck.core.actors import actor_name
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.editing import touch
from flightdeck.core.errors import InvalidInput, PermissionDenied, Problem
from flightdeck.core.permissions import User, authorize
from flightdeck.models.events import VersionChanged
from flightdeck.models.records import (
    STAGE_LABELS,
    Deployment,
    ModelVersion,
    StageEvent,
    authors_of,
    version_view,
)
from flightdeck.models.registry import model_row, version_row
from flightdeck.orm import DeploymentRow, ModelVersionRow, StageEventRow


class FourEyes(PermissionDenied):
    """A reviewer may not decide on a model they are an author of."""

    def __init__(self, actor: User, model_name: str, action: str, entity: str) -> None:
        super().__init__(actor.id, actor.display_name, action, entity)
        self.args = (
            f"Not permitted: {actor.display_name} is an author of {model_name}, so another reviewer "
            "must decide on its versions (four eyes).",
        )


def require_stage(row: ModelVersionRow, allowed: tuple[str, ...], verb: str) -> None:
    if row.stage not in allowed:
        wanted = " or ".join(STAGE_LABELS[s].lower() for s in allowed)
        raise InvalidInput(
            Problem(
                "stage",
                f"Only a version that is {wanted} can {verb}; v{row.number} is "
                f"{STAGE_LABELS[row.stage].lower()}.",
            )
        )


def record_stage(
    session: Session,
    actor: User | None,
    row: ModelVersionRow,
    action: str,
    from_stage: str,
    to_stage: str,
    rationale: str,
    moment: datetime,
) -> None:
    session.add(
        StageEventRow(
            version_id=row.id,
            action=action,
            from_stage=from_stage,
            to_stage=to_stage,
            rationale=rationale,
            actor_id=actor.id if actor else None,
            actor_name=actor_name(actor),
            at=moment,
        )
    )


def _transition(
    session: Session,
    actor: User,
    row: ModelVersionRow,
    action: str,
    to_stage: str,
    rationale: str,
    moment: datetime,
    extra: dict[str, object] | None = None,
) -> None:
    """Change the stage, record the stage event and the audit event, in the caller's transaction."""
    before = row.stage
    row.stage = to_stage
    touch(row, actor.id)
    session.flush()
    record_stage(session, actor, row, action, before, to_stage, rationale, moment)
    audit.record(
        session,
        by=actor,
        action=f"model.{action}",
        entity_type="model_version",
        entity_id=row.id,
        before={"stage": before},
        after={
            "stage": to_stage,
            "model": row.model.key,
            "number": row.number,
            "rationale": rationale,
            **(extra or {}),
        },
    )
    cause = f"Stage: {STAGE_LABELS[to_stage].lower()} ({action.replace('_', ' ')})"
    events.publish(session, VersionChanged(row.id, cause, moment))


def _rationale(text: str, required: bool, what: str) -> str:
    clean = text.strip()
    if required and not clean:
        raise InvalidInput(Problem("rationale", f"Give the rationale for {what}: it goes on the record."))
    if len(clean) > 4000:
        raise InvalidInput(Problem("rationale", "The rationale must be at most 4000 characters."))
    return clean


def request_review(
    db: Database, actor: User, version_id: int, note: str = "", now: datetime | None = None
) -> ModelVersion:
    """An author asks for review of a draft that Flightdeck has evaluated."""
    with db.transaction() as session:
        row = version_row(session, version_id)
        authorize(actor, "model.evidence", version_view(session, row), entity=f"model version {version_id}")
        require_stage(row, ("draft",), "go to review")
        if not row.evaluation:
            raise InvalidInput(
                Problem("stage", "Evaluate the version on a holdout before asking for review.")
            )
        _transition(
            session, actor, row, "request_review", "in_review", _rationale(note, False, ""), now or utcnow()
        )
        return version_view(session, row)


def _decide(
    db: Database, actor: User, version_id: int, rationale: str, approve: bool, now: datetime | None
) -> ModelVersion:
    action = "approve" if approve else "reject"
    with db.transaction() as session:
        row = version_row(session, version_id)
        entity = f"model version {version_id}"
        authorize(actor, "model.review", entity=entity)
        if actor.id in authors_of(session, row.model_id):
            raise FourEyes(actor, row.model.name, "model.review", entity)
        require_stage(row, ("in_review",), f"be {'approved' if approve else 'rejected'}")
        reason = _rationale(rationale, True, "this decision")
        _transition(session, actor, row, action, "approved" if approve else "draft", reason, now or utcnow())
        return version_view(session, row)


def approve(
    db: Database, actor: User, version_id: int, rationale: str, now: datetime | None = None
) -> ModelVersion:
    """A reviewer who is not an author approves, with a rationale."""
    return _decide(db, actor, version_id, rationale, True, now)


def reject(
    db: Database, actor: User, version_id: int, rationale: str, now: datetime | None = None
) -> ModelVersion:
    """A reviewer who is not an author sends the version back to draft, saying why."""
    return _decide(db, actor, version_id, rationale, False, now)


def _open_deployment(session: Session, model_id: int) -> DeploymentRow | None:
    return session.scalar(
        select(DeploymentRow).where(DeploymentRow.model_id == model_id, DeploymentRow.ended_at.is_(None))
    )


ProductionCheck = Callable[[Session, ModelVersionRow, datetime], None]
_production_checks: list[ProductionCheck] = []


def require_before_production(check: ProductionCheck) -> None:
    """Have every promotion consult `check`, which raises `InvalidInput` saying what is missing to
    refuse it. A veto, not an event: only `flightdeck.wiring` registers one."""
    _production_checks.append(check)


def production_gate(session: Session, row: ModelVersionRow, moment: datetime) -> None:
    """Checks a version must pass before it serves. The four-eyes approval is enforced by the stage
    (only approved versions are promoted); the registered checks (readiness Production-ready, or a
    reviewer's override) refuse the rest."""
    events.ensure_wired()
    for check in _production_checks:
        check(session, row, moment)


def _promote(
    session: Session,
    actor: User,
    row: ModelVersionRow,
    scope: str,
    rationale: str,
    action: str,
    moment: datetime,
) -> None:
    """Put `row` into production now, retiring whatever served before, and open its deployment. A
    rollback skips the readiness gate: returning to what served before must never wait."""
    if action != "rollback":
        production_gate(session, row, moment)
    current = _open_deployment(session, row.model_id)
    if current is not None:
        current.ended_at, current.ended_by_name = moment, actor.display_name
        previous = version_row(session, current.version_id)
        if previous.id != row.id:
            _transition(session, actor, previous, "retire", "retired", f"Replaced by v{row.number}.", moment)
    session.add(
        DeploymentRow(
            model_id=row.model_id,
            version_id=row.id,
            scope=scope.strip()[:120],
            started_at=moment,
            started_by_name=actor.display_name,
        )
    )
    _transition(session, actor, row, action, "production", rationale, moment, {"scope": scope.strip()})


def promote(
    db: Database,
    actor: User,
    version_id: int,
    scope: str = "",
    rationale: str = "",
    now: datetime | None = None,
) -> ModelVersion:
    """Put an approved version into production (optionally in a scope, e.g. a pilot region); the
    version serving before is retired. Records who and when."""
    with db.transaction() as session:
        row = version_row(session, version_id)
        authorize(actor, "model.deploy", version_view(session, row), entity=f"model version {version_id}")
        require_stage(row, ("approved",), "go to production")
        _promote(session, actor, row, scope, _rationale(rationale, False, ""), "promote", now or utcnow())
        return version_view(session, row)


def rollback(
    db: Database, actor: User, model_id: int, rationale: str, now: datetime | None = None
) -> ModelVersion:
    """Put the version that served before the current one back into production."""
    with db.transaction() as session:
        model = model_row(session, model_id)
        current = _open_deployment(session, model_id)
        earlier = session.scalar(
            select(DeploymentRow)
            .where(
                DeploymentRow.model_id == model_id,
                DeploymentRow.ended_at.is_not(None),
                *([DeploymentRow.version_id != current.version_id] if current else []),
            )
            .order_by(DeploymentRow.ended_at.desc(), DeploymentRow.id.desc())
            .limit(1)
        )
        if current is None or earlier is None:
            raise InvalidInput(
                Problem("stage", f"{model.name} has no earlier production version to roll back to.")
            )
        row = version_row(session, earlier.version_id)
        authorize(actor, "model.deploy", version_view(session, row), entity=f"model {model.key}")
        reason = _rationale(rationale, True, "the rollback")
        _promote(session, actor, row, earlier.scope, reason, "rollback", now or utcnow())
        return version_view(session, row)


def retire(
    db: Database, actor: User, version_id: int, rationale: str, now: datetime | None = None
) -> ModelVersion:
    """Take a version out of service (or out of the running, if approved but never promoted)."""
    moment = now or utcnow()
    with db.transaction() as session:
        row = version_row(session, version_id)
        authorize(actor, "model.deploy", version_view(session, row), entity=f"model version {version_id}")
        require_stage(row, ("approved", "production"), "be retired")
        reason = _rationale(rationale, True, "retiring it")
        current = _open_deployment(session, row.model_id)
        if current is not None and current.version_id == row.id:
            current.ended_at, current.ended_by_name = moment, actor.display_name
        _transition(session, actor, row, "retire", "retired", reason, moment)
        return version_view(session, row)


# -- history ---------------------------------------------------------------------------------------


def stage_history(db: Database, model_id: int) -> list[StageEvent]:
    """Every stage change of the model's versions, newest first."""
    with db.read() as session:
        rows = session.execute(
            select(StageEventRow, ModelVersionRow.number)
            .join(ModelVersionRow, ModelVersionRow.id == StageEventRow.version_id)
            .where(ModelVersionRow.model_id == model_id)
            .order_by(StageEventRow.at.desc(), StageEventRow.id.desc())
        ).all()
        return [
            StageEvent(number, e.action, e.from_stage, e.to_stage, e.rationale, e.actor_name, e.at)
            for e, number in rows
        ]


def production_history(db: Database, model_id: int) -> list[Deployment]:
    """Who served in production when, oldest first."""
    with db.read() as session:
        rows = session.execute(
            select(DeploymentRow, ModelVersionRow.number)
            .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
            .where(DeploymentRow.model_id == model_id)
            .order_by(DeploymentRow.started_at, DeploymentRow.id)
        ).all()
        return [
            Deployment(
                d.version_id, number, d.scope, d.started_at, d.started_by_name, d.ended_at, d.ended_by_name
            )
            for d, number in rows
        ]


def end_of(day: date) -> datetime:
    """The last moment of a UTC day: "in production on D" means serving when D closed."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) - timedelta(microseconds=1)


def in_production_on(db: Database, model_id: int, when: date | datetime) -> Deployment | None:
    """Which version served at a moment (a date means the end of that UTC day)."""
    moment = when if isinstance(when, datetime) else end_of(when)
    with db.read() as session:
        found = session.execute(
            select(DeploymentRow, ModelVersionRow.number)
            .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
            .where(
                DeploymentRow.model_id == model_id,
                DeploymentRow.started_at <= moment,
                or_(DeploymentRow.ended_at.is_(None), DeploymentRow.ended_at > moment),
            )
            .order_by(DeploymentRow.started_at.desc())
            .limit(1)
        ).one_or_none()
        if found is None:
            return None
        d, number = found
        return Deployment(
            d.version_id, number, d.scope, d.started_at, d.started_by_name, d.ended_at, d.ended_by_name
        )


def pending_reviews(db: Database) -> list[ModelVersion]:
    """Versions waiting for a reviewer's decision, oldest request first."""
    with db.read() as session:
        rows = session.scalars(
            select(ModelVersionRow)
            .where(ModelVersionRow.stage == "in_review")
            .order_by(ModelVersionRow.updated_at)
        )
        return [version_view(session, r) for r in rows]
