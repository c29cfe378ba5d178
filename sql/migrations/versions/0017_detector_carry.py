"""detector_carry: each detector's last leads and the key of its input, so an unchanged night carries them over

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 00:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "detector_carry",
        sa.Column("detector", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("villages", sa.Text(), nullable=True),
        sa.Column("leads", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("detector"),
    )
    with op.batch_alter_table("run_detectors") as batch:
        batch.add_column(sa.Column("carried", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_detectors") as batch:
        batch.drop_column("carried")
    op.drop_table("detector_carry")
