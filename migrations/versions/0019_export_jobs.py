"""exports made in the background: who asked, what, how far, the file kept for a day

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'export_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('fmt', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('filters', sa.JSON(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('byte_size', sa.Integer(), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_export_job_user_id', 'export_job', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_export_job_user_id', table_name='export_job')
    op.drop_table('export_job')
