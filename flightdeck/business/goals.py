"""Goals: what the business wants to achieve, who owns it, and by when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from flightdeck.business.events import GoalChanged
from flightdeck.business.ownership import check_business_owner, hand_over
from flightdeck.core import events
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.editing import check_version, save_edit, save_new
from flightdeck.core.errors import InvalidInput, NotFound, Problem
from flightdeck.core.permissions import User, authorize
from flightdeck.core.roles import Role
from flightdeck.orm import GoalRow, GoalStatus, UserRow

LIMITS = {"title": 120, "description": 4000, "value_statement": 1000, "business_unit": 80}


FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "value_statement": "Value statement",
    "business_unit": "Business unit",
    "owner_id": "Owner",
    "status": "Status",
    "target_date": "Target date",
}


@dataclass(frozen=True)
class Goal:
    id: int
    title: str
    description: str
    value_statement: str
    business_unit: str
    target_date: date | None
    status: GoalStatus
    owner_id: int
    owner_name: str
    created_at: datetime
    updated_at: datetime
    updated_by_name: str
    version: int

    @property
    def owner_ids(self) -> frozenset[int]:
        return frozenset({self.owner_id})


@dataclass(frozen=True)
class GoalDraft:
    title: str
    description: str = ""
    value_statement: str = ""
    business_unit: str = ""
    target_date: date | None = None
    status: GoalStatus = GoalStatus.DRAFT
    owner_id: int | None = None


def _view(row: GoalRow, editor: str) -> Goal:
    return Goal(
        id=row.id,
        title=row.title,
        description=row.description,
        value_statement=row.value_statement,
        business_unit=row.business_unit,
        target_date=row.target_date,
        status=GoalStatus(row.status),
        owner_id=row.owner_id,
        owner_name=row.owner.display_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by_name=editor,
        version=row.version,
    )


def _fields(row: GoalRow) -> dict[str, object]:
    return {
        "title": row.title,
        "description": row.description,
        "value_statement": row.value_statement,
        "business_unit": row.business_unit,
        "target_date": row.target_date,
        "status": row.status,
        "owner_id": row.owner_id,
    }


def _query() -> Select[tuple[GoalRow, str | None]]:
    editor = aliased(UserRow, name="editor")
    return select(GoalRow, editor.display_name).outerjoin(editor, editor.id == GoalRow.updated_by_id)


def list_goals(db: Database) -> list[Goal]:
    with db.read() as session:
        rows = session.execute(_query().order_by(GoalRow.title)).all()
        return [_view(goal, editor or "") for goal, editor in rows]


def get_goal(db: Database, goal_id: int) -> Goal:
    with db.read() as session:
        found = session.execute(_query().where(GoalRow.id == goal_id)).one_or_none()
        if found is None:
            raise NotFound("Goal", goal_id)
        return _view(found[0], found[1] or "")


def _clean(draft: GoalDraft) -> GoalDraft:
    """Trimmed text; every problem reported at once, each naming its field."""
    text = {name: str(getattr(draft, name) or "").strip() for name in LIMITS}
    problems = [
        Problem(name, f"{FIELD_LABELS[name]} must be at most {limit} characters (it has {len(text[name])}).")
        for name, limit in LIMITS.items()
        if len(text[name]) > limit
    ]
    if not text["title"]:
        problems.insert(0, Problem("title", "Title is required."))
    try:
        status = GoalStatus(draft.status)
    except ValueError:
        problems.append(Problem("status", f"Status '{draft.status}' is not one of the known statuses."))
        status = GoalStatus.DRAFT
    if problems:
        raise InvalidInput(problems)
    return GoalDraft(
        title=text["title"],
        description=text["description"],
        value_statement=text["value_statement"],
        business_unit=text["business_unit"],
        target_date=draft.target_date,
        status=status,
        owner_id=draft.owner_id,
    )


def create_goal(db: Database, actor: User, draft: GoalDraft) -> Goal:
    """A business owner creates goals they own; an admin names the owner."""
    with db.transaction() as session:
        authorize(actor, "goal.create", entity="goal")
        clean = _clean(draft)
        owner_id = clean.owner_id if actor.has(Role.ADMIN) and clean.owner_id else actor.id
        row = GoalRow(
            title=clean.title,
            description=clean.description,
            value_statement=clean.value_statement,
            business_unit=clean.business_unit,
            target_date=clean.target_date,
            status=clean.status.value,
            owner_id=check_business_owner(session, owner_id),
            updated_by_id=actor.id,
        )
        save_new(session, actor, row, "goal.create", "goal", lambda: _fields(row))
        return _view(row, actor.display_name)


def update_goal(db: Database, actor: User, goal_id: int, expected_version: int, draft: GoalDraft) -> Goal:
    """Owners edit their own goals, admins any; only an admin reassigns the owner. A save based
    on an outdated version is refused and changes nothing."""
    with db.transaction() as session:
        row = get_or_raise(session, GoalRow, goal_id, "Goal")
        authorize(actor, "goal.edit", _view(row, ""), entity=f"goal {goal_id}")
        check_version(session, row, expected_version, "goal")
        clean = _clean(draft)
        before = _fields(row)
        row.title = clean.title
        row.description = clean.description
        row.value_statement = clean.value_statement
        row.business_unit = clean.business_unit
        row.target_date = clean.target_date
        row.status = clean.status.value
        hand_over(session, actor, row, clean.owner_id)
        save_edit(session, actor, row, "goal", "goal.update", "goal", before, lambda: _fields(row))
        events.publish(session, GoalChanged(row.id))
        session.refresh(row)
        return _view(row, actor.display_name)
