"""The five roles: viewer, business owner, data scientist, reviewer, admin. A person may hold
several."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    BUSINESS_OWNER = "business_owner"
    DATA_SCIENTIST = "data_scientist"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def duty(self) -> str:
        return ROLE_DUTIES[self]


ROLE_DUTIES = {
    Role.VIEWER: "Reads the shared pages: goals, KPIs, readiness and impact.",
    Role.BUSINESS_OWNER: "Owns goals and KPIs and states the business context of the data.",
    Role.DATA_SCIENTIST: "Registers models against goals and supplies their evidence.",
    Role.REVIEWER: "Independently approves models and attests compliance checks.",
    Role.ADMIN: "Manages users, roles, connections and the audit trail.",
}
