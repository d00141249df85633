"""Backups of an installation: the database and every stored file, with a manifest of hashes; and restoring one
onto an empty installation.

A backup is a folder:

    manifest.json        what is in it: format, when, engine, schema revision, and the SHA-256 of every file
    database.sqlite3     SQLite: a consistent copy made with SQLite's online backup API (writers may go on)
    database.pgdump      PostgreSQL: pg_dump's custom format (a consistent snapshot)
    files/<key>          every photo, thumbnail and issued report, under its storage key

The database is copied first, then the files: the files are content-addressed and never removed, so every file the
copied records need is there (later ones are harmless extras); the backup then checks that each of them is.
Restoring checks every hash before writing anything, refuses a database that is not empty, and ends by checking
that every file the restored records need is in the storage and intact.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # pg_dump / pg_restore, argument lists, no shell  # noqa: S404  # nosec B404
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, make_url
from sqlalchemy.engine import Engine
from sqlmodel import Session

import clock
from operations.files import check_referenced, read_checked, referenced_keys
from storage import Storage, StoredFileError

FORMAT = 1
FILE_PREFIXES = ("photos/", "reports/")  # exports are a day's convenience, not records


class BackupError(Exception):
    """Something the person running the command must fix; the message says what."""


@dataclass(frozen=True)
class BackupSummary:
    folder: Path
    engine: str
    files: int
    bytes: int


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore: the newest installed server's (a dump needs a pg_dump at least as new as the
    server), else the one on PATH."""

    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name),
                            reverse=True):
        if (Path(directory) / name).exists():
            return str(Path(directory) / name)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: apt-get install postgresql-client")
    return found


def _libpq_url(engine: Engine) -> str:
    """The SQLAlchemy URL as libpq takes it (no +driver), password included."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _needed_by_copy(database_file: Path) -> set[str]:
    """The stored files the records of a copied SQLite database refer to."""

    copy = create_engine(f"sqlite:///{database_file}")
    try:
        with Session(copy) as session:
            return {key for key, _what in referenced_keys(session)}
    finally:
        copy.dispose()


def _dump_postgresql(engine: Engine, database_file: Path) -> set[str]:
    """pg_dump of one exported snapshot, and the stored files the records of that very snapshot refer to (read in
    the transaction that holds it open while pg_dump runs)."""
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            with Session(bind=connection) as session:
                needed = {key for key, _what in referenced_keys(session)}
            command = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                       f"--snapshot={snapshot}", f"--file={database_file}", f"--dbname={_libpq_url(engine)}"]
            result = subprocess.run(command, capture_output=True, text=True, env=env)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return needed


def create_backup(*, engine: Engine, store: Storage, folder: Path,
                  progress: Callable[[str], None] = lambda _m: None) -> BackupSummary:
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: a backup goes into a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    engine_name = engine.dialect.name
    if engine_name == "sqlite":
        database_file = folder / "database.sqlite3"
        source = sqlite3.connect(make_url(str(engine.url)).database)
        try:
            target = sqlite3.connect(database_file)
            with target:
                source.backup(target)  # the online backup API: a consistent copy while writers go on
            target.close()
        finally:
            source.close()
        needed = _needed_by_copy(database_file)
    elif engine_name == "postgresql":
        database_file = folder / "database.pgdump"
        needed = _dump_postgresql(engine, database_file)
    else:
        raise BackupError(f"backups of a {engine_name} database are not supported")
    progress(f"database copied ({database_file.stat().st_size} bytes)")

    files: dict[str, str] = {}
    total = 0
    for prefix in FILE_PREFIXES:
        for key in store.keys(prefix):
            try:
                data = read_checked(store, key)
            except StoredFileError as exc:
                raise BackupError(f"{exc}: the backup is incomplete; see `flask storage check`") from exc
            target = folder / "files" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files[key] = hashlib.sha256(data).hexdigest()
            total += len(data)
    progress(f"{len(files)} files copied ({total} bytes)")
    # what the copied records need, not the live ones: a photo taken while the backup ran is in the next backup
    missing = sorted(needed - files.keys())
    if missing:
        raise BackupError(f"{len(missing)} files the records need are not in the storage, first: {missing[0]}")
    manifest = {
        "format": FORMAT, "created_at": clock.now().isoformat(), "engine": engine_name,
        "schema_revision": _schema_revision(engine),
        "database": {"file": database_file.name, "sha256": _sha256_file(database_file),
                     "bytes": database_file.stat().st_size},
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return BackupSummary(folder=folder, engine=engine_name, files=len(files), bytes=total)


def read_manifest(folder: Path) -> dict:
    """The manifest, with every hash in it checked against the folder; BackupError naming the first problem."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} has no manifest.json: not a backup made by `flask backup create`") from exc
    except json.JSONDecodeError as exc:
        raise BackupError(f"{folder}/manifest.json is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not one this version reads ({FORMAT})")
    database = folder / manifest["database"]["file"]
    if not database.is_file() or _sha256_file(database) != manifest["database"]["sha256"]:
        raise BackupError(f"{database.name} is missing or does not match the manifest's hash")
    for key, sha256 in manifest["files"].items():
        path = folder / "files" / key
        if not path.is_file() or _sha256_file(path) != sha256:
            raise BackupError(f"files/{key} is missing or does not match the manifest's hash")
    return manifest


