"""The model registry: models, their versions and artifacts, the artifact allow-list, stage history,
production deployments, prediction logs and outcomes (docs/architecture.md, "The domain")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flightdeck.core.clock import utcnow
from flightdeck.orm.accounts import UserRow
from flightdeck.orm.base import Base, Versioned, quoted
from flightdeck.orm.goals import GoalRow

TASKS = ("classification", "regression")
STAGES = ("draft", "in_review", "approved", "production", "retired")
LOG_KINDS = ("predictions", "outcomes")
LOG_SOURCES = ("upload", "cli", "demo")


class ArtifactRow(Base):
    """A model file, content-addressed: the bytes live in the database so that every app process
    sharing it reads the same artifact, and the sha256 is recomputed on every load."""

    __tablename__ = "model_artifacts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrustedTypeRow(Base):
    """A type an admin allows in artifacts beyond skops' own defaults, with the reason why."""

    __tablename__ = "trusted_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    type_name: Mapped[str] = mapped_column(String(255), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    added_by: Mapped[UserRow | None] = relationship(lazy="joined")


class ModelRow(Versioned, Base):
    """A model attached to a goal, naming the KPIs it should move. The business owner of the goal
    states what each kind of decision error is worth (`value_*`, per decision)."""

    __tablename__ = "models"
    __table_args__ = (CheckConstraint(f"task IN ({quoted(TASKS)})", name="task_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    task: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    value_tp: Mapped[float | None] = mapped_column(Float)
    value_fp: Mapped[float | None] = mapped_column(Float)
    value_fn: Mapped[float | None] = mapped_column(Float)
    value_tn: Mapped[float | None] = mapped_column(Float)
    value_currency: Mapped[str] = mapped_column(String(3), default="EUR")
    value_note: Mapped[str] = mapped_column(Text, default="")
    value_set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    value_set_at: Mapped[datetime | None]

    goal: Mapped[GoalRow] = relationship(lazy="joined")
    created_by: Mapped[UserRow] = relationship(foreign_keys=[created_by_id], lazy="joined")
    kpi_links: Mapped[list[ModelKpiRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ModelKpiRow(Base):
    __tablename__ = "model_kpis"

    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id"), primary_key=True)


class ModelVersionRow(Versioned, Base):
    """One trained model: its artifact, what it expects, what Flightdeck measured, and its stage."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "number"),
        CheckConstraint(f"stage IN ({quoted(STAGES)})", name="stage_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16), default="draft")
    artifact_sha256: Mapped[str] = mapped_column(ForeignKey("model_artifacts.sha256"), index=True)
    framework: Mapped[str] = mapped_column(String(64))
    estimator: Mapped[str] = mapped_column(String(255))
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    feature_kinds: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    target: Mapped[str] = mapped_column(String(120))
    positive_label: Mapped[str] = mapped_column(String(120), default="")
    training_date: Mapped[date | None]
    training_reference: Mapped[str] = mapped_column(Text, default="")
    intended_use: Mapped[str] = mapped_column(Text, default="")
    limitations: Mapped[str] = mapped_column(Text, default="")
    refresh_days: Mapped[int | None] = mapped_column(Integer)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holdout_file: Mapped[str] = mapped_column(String(255), default="")
    holdout_sha256: Mapped[str] = mapped_column(String(64), default="")
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    profile_source: Mapped[str] = mapped_column(String(16), default="holdout")
    evaluated_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    model: Mapped[ModelRow] = relationship(lazy="joined")
    created_by: Mapped[UserRow] = relationship(foreign_keys=[created_by_id], lazy="joined")
    feature_maps: Mapped[list[FeatureMapRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="FeatureMapRow.position"
    )


class FeatureMapRow(Base):
    """A version's feature and the data-dictionary field it means: suggested by name, confirmed by
    a data scientist (`confirmed_by_id`)."""

    __tablename__ = "model_feature_maps"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    feature: Mapped[str] = mapped_column(String(120), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    field_id: Mapped[int | None] = mapped_column(ForeignKey("data_fields.id"), index=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]


class StageEventRow(Base):
    """One stage change of a version: who, when, why. Rejections keep the version in draft."""

    __tablename__ = "model_stage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_stage: Mapped[str] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    rationale: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DeploymentRow(Base):
    """A span during which a version served in production; `ended_at` is open while it still does."""

    __tablename__ = "model_deployments"
    __table_args__ = (Index("ix_model_deployments_model_started", "model_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by_name: Mapped[str] = mapped_column(String(120))
    ended_at: Mapped[datetime | None]
    ended_by_name: Mapped[str] = mapped_column(String(120), default="")


class LogBatchRow(Base):
    """One load of prediction logs or outcomes: who, when, from which file."""

    __tablename__ = "prediction_batches"
    __table_args__ = (
        CheckConstraint(f"kind IN ({quoted(LOG_KINDS)})", name="kind_known"),
        CheckConstraint(f"source IN ({quoted(LOG_SOURCES)})", name="source_known"),
        Index("ix_prediction_batches_model_sha256", "model_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str | None] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime | None]
    last_at: Mapped[datetime | None]
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    loaded_by_name: Mapped[str] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PredictionRow(Base):
    """One logged prediction. `subject_key` is the HMAC-SHA256 pseudonym, never the raw key;
    `features` holds the inputs as one JSON object per row (read per feature with the JSON
    functions of either database). No foreign keys, as on KPI observations: bulk loads stay fast
    and only the ingest writes here."""

    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_version_at", "version_id", "predicted_at"),
        Index("ix_predictions_model_subject_at", "model_id", "subject_key", "predicted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(Integer, index=True)
    predicted_at: Mapped[datetime]
    subject_key: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(64), default="")
    prediction: Mapped[float] = mapped_column(Float)
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutcomeRow(Base):
    """What actually happened to a subject, joined to the latest prediction at or before it."""

    __tablename__ = "prediction_outcomes"
    __table_args__ = (Index("ix_prediction_outcomes_model_at", "model_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(Integer, index=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    observed_at: Mapped[datetime]
    outcome: Mapped[float] = mapped_column(Float)
    prediction_id: Mapped[int | None] = mapped_column(Integer, index=True)
