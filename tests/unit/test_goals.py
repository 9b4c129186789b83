from datetime import date

import pytest

from flightdeck.business import goals
from flightdeck.business.goals import GoalDraft, GoalStatus
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from flightdeck.core.roles import Role
from tests.factories import add_user

DRAFT = GoalDraft(
    title="Reduce loyalty-member churn",
    value_statement="€1.3 M a year",
    business_unit="Loyalty",
    target_date=date(2027, 6, 30),
    status=GoalStatus.ACTIVE,
)


def test_a_business_owner_creates_a_goal_they_own(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    goal = goals.create_goal(db, owner, DRAFT)
    assert (goal.title, goal.owner_name, goal.status, goal.version) == (
        DRAFT.title,
        "Bianca",
        GoalStatus.ACTIVE,
        1,
    )
    assert goals.list_goals(db) == [goal]
    assert goals.get_goal(db, goal.id) == goal


def test_an_admin_creates_a_goal_for_a_business_owner(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    owner = add_user(db, "bruno", Role.BUSINESS_OWNER)
    goal = goals.create_goal(db, admin, GoalDraft(title="Cut waste", owner_id=owner.id))
    assert goal.owner_id == owner.id


def test_a_goal_owner_must_be_an_active_business_owner(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    scientist = add_user(db, "dana", Role.DATA_SCIENTIST)
    with pytest.raises(InvalidInput) as refused:
        goals.create_goal(db, admin, GoalDraft(title="Cut waste", owner_id=scientist.id))
    assert refused.value.problems[0].field == "owner_id"
    with pytest.raises(InvalidInput):
        goals.create_goal(db, admin, GoalDraft(title="Cut waste"))  # an admin is not an owner


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DATA_SCIENTIST, Role.REVIEWER])
def test_other_roles_cannot_create_goals(db: Database, role: Role) -> None:
    someone = add_user(db, "someone", role)
    with pytest.raises(PermissionDenied):
        goals.create_goal(db, someone, DRAFT)
    assert goals.list_goals(db) == []


def test_owners_edit_their_own_goals_and_only_those(db: Database) -> None:
    bianca = add_user(db, "bianca", Role.BUSINESS_OWNER)
    bruno = add_user(db, "bruno", Role.BUSINESS_OWNER)
    goal = goals.create_goal(db, bianca, DRAFT)
    edited = goals.update_goal(
        db, bianca, goal.id, goal.version, GoalDraft(title="Keep members", status="on_hold")
    )
    assert (edited.title, edited.status, edited.version, edited.updated_by_name) == (
        "Keep members",
        GoalStatus.ON_HOLD,
        2,
        "Bianca",
    )
    with pytest.raises(PermissionDenied):
        goals.update_goal(db, bruno, goal.id, edited.version, GoalDraft(title="Mine now"))
    assert goals.get_goal(db, goal.id).title == "Keep members"


def test_only_an_admin_reassigns_the_owner(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    bianca = add_user(db, "bianca", Role.BUSINESS_OWNER)
    bruno = add_user(db, "bruno", Role.BUSINESS_OWNER)
    goal = goals.create_goal(db, bianca, DRAFT)
    kept = goals.update_goal(db, bianca, goal.id, goal.version, GoalDraft(title="x", owner_id=bruno.id))
    assert kept.owner_id == bianca.id
    moved = goals.update_goal(db, admin, goal.id, kept.version, GoalDraft(title="x", owner_id=bruno.id))
    assert moved.owner_id == bruno.id


def test_a_stale_edit_is_refused_naming_who_changed_it_and_when(db: Database) -> None:
    admin = add_user(db, "ada", Role.ADMIN)
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    goal = goals.create_goal(db, owner, DRAFT)
    theirs = goals.update_goal(db, admin, goal.id, goal.version, GoalDraft(title="Admin's title"))
    with pytest.raises(StaleEdit) as refused:
        goals.update_goal(db, owner, goal.id, goal.version, GoalDraft(title="Owner's title"))
    message = str(refused.value)
    assert "changed by Ada at" in message
    assert f"{theirs.updated_at:%Y-%m-%d %H:%M}" in message
    assert goals.get_goal(db, goal.id).title == "Admin's title"


def test_empty_and_over_long_fields_are_refused_naming_each_field(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    with pytest.raises(InvalidInput) as refused:
        goals.create_goal(
            db, owner, GoalDraft(title="   ", business_unit="x" * 81, value_statement="y" * 1001)
        )
    problems = {p.field: p.message for p in refused.value.problems}
    assert problems["title"] == "Title is required."
    assert "Business unit must be at most 80 characters (it has 81)" in problems["business_unit"]
    assert "Value statement must be at most 1000" in problems["value_statement"]
    with pytest.raises(InvalidInput, match="Title must be at most 120"):
        goals.create_goal(db, owner, GoalDraft(title="t" * 121))
    assert goals.list_goals(db) == []


def test_markup_in_text_is_stored_exactly_as_typed(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    title = "<script>alert('x')</script> & <b>bold</b>"
    assert goals.create_goal(db, owner, GoalDraft(title=title)).title == title


def test_unknown_goals_are_reported(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    with pytest.raises(NotFound):
        goals.get_goal(db, 404)
    with pytest.raises(NotFound):
        goals.update_goal(db, owner, 404, 1, GoalDraft(title="x"))
