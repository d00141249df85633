"""The address people reach the app at, for links sent without a request (PUBLIC_BASE_URL unset)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'site_address',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('base_url', sa.String(length=300), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.Column('seen_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['seen_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('site_address')
