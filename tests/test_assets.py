"""Static files: pages link content-hashed names, served compressed and cached for a year; plain names revalidate."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli

STATIC = Path(__file__).resolve().parents[1] / "static"


def test_pages_link_the_hashed_names_of_the_current_files(app, client, auth):
    auth.login()
    html = client.get("/").get_data(as_text=True)
    names = app.extensions["static_build"].names
    for plain in ("css/app.css", "js/htmx-2.0.11.min.js", "js/outbox.js"):
        assert f'"/static/{names[plain]}"' in html
        assert f'"/static/{plain}"' not in html
        # the hash is of the bytes the page will get
        response = client.get(f"/static/{names[plain]}", buffered=True)
        assert response.data == (STATIC / plain).read_bytes()


def test_a_hashed_file_is_immutable_for_a_year_and_compressed(app, client):
    name = app.extensions["static_build"].names["js/htmx-2.0.11.min.js"]
    source = (STATIC / "js" / "htmx-2.0.11.min.js").read_bytes()
    response = client.get(f"/static/{name}", headers={"Accept-Encoding": "br, gzip"}, buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert "immutable" in response.headers["Cache-Control"] and "max-age=315360000" in response.headers[
        "Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert brotli.decompress(response.data) == source
    assert len(response.data) < len(source) / 3  # 52 KB of htmx crosses the Wi-Fi as ~16 KB
    gz = client.get(f"/static/{name}", headers={"Accept-Encoding": "gzip"}, buffered=True)
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == source
    plain = client.get(f"/static/{name}", headers={"Accept-Encoding": "identity"}, buffered=True)
    assert "Content-Encoding" not in plain.headers and plain.data == source


def test_a_plain_name_still_serves_but_is_revalidated(client):
    response = client.get("/static/js/outbox.js", buffered=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=60, public"
    assert response.headers.get("ETag") or response.headers.get("Last-Modified")


def test_an_unknown_static_file_is_404(client):
    assert client.get("/static/js/nope.js").status_code == 404
    assert client.get("/static/js/outbox.000000000000.js").status_code == 404
    assert client.get("/static/../app.py").status_code == 404


def test_in_debug_mode_pages_link_the_files_as_they_are_and_the_worker_follows_edits(sqlite_url, tmp_path):
    import shutil

    from app import create_app

    app = create_app({"TESTING": True, "DEBUG": True, "SECRET_KEY": "test", "DATABASE_URL": sqlite_url,
                      "DATA_DIR": str(tmp_path / "data")})
    try:
        app.static_folder = str(shutil.copytree(STATIC, tmp_path / "static"))
        client = app.test_client()
        before = re.search(r'var CACHE = "(sixs-[0-9a-f]{16})"', client.get("/sw.js").text).group(1)
        assert '"/static/js/outbox.js"' in client.get("/sw.js").text  # the shell: plain names, served as they are
        (tmp_path / "static" / "js" / "outbox.js").write_text("// edited\n", encoding="utf-8")
        after = re.search(r'var CACHE = "(sixs-[0-9a-f]{16})"', client.get("/sw.js").text).group(1)
        assert after != before  # a cache-first worker would otherwise keep serving the old script
    finally:
        app.extensions["engine"].dispose()
