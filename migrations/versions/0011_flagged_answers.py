"""an inspector may flag an item as a finding whatever its score

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 08:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # server defaults: existing rows (and submitted answers, which the lock trigger guards) are simply unflagged
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('answer_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('old_flagged', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('new_flagged', sa.Boolean(), nullable=True))
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_column('flagged')
    with op.batch_alter_table('answer_change', schema=None) as batch_op:
        batch_op.drop_column('new_flagged')
        batch_op.drop_column('old_flagged')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('flagged')
