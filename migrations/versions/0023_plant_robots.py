"""group-chat robots per plant (WeCom, DingTalk, Feishu) for plan reminders and the overdue digest; whether a
missed planned inspection counts as 0 in the plant's monthly ranking

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 23:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'plant_robot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['plant_id'], ['plant.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_plant_robot_plant_id', 'plant_robot', ['plant_id'])
    with op.batch_alter_table('plant') as batch:
        batch.add_column(sa.Column('missed_counts_as_zero', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('plant') as batch:
        batch.drop_column('missed_counts_as_zero')
    op.drop_index('ix_plant_robot_plant_id', table_name='plant_robot')
    op.drop_table('plant_robot')
