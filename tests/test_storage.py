"""Stored files through one interface, on a local folder and on a real S3-compatible server (moto's, started on
127.0.0.1 for the session): every read checked against the hash, a missing or altered object named."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from storage import LocalStorage, S3Storage, StoredFileError, copy_all, sha256_of, storage_from_settings


def _bucket(endpoint: str) -> str:
    import uuid

    import boto3

    name = f"sixs-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    if request.param == "folder":
        return LocalStorage(tmp_path / "files")
    endpoint = request.getfixturevalue("s3_env")
    return S3Storage(_bucket(endpoint), "plant-a/files", endpoint_url=endpoint)


def _alter(store, key: str, data: bytes) -> None:
    """Change an object behind the app's back, as a person with access to the folder or bucket could."""
    if isinstance(store, LocalStorage):
        (store.root / key).write_bytes(data)
    else:
        head = store.client.head_object(Bucket=store.bucket, Key=store.prefix + key)
        store.client.put_object(Bucket=store.bucket, Key=store.prefix + key, Body=data, Metadata=head["Metadata"])


def test_objects_round_trip_and_every_read_is_checked(store):
    photo = b"\xff\xd8 a photo"
    key = f"photos/{sha256_of(photo)[:2]}/{sha256_of(photo)}.jpg"
    store.put(key, photo, "image/jpeg")
    store.put(key, photo, "image/jpeg")  # twice is harmless
    assert store.get(key) == photo and store.exists(key)
    thumb_key = key.replace(".jpg", ".thumb.jpg")
    store.put(thumb_key, b"small", "image/jpeg")
    assert store.get(thumb_key) == b"small"
    assert sorted(store.keys("photos/")) == sorted([key, thumb_key])

    _alter(store, key, b"\xff\xd8 another photo")
    with pytest.raises(StoredFileError, match=f"{key} no longer matches its hash"):
        store.get(key)
    _alter(store, thumb_key, b"SMALL")
    with pytest.raises(StoredFileError, match="thumb.jpg no longer matches its hash"):
        store.get(thumb_key)
    store.delete(thumb_key)
    with pytest.raises(StoredFileError, match=f"{thumb_key} is missing"):
        store.get(thumb_key)
    assert not store.exists(thumb_key)


def test_a_large_file_streams_and_an_altered_one_fails_at_the_end(store, tmp_path):
    big = tmp_path / "export.csv"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    store.put_file("exports/export-7.csv", big, "text/csv")
    with store.open("exports/export-7.csv") as stream:
        assert b"".join(iter(stream)) == big.read_bytes()
    original = big.read_bytes()
    # the last byte turned into another (a fixed "!" left the file as it was once in 256 runs: its random last byte
    # was already "!")
    _alter(store, "exports/export-7.csv", original[:-1] + bytes([original[-1] ^ 0xFF]))
    with pytest.raises(StoredFileError, match="export-7.csv no longer matches"), \
            store.open("exports/export-7.csv") as stream:
        b"".join(iter(stream))
    with pytest.raises(StoredFileError, match="is missing"):
        store.open("exports/export-8.csv")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "photos//x", "Photos/X.jpg", "a.sha256", ""])
def test_keys_outside_the_store_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match="not a storage key"):
        LocalStorage(tmp_path).get(key)


def test_settings_choose_the_store(tmp_path):
    assert isinstance(storage_from_settings(None, tmp_path), LocalStorage)
    assert storage_from_settings("file:///srv/6s", tmp_path).location == "/srv/6s"
    with pytest.raises(ValueError, match="name the bucket"):
        storage_from_settings("s3:///prefix", tmp_path)
    with pytest.raises(ValueError, match="use s3://bucket/prefix"):
        storage_from_settings("ftp://x/y", tmp_path)


