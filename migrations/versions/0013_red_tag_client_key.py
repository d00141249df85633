"""a red tag remembers the key its tablet gave it, so a form sent again after a lost network is no second tag

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 10:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (see 0011); existing tags have no key.
    op.add_column('red_tag', sa.Column('client_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index(op.f('ix_red_tag_client_key'), 'red_tag', ['client_key'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_red_tag_client_key'), table_name='red_tag')
    op.drop_column('red_tag', 'client_key')
