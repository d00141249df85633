"""each plant keeps its own IANA time zone: its days (inspection dates, due dates, report months) follow it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 01:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every plant so far lived on Asia/Shanghai (the one zone the app knew).
    op.add_column('plant', sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                     server_default='Asia/Shanghai'))


def downgrade() -> None:
    op.drop_column('plant', 'timezone')
