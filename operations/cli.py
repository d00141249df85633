import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

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



