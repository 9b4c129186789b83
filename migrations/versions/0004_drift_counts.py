"""Drift counts: per version, day, feature and reference bin, kept at prediction ingest.

Logs loaded before this revision are not counted; drift reads only what was logged after it.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prediction_bins",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("feature", sa.String(length=120), nullable=False),
        sa.Column("bin", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version_id", "day", "feature", "bin", name=op.f("pk_prediction_bins")),
    )


def downgrade() -> None:
    op.drop_table("prediction_bins")
