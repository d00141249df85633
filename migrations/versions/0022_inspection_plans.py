"""inspection plans: plans, their versions (editing changes future occurrences only), skipped occurrences, and
each user's secret calendar feed

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 23:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inspection_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plant_id', sa.Integer(), nullable=False),
        sa.Column('workshop_id', sa.Integer(), nullable=True),
        sa.Column('checklist_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['plant_id'], ['plant.id']),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id']),
        sa.ForeignKeyConstraint(['checklist_id'], ['checklist.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_inspection_plan_plant_id', 'inspection_plan', ['plant_id'])
    op.create_index('ix_inspection_plan_workshop_id', 'inspection_plan', ['workshop_id'])
    op.create_index('ix_inspection_plan_checklist_id', 'inspection_plan', ['checklist_id'])
    op.create_table(
        'plan_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('rrule', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('allow_late', sa.Boolean(), nullable=False),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('inspector_ids', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['inspection_plan.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_plan_version_plan_id', 'plan_version', ['plan_id'])
    op.create_table(
        'plan_skip',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('opens_on', sa.Date(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('skipped_by_id', sa.Integer(), nullable=False),
        sa.Column('skipped_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['inspection_plan.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id']),
        sa.ForeignKeyConstraint(['skipped_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_id', 'workshop_id', 'opens_on'),
    )
    op.create_index('ix_plan_skip_plan_id', 'plan_skip', ['plan_id'])
    op.create_table(
        'calendar_feed',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_index('ix_calendar_feed_token_sha256', 'calendar_feed', ['token_sha256'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_calendar_feed_token_sha256', table_name='calendar_feed')
    op.drop_table('calendar_feed')
    op.drop_index('ix_plan_skip_plan_id', table_name='plan_skip')
    op.drop_table('plan_skip')
    op.drop_index('ix_plan_version_plan_id', table_name='plan_version')
    op.drop_table('plan_version')
    op.drop_index('ix_inspection_plan_checklist_id', table_name='inspection_plan')
    op.drop_index('ix_inspection_plan_workshop_id', table_name='inspection_plan')
    op.drop_index('ix_inspection_plan_plant_id', table_name='inspection_plan')
    op.drop_table('inspection_plan')
