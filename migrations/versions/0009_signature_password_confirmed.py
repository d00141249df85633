"""signatures: the manager's approval, and whether the recorder re-entered their password

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 04:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE signaturerole ADD VALUE IF NOT EXISTS 'manager'")
    # A plain ADD COLUMN, never batch mode: SQLite's batch copy would drop the append-only triggers.
    op.add_column("signature", sa.Column("password_confirmed", sa.Boolean(), nullable=False,
                                         server_default=sa.false()))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place. The enum value 'manager' stays on PostgreSQL (it cannot be
    # removed while approvals use it), as do the approvals themselves.
    op.drop_column("signature", "password_confirmed")
