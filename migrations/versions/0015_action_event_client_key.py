"""a corrective action's move remembers the key of the tablet form that made it, so a form queued offline and
sent again is no second move

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 07:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never batch mode: action_event carries an append-only trigger (see 0011).
    op.add_column('action_event', sa.Column('client_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index(op.f('ix_action_event_client_key'), 'action_event', ['client_key'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_action_event_client_key'), table_name='action_event')
    # SQLite >= 3.35 drops a column in place (no table rebuild, the trigger stays)
    op.drop_column('action_event', 'client_key')
