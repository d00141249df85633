"""Signing without the server: a tablet's signing key per user (its public half), and on a signature the tablet's
clock when it was signed there and the key that signed it

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-08 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'device_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('user_agent', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('fingerprint'),
    )
    op.create_index('ix_device_key_user_id', 'device_key', ['user_id'])
    # in place, as in 0036: the signature table's append-only triggers name it
    op.add_column('signature', sa.Column('device_signed_at', sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':  # Alembic would want a batch rebuild for the reference
        op.execute('ALTER TABLE signature ADD COLUMN device_key_id INTEGER REFERENCES device_key (id)')
    else:
        op.add_column('signature', sa.Column('device_key_id', sa.Integer(), sa.ForeignKey('device_key.id'),
                                             nullable=True))


def downgrade() -> None:
    for column in ('device_key_id', 'device_signed_at'):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE signature DROP COLUMN {column}')
        else:
            op.drop_column('signature', column)
    op.drop_index('ix_device_key_user_id', table_name='device_key')
    op.drop_table('device_key')
