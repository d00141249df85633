"""when each workshop was added: a plant-wide plan counts a new workshop's windows from that day, not from the
plan's first day (existing workshops keep NULL: they were there all along)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workshop') as batch:
        batch.add_column(sa.Column('created_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workshop') as batch:
        batch.drop_column('created_at')
