"""Per-plant session limits for browsers that are not a known tablet, and the limits a session began with

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_idle_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('session_max_days', sa.Integer(), nullable=True))
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idle_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('known_device', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table, columns in (('user_session', ('known_device', 'max_days', 'idle_hours')),
                           ('plant', ('session_max_days', 'session_idle_hours'))):
        for column in columns:
            if op.get_bind().dialect.name == 'sqlite':
                op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
            else:
                op.drop_column(table, column)
