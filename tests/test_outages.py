"""Temporary trouble says "try again" (#35): the database unreachable, the disk full — 503 with Retry-After and a
message in the user's language, nothing half-stored, no temporary file left behind; /healthz names the part down."""

import errno
import io
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

import storage
from inspections.models import Photo
from tests.conftest import _make_app
from tests.helpers import start
from tests.seed import PASSWORD
from tests.test_photos import jpeg_bytes


def test_a_database_that_is_down_answers_503_with_retry_after(tmp_path):
    app = _make_app("postgresql+psycopg://sixs@127.0.0.1:1/nowhere?connect_timeout=2", tmp_path)
    client = app.test_client()
    page = client.post("/login", data={"username": "sup1", "password": PASSWORD})
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "数据库暂时不可用" in page.text and "Traceback" not in page.text
    api = client.get("/api/v1/workshops", headers={"Authorization": "Bearer not-checked-yet"})
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    assert api.json["code"] == "unavailable" and api.headers["Retry-After"] == "5"
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["down"] == "database"
    app.extensions["engine"].dispose()


def test_a_full_disk_refuses_the_photo_saying_so_and_leaves_nothing_behind(app, client, auth, monkeypatch):
    auth.login("sup1")
    draft = start(client)
    client.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "1"})

    folder_class = next(cls for cls in vars(storage).values()
                        if isinstance(cls, type) and "_write" in vars(cls))

    def full(path: Path, data: bytes) -> None:  # the disk fills while the photo is being written
        path.parent.mkdir(parents=True, exist_ok=True)
        with storage._temporary(path.parent) as tmp:
            tmp.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(folder_class, "_write", staticmethod(full))
    response = client.post(f"/inspections/{draft}/photos/sort-01", headers={"HX-Request": "true"},
                           data={"photo": (io.BytesIO(jpeg_bytes()), "p.jpg")})
    assert response.status_code == 503 and "磁盘已满" in response.text and response.headers["Retry-After"] == "60"
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(func.count()).select_from(Photo)).one() == 0  # nothing half-stored
    leftovers = [p for p in Path(app.config["DATA_DIR"]).rglob("tmp*") if p.is_file()]
    assert leftovers == []


@pytest.mark.parametrize("code", [errno.EACCES])
def test_another_os_error_is_still_a_500(app, client, auth, monkeypatch, code):
    auth.login("sup1")
    draft = start(client)
    folder_class = next(cls for cls in vars(storage).values() if isinstance(cls, type) and "_write" in vars(cls))

    def refused(path: Path, data: bytes) -> None:
        raise OSError(code, "Permission denied")

    monkeypatch.setattr(folder_class, "_write", staticmethod(refused))
    response = client.post(f"/inspections/{draft}/photos/sort-01", headers={"HX-Request": "true"},
                           data={"photo": (io.BytesIO(jpeg_bytes()), "p.jpg")})
    assert response.status_code == 500


def test_storage_that_is_down_answers_503_and_keeps_nothing_half(sqlite_url, tmp_path, monkeypatch):
    """S3 (or any S3-compatible server) unreachable: a photo is refused with 503 + Retry-After and a message, no
    photo row points at nothing, the API says `unavailable`, /healthz names the storage; the rest still works."""
    from tests.helpers import token_headers

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    app = _make_app(sqlite_url, tmp_path, STORAGE_URL="s3://photos/plant-a", STORAGE_ENDPOINT_URL="http://127.0.0.1:1",
                    STORAGE_ATTEMPTS=1)
    client = app.test_client()
    assert client.post("/login", data={"username": "sup1", "password": PASSWORD}).status_code == 303
    draft = start(client)
    saved = client.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "1"},
                        headers={"HX-Request": "true"})
    assert saved.status_code == 200  # answers do not need the storage
    page = client.post(f"/inspections/{draft}/photos/sort-01", headers={"HX-Request": "true"},
                       data={"photo-sort-01": (io.BytesIO(jpeg_bytes()), "IMG_0001.JPG")})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "文件存储暂时不可用" in page.text and "Traceback" not in page.text
    api = client.post(f"/api/v1/inspections/{draft}/items/sort-01/photos", headers=token_headers(app, "sup1"),
                      data={"photo": (io.BytesIO(jpeg_bytes()), "IMG_0002.JPG")})
    assert api.status_code == 503 and api.json["code"] == "unavailable" and api.headers["Retry-After"] == "30"
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(func.count()).select_from(Photo)).one() == 0
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["down"] == "storage"
    assert health.json["storage"] == "s3://photos/plant-a/"
    app.extensions["engine"].dispose()
