"""Readiness: attestations of attested checks (per version), the reviewer's audited override of
the production gate, and score snapshots with the events that moved them.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "readiness_attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("by_name", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_by_name", sa.String(length=120), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_readiness_attestations_by_id_users")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_readiness_attestations_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_attestations")),
    )
    with op.batch_alter_table("readiness_attestations", schema=None) as batch_op:
        batch_op.create_index("ix_readiness_attestations_version", ["version_id", "check_id"], unique=False)

    op.create_table(
        "readiness_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("headline", sa.Float(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("by_name", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_readiness_overrides_by_id_users")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_readiness_overrides_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_overrides")),
    )
    with op.batch_alter_table("readiness_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_readiness_overrides_version_id"), ["version_id"], unique=False)

    op.create_table(
        "readiness_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("rubric_version", sa.String(length=16), nullable=False),
        sa.Column("headline", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("statuses", sa.JSON(), nullable=False),
        sa.Column("blockers", sa.Integer(), nullable=False),
        sa.Column("top_blocker", sa.String(length=200), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_readiness_snapshots_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_snapshots")),
    )
    with op.batch_alter_table("readiness_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_readiness_snapshots_version_id", ["version_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("readiness_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_readiness_snapshots_version_id")

    op.drop_table("readiness_snapshots")
    with op.batch_alter_table("readiness_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_readiness_overrides_version_id"))

    op.drop_table("readiness_overrides")
    with op.batch_alter_table("readiness_attestations", schema=None) as batch_op:
        batch_op.drop_index("ix_readiness_attestations_version")

    op.drop_table("readiness_attestations")
