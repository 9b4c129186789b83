"""Readiness evidence people assert (attestations), the reviewer's override of the production gate,
and the snapshots that keep the score's history (docs/methods.md, "Readiness")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.core.clock import utcnow
from flightdeck.orm.base import Base


class AttestationRow(Base):
    """A person asserts an attested check for one version, with a note and optional link. It
    belongs to the version, so a new version starts without any. Withdrawn rows stay for history."""

    __tablename__ = "readiness_attestations"
    __table_args__ = (Index("ix_readiness_attestations_version", "version_id", "check_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    check_id: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500), default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    by_name: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_by_name: Mapped[str] = mapped_column(String(120), default="")
    withdrawn_at: Mapped[datetime | None]


class GateOverrideRow(Base):
    """A reviewer lets a version below Production-ready go to production, saying why."""

    __tablename__ = "readiness_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(20))
    headline: Mapped[float] = mapped_column(Float)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    by_name: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class SnapshotRow(Base):
    """The score whenever the evidence changed, with what moved it. The portfolio reads the newest
    row per version instead of scoring again."""

    __tablename__ = "readiness_snapshots"
    __table_args__ = (Index("ix_readiness_snapshots_version_id", "version_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    rubric_version: Mapped[str] = mapped_column(String(16))
    headline: Mapped[float] = mapped_column(Float)
    mean: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(20))
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON)
    statuses: Mapped[dict[str, Any]] = mapped_column(JSON)
    blockers: Mapped[int] = mapped_column(Integer, default=0)
    top_blocker: Mapped[str] = mapped_column(String(200), default="")
    cause: Mapped[str] = mapped_column(String(200), default="")
