"""The permission map, checked against an independent statement of who may do what."""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from flightdeck.core import permissions
from flightdeck.core.db import Database
from flightdeck.core.errors import PermissionDenied
from flightdeck.core.permissions import PERMISSIONS, User, authorize, can
from flightdeck.core.roles import Role
from flightdeck.orm import AuditEventRow

V, BO, DS, R, A = Role.VIEWER, Role.BUSINESS_OWNER, Role.DATA_SCIENTIST, Role.REVIEWER, Role.ADMIN

# action → (roles allowed on anything, roles allowed only on what they own)
EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "workspace.view": ({V, BO, DS, R, A}, set()),
    "goal.create": ({BO, A}, set()),
    "goal.edit": ({A}, {BO}),
    "user.manage": ({A}, set()),
    "audit.view": ({A}, set()),
    "kpi.create": ({A}, {BO}),
    "kpi.edit": ({A}, {BO}),
    "kpi.ingest": ({A}, {BO}),
    "context.create": ({BO, A}, set()),
    "context.edit": ({A}, {BO}),
    "source.manage": ({A}, set()),
    "alert.acknowledge": ({A}, {BO}),
    "model.create": ({DS}, set()),
    "model.edit": ({A}, {DS}),
    "model.version": ({DS}, set()),
    "model.evidence": (set(), {DS}),
    "model.review": ({R}, set()),
    "model.deploy": ({A}, {DS}),
    "model.value": ({A}, {BO}),
    "artifact.allowlist": ({A}, set()),
    "prediction.ingest": ({A}, {DS}),
    "readiness.attest": ({BO, DS, R, A}, set()),
    "readiness.override": ({R}, set()),
}


@dataclass(frozen=True)
class Thing:
    owner_ids: frozenset[int]


def person(role: Role, user_id: int = 7) -> User:
    return User(user_id, role.value, role.label, None, frozenset({role}))


def test_every_declared_action_is_covered_by_this_test() -> None:
    assert set(PERMISSIONS) == set(EXPECTED)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_allowed_or_refused_as_declared(action: str, role: Role) -> None:
    anywhere, own = EXPECTED[action]
    mine, theirs = Thing(frozenset({7})), Thing(frozenset({8}))
    assert can(person(role), action, theirs) == (role in anywhere)
    assert can(person(role), action, mine) == (role in anywhere or role in own)
    if role in anywhere or role in own:
        authorize(person(role), action, mine)
    else:
        with pytest.raises(PermissionDenied):
            authorize(person(role), action, mine)
    if role not in anywhere:
        with pytest.raises(PermissionDenied):
            authorize(person(role), action, theirs)


def test_owner_scoped_actions_need_the_resource_to_be_authorised() -> None:
    with pytest.raises(PermissionDenied):
        authorize(person(BO), "goal.edit")
    assert can(person(BO), "goal.edit")  # "could ever": what a page uses to offer the control


def test_several_roles_add_up() -> None:
    both = User(7, "kenji", "Kenji", None, frozenset({DS, A}))
    assert can(both, "user.manage")
    assert can(None, "workspace.view") is False


def test_a_refusal_inside_a_transaction_is_rolled_back_but_audited(db: Database) -> None:
    viewer = person(V, user_id=99)
    with pytest.raises(PermissionDenied), db.transaction() as session:
        permissions.authorize(viewer, "user.manage", entity="users")
    with db.read() as session:
        event = session.scalars(select(AuditEventRow)).one()
    assert (event.action, event.actor_id, event.entity_id) == ("permission.denied", 99, "user.manage")
