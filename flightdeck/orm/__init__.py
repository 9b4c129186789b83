"""Every table, imported here so that `Base.metadata` is complete for Alembic and tests."""

from flightdeck.orm.accounts import AuthSessionRow, UserRoleRow, UserRow
from flightdeck.orm.audit import AuditEventRow, AuditHeadRow
from flightdeck.orm.base import Base, utcnow
from flightdeck.orm.goals import GoalRow, GoalStatus
from flightdeck.orm.workspace import WorkspaceMetaRow

__all__ = [
    "AuditEventRow",
    "AuditHeadRow",
    "AuthSessionRow",
    "Base",
    "GoalRow",
    "GoalStatus",
    "UserRoleRow",
    "UserRow",
    "WorkspaceMetaRow",
    "utcnow",
]
