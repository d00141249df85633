"""Who holds an Idempotency-Key's claim, and whether the request it claims was carried out

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('committed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_column('committed_at')
        batch_op.drop_column('holder')
