"""score sheets as plants keep them: a category's own full marks, an item's deduction per occurrence and its
unit, and what each level means for one item in its own words

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 04:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): the freeze triggers of 0003 on these tables stay in place, and the
    # new columns of a published version are frozen with the rest.
    op.add_column('checklist_category', sa.Column('full_marks', sa.Float(), nullable=True))
    op.add_column('checklist_item', sa.Column('deduct', sa.Float(), nullable=True))
    op.add_column('checklist_item', sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                              server_default=''))
    op.add_column('checklist_item', sa.Column('level_texts', sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column by rebuilding the table, which would drop the freeze triggers: 0003's helpers put
    # them back around it.
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("lifecycle_0003", Path(__file__).with_name("0003_checklist_lifecycle.py"))
    lifecycle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lifecycle)
    lifecycle.drop_freeze_triggers()
    with op.batch_alter_table('checklist_item') as batch:
        batch.drop_column('level_texts')
        batch.drop_column('unit')
        batch.drop_column('deduct')
    with op.batch_alter_table('checklist_category') as batch:
        batch.drop_column('full_marks')
    lifecycle.create_freeze_triggers()
