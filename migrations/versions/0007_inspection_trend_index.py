"""inspection trend index

A workshop's trend and a plant's month both read a workshop's inspections by time: one composite index serves
both (measured on the large data set: plant league 20 → 14 ms on SQLite).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 13:10:00
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inspection_workshop_submitted", "inspection", ["workshop_id", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_inspection_workshop_submitted", table_name="inspection")
