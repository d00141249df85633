"""Photo markup: a vector layer (circles, arrows, texts) over a photo, with who drew it and when

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'photo_markup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('shapes', sa.JSON(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('change_key', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('change_key'),
    )
    with op.batch_alter_table('photo_markup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_markup_photo_id'), ['photo_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('photo_markup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_markup_photo_id'))
    op.drop_table('photo_markup')
