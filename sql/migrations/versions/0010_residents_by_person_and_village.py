"""Residents keyed by person and village: a person who moved has a row in each village's roster (迁出 / 迁入 with
dates), a history rather than a duplicate

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:40:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the warehouse key of a resident was the ID number; it is now ID number | village code
    op.execute(sa.text("UPDATE wh_residents SET row_key = COALESCE(person_id, '') || '|' || COALESCE(village_code, '')"))
    op.create_index("ix_wh_residents_record", "wh_residents", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_wh_residents_record", table_name="wh_residents")
    op.execute(sa.text("UPDATE wh_residents SET row_key = person_id"))
