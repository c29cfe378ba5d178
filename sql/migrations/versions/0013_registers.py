"""Registers of other departments for 数据碰撞: wh_public_employees, wh_vehicles, wh_properties, wh_businesses,
wh_business_people (each row valid for a period)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 19:05:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {
    "public_employees": [("person_id", sa.Text), ("name", sa.Text), ("employer", sa.Text), ("position", sa.Text), ("start_date", sa.Date), ("end_date", sa.Date), ("village_code", sa.Text), ("extra", sa.Text)],
    "vehicles": [("plate_no", sa.Text), ("owner_id", sa.Text), ("owner_name", sa.Text), ("vehicle_type", sa.Text), ("value", sa.Float), ("reg_date", sa.Date), ("dereg_date", sa.Date), ("village_code", sa.Text), ("extra", sa.Text)],
    "properties": [("property_id", sa.Text), ("owner_id", sa.Text), ("owner_name", sa.Text), ("address", sa.Text), ("kind", sa.Text), ("area", sa.Float), ("reg_date", sa.Date), ("end_date", sa.Date), ("village_code", sa.Text), ("extra", sa.Text)],
    "businesses": [("uscc", sa.Text), ("name", sa.Text), ("kind", sa.Text), ("reg_date", sa.Date), ("cancel_date", sa.Date), ("status", sa.Text), ("village_code", sa.Text), ("extra", sa.Text)],
    "business_people": [("link_id", sa.Text), ("uscc", sa.Text), ("person_id", sa.Text), ("name", sa.Text), ("role", sa.Text), ("share", sa.Float), ("start_date", sa.Date), ("end_date", sa.Date), ("village_code", sa.Text), ("extra", sa.Text)],
}
# registers keyed by more than their record id get an index on the record id (as schema._warehouse_table does)
KEYED = ("public_employees", "vehicles", "properties")


def upgrade() -> None:
    for name, cols in TABLES.items():
        op.create_table(
            f"wh_{name}",
            sa.Column("row_key", sa.Text(), nullable=False),
            *[sa.Column(c, kind(), nullable=True) for c, kind in cols],
            sa.Column("source_file", sa.Text(), nullable=True),
            sa.Column("source_row", sa.Integer(), nullable=True),
            sa.Column("loaded_run", sa.Integer(), nullable=True),
            sa.Column("source_sheet", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("row_key"),
        )
        op.create_index(f"ix_wh_{name}_village", f"wh_{name}", ["village_code"])
        if name in KEYED:
            op.create_index(f"ix_wh_{name}_record", f"wh_{name}", [cols[0][0]])


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(f"wh_{name}")
