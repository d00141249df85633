"""what the daily run delivered, so that a second run the same day sends only what has not arrived

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 07:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('action_count', sa.Integer(), nullable=False),
    sa.Column('delivered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'channel', 'recipient')
    )
    op.create_index(op.f('ix_notification_delivery_day'), 'notification_delivery', ['day'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notification_delivery_day'), table_name='notification_delivery')
    op.drop_table('notification_delivery')
