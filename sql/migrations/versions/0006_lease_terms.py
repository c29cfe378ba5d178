"""wh_contracts.quantity/unit/term_years: lease size and term, so rents can be compared per unit and year

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wh_contracts") as batch:
        batch.add_column(sa.Column("quantity", sa.Float(), nullable=True))
        batch.add_column(sa.Column("unit", sa.Text(), nullable=True))
        batch.add_column(sa.Column("term_years", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wh_contracts") as batch:
        batch.drop_column("term_years")
        batch.drop_column("unit")
        batch.drop_column("quantity")
