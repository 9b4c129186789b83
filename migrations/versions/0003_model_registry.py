"""The model registry: models and their KPIs, versions with evidence, content-addressed artifacts,
the artifact allow-list, feature mappings, stage events, production deployments, prediction logs
and outcomes.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prediction_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.Float(), nullable=False),
        sa.Column("prediction_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_outcomes")),
    )
    with op.batch_alter_table("prediction_outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prediction_outcomes_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_prediction_outcomes_model_at", ["model_id", "observed_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_prediction_outcomes_prediction_id"), ["prediction_id"], unique=False
        )

    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("predicted_at", sa.DateTime(), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("prediction", sa.Float(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
    )
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_predictions_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_predictions_model_subject_at", ["model_id", "subject_key", "predicted_at"], unique=False
        )
        batch_op.create_index("ix_predictions_version_at", ["version_id", "predicted_at"], unique=False)

    op.create_table(
        "model_artifacts",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_model_artifacts_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_model_artifacts")),
    )
    op.create_table(
        "trusted_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_name", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_trusted_types_added_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_types")),
        sa.UniqueConstraint("type_name", name=op.f("uq_trusted_types_type_name")),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("value_tp", sa.Float(), nullable=True),
        sa.Column("value_fp", sa.Float(), nullable=True),
        sa.Column("value_fn", sa.Float(), nullable=True),
        sa.Column("value_tn", sa.Float(), nullable=True),
        sa.Column("value_currency", sa.String(length=3), nullable=False),
        sa.Column("value_note", sa.Text(), nullable=False),
        sa.Column("value_set_by_id", sa.Integer(), nullable=True),
        sa.Column("value_set_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("task IN ('classification', 'regression')", name=op.f("ck_models_task_known")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_models_created_by_id_users")),
        sa.ForeignKeyConstraint(["goal_id"], ["goals.id"], name=op.f("fk_models_goal_id_goals")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_models_updated_by_id_users")),
        sa.ForeignKeyConstraint(
            ["value_set_by_id"], ["users.id"], name=op.f("fk_models_value_set_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("key", name=op.f("uq_models_key")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_created_by_id"), ["created_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_models_goal_id"), ["goal_id"], unique=False)

    op.create_table(
        "model_kpis",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["kpi_id"], ["kpis.id"], name=op.f("fk_model_kpis_kpi_id_kpis")),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_model_kpis_model_id_models"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("model_id", "kpi_id", name=op.f("pk_model_kpis")),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("framework", sa.String(length=64), nullable=False),
        sa.Column("estimator", sa.String(length=255), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("feature_kinds", sa.JSON(), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("positive_label", sa.String(length=120), nullable=False),
        sa.Column("training_date", sa.Date(), nullable=True),
        sa.Column("training_reference", sa.Text(), nullable=False),
        sa.Column("intended_use", sa.Text(), nullable=False),
        sa.Column("limitations", sa.Text(), nullable=False),
        sa.Column("refresh_days", sa.Integer(), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("holdout_file", sa.String(length=255), nullable=False),
        sa.Column("holdout_sha256", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("profile_source", sa.String(length=16), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "stage IN ('draft', 'in_review', 'approved', 'production', 'retired')",
            name=op.f("ck_model_versions_stage_known"),
        ),
        sa.ForeignKeyConstraint(
            ["artifact_sha256"],
            ["model_artifacts.sha256"],
            name=op.f("fk_model_versions_artifact_sha256_model_artifacts"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_model_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_model_versions_model_id_models"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_model_versions_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_id", "number", name=op.f("uq_model_versions_model_id_number")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_versions_artifact_sha256"), ["artifact_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_model_versions_created_by_id"), ["created_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_versions_model_id"), ["model_id"], unique=False)

    op.create_table(
        "model_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by_name", sa.String(length=120), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_by_name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_model_deployments_model_id_models"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_deployments_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_deployments")),
    )
    with op.batch_alter_table("model_deployments", schema=None) as batch_op:
        batch_op.create_index("ix_model_deployments_model_started", ["model_id", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_deployments_version_id"), ["version_id"], unique=False)

    op.create_table(
        "model_feature_maps",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("feature", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["users.id"], name=op.f("fk_model_feature_maps_confirmed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["field_id"], ["data_fields.id"], name=op.f("fk_model_feature_maps_field_id_data_fields")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_feature_maps_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "feature", name=op.f("pk_model_feature_maps")),
    )
    with op.batch_alter_table("model_feature_maps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_feature_maps_field_id"), ["field_id"], unique=False)

    op.create_table(
        "model_stage_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_stage", sa.String(length=16), nullable=False),
        sa.Column("to_stage", sa.String(length=16), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_model_stage_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_stage_events_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_stage_events")),
    )
    with op.batch_alter_table("model_stage_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_stage_events_version_id"), ["version_id"], unique=False)

    op.create_table(
        "prediction_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=True),
        sa.Column("last_at", sa.DateTime(), nullable=True),
        sa.Column("loaded_by_id", sa.Integer(), nullable=True),
        sa.Column("loaded_by_name", sa.String(length=120), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('predictions', 'outcomes')", name=op.f("ck_prediction_batches_kind_known")
        ),
        sa.CheckConstraint(
            "source IN ('upload', 'cli', 'demo')", name=op.f("ck_prediction_batches_source_known")
        ),
        sa.ForeignKeyConstraint(
            ["loaded_by_id"], ["users.id"], name=op.f("fk_prediction_batches_loaded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_prediction_batches_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_prediction_batches_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_batches")),
    )
    with op.batch_alter_table("prediction_batches", schema=None) as batch_op:
        batch_op.create_index("ix_prediction_batches_model_sha256", ["model_id", "sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prediction_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_prediction_batches_model_sha256")

    op.drop_table("prediction_batches")
    with op.batch_alter_table("model_stage_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_stage_events_version_id"))

    op.drop_table("model_stage_events")
    with op.batch_alter_table("model_feature_maps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_feature_maps_field_id"))

    op.drop_table("model_feature_maps")
    with op.batch_alter_table("model_deployments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_deployments_version_id"))
        batch_op.drop_index("ix_model_deployments_model_started")

    op.drop_table("model_deployments")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_versions_model_id"))
        batch_op.drop_index(batch_op.f("ix_model_versions_created_by_id"))
        batch_op.drop_index(batch_op.f("ix_model_versions_artifact_sha256"))

    op.drop_table("model_versions")
    op.drop_table("model_kpis")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_goal_id"))
        batch_op.drop_index(batch_op.f("ix_models_created_by_id"))

    op.drop_table("models")
    op.drop_table("trusted_types")
    op.drop_table("model_artifacts")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index("ix_predictions_version_at")
        batch_op.drop_index("ix_predictions_model_subject_at")
        batch_op.drop_index(batch_op.f("ix_predictions_batch_id"))

    op.drop_table("predictions")
    with op.batch_alter_table("prediction_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prediction_outcomes_prediction_id"))
        batch_op.drop_index("ix_prediction_outcomes_model_at")
        batch_op.drop_index(batch_op.f("ix_prediction_outcomes_batch_id"))

    op.drop_table("prediction_outcomes")
