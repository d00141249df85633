from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

from audit.service import verify
from operations.backup import BackupError, create_backup, restore_backup
from operations.files import check_referenced
from storage import LocalStorage, copy_all, storage

storage_cli = AppGroup("storage", help="Where photos, reports and exports are stored.")


@storage_cli.command("migrate")
@click.option("--from", "source_dir", type=click.Path(file_okay=False, exists=True),
              help="The folder to copy from (default: DATA_DIR).")
def migrate_command(source_dir: str | None):
    """Copy a data folder into the storage STORAGE_URL names (a bucket), checking every file's hash on the way
    out and read back from the bucket; then check that every file the records need is there. Exit 1 naming each
    file that is missing or altered. Safe to run again: files already there intact are not copied twice."""
    source = LocalStorage(source_dir or current_app.config["DATA_DIR"])
    target = storage()
    if isinstance(target, LocalStorage) and target.root.resolve() == source.root.resolve():
        raise click.UsageError("STORAGE_URL is not set (or names the data folder itself): set "
                               "STORAGE_URL=s3://bucket/prefix (and STORAGE_ENDPOINT_URL for a server other than AWS)")
    with Session(current_app.extensions["engine"]) as session:
        check_referenced(session, source)  # thumbnails stored before hashes were recorded get theirs first
    click.echo(f"copying {source.location} → {target.location}")
    summary = copy_all(source, target, prefixes=("photos/", "reports/", "exports/"))
    click.echo(f"copied {summary['copied']} files, {summary['present']} already there")
    with Session(current_app.extensions["engine"]) as session:
        check = check_referenced(session, target)
    click.echo(f"checked {check.checked} files the records need in {target.location}")
    problems = summary["problems"] + check.problems
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("every file copied and intact")


@storage_cli.command("check")
def check_command():
    """Read every file the records need from the storage in use, each checked against its hash; exit 1 naming
    each one missing or altered."""
    target = storage()
    with Session(current_app.extensions["engine"]) as session:
        check = check_referenced(session, target)
    for problem in check.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    click.echo(f"checked {check.checked} files in {target.location}: "
               + ("all intact" if check.intact else f"{len(check.problems)} missing or altered"))
    if not check.intact:
        raise SystemExit(1)





backup_cli = AppGroup("backup", help="Back up the database and every stored file; restore onto an empty installation.")


@backup_cli.command("create")
@click.argument("folder", type=click.Path(file_okay=False))
def backup_create_command(folder: str):
    """Copy the database (SQLite's online backup, or pg_dump) and every photo and report into FOLDER (new or
    empty), with a manifest of their SHA-256 hashes. The app may keep running."""

    try:
        summary = create_backup(engine=current_app.extensions["engine"], store=storage(), folder=Path(folder),
                                progress=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {summary.folder}: {summary.engine} database, {summary.files} files "
               f"({summary.bytes} bytes)")


@backup_cli.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
def backup_restore_command(folder: str):
    """Restore a backup into the empty database DATABASE_URL names and the empty storage (DATA_DIR or
    STORAGE_URL): every hash is checked first; then the audit trail and every file the records need."""

    engine = current_app.extensions["engine"]
    try:
        summary = restore_backup(engine=engine, store=storage(), folder=Path(folder), progress=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    with Session(engine) as session:
        chain = verify(session)
    click.echo(f"audit trail: {'intact' if chain.intact else 'BROKEN at row ' + str(chain.first_broken_id)}, "
               f"{chain.rows} rows")
    click.echo(f"checked {summary.checked} files the records need: "
               + ("all intact" if not summary.problems else f"{len(summary.problems)} missing or altered"))
    for problem in summary.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if summary.problems or not chain.intact:
        raise SystemExit(1)
    click.echo("restored")
