"""flask backup create / restore, end to end: on SQLite and PostgreSQL, with files in a folder and in a bucket.
Restoring onto an empty machine gives a working app: the audit chain holds, every stored report's hash matches,
photos show; a restore into a database or storage that is not empty is refused, saying why."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlmodel import Session, select

from inspections.models import Photo, ReportDocument
from storage import sha256_of
from tests.conftest import _make_app, _pg_url
from tests.seed import PASSWORD
from tests.test_report_archive import submitted
from tests.test_storage import _bucket, _jpeg


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """(URL of the seeded database, a function giving the URL of a new empty database of the same engine)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url"), lambda: f"sqlite:///{tmp_path}/restored-{uuid.uuid4().hex}.db"
    info = request.getfixturevalue("pg_database")

    def empty() -> str:
        name = f"restored_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(host=info.host, port=info.port, user=info.user, dbname="postgres",
                             autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return _pg_url(info.host, info.port, info.user, name)

    return _pg_url(info.host, info.port, info.user, info.dbname), empty


@pytest.fixture(params=["folder", "s3"])
def files(request):
    """A function giving the storage settings of a new, empty store."""
    if request.param == "folder":
        return lambda: {}
    endpoint = request.getfixturevalue("s3_env")
    return lambda: {"STORAGE_URL": f"s3://{_bucket(endpoint)}/plant", "STORAGE_ENDPOINT_URL": endpoint}


def _login(client) -> None:
    assert client.post("/login", data={"username": "sup1", "password": PASSWORD}).status_code == 303


def test_a_backup_restores_onto_an_empty_machine_as_a_working_app(database, files, tmp_path):
    url, empty_database = database
    source = _make_app(url, tmp_path / "source", **files())
    client = source.test_client()
    inspection_id = submitted(source, client)
    report = client.get(f"/inspections/{inspection_id}/report.pdf")
    draft = client.post("/workshops/W1/inspections").location.rsplit("/", 1)[1]
    client.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "1"})
    client.post(f"/inspections/{draft}/photos/sort-01", data={"photo": (io.BytesIO(_jpeg()), "p.jpg")},
                content_type="multipart/form-data")

    folder = tmp_path / "backup"
    made = source.test_cli_runner().invoke(args=["backup", "create", str(folder)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["engine"] == source.extensions["engine"].dialect.name
    assert len(manifest["files"]) == 3  # the photo, its thumbnail, the report
    assert all(sha256_of((folder / "files" / key).read_bytes()) == sha for key, sha in manifest["files"].items())
    source.extensions["engine"].dispose()

    target = _make_app(empty_database(), tmp_path / "target", **files())  # a new machine: nothing in it
    restored = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert restored.exit_code == 0, restored.output
    assert "audit trail: intact" in restored.output and "checked 3 files the records need: all intact" \
        in restored.output

    other = target.test_client()
    _login(other)
    with Session(target.extensions["engine"]) as session:
        document = session.exec(select(ReportDocument)).one()
        photo = session.exec(select(Photo)).one()
    served = other.get(f"/inspections/{inspection_id}/report.pdf")
    assert served.status_code == 200 and served.data == report.data  # the stored document, not a new print
    assert sha256_of(served.data) == document.file_sha256
    shown = other.get(f"/photos/{photo.id}")
    assert shown.status_code == 200 and sha256_of(shown.data) == photo.sha256
    assert other.get(f"/verify/{document.file_sha256}").status_code == 200

    again = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert again.exit_code == 1 and "is not empty" in again.output and "restores only into an empty" in again.output
    target.extensions["engine"].dispose()


def test_a_damaged_backup_is_refused_before_anything_is_written(sqlite_url, tmp_path):
    source = _make_app(sqlite_url, tmp_path / "source")
    client = source.test_client()
    _login(client)
    draft = client.post("/workshops/W1/inspections").location.rsplit("/", 1)[1]
    client.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "1"})
    client.post(f"/inspections/{draft}/photos/sort-01", data={"photo": (io.BytesIO(_jpeg()), "p.jpg")},
                content_type="multipart/form-data")
    folder = tmp_path / "backup"
    assert source.test_cli_runner().invoke(args=["backup", "create", str(folder)]).exit_code == 0
    photo_file = next(Path(folder, "files", "photos").rglob("*.thumb.jpg"))
    photo_file.write_bytes(b"changed")
    target_db = tmp_path / "new.db"
    target = _make_app(f"sqlite:///{target_db}", tmp_path / "target")
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert f"files/{photo_file.relative_to(folder / 'files').as_posix()} is missing or does not match" in result.output
    assert not target_db.exists() or target_db.stat().st_size == 0  # nothing written
    assert not list((tmp_path / "target").rglob("*.jpg"))


def test_a_backup_goes_into_an_empty_folder_and_restores_into_its_own_engine(sqlite_url, tmp_path):
    source = _make_app(sqlite_url, tmp_path / "source")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("x")
    result = source.test_cli_runner().invoke(args=["backup", "create", str(busy)])
    assert result.exit_code == 1 and "is not empty" in result.output
    folder = tmp_path / "b"
    assert source.test_cli_runner().invoke(args=["backup", "create", str(folder)]).exit_code == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["engine"] = "postgresql"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    target = _make_app(f"sqlite:///{tmp_path}/new.db", tmp_path / "target")
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1 and "this is a postgresql backup: it restores into postgresql" in result.output


def test_a_backup_made_while_the_plant_works_holds_what_its_records_need(database, tmp_path):
    """#35: photos and reports arriving while the backup runs (after its database copy, before its check) are the
    next backup's; this one succeeds, and restored it is whole."""
    from operations.backup import create_backup
    from storage import storage

    url, empty_database = database
    source = _make_app(url, tmp_path / "source")
    client = source.test_client()
    inspection_id = submitted(source, client)
    assert client.get(f"/inspections/{inspection_id}/report.pdf").status_code == 200  # a file the copy needs
    draft = client.post("/workshops/W1/inspections").location.rsplit("/", 1)[1]
    client.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "1"})

    def the_plant_works(message: str) -> None:
        # a supervisor's photo and a report issued at the worst moment: the files are listed, the check is next
        if message.endswith("bytes)") and "files copied" in message:
            assert client.post(f"/inspections/{draft}/photos/sort-01", data={"photo": (io.BytesIO(_jpeg()), "p.jpg")},
                               content_type="multipart/form-data").status_code in (200, 303)

    folder = tmp_path / "backup"
    with source.app_context():
        summary = create_backup(engine=source.extensions["engine"], store=storage(), folder=folder,
                                progress=the_plant_works)
    assert summary.files == 1  # the report
    with Session(source.extensions["engine"]) as session:
        assert session.exec(select(Photo)).one()  # the photo arrived during the backup…
    source.extensions["engine"].dispose()
    target = _make_app(empty_database(), tmp_path / "target")
    restored = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert restored.exit_code == 0, restored.output  # …and the backup without it restores whole
    with Session(target.extensions["engine"]) as session:
        assert session.exec(select(Photo)).all() == []
    target.extensions["engine"].dispose()
