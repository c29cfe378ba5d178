"""wh_bank: bank statements of the villages' own accounts (银行流水), one row per transaction

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [("txn_id", sa.Text), ("village_code", sa.Text), ("account_no", sa.Text), ("account_name", sa.Text),
           ("txn_date", sa.Date), ("txn_time", sa.Text), ("summary", sa.Text), ("amount_out", sa.Float),
           ("amount_in", sa.Float), ("balance", sa.Float), ("counterparty_name", sa.Text),
           ("counterparty_account", sa.Text), ("counterparty_bank", sa.Text), ("serial_no", sa.Text),
           ("purpose", sa.Text), ("extra", sa.Text)]


def upgrade() -> None:
    op.create_table(
        "wh_bank",
        sa.Column("row_key", sa.Text(), nullable=False),
        *[sa.Column(name, kind(), nullable=True) for name, kind in COLUMNS],
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("loaded_run", sa.Integer(), nullable=True),
        sa.Column("source_sheet", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("row_key"),
    )
    op.create_index("ix_wh_bank_village", "wh_bank", ["village_code"])


def downgrade() -> None:
    op.drop_index("ix_wh_bank_village", table_name="wh_bank")
    op.drop_table("wh_bank")