def _database_is_empty(engine: Engine) -> str | None:
    """None when empty, else what is in it."""
    with engine.connect() as connection:
        tables = [name for name in inspect(connection).get_table_names() if name != "alembic_version"]
    return f"{len(tables)} tables ({', '.join(sorted(tables)[:3])}…)" if tables else None


@dataclass(frozen=True)
class RestoreSummary:
    engine: str
    files: int
    checked: int
    problems: list[str]


def restore_backup(*, engine: Engine, store: Storage, folder: Path,
                   progress: Callable[[str], None] = lambda _m: None) -> RestoreSummary:
    folder = Path(folder)
    manifest = read_manifest(folder)  # every hash, before anything is written
    progress(f"backup of {manifest['created_at']} checked: {len(manifest['files'])} files")
    engine_name = engine.dialect.name
    if manifest["engine"] != engine_name:
        raise BackupError(f"this is a {manifest['engine']} backup: it restores into {manifest['engine']}, "
                          f"not into {engine_name} (DATABASE_URL)")
    if engine_name == "sqlite":
        path = Path(make_url(str(engine.url)).database)
        if path.exists() and path.stat().st_size > 0:
            content = _database_is_empty(engine)
            if content:
                raise BackupError(f"the database {path} is not empty ({content}): a backup restores only into an "
                                  "empty database. Point DATABASE_URL at a new file.")
    elif (content := _database_is_empty(engine)) is not None:
        raise BackupError(f"the database is not empty ({content}): a backup restores only into an empty database")
    if any(True for prefix in FILE_PREFIXES for _ in store.keys(prefix)):
        raise BackupError(f"the storage {store.location} already holds files: a backup restores only into empty "
                          "storage")

    database = folder / manifest["database"]["file"]
    if engine_name == "sqlite":
        engine.dispose()
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        source = sqlite3.connect(database)
        try:
            target = sqlite3.connect(path)
            with target:
                source.backup(target)
            target.close()
        finally:
            source.close()
    else:
        engine.dispose()
        command = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                   f"--dbname={_libpq_url(engine)}", str(database)]
        result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603  # nosec B603
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    progress("database restored")

    for key in manifest["files"]:
        store.put(key, (folder / "files" / key).read_bytes(), _content_type(key))
    progress(f"{len(manifest['files'])} files restored into {store.location}")
    with Session(engine) as session:
        check = check_referenced(session, store)
    return RestoreSummary(engine=engine_name, files=len(manifest["files"]), checked=check.checked,
                          problems=check.problems)


def _content_type(key: str) -> str:
    return {"jpg": "image/jpeg", "pdf": "application/pdf"}.get(key.rsplit(".", 1)[-1], "application/octet-stream")

