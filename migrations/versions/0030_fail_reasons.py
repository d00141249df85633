"""Why a failed inspection failed: below the pass mark, critical items failed (which), stored with the result

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 09:00:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def _worst(scheme: dict):
    """The test a critical item's stored score fails on (the scoring rules of that day, kept here as they were)."""
    kind = scheme.get('type', 'levels')
    if kind == 'deduction':
        return lambda score: score > 0
    if kind == 'pass_fail':
        return lambda score: score == 0
    levels = scheme.get('levels') or {'0': ''}
    lowest = min(int(level['points']) for level in levels) if isinstance(levels, list) else min(int(k) for k in levels)
    return lambda score: score == lowest


def upgrade() -> None:
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fail_reasons', sa.JSON(), nullable=True))
    conn = op.get_bind()
    failed = conn.execute(sa.text(
        'SELECT i.id, i.overall_percent, v.scheme FROM inspection i JOIN checklist_version v ON v.id = i.version_id '
        'WHERE i.passed = :no'), {'no': False}).all()
    for inspection_id, overall, scheme in failed:
        scheme = json.loads(scheme) if isinstance(scheme, str) else scheme
        worst = _worst(scheme)
        critical = [key for key, score in conn.execute(sa.text(
            'SELECT it.key, a.score FROM answer a JOIN checklist_item it ON it.id = a.item_id '
            'JOIN checklist_category c ON c.id = it.category_id '
            'WHERE a.inspection_id = :id AND it.critical = :yes AND a.score IS NOT NULL '
            'ORDER BY c.position, it.position'), {'id': inspection_id, 'yes': True}).all() if worst(score)]
        pass_mark = float(scheme.get('pass_mark', 60.0))
        reasons = []
        if critical:
            reasons.append({'code': 'critical_failed', 'items': critical})
        if overall is not None and overall < pass_mark:
            reasons.append({'code': 'below_pass_mark', 'pass_mark': pass_mark})
        conn.execute(sa.text('UPDATE inspection SET fail_reasons = :reasons WHERE id = :id')
                     .bindparams(sa.bindparam('reasons', type_=sa.JSON())), {'reasons': reasons, 'id': inspection_id})


def downgrade() -> None:
    # SQLite (3.35+) drops the column in place: a batch rebuild of the table would break the answer triggers that
    # name it
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE inspection DROP COLUMN fail_reasons')
    else:
        op.drop_column('inspection', 'fail_reasons')
