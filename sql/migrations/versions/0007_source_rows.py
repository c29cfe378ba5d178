"""source_rows: fingerprints of source rows already loaded cleanly, so a nightly run only processes what is new

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_rows",
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "run_id"),
    )


def downgrade() -> None:
    op.drop_table("source_rows")
