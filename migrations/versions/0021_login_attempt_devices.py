"""sign-in limit that a plant behind one address survives: failed attempts note the device cookie (and whether
it was trusted for the name) and whether the name exists

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 20:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_attempt') as batch:
        batch.add_column(sa.Column('device', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('trusted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('known', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('login_attempt') as batch:
        batch.drop_column('known')
        batch.drop_column('trusted')
        batch.drop_column('device')
