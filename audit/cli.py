import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

from audit.service import verify

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify_command():
    """Recompute the hash chain; exit 1 naming the first broken row."""
    with Session(current_app.extensions["engine"]) as session:
        report = verify(session)
    if report.intact:
        click.echo(f"audit trail intact: {report.rows} rows")
        return
    click.echo(f"audit trail BROKEN at row {report.first_broken_id}: {report.problem}", err=True)
    raise SystemExit(1)
