"""Report languages: each plant's (zh, en or zh-en) and each issued document's own

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 08:30:00
"""
import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

# the unnamed unique constraint of 0006, as SQLite reflects it once named by this convention
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
OLD_UNIQUE = "uq_report_document_inspection_id_kind_sequence"
NEW_UNIQUE = "uq_report_document_language_sequence"
POSTGRES_OLD_UNIQUE = "report_document_inspection_id_kind_sequence_key"

_spec = importlib.util.spec_from_file_location("reports_0006", Path(__file__).with_name("0006_report_documents.py"))
_reports = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_reports)


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS report_document_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS report_document_append_only_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS report_document_append_only ON report_document")
        op.execute("DROP FUNCTION IF EXISTS report_document_append_only()")


def upgrade() -> None:
    with op.batch_alter_table('plant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_language', sa.String(length=8), nullable=False, server_default='zh'))
    # SQLite rebuilds the table to change a constraint: the append-only triggers go with it and come back after
    _drop_append_only_triggers()
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('report_document', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='zh'))
        batch_op.drop_constraint(POSTGRES_OLD_UNIQUE if postgres else OLD_UNIQUE, type_='unique')
        batch_op.create_unique_constraint(NEW_UNIQUE, ['inspection_id', 'kind', 'language', 'sequence'])
    _reports.create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.execute("DELETE FROM report_document WHERE language <> 'zh'")  # the old schema holds one language
    with op.batch_alter_table('report_document', schema=None) as batch_op:
        batch_op.drop_constraint(NEW_UNIQUE, type_='unique')
        batch_op.create_unique_constraint(POSTGRES_OLD_UNIQUE, ['inspection_id', 'kind', 'sequence'])
        batch_op.drop_column('language')
    _reports.create_append_only_triggers()
    with op.batch_alter_table('plant', schema=None) as batch_op:
        batch_op.drop_column('report_language')
