"""joint inspections for calibration: a calibration groups the inspectors' copies; a copy that did not become the
official record is kept with status 'calibration' (out of trends and rankings); the answer lock (0008) now holds
for every inspection that is not a draft

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 02:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

LOCKED_MESSAGE = "a submitted answer changes only through a correction with a reason"
UNANNOUNCED = ("NOT EXISTS (SELECT 1 FROM correction c WHERE c.inspection_id = OLD.inspection_id "
               "AND c.item_id = OLD.item_id AND c.answer_revision = NEW.revision)")


def _answer_lock(locked: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS answer_locked_update")
        op.execute("DROP TRIGGER IF EXISTS answer_locked_delete")
        op.execute(f"""
            CREATE TRIGGER answer_locked_update BEFORE UPDATE ON answer WHEN {locked} AND {UNANNOUNCED}
            BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END""")
        op.execute(f"""
            CREATE TRIGGER answer_locked_delete BEFORE DELETE ON answer WHEN {locked}
            BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END""")
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION answer_locked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF {locked} THEN
                    RAISE EXCEPTION '{LOCKED_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN OLD;
            END IF;
            IF {locked} AND {UNANNOUNCED} THEN
                RAISE EXCEPTION '{LOCKED_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$""")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE inspectionstatus ADD VALUE IF NOT EXISTS 'calibration'")
    op.create_table(
        'calibration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id']),
        sa.ForeignKeyConstraint(['version_id'], ['checklist_version.id']),
        sa.ForeignKeyConstraint(['started_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_calibration_workshop_id', 'calibration', ['workshop_id'])
    # Plain ADD COLUMN, never batch mode (see 0011): a rebuilt table would lose its triggers.
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column with its reference only in plain SQL
        op.execute("ALTER TABLE inspection ADD COLUMN calibration_id INTEGER REFERENCES calibration (id)")
    else:
        op.add_column('inspection', sa.Column('calibration_id', sa.Integer(), sa.ForeignKey('calibration.id'),
                                              nullable=True))
    op.add_column('inspection', sa.Column('reconciled', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('ix_inspection_calibration_id', 'inspection', ['calibration_id'])
    _answer_lock("(SELECT status FROM inspection WHERE id = OLD.inspection_id) <> 'draft'")


def downgrade() -> None:
    op.execute("UPDATE inspection SET status = 'submitted' WHERE status = 'calibration'")  # kept, as records
    op.drop_index('ix_inspection_calibration_id', table_name='inspection')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column under a foreign key only by rebuilding the table; the answer triggers name the
        # table, so they go first and come back after
        op.execute("DROP TRIGGER IF EXISTS answer_locked_update")
        op.execute("DROP TRIGGER IF EXISTS answer_locked_delete")
        with op.batch_alter_table('inspection') as batch:
            batch.drop_column('reconciled')
            batch.drop_column('calibration_id')
    else:
        op.drop_column('inspection', 'reconciled')
        op.drop_column('inspection', 'calibration_id')
    _answer_lock("(SELECT status FROM inspection WHERE id = OLD.inspection_id) = 'submitted'")
    op.drop_index('ix_calibration_workshop_id', table_name='calibration')
    op.drop_table('calibration')
    # PostgreSQL cannot drop an enum value: 'calibration' stays in inspectionstatus, unused.
