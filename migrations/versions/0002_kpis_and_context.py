"""KPIs with business context: the data dictionary, hierarchies, KPIs and their observations and
roll-ups, ingest batches, SQL sources, and alerts with their webhook deliveries.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("data_type", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=False),
        sa.Column("allowed_codes", sa.JSON(), nullable=False),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column("lawful_basis", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "data_type IN ('text', 'integer', 'decimal', 'date', 'datetime', 'boolean', 'code', 'identifier')",
            name=op.f("ck_data_fields_data_type_known"),
        ),
        sa.CheckConstraint(
            "lawful_basis IN ('', 'consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests')",
            name=op.f("ck_data_fields_lawful_basis_known"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_data_fields_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_data_fields_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_fields")),
        sa.UniqueConstraint("key", name=op.f("uq_data_fields_key")),
    )
    with op.batch_alter_table("data_fields", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_fields_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "hierarchies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_hierarchies_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_hierarchies_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hierarchies")),
        sa.UniqueConstraint("key", name=op.f("uq_hierarchies_key")),
    )
    with op.batch_alter_table("hierarchies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hierarchies_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "sql_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("row_cap", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_sql_connections_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sql_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_sql_connections_name")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("condition_key", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("severity IN ('warning', 'critical')", name=op.f("ck_alerts_severity_known")),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_alerts_acknowledged_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_alerts_goal_id_goals"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_goal_id"), ["goal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index("ix_alerts_subject", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(
            "uq_alerts_open_condition",
            ["condition_key"],
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )

    op.create_table(
        "hierarchy_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hierarchy_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["hierarchy_id"],
            ["hierarchies.id"],
            name=op.f("fk_hierarchy_nodes_hierarchy_id_hierarchies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["hierarchy_nodes.id"], name=op.f("fk_hierarchy_nodes_parent_id_hierarchy_nodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hierarchy_nodes")),
        sa.UniqueConstraint("hierarchy_id", "code", name=op.f("uq_hierarchy_nodes_hierarchy_id_code")),
    )
    with op.batch_alter_table("hierarchy_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hierarchy_nodes_hierarchy_id"), ["hierarchy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hierarchy_nodes_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "kpis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("aggregation", sa.String(length=8), nullable=False),
        sa.Column("formula", sa.String(length=8), nullable=False),
        sa.Column("numerator_id", sa.Integer(), nullable=True),
        sa.Column("denominator_id", sa.Integer(), nullable=True),
        sa.Column("ratio_scale", sa.Float(), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=True),
        sa.Column("baseline_period", sa.Date(), nullable=True),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("value_per_unit", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("warning_threshold", sa.Float(), nullable=True),
        sa.Column("critical_threshold", sa.Float(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("hierarchy_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("aggregation IN ('sum', 'mean', 'last')", name=op.f("ck_kpis_aggregation_known")),
        sa.CheckConstraint("direction IN ('up', 'down')", name=op.f("ck_kpis_direction_known")),
        sa.CheckConstraint("formula IN ('none', 'sum', 'mean', 'ratio')", name=op.f("ck_kpis_formula_known")),
        sa.CheckConstraint("frequency IN ('day', 'week', 'month')", name=op.f("ck_kpis_frequency_known")),
        sa.CheckConstraint("source IN ('upload', 'sql', 'manual')", name=op.f("ck_kpis_source_known")),
        sa.ForeignKeyConstraint(["denominator_id"], ["kpis.id"], name=op.f("fk_kpis_denominator_id_kpis")),
        sa.ForeignKeyConstraint(["goal_id"], ["goals.id"], name=op.f("fk_kpis_goal_id_goals")),
        sa.ForeignKeyConstraint(
            ["hierarchy_id"], ["hierarchies.id"], name=op.f("fk_kpis_hierarchy_id_hierarchies")
        ),
        sa.ForeignKeyConstraint(["numerator_id"], ["kpis.id"], name=op.f("fk_kpis_numerator_id_kpis")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_kpis_owner_id_users")),
        sa.ForeignKeyConstraint(["parent_id"], ["kpis.id"], name=op.f("fk_kpis_parent_id_kpis")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_kpis_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpis")),
        sa.UniqueConstraint("key", name=op.f("uq_kpis_key")),
    )
    with op.batch_alter_table("kpis", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpis_goal_id"), ["goal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kpis_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kpis_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "event IN ('raised', 'escalated', 'cleared')", name=op.f("ck_alert_deliveries_event_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered')", name=op.f("ck_alert_deliveries_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_deliveries_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_deliveries_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_alert_deliveries_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_new", sa.Integer(), nullable=False),
        sa.Column("rows_changed", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("period_min", sa.Date(), nullable=True),
        sa.Column("period_max", sa.Date(), nullable=True),
        sa.Column("declared_format", sa.JSON(), nullable=False),
        sa.Column("loaded_by_id", sa.Integer(), nullable=True),
        sa.Column("loaded_by_name", sa.String(length=120), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "source IN ('upload', 'cli', 'sql', 'manual', 'demo')",
            name=op.f("ck_ingest_batches_source_known"),
        ),
        sa.ForeignKeyConstraint(
            ["kpi_id"], ["kpis.id"], name=op.f("fk_ingest_batches_kpi_id_kpis"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["loaded_by_id"], ["users.id"], name=op.f("fk_ingest_batches_loaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.create_index("ix_ingest_batches_kpi_sha256", ["kpi_id", "sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_ingest_batches_loaded_at"), ["loaded_at"], unique=False)

    op.create_table(
        "kpi_rollups",
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("derived", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("last_period", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.CheckConstraint("grain IN ('day', 'week', 'month')", name=op.f("ck_kpi_rollups_grain_known")),
        sa.PrimaryKeyConstraint(
            "kpi_id", "grain", "segment", "period", "derived", name=op.f("pk_kpi_rollups")
        ),
    )
    op.create_table(
        "kpi_sql_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("declared_format", sa.JSON(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(), nullable=True),
        sa.Column("last_sync_ok", sa.Boolean(), nullable=True),
        sa.Column("last_sync_message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sql_connections.id"],
            name=op.f("fk_kpi_sql_queries_connection_id_sql_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["kpi_id"], ["kpis.id"], name=op.f("fk_kpi_sql_queries_kpi_id_kpis"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_kpi_sql_queries_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_sql_queries")),
        sa.UniqueConstraint("kpi_id", name=op.f("uq_kpi_sql_queries_kpi_id")),
    )
    with op.batch_alter_table("kpi_sql_queries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_sql_queries_connection_id"), ["connection_id"], unique=False)

    op.create_table(
        "alert_delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["alert_deliveries.id"],
            name=op.f("fk_alert_delivery_attempts_delivery_id_alert_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_delivery_attempts")),
    )
    with op.batch_alter_table("alert_delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_delivery_attempts_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "kpi_observations",
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("kpi_id", "period", "segment", name=op.f("pk_kpi_observations")),
    )


def downgrade() -> None:
    op.drop_table("kpi_observations")
    with op.batch_alter_table("alert_delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_delivery_attempts_delivery_id"))

    op.drop_table("alert_delivery_attempts")
    with op.batch_alter_table("kpi_sql_queries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_sql_queries_connection_id"))

    op.drop_table("kpi_sql_queries")
    op.drop_table("kpi_rollups")
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_batches_loaded_at"))
        batch_op.drop_index("ix_ingest_batches_kpi_sha256")

    op.drop_table("ingest_batches")
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_deliveries_due")
        batch_op.drop_index(batch_op.f("ix_alert_deliveries_alert_id"))

    op.drop_table("alert_deliveries")
    with op.batch_alter_table("kpis", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpis_parent_id"))
        batch_op.drop_index(batch_op.f("ix_kpis_owner_id"))
        batch_op.drop_index(batch_op.f("ix_kpis_goal_id"))

    op.drop_table("kpis")
    with op.batch_alter_table("hierarchy_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hierarchy_nodes_parent_id"))
        batch_op.drop_index(batch_op.f("ix_hierarchy_nodes_hierarchy_id"))

    op.drop_table("hierarchy_nodes")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alerts_open_condition",
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )
        batch_op.drop_index("ix_alerts_subject")
        batch_op.drop_index(batch_op.f("ix_alerts_raised_at"))
        batch_op.drop_index(batch_op.f("ix_alerts_kind"))
        batch_op.drop_index(batch_op.f("ix_alerts_goal_id"))

    op.drop_table("alerts")
    op.drop_table("sql_connections")
    with op.batch_alter_table("hierarchies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hierarchies_owner_id"))

    op.drop_table("hierarchies")
    with op.batch_alter_table("data_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_fields_owner_id"))

    op.drop_table("data_fields")
