"""run_detectors: one row per detector per run (version, effective parameters, status, leads, seconds)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:05:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_detectors",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("detector", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("leads", sa.Integer(), server_default="0", nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("params", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "detector"),
    )


def downgrade() -> None:
    op.drop_table("run_detectors")
