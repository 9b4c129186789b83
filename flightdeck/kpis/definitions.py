"""KPIs: what success means for a goal, in numbers, and the driver trees that explain them.

A KPI states its unit, which direction is good, how its values combine over time and across
segments (sum, mean or last), its baseline, target and money value, and the thresholds that
raise alerts. A KPI may have driver KPIs; a parent can be computed from its drivers (their sum or
mean, or the ratio of two of them) instead of being observed. An edit announces `KpiChanged`.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from flightdeck.business.ownership import hand_over, owner_for
from flightdeck.core import events
from flightdeck.core.actors import actor_id, actor_name
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.editing import check_version, save_edit, save_new
from flightdeck.core.errors import InvalidInput, NotFound, Problem
from flightdeck.core.permissions import OwnedBy, User, authorize
from flightdeck.kpis.definition_checks import check_relations, clean_draft
from flightdeck.kpis.entities import EDITABLE, Kpi, KpiDraft, view_of
from flightdeck.kpis.events import KpiChanged
from flightdeck.orm import GoalRow, KpiRow, ObservationRow, UserRow


def _values(row: KpiRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in EDITABLE}


def _query() -> Select[tuple[KpiRow, str | None]]:
    editor = aliased(UserRow, name="editor")
    return select(KpiRow, editor.display_name).outerjoin(editor, editor.id == KpiRow.updated_by_id)


def list_kpis(db: Database, goal_id: int | None = None) -> list[Kpi]:
    with db.read() as session:
        query = _query().order_by(KpiRow.goal_id, KpiRow.name)
        if goal_id is not None:
            query = query.where(KpiRow.goal_id == goal_id)
        return [view_of(row, editor or "") for row, editor in session.execute(query)]


def get_kpi(db: Database, kpi_id: int) -> Kpi:
    with db.read() as session:
        found = session.execute(_query().where(KpiRow.id == kpi_id)).one_or_none()
        if found is None:
            raise NotFound("KPI", kpi_id)
        return view_of(found[0], found[1] or "")


def get_kpi_by_key(db: Database, key: str) -> Kpi:
    with db.read() as session:
        found = session.execute(_query().where(KpiRow.key == key.strip())).one_or_none()
        if found is None:
            raise NotFound("KPI", key)
        return view_of(found[0], found[1] or "")


def load(session: Session, kpi_id: int) -> KpiRow:
    return get_or_raise(session, KpiRow, kpi_id, "KPI")


def _key_taken(session: Session, key: str, kpi_id: int | None) -> bool:
    found = session.scalar(select(KpiRow.id).where(KpiRow.key == key))
    return found is not None and found != kpi_id


def _apply(row: KpiRow, clean: KpiDraft) -> None:
    for name in EDITABLE:
        if name != "owner_id":
            setattr(row, name, getattr(clean, name))


def create_kpi(db: Database, actor: User | None, goal_id: int, draft: KpiDraft) -> Kpi:
    """Owners define KPIs on their own goals, admins on any."""
    with db.transaction() as session:
        goal = get_or_raise(session, GoalRow, goal_id, "Goal")
        if actor is not None:
            authorize(actor, "kpi.create", OwnedBy(frozenset({goal.owner_id})), entity=f"goal {goal_id}")
        clean = clean_draft(draft)
        if _key_taken(session, clean.key, None):
            raise InvalidInput(Problem("key", f"A KPI with key '{clean.key}' exists already."))
        row = KpiRow(
            goal_id=goal_id, goal=goal, owner_id=owner_for(session, actor, clean.owner_id or goal.owner_id)
        )
        check_relations(session, row, clean)
        _apply(row, clean)
        row.updated_by_id = actor_id(actor)
        save_new(session, actor, row, "kpi.create", "kpi", lambda: {**_values(row), "goal_id": goal_id})
        return view_of(row, actor_name(actor))


def update_kpi(db: Database, actor: User, kpi_id: int, expected_version: int, draft: KpiDraft) -> Kpi:
    """Owners (of the KPI or its goal) edit it, admins any; only an admin reassigns the owner.
    Alerts are re-checked in the same transaction, since thresholds and targets may have moved."""
    with db.transaction() as session:
        row = load(session, kpi_id)
        authorize(actor, "kpi.edit", view_of(row), entity=f"kpi {row.key}")
        check_version(session, row, expected_version, "KPI")
        clean = clean_draft(draft)
        if _key_taken(session, clean.key, kpi_id):
            raise InvalidInput(Problem("key", f"A KPI with key '{clean.key}' exists already."))
        check_relations(session, row, clean)
        before = _values(row)
        _apply(row, clean)
        hand_over(session, actor, row, clean.owner_id)
        save_edit(session, actor, row, "KPI", "kpi.update", "kpi", before, lambda: _values(row))
        events.publish(session, KpiChanged(row.id, row.goal_id))
        session.refresh(row)
        return view_of(row, actor.display_name)


def observation_count(db: Database, kpi_id: int) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).where(ObservationRow.kpi_id == kpi_id)) or 0
