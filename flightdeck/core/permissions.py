"""Who may do what: the acting `User`, the permission map and `authorize`.

Every mutating service calls `authorize` before it changes anything; the pages only use `can` to
decide what to offer. The permission map below is the single place where that is declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from flightdeck.core.errors import PermissionDenied
from flightdeck.core.roles import Role
from flightdeck.orm import UserRow


@dataclass(frozen=True)
class User:
    """The signed-in person as services see them: a plain value, safe to keep across reruns."""

    id: int
    username: str
    display_name: str
    email: str | None
    roles: frozenset[Role]
    must_change_password: bool = False

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


def user_view(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        roles=row.role_set,
        must_change_password=row.must_change_password,
    )


# -- permissions -----------------------------------------------------------------------------


class Owned(Protocol):
    """A resource some users own (a goal's owner, a model's authors)."""

    @property
    def owner_ids(self) -> frozenset[int]: ...


@dataclass(frozen=True)
class OwnedBy:
    """A resource known only by its owners (a goal's owner, a model's authors)."""

    owner_ids: frozenset[int]


@dataclass(frozen=True)
class Rule:
    summary: str
    roles: frozenset[Role]
    owner_roles: frozenset[Role] = field(default_factory=frozenset)


ALL_ROLES = frozenset(Role)
A, BO, DS, R = Role.ADMIN, Role.BUSINESS_OWNER, Role.DATA_SCIENTIST, Role.REVIEWER


PERMISSIONS: dict[str, Rule] = {
    "workspace.view": Rule("read the shared pages", ALL_ROLES),
    "goal.create": Rule("create goals", frozenset({BO, A})),
    "goal.edit": Rule("edit goals", frozenset({A}), owner_roles=frozenset({BO})),
    "user.manage": Rule("manage users and roles", frozenset({A})),
    "audit.view": Rule("read and export the audit trail", frozenset({A})),
    "kpi.create": Rule("define KPIs on goals", frozenset({A}), owner_roles=frozenset({BO})),
    "kpi.edit": Rule("edit KPIs and attach their SQL queries", frozenset({A}), owner_roles=frozenset({BO})),
    "kpi.ingest": Rule("load KPI data", frozenset({A}), owner_roles=frozenset({BO})),
    "context.create": Rule("add data-dictionary fields and hierarchies", frozenset({BO, A})),
    "context.edit": Rule(
        "edit data-dictionary fields and hierarchies", frozenset({A}), owner_roles=frozenset({BO})
    ),
    "source.manage": Rule("manage SQL source connections", frozenset({A})),
    "alert.acknowledge": Rule("acknowledge alerts", frozenset({A}), owner_roles=frozenset({BO})),
    "model.create": Rule("register models against goals", frozenset({DS})),
    "model.edit": Rule("edit a model's details and KPIs", frozenset({A}), owner_roles=frozenset({DS})),
    "model.version": Rule("add a version (artifact and holdout) to a model", frozenset({DS})),
    "model.evidence": Rule(
        "document versions, map their features and request review", frozenset(), owner_roles=frozenset({DS})
    ),
    "model.review": Rule("approve or reject versions of models they did not author", frozenset({R})),
    "model.deploy": Rule(
        "promote, roll back and retire versions", frozenset({A}), owner_roles=frozenset({DS})
    ),
    "model.value": Rule(
        "state the money value of decision errors", frozenset({A}), owner_roles=frozenset({BO})
    ),
    "artifact.allowlist": Rule("maintain the artifact allow-list", frozenset({A})),
    "prediction.ingest": Rule(
        "load prediction logs and outcomes", frozenset({A}), owner_roles=frozenset({DS})
    ),
    "readiness.attest": Rule(
        "attest readiness checks their role may attest (data scientists and business owners on their own "
        "models)",
        frozenset({BO, DS, R, A}),
    ),
    "readiness.override": Rule(
        "let a version below Production-ready go to production, with a reason", frozenset({R})
    ),
}


def can(user: User | None, action: str, resource: Owned | None = None) -> bool:
    """Whether `user` may perform `action`. Without a resource, an owner-scoped action answers
    "could this user ever", which is what a page needs to decide whether to offer a control."""
    if user is None:
        return False
    rule = PERMISSIONS[action]
    if user.roles & rule.roles:
        return True
    if user.roles & rule.owner_roles:
        return resource is None or user.id in resource.owner_ids
    return False


def authorize(user: User, action: str, resource: Owned | None = None, entity: str = "") -> None:
    """Raise `PermissionDenied` unless allowed. Owner-scoped actions require the resource."""
    rule = PERMISSIONS[action]
    allowed = bool(user.roles & rule.roles) or (
        resource is not None and bool(user.roles & rule.owner_roles) and user.id in resource.owner_ids
    )
    if not allowed:
        raise PermissionDenied(user.id, user.display_name, action, entity)


def roles_for(action: str) -> list[Role]:
    rule = PERMISSIONS[action]
    return sorted(rule.roles | rule.owner_roles, key=list(Role).index)
