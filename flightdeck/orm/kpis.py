"""KPIs, their observations, the week/month roll-ups kept at ingest time, and ingest batches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flightdeck.core.clock import utcnow
from flightdeck.orm.accounts import UserRow
from flightdeck.orm.base import Base, Versioned, quoted
from flightdeck.orm.goals import GoalRow

DIRECTIONS = ("up", "down")
AGGREGATIONS = ("sum", "mean", "last")
FORMULAS = ("none", "sum", "mean", "ratio")
FREQUENCIES = ("day", "week", "month")
SOURCES = ("upload", "sql", "manual")
ROLLUP_GRAINS = ("day", "week", "month")  # own rows: week and month; derived: all three
OWN_GRAINS = ("week", "month")
BATCH_SOURCES = ("upload", "cli", "sql", "manual", "demo")


class KpiRow(Versioned, Base):
    """What success means for a goal, in numbers (docs/architecture.md, "The domain"). A KPI with a
    `formula` other than 'none' is computed from its drivers and has no observations of its own."""

    __tablename__ = "kpis"
    __table_args__ = (
        CheckConstraint(f"direction IN ({quoted(DIRECTIONS)})", name="direction_known"),
        CheckConstraint(f"aggregation IN ({quoted(AGGREGATIONS)})", name="aggregation_known"),
        CheckConstraint(f"formula IN ({quoted(FORMULAS)})", name="formula_known"),
        CheckConstraint(f"frequency IN ({quoted(FREQUENCIES)})", name="frequency_known"),
        CheckConstraint(f"source IN ({quoted(SOURCES)})", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kpis.id"), index=True)
    definition: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(4))
    aggregation: Mapped[str] = mapped_column(String(8))
    formula: Mapped[str] = mapped_column(String(8), default="none")
    numerator_id: Mapped[int | None] = mapped_column(ForeignKey("kpis.id"))
    denominator_id: Mapped[int | None] = mapped_column(ForeignKey("kpis.id"))
    ratio_scale: Mapped[float] = mapped_column(Float, default=1.0)
    frequency: Mapped[str] = mapped_column(String(8))
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_period: Mapped[date | None]
    target_value: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[date | None]
    value_per_unit: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    warning_threshold: Mapped[float | None] = mapped_column(Float)
    critical_threshold: Mapped[float | None] = mapped_column(Float)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    hierarchy_id: Mapped[int | None] = mapped_column(ForeignKey("hierarchies.id"))
    source: Mapped[str] = mapped_column(String(8), default="upload")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    goal: Mapped[GoalRow] = relationship(lazy="joined")
    owner: Mapped[UserRow] = relationship(foreign_keys=[owner_id], lazy="joined")


class ObservationRow(Base):
    """(KPI, period, segment) → value. The natural key makes re-ingesting an upsert; for a daily
    KPI this table is also its day roll-up. `segment` is '' for the whole business.

    No foreign keys here or on the roll-ups, on purpose: PostgreSQL checks each one with a
    trigger per row, which took a million-row load from 1.9 s to 8.2 s with two of them. Only the
    ingest writes these tables, and it holds a lock on the KPI row while it does."""

    __tablename__ = "kpi_observations"

    kpi_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(Integer)


class RollupRow(Base):
    """Buckets per segment, maintained in the ingest transaction, so pages aggregate a few
    hundred rows instead of every observation.

    Own rows (`derived` false) hold a segment's week and month buckets of its own observations
    (its day buckets are the observations themselves). Derived rows hold, per day, week and month,
    a hierarchy node rolled up from its children ('' is the whole business): each child counts
    with its own value in that period if it has one, else with its derived one."""

    __tablename__ = "kpi_rollups"
    __table_args__ = (CheckConstraint(f"grain IN ({quoted(ROLLUP_GRAINS)})", name="grain_known"),)

    # Key order (kpi, grain, segment, period): a page reads a node's periods in one index range.
    kpi_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    derived: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    last_period: Mapped[date] = mapped_column(Date)
    last_value: Mapped[float] = mapped_column(Float)


class IngestBatchRow(Base):
    """One committed load: who, when, from what (and its sha256, for duplicate detection)."""

    __tablename__ = "ingest_batches"
    __table_args__ = (
        CheckConstraint(f"source IN ({quoted(BATCH_SOURCES)})", name="source_known"),
        Index("ix_ingest_batches_kpi_sha256", "kpi_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_new: Mapped[int] = mapped_column(Integer, default=0)
    rows_changed: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    period_min: Mapped[date | None]
    period_max: Mapped[date | None]
    declared_format: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    loaded_by_name: Mapped[str] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    kpi: Mapped[KpiRow] = relationship(lazy="joined")


class SqlConnectionRow(Versioned, Base):
    """A named read-only SQL source. Its URL is never stored here: it is looked up by name in
    the secrets file or the environment when the connection is used."""

    __tablename__ = "sql_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=10)
    row_cap: Mapped[int] = mapped_column(Integer, default=100_000)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KpiSqlQueryRow(Versioned, Base):
    """The SELECT a KPI owner attached to pull a KPI's values from a SQL source."""

    __tablename__ = "kpi_sql_queries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), unique=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sql_connections.id"), index=True)
    query: Mapped[str] = mapped_column(Text)
    declared_format: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_sync_at: Mapped[datetime | None]
    last_sync_ok: Mapped[bool | None]
    last_sync_message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    kpi: Mapped[KpiRow] = relationship(lazy="joined")
    connection: Mapped[SqlConnectionRow] = relationship(lazy="joined")