def _jpeg(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def test_photos_and_reports_of_the_app_live_in_the_bucket(sqlite_url, tmp_path, s3_env):
    """With STORAGE_URL set, a photo taken on the form goes to the bucket, is served from it (full size and
    thumbnail), and an object altered in the bucket is refused by name, not served."""
    from tests.conftest import _make_app
    from tests.helpers import start

    bucket = _bucket(s3_env)
    app = _make_app(sqlite_url, tmp_path, STORAGE_URL=f"s3://{bucket}/site", STORAGE_ENDPOINT_URL=s3_env)
    client = app.test_client()
    from tests.seed import PASSWORD

    client.post("/login", data={"username": "sup1", "password": PASSWORD})
    inspection_id = start(client)
    client.post(f"/inspections/{inspection_id}/answers/sort-01", data={"score-sort-01": "1"})
    response = client.post(f"/inspections/{inspection_id}/photos/sort-01",
                           data={"photo": (io.BytesIO(_jpeg()), "p.jpg")}, content_type="multipart/form-data")
    assert response.status_code in (200, 303), response.data
    from inspections.models import Photo

    with Session(app.extensions["engine"]) as session:
        photo = session.exec(select(Photo)).one()
    store = app.extensions["storage"]
    keys = set(store.keys("photos/"))
    assert keys == {f"photos/{photo.sha256[:2]}/{photo.sha256}{suffix}" for suffix in (".jpg", ".thumb.jpg")}
    assert not (Path(app.config["DATA_DIR"]) / "photos").exists()  # nothing on the local disk
    full = client.get(f"/photos/{photo.id}")
    assert full.status_code == 200 and sha256_of(full.data) == photo.sha256
    thumb = client.get(f"/photos/{photo.id}?size=thumb")
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.data)).size[0] <= 480
    _alter(store, f"photos/{photo.sha256[:2]}/{photo.sha256}.jpg", _jpeg((0, 0, 255)))
    refused = client.get(f"/photos/{photo.id}")  # a placeholder naming the file, never the altered picture
    assert refused.status_code == 500 and refused.mimetype == "image/svg+xml"
    assert f"photos/{photo.sha256[:2]}/{photo.sha256[:12]}" in refused.text and "已被改动" in refused.text
    app.extensions["engine"].dispose()


def test_storage_migrate_copies_a_data_dir_into_a_bucket_and_checks_every_hash(tmp_path, s3_env):
    folder = LocalStorage(tmp_path / "data")
    photos = [_jpeg((i * 40, 0, 0)) for i in range(3)]
    for data in photos:
        digest = sha256_of(data)
        folder.put(f"photos/{digest[:2]}/{digest}.jpg", data)
        folder.put(f"photos/{digest[:2]}/{digest}.thumb.jpg", data[:100])
    report = b"%PDF-1.7 a report"
    folder.put(f"reports/{sha256_of(report)[:2]}/{sha256_of(report)}.pdf", report)
    bad = _jpeg((9, 9, 9))
    bad_key = f"photos/{sha256_of(bad)[:2]}/{sha256_of(bad)}.jpg"
    folder.put(bad_key, bad)
    (folder.root / bad_key).write_bytes(b"damaged on disk")
    bucket = S3Storage(_bucket(s3_env), "x", endpoint_url=s3_env)
    summary = copy_all(folder, bucket)
    assert summary["copied"] == 7 and summary["problems"] == [f"stored file {bad_key} no longer matches its hash"]
    again = copy_all(folder, bucket)
    assert again["copied"] == 0 and again["present"] == 7


