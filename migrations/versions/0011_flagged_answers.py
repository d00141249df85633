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
    # Plain ADD COLUMN, never batch mode: SQLite's batch mode rebuilds the table and would drop the triggers that
    # lock submitted answers (0008). Server defaults: existing rows are simply unflagged.
    op.add_column('answer', sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('answer_change', sa.Column('old_flagged', sa.Boolean(), nullable=True))
    op.add_column('answer_change', sa.Column('new_flagged', sa.Boolean(), nullable=True))
    op.add_column('finding', sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column('finding', 'flagged')
    op.drop_column('answer_change', 'new_flagged')
    op.drop_column('answer_change', 'old_flagged')
    op.drop_column('answer', 'flagged')
