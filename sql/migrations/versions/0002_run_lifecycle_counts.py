"""runs: how many leads were reopened and resolved by data in each run

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:40:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch_op:
        batch_op.add_column(sa.Column("leads_reopened", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("leads_resolved", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch_op:
        batch_op.drop_column("leads_resolved")
        batch_op.drop_column("leads_reopened")
