"""The language a checklist version's own texts are written in (zh by default; en for a plant abroad)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checklist_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='zh'))


def downgrade() -> None:
    # SQLite (3.35+) drops the column in place: a batch rebuild would break the freeze triggers that name the table
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE checklist_version DROP COLUMN language')
    else:
        op.drop_column('checklist_version', 'language')
