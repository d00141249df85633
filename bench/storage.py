"""Files on object storage beside the local folder, and backups.

- photo upload (a tablet's 1600×1200 JPEG) and thumbnail serve, with the files in a bucket of moto's S3 server on
  127.0.0.1, beside the same with the files in DATA_DIR (ratio);
- a stored report's download from the bucket (target ≤ 30 ms median), beside the same from the folder;
- `backup create` and `backup restore` of the demo on SQLite, beside copying the database file and the data folder
  (cp); and of the large group when `python -m bench.large` has built it (.bench-cache/).

    python -m bench.storage
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.__main__ import print_rows, timed  # noqa: E402
from database import upgrade_database, write_session  # noqa: E402


def _moto() -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).read()  # noqa: S310 (loopback)
            return process, endpoint
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("moto server did not start")


def _photo() -> bytes:
    from PIL import Image

    image = Image.effect_mandelbrot((1600, 1200), (-2.0, -1.2, 1.0, 1.2), 60).convert("RGB")
    data = io.BytesIO()
    image.save(data, format="JPEG", quality=90)
    return data.getvalue()


def _app(url: str, data_dir: Path, **extra):
    from app import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "DATA_DIR": str(data_dir),
                       "WTF_CSRF_ENABLED": False, **extra})


def _file_rows(workdir: Path, urls: dict[str, str], endpoint: str) -> list[tuple]:
    import boto3

    from bench.__main__ import _inspection_with_photos
    from demo.generate import DEMO_PASSWORD

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
    apps = {"folder": _app(urls["folder"], workdir / "data"),
            "bucket": _app(urls["bucket"], workdir / "data-s3", STORAGE_URL="s3://bench/files",
                           STORAGE_ENDPOINT_URL=endpoint)}
    photo = _photo()
    figures = {}
    for name, app in apps.items():
        client = app.test_client()
        client.post("/login", data={"username": "zhang", "password": DEMO_PASSWORD})
        draft = int(client.post("/workshops/SZ-CNC/inspections").location.rsplit("/", 1)[1])
        key = re.findall(r'data-item-code="([^"]+)"', client.get(f"/inspections/{draft}").text)[0]
        client.post(f"/inspections/{draft}/answers/{key}", data={f"score-{key}": "1"})
        uploads = iter(range(10_000))

        def upload(client=client, draft=draft, key=key, uploads=uploads):
            # a different photo each time (one pixel row changed): the same bytes would be stored once
            data = bytearray(photo)
            data[-3] = next(uploads) % 250
            client.post(f"/inspections/{draft}/photos/{key}", content_type="multipart/form-data",
                        data={"photo": (io.BytesIO(bytes(data)), "p.jpg")})

        upload_ms, upload_p95 = timed(upload, 10)  # at most 10 photos per item
        page = client.get(f"/inspections/{draft}").text
        photo_id = re.findall(r"/photos/(\d+)\?size=thumb", page)[0]
        thumb_ms, thumb_p95 = timed(lambda c=client, p=photo_id: c.get(f"/photos/{p}?size=thumb"), 200)
        submitted = _inspection_with_photos(client, 2)
        client.get(f"/inspections/{submitted}/report.pdf")  # issued and stored (rendered here: no consumer)
        report_ms, report_p95 = timed(lambda c=client, i=submitted: c.get(f"/inspections/{i}/report.pdf"), 100)
        figures[name] = {"upload": (upload_ms, upload_p95), "thumb": (thumb_ms, thumb_p95),
                         "report": (report_ms, report_p95)}
        app.extensions["engine"].dispose()
    rows = []
    for measure, label in (("upload", "photo upload, 1600×1200 JPEG (re-encoded, thumbnail made)"),
                           ("thumb", "photo thumbnail served"), ("report", "stored report download (PDF)")):
        (ours, ours_p95), (base, base_p95) = figures["bucket"][measure], figures["folder"][measure]
        target = " (target ≤ 30 ms)" if measure == "report" else ""
        rows.append((f"{label}, object storage", f"{ours:.1f} ms (p95 {ours_p95:.1f})",
                     f"folder {base:.1f} ms (p95 {base_p95:.1f})", f"{ours / base:.2f}×{target}"))
    return rows


def _backup_rows(name: str, url: str, data_dir: Path, workdir: Path) -> list[tuple]:
    from database import make_engine
    from operations.backup import create_backup, restore_backup
    from storage import LocalStorage

    engine = make_engine(url)
    store = LocalStorage(data_dir)
    folder = workdir / f"backup-{name}"
    started = time.perf_counter()
    summary = create_backup(engine=engine, store=store, folder=folder)
    backup_s = time.perf_counter() - started
    engine.dispose()
    database = Path(url.removeprefix("sqlite:///"))
    started = time.perf_counter()
    shutil.copyfile(database, workdir / f"copy-{name}.db")
    if data_dir.exists():
        shutil.copytree(data_dir, workdir / f"copy-{name}-data")
    copy_s = time.perf_counter() - started
    target_url = f"sqlite:///{workdir}/restored-{name}.db"
    target = make_engine(target_url)
    started = time.perf_counter()
    restored = restore_backup(engine=target, store=LocalStorage(workdir / f"restored-{name}-data"), folder=folder)
    restore_s = time.perf_counter() - started
    target.dispose()
    assert not restored.problems, restored.problems
    size = (folder / "database.sqlite3").stat().st_size / 1024 / 1024
    return [(f"backup create, {name} (SQLite {size:.0f} MB, {summary.files} files)", _seconds(backup_s),
             f"cp of the database and data folder {_seconds(copy_s)}", f"{backup_s / copy_s:.1f}×"),
            (f"backup restore, {name} (every hash checked first, the files the records need after)",
             _seconds(restore_s),
             f"cp {_seconds(copy_s)}", f"{restore_s / copy_s:.1f}×")]


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.0f} s"


def main() -> list[tuple]:
    from demo.generate import generate_demo
    from storage import LocalStorage

    workdir = Path(tempfile.mkdtemp(prefix="sixs-bench-storage-"))
    moto, endpoint = _moto()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        url = f"sqlite:///{workdir}/demo.db"
        upgrade_database(url)
        from database import make_engine

        engine = make_engine(url)
        with write_session(engine) as session:
            generate_demo(session=session, store=LocalStorage(workdir / "data"))
        engine.dispose()
        # each app its own copy of the demo: the bucket's records must not point into the folder's backup
        shutil.copyfile(workdir / "demo.db", workdir / "bucket.db")
        rows = _file_rows(workdir, {"folder": url, "bucket": f"sqlite:///{workdir}/bucket.db"}, endpoint)
        rows.extend(_backup_rows("demo", url, workdir / "data", workdir))
        from bench.large import CACHE

        built = sorted(CACHE.glob("large-*.db"), key=lambda p: p.stat().st_mtime)
        if built:
            rows.extend(_backup_rows("large group", f"sqlite:///{built[-1]}", CACHE / "data", workdir))
        else:
            print("the large group is not built (python -m bench.large): its backup rows are skipped")
        return rows
    finally:
        moto.terminate()
        moto.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    print_rows(main())
