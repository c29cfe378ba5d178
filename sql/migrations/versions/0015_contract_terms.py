"""wh_contract_terms: contracts' payment schedules (期次, 应付金额, 付款日期)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 19:50:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [("term_id", sa.Text), ("contract_no", sa.Text), ("village_code", sa.Text), ("period", sa.Text),
           ("amount_due", sa.Float), ("due_date", sa.Date), ("status", sa.Text), ("extra", sa.Text)]


def upgrade() -> None:
    op.create_table(
        "wh_contract_terms",
        sa.Column("row_key", sa.Text(), nullable=False),
        *[sa.Column(name, kind(), nullable=True) for name, kind in COLUMNS],
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("loaded_run", sa.Integer(), nullable=True),
        sa.Column("source_sheet", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("row_key"),
    )
    op.create_index("ix_wh_contract_terms_village", "wh_contract_terms", ["village_code"])


def downgrade() -> None:
    op.drop_index("ix_wh_contract_terms_village", table_name="wh_contract_terms")
    op.drop_table("wh_contract_terms")
