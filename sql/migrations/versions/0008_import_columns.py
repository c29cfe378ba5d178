"""Columns for real exports: the sheet of every source row, a ledger line's chart of accounts, where its counterparty was read, the export's
columns the contract has no column for (extra), the source of every evidence record, the 一卡通 roll's payee and household head, contract terms,
residents' relation to the household head, relatives' 工作单位

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = {
    "wh_ledger": [("chart", sa.Text), ("counterparty_source", sa.Text), ("extra", sa.Text)],
    "wh_contracts": [("start_date", sa.Date), ("end_date", sa.Date), ("annual_rent", sa.Float), ("extra", sa.Text)],
    "wh_claims": [("payee_name", sa.Text), ("payee_id", sa.Text), ("household_head_name", sa.Text),
                  ("household_head_id", sa.Text), ("extra", sa.Text)],
    "wh_residents": [("relation_to_head", sa.Text), ("extra", sa.Text)],
    "wh_officials": [("employer", sa.Text), ("extra", sa.Text)],
}


def upgrade() -> None:
    for table, cols in NEW.items():
        with op.batch_alter_table(table) as batch:
            for name, kind in cols:
                batch.add_column(sa.Column(name, kind(), nullable=True))
            batch.add_column(sa.Column("source_sheet", sa.Text(), nullable=True))
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("source_sheet", sa.Text(), nullable=True))
    with op.batch_alter_table("lead_evidence") as batch:
        batch.add_column(sa.Column("source_file", sa.Text(), nullable=True))
        batch.add_column(sa.Column("source_sheet", sa.Text(), nullable=True))
        batch.add_column(sa.Column("source_row", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead_evidence") as batch:
        for c in ("source_row", "source_sheet", "source_file"):
            batch.drop_column(c)
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("source_sheet")
    for table, cols in NEW.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_column("source_sheet")
            for name, _ in reversed(cols):
                batch.drop_column(name)
