from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from checklists.diff import diff_as_text, diff_checklists
from checklists.excel import parse_workbook, workbook_bytes
from checklists.files import ChecklistFileError, dump_checklist, parse_checklist
from checklists.lint import lint_checklist
from checklists.service import ChecklistError, get_version, import_checklist, publish_version, version_to_data
from database import write_session

checklist_cli = AppGroup("checklist", help="Import, export and publish checklists.")


def _engine():
    return current_app.extensions["engine"]


@checklist_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path):
    """Import FILE.yaml or FILE.xlsx as a new draft version (content equal to an existing version changes
    nothing)."""
    try:
        if file.suffix.lower() == ".xlsx":
            data = parse_workbook(file.read_bytes())
        else:
            data = parse_checklist(file.read_text(encoding="utf-8"))
    except ChecklistFileError as exc:
        raise click.ClickException(f"{file}:\n" + "\n".join(f"  {p}" for p in exc.problems)) from exc
    with write_session(_engine()) as session:
        version, created = import_checklist(session=session, data=data)
        message = (f"imported {data.key} as draft version {version.number}" if created
                   else f"{data.key} version {version.number} already has this content; nothing imported")
    click.echo(message)


@checklist_cli.command("export")
@click.argument("key")
@click.option("--version", "number", type=int, help="Version number (default: the latest).")
@click.option("--format", "file_format", type=click.Choice(["yaml", "xlsx"]), default=None,
              help="yaml (default) or xlsx (default when --output ends in .xlsx).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
def export_command(key: str, number: int | None, file_format: str | None, output: Path | None):
    """Export a checklist version as YAML or as an Excel workbook."""
    file_format = file_format or ("xlsx" if output and output.suffix.lower() == ".xlsx" else "yaml")
    with write_session(_engine()) as session:
        version = get_version(session=session, key=key, number=number)
        if version is None:
            raise click.ClickException(f"no checklist {key!r}" + (f" version {number}" if number else ""))
        data = version_to_data(version)
    if file_format == "xlsx":
        content = workbook_bytes(data)
        if output:
            output.write_bytes(content)
        else:
            click.get_binary_stream("stdout").write(content)
        return
    text = dump_checklist(data)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@checklist_cli.command("publish")
@click.argument("key")
@click.option("--note", help="Change note (default: the note in the imported file).")
@click.option("--acknowledge-lint", is_flag=True, help="Publish even though the lint has warnings.")
@click.option("--yes", "takeover", is_flag=True,
              help="Publish a checklist without a scope to every workshop that has no more specific one.")
def publish_command(key: str, note: str | None, acknowledge_lint: bool, takeover: bool):
    """Publish the latest draft of KEY; the version published before it is retired."""
    with write_session(_engine()) as session:
        version = get_version(session=session, key=key)
        if version is None:
            raise click.ClickException(f"no checklist {key!r}")
        try:
            publish_version(session=session, version=version, user=None, note=note,
                            acknowledge_lint=acknowledge_lint, takeover_confirmed=takeover)
        except ChecklistError as exc:
            detail = "".join(f"\n  {w.message}" for w in exc.warnings)
            hint = "\n(re-run with --acknowledge-lint to publish anyway)" if exc.warnings else ""
            if exc.code == "takeover":
                detail = "".join(f"\n  {w.code} {w.name}" for w in exc.workshops)
                hint = "\n(re-run with --yes to publish to all of them, or set a scope on the checklist screen first)"
            raise click.ClickException(f"{exc}{detail}{hint}") from exc
        click.echo(f"published {key} version {version.number} ({version.content_sha256[:12]})")


@checklist_cli.command("diff")
@click.argument("key")
@click.argument("a", type=int)
@click.argument("b", type=int)
def diff_command(key: str, a: int, b: int):
    """What changed from version A to version B of KEY."""
    with write_session(_engine()) as session:
        old, new = get_version(session=session, key=key, number=a), get_version(session=session, key=key, number=b)
        if old is None or new is None:
            raise click.ClickException(f"no version {a if old is None else b} of {key!r}")
        changes = diff_checklists(version_to_data(old), version_to_data(new))
    click.echo(diff_as_text(f"{key} v{a}", f"v{b}", changes), nl=False)


@checklist_cli.command("lint")
@click.argument("key")
@click.option("--version", "number", type=int, help="Version number (default: the latest).")
def lint_command(key: str, number: int | None):
    """Print the lint warnings of a version; exit status 1 when there are any."""
    with write_session(_engine()) as session:
        version = get_version(session=session, key=key, number=number)
        if version is None:
            raise click.ClickException(f"no checklist {key!r}" + (f" version {number}" if number else ""))
        warnings = lint_checklist(version_to_data(version))
        label = f"{key} v{version.number}"
    if not warnings:
        click.echo(f"{label}: no warnings")
        return
    click.echo(f"{label}: {len(warnings)} warnings")
    for warning in warnings:
        click.echo(f"  [{warning.code}] {warning.message}")
    raise SystemExit(1)
