"""Business goals: the first thing a business owner states."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flightdeck.core.clock import utcnow
from flightdeck.orm.accounts import UserRow
from flightdeck.orm.base import Base, Versioned


class GoalStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    ACHIEVED = "achieved"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


STATUS_VALUES = ", ".join(f"'{s.value}'" for s in GoalStatus)


class GoalRow(Versioned, Base):
    __tablename__ = "goals"
    __table_args__ = (CheckConstraint(f"status IN ({STATUS_VALUES})", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    value_statement: Mapped[str] = mapped_column(Text, default="")
    business_unit: Mapped[str] = mapped_column(String(80), default="")
    target_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default=GoalStatus.DRAFT.value)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[UserRow] = relationship(foreign_keys=[owner_id], lazy="joined")
