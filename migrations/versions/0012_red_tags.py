"""red tags (红牌); a corrective action comes from a finding or from a red tag

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 08:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('red_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('quantity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('reason', sa.Enum('unneeded', 'defective', 'excess', 'unknown', 'misplaced', 'other',
                                name='tagreason'), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('photo_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tagged_on', sa.Date(), nullable=False),
    sa.Column('hold_until', sa.Date(), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('held', 'escalated', 'decided', name='tagstatus'), nullable=False),
    sa.Column('escalated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.Enum('scrap', 'returned', 'relocate', 'keep', name='tagoutcome'), nullable=True),
    sa.Column('outcome_note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['raised_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('workshop_id', 'sequence')
    )
    op.create_index('ix_red_tag_workshop_id', 'red_tag', ['workshop_id'], unique=False)
    op.create_index('ix_red_tag_hold_until', 'red_tag', ['hold_until'], unique=False)
    op.create_index('ix_red_tag_status', 'red_tag', ['status'], unique=False)
    # corrective_action carries no triggers, so SQLite's table rebuild (needed to drop NOT NULL) loses nothing
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.alter_column('finding_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('red_tag_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_corrective_action_red_tag_id', ['red_tag_id'])
        batch_op.create_foreign_key('fk_corrective_action_red_tag_id', 'red_tag', ['red_tag_id'], ['id'])
        batch_op.create_check_constraint('ck_corrective_action_one_source',
                                         '(finding_id IS NULL) <> (red_tag_id IS NULL)')


def downgrade() -> None:
    op.execute("DELETE FROM action_event WHERE action_id IN "
               "(SELECT id FROM corrective_action WHERE red_tag_id IS NOT NULL)")
    op.execute("DELETE FROM corrective_action WHERE red_tag_id IS NOT NULL")
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.drop_constraint('ck_corrective_action_one_source', type_='check')
        batch_op.drop_constraint('fk_corrective_action_red_tag_id', type_='foreignkey')
        batch_op.drop_constraint('uq_corrective_action_red_tag_id', type_='unique')
        batch_op.drop_column('red_tag_id')
        batch_op.alter_column('finding_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index('ix_red_tag_status', table_name='red_tag')
    op.drop_index('ix_red_tag_hold_until', table_name='red_tag')
    op.drop_index('ix_red_tag_workshop_id', table_name='red_tag')
    op.drop_table('red_tag')
    sa.Enum(name='tagreason').drop(op.get_bind(), checkfirst=True)
    sa.Enum(name='tagstatus').drop(op.get_bind(), checkfirst=True)
    sa.Enum(name='tagoutcome').drop(op.get_bind(), checkfirst=True)
