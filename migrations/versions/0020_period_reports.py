"""workshop and plant reports issued and stored like inspection reports, once per content

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 19:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'period_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('html_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('byte_size', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'subject', 'period_start', 'period_end', 'locale', 'scope', 'html_sha256',
                            name='uq_period_report_content'),
    )


def downgrade() -> None:
    op.drop_table('period_report')
