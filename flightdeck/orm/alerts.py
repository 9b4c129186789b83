"""Alerts shared by every monitor (KPI thresholds and trajectories now; drift, performance,
readiness later), and the log of their webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flightdeck.core.clock import utcnow
from flightdeck.orm.base import Base, quoted

SEVERITIES = ("warning", "critical")
DELIVERY_EVENTS = ("raised", "escalated", "cleared")
DELIVERY_STATES = ("pending", "delivered")


class AlertRow(Base):
    """One occurrence of a condition, from raised to cleared. At most one open alert per
    condition key (a partial unique index), so a condition is raised once, not once per check."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(f"severity IN ({quoted(SEVERITIES)})", name="severity_known"),
        Index(
            "uq_alerts_open_condition",
            "condition_key",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
        Index("ix_alerts_subject", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"), index=True)
    condition_key: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None]
    raised_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    escalated_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]


class AlertDeliveryRow(Base):
    """A webhook notification owed for an alert event; pending until a POST succeeds."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        CheckConstraint(f"event IN ({quoted(DELIVERY_EVENTS)})", name="event_known"),
        CheckConstraint(f"status IN ({quoted(DELIVERY_STATES)})", name="status_known"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    alert: Mapped[AlertRow] = relationship(lazy="joined")


class AlertDeliveryAttemptRow(Base):
    """Every POST attempted, successful or not: the delivery log an operator reads."""

    __tablename__ = "alert_delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("alert_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
