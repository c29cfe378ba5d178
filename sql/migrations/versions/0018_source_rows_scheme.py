"""source_rows.scheme: how the fingerprints were computed, so a change of hash never skips a changed row

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 00:50:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source_rows") as batch:
        batch.add_column(sa.Column("scheme", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_rows") as batch:
        batch.drop_column("scheme")
