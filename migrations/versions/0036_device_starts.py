"""Inspections started on a tablet without the server: the device's key for the start (a retry or a double tap is
the same inspection), the device's clock when it started and the server's when the start arrived

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # columns added in place and the index beside them: a batch rebuild of the table on SQLite would break the
    # answer triggers that name it (as in 0030)
    op.add_column('inspection', sa.Column('client_key', sa.String(length=64), nullable=True))
    op.add_column('inspection', sa.Column('device_started_at', sa.DateTime(), nullable=True))
    op.add_column('inspection', sa.Column('received_at', sa.DateTime(), nullable=True))
    op.create_index('ix_inspection_client_key', 'inspection', ['client_key'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_inspection_client_key', table_name='inspection')
    for column in ('received_at', 'device_started_at', 'client_key'):
        if op.get_bind().dialect.name == 'sqlite':  # SQLite 3.35+ drops a column in place
            op.execute(f'ALTER TABLE inspection DROP COLUMN {column}')
        else:
            op.drop_column('inspection', column)
