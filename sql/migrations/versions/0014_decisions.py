"""wh_decisions: the villages' decision records (四议两公开)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 19:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [("decision_id", sa.Text), ("village_code", sa.Text), ("meeting_date", sa.Date), ("kind", sa.Text),
           ("subject", sa.Text), ("amount", sa.Float), ("contract_no", sa.Text), ("result", sa.Text),
           ("extra", sa.Text)]


def upgrade() -> None:
    op.create_table(
        "wh_decisions",
        sa.Column("row_key", sa.Text(), nullable=False),
        *[sa.Column(name, kind(), nullable=True) for name, kind in COLUMNS],
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("loaded_run", sa.Integer(), nullable=True),
        sa.Column("source_sheet", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("row_key"),
    )
    op.create_index("ix_wh_decisions_village", "wh_decisions", ["village_code"])


def downgrade() -> None:
    op.drop_index("ix_wh_decisions_village", table_name="wh_decisions")
    op.drop_table("wh_decisions")
