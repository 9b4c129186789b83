"""Business context of the data: the data dictionary and coded hierarchies (Region → Store)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flightdeck.core.clock import utcnow
from flightdeck.orm.accounts import UserRow
from flightdeck.orm.base import Base, Versioned, quoted

DATA_TYPES = ("text", "integer", "decimal", "date", "datetime", "boolean", "code", "identifier")
# GDPR Art. 6(1): the six lawful bases for processing personal data.
LAWFUL_BASES = (
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
)


class DataFieldRow(Versioned, Base):
    """One field as it appears in source data, with the meaning the business gives it."""

    __tablename__ = "data_fields"
    __table_args__ = (
        CheckConstraint(f"data_type IN ({quoted(DATA_TYPES)})", name="data_type_known"),
        CheckConstraint(f"lawful_basis IN ('', {quoted(LAWFUL_BASES)})", name="lawful_basis_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    meaning: Mapped[str] = mapped_column(Text, default="")
    data_type: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(32), default="")
    format: Mapped[str] = mapped_column(String(64), default="")
    allowed_codes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    lawful_basis: Mapped[str] = mapped_column(String(32), default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[UserRow] = relationship(foreign_keys=[owner_id], lazy="joined")


class HierarchyRow(Versioned, Base):
    """A coded hierarchy such as Region → Store; `levels` names each depth, top first."""

    __tablename__ = "hierarchies"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[UserRow] = relationship(foreign_keys=[owner_id], lazy="joined")
    nodes: Mapped[list[HierarchyNodeRow]] = relationship(
        back_populates="hierarchy", cascade="all, delete-orphan", order_by="HierarchyNodeRow.code"
    )


class HierarchyNodeRow(Base):
    """A coded member of a hierarchy. Edits bump the hierarchy's version, so two people editing
    the same hierarchy cannot overwrite each other unseen."""

    __tablename__ = "hierarchy_nodes"
    __table_args__ = (UniqueConstraint("hierarchy_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hierarchy_id: Mapped[int] = mapped_column(ForeignKey("hierarchies.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("hierarchy_nodes.id"), index=True)

    hierarchy: Mapped[HierarchyRow] = relationship(back_populates="nodes")
