"""Hostile uploads over HTTP: judged by content, re-encoded, stored under a generated name, size-limited."""

import io
import tempfile
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from inspections.models import Photo
from tests.helpers import start
from tests.security.conftest import fingerprint
from tests.test_photos import jpeg_bytes, png_header_only

HOSTILE = [
    ("svg with script", "evil.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "无法读取这张照片"),
    ("pdf named .jpg", "report.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "无法读取这张照片"),
    ("truncated jpeg", "cut.jpg", None, "无法读取这张照片"),
    ("50 000 × 50 000 png", "huge.png", png_header_only(50_000, 50_000), "照片像素过多"),
    ("html", "page.jpg", b"<html><script>alert(1)</script></html>", "无法读取这张照片"),
]


@pytest.fixture
def draft(app, client, auth):
    auth.login("sup1")
    return start(client)


@pytest.mark.parametrize(("name", "filename", "payload", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_with_a_message_and_nothing_saved_is_lost(app, client, draft, name, filename,
                                                                            payload, message):
    if payload is None:
        payload = jpeg_bytes(exif=False)[:600]
    client.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "1", "note-sort-01": "地面油污"})
    before = fingerprint(app)
    response = client.post(f"/inspections/{draft}/photos/sort-01", headers={"HX-Request": "true"},
                           data={"photo": (io.BytesIO(payload), filename)})
    assert response.status_code == 422 and message in response.text, name
    assert fingerprint(app) == before
    assert "地面油污" in client.get(f"/inspections/{draft}").text


def test_a_polyglot_is_re_encoded_and_served_as_an_image_under_our_name(app, client, draft, tmp_path):
    polyglot = jpeg_bytes(600, 400, exif=True) + b"<html><script>alert(document.cookie)</script></html>"
    client.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "1"})
    response = client.post(f"/inspections/{draft}/photos/sort-01",
                           data={"photo": (io.BytesIO(polyglot), "../../../../../tmp/evil.html")})
    assert response.status_code == 303
    with Session(app.extensions["engine"]) as session:
        photo = session.exec(select(Photo)).one()
    with client.get(f"/photos/{photo.id}") as served:
        assert served.mimetype == "image/jpeg" and served.headers["X-Content-Type-Options"] == "nosniff"
        assert f'filename=photo-{photo.id}.jpg' in served.headers["Content-Disposition"]
        assert b"<script" not in served.data and b"SecretCam" not in served.data  # re-encoded, EXIF gone
    data_dir = Path(app.config["DATA_DIR"])
    stored = [p for p in data_dir.rglob("*") if p.is_file()]
    assert stored and all(p.name.startswith(photo.sha256) for p in stored if "photos" in p.parts)
    assert not list(Path(tempfile.gettempdir()).glob("evil.html")) and not list(data_dir.rglob("evil*"))


def test_a_200_mb_body_is_refused_before_it_is_read(app, client, draft):
    class Endless(io.RawIOBase):
        """200 MB that exist only as they are read; counts how much the server took."""

        size = 200 * 1024 * 1024

        def __init__(self):
            self.position, self.taken = 0, 0

        def readable(self):
            return True

        def seekable(self):
            return True  # the test client measures the body by seeking to its end and back

        def seek(self, offset, whence=0):
            self.position = self.size + offset if whence == 2 else offset
            return self.position

        def tell(self):
            return self.position

        def readinto(self, buffer):
            n = min(len(buffer), self.size - self.position)
            buffer[:n] = b"\0" * n
            self.position += n
            self.taken += n
            return n

    body = Endless()
    response = client.post(f"/inspections/{draft}/photos/sort-01", input_stream=body,
                           content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413 and "太大" in response.text
    assert body.taken < 20 * 1024 * 1024
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(func.count()).select_from(Photo)).one() == 0


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/app.py",
                                  "/photos/..%2f..%2fapp.py", "/static/css/../../app.py", "/static//etc/passwd"])
def test_path_traversal_finds_nothing(client, auth, path):
    auth.login("sup1")
    response = client.get(path, follow_redirects=True)  # "//" is merged by a redirect first
    assert response.status_code == 404 and b"create_app" not in response.data and b"root:" not in response.data