def test_an_installation_moves_its_files_into_a_bucket_and_keeps_working(sqlite_url, tmp_path, s3_env):
    """A plant on one server (files in DATA_DIR) with a photo and an issued report moves to a bucket:
    `storage migrate` copies and checks everything, the app started on the bucket serves both, `storage check`
    names a file someone deleted from the bucket and the record that needs it."""
    from inspections.models import Photo, ReportDocument
    from tests.conftest import _make_app
    from tests.test_report_archive import submitted

    local = _make_app(sqlite_url, tmp_path / "one")
    client = local.test_client()
    inspection_id = submitted(local, client)
    report = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert report.status_code == 200
    draft = client.post("/workshops/W1/inspections").location.rsplit("/", 1)[1]
    client.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "1"})
    client.post(f"/inspections/{draft}/photos/sort-01", data={"photo": (io.BytesIO(_jpeg()), "p.jpg")},
                content_type="multipart/form-data")
    local.extensions["engine"].dispose()

    bucket = _bucket(s3_env)
    config = {"STORAGE_URL": f"s3://{bucket}/plant", "STORAGE_ENDPOINT_URL": s3_env}
    moved = _make_app(sqlite_url, tmp_path / "one", **config)  # the same DATA_DIR, now with a bucket
    runner = moved.test_cli_runner()
    result = runner.invoke(args=["storage", "migrate"])
    assert result.exit_code == 0, result.output
    assert "every file copied and intact" in result.output and "checked 3 files" in result.output
    again = runner.invoke(args=["storage", "migrate"])
    assert again.exit_code == 0 and "copied 0 files, 3 already there" in again.output  # photo, thumbnail, report

    elsewhere = _make_app(sqlite_url, tmp_path / "two", **config)  # a second server: an empty DATA_DIR
    other = elsewhere.test_client()
    from tests.seed import PASSWORD

    other.post("/login", data={"username": "sup1", "password": PASSWORD})
    with Session(elsewhere.extensions["engine"]) as session:
        photo = session.exec(select(Photo)).one()
        document = session.exec(select(ReportDocument)).one()
    assert sha256_of(other.get(f"/photos/{photo.id}").data) == photo.sha256
    served = other.get(f"/inspections/{inspection_id}/report.pdf")
    assert served.status_code == 200 and sha256_of(served.data) == document.file_sha256 == sha256_of(report.data)
    assert elsewhere.test_cli_runner().invoke(args=["storage", "check"]).exit_code == 0

    store = elsewhere.extensions["storage"]
    store.delete(f"photos/{photo.sha256[:2]}/{photo.sha256}.thumb.jpg")
    check = elsewhere.test_cli_runner().invoke(args=["storage", "check"])
    assert check.exit_code == 1
    assert f"photos/{photo.sha256[:2]}/{photo.sha256}.thumb.jpg is missing (needed by photo {photo.id} (thumbnail))" \
        in check.output
    for app in (moved, elsewhere):
        app.extensions["engine"].dispose()


def test_migrate_without_a_bucket_says_what_to_set(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(args=["storage", "migrate"])
    assert result.exit_code == 2 and "STORAGE_URL=s3://bucket/prefix" in result.output


def test_a_thumbnail_from_before_hashes_were_recorded_is_made_again_from_its_checked_photo(sqlite_app):
    """An installation upgraded to this storage has thumbnails without a recorded hash: they are never trusted as
    found, nor shown as damaged; each is made again from its photo (checked against its name) on first use."""
    from photos import photo_key
    from tests.helpers import start
    from tests.seed import PASSWORD

    store = sqlite_app.extensions["storage"]
    client = sqlite_app.test_client()
    client.post("/login", data={"username": "sup1", "password": PASSWORD})
    inspection_id = start(client)
    client.post(f"/inspections/{inspection_id}/answers/sort-01", data={"score-sort-01": "1"})
    client.post(f"/inspections/{inspection_id}/photos/sort-01", data={"photo": (io.BytesIO(_jpeg()), "p.jpg")},
                content_type="multipart/form-data")
    with Session(sqlite_app.extensions["engine"]) as session:
        from inspections.models import Photo

        photo = session.exec(select(Photo)).one()
    thumb = store.root / photo_key(photo.sha256, thumbnail=True)
    record = thumb.with_name(thumb.name + ".sha256")
    record.unlink()  # as an installation older than storage.py left it
    thumb.write_bytes(b"whatever was there")  # not trusted: made again
    shown = client.get(f"/photos/{photo.id}?size=thumb")
    assert shown.status_code == 200 and Image.open(io.BytesIO(shown.data)).size == (64, 48)
    assert record.exists() and sha256_of(thumb.read_bytes()) == record.read_text()
    record.unlink()
    assert sqlite_app.test_cli_runner().invoke(args=["storage", "check"]).exit_code == 0
    assert record.exists()
    # made again only from a photo that is itself intact
    record.unlink()
    (store.root / photo_key(photo.sha256)).write_bytes(_jpeg((1, 2, 3)))
    refused = client.get(f"/photos/{photo.id}?size=thumb")
    assert refused.status_code == 500 and refused.mimetype == "image/svg+xml"
