"""Hostile files and faults (#35): what each crafted file costs, and what survives a killed worker.

- each hostile file taken apart in a fresh process (peak memory VmHWM grown, and time), beside an honest file of
  the same kind in the same run: a 6 300² camera JPEG beside a tablet's 1 600×1 200 one; a PNG of 50 000² declared
  pixels; a PDF whose record inflates through two Flate layers to 1 GiB beside an issued report's record; a
  workbook whose shared strings would unpack to 50 MB beside the standard checklist's workbook. Targets:
  ≤ 300 MB and ≤ 2 s each;
- faults survived: an API worker killed (os._exit) right after committing a started inspection, and right before,
  N times each; survived = the retry under the same Idempotency-Key neither does it twice nor waits for the
  two-minute abandonment. Beside it, the time from the replacement worker's start to the retry's answer.

    python -m bench.hostile
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.__main__ import print_rows  # noqa: E402

PROBE = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    def peak():
        return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    data = open({path!r}, "rb").read()
    {imports}
    before = peak()
    started = time.perf_counter()
    try:
        outcome = "named not ours" if {call} is None else "taken"
    except Exception as exc:
        outcome = "refused: " + type(exc).__name__
    print((peak() - before) // 1024, round((time.perf_counter() - started) * 1000), outcome)
""")

KINDS = {
    "photo": ("from photos import normalise_here", "normalise_here(data)"),  # a decoding helper's work
    "pdf": ("from reports.archive import fingerprint_inside", "fingerprint_inside(data)"),
    "workbook": ("from checklists.excel import parse_workbook", "parse_workbook(data)"),
}


def _probe(kind: str, data: bytes, workdir: Path) -> tuple[int, int, str]:
    path = workdir / f"probe-{kind}"
    path.write_bytes(data)
    imports, call = KINDS[kind]
    run = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT), path=str(path), imports=imports,
                                                                   call=call)],
                         capture_output=True, text=True, timeout=300, check=True)
    grown, ms, outcome = run.stdout.strip().split(" ", 2)
    return int(grown), int(ms), outcome


def _jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    image = Image.effect_noise((width // 8, height // 8), 64).convert("RGB").resize((width, height))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    import struct

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def _pdf_carrying(raw: bytes, filters) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    stream = pikepdf.Stream(pdf, b"{}")
    stream.write(raw, filter=pikepdf.Array([pikepdf.Name(name) for name in filters]))
    pdf.attachments["record.json"] = pikepdf.AttachedFileSpec(pdf, b"{}", filename="record.json")
    names = pdf.Root.Names.EmbeddedFiles.Names
    spec = names[names.index(pikepdf.String("record.json")) + 1]
    spec.EF.F = spec.EF.UF = stream
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def _flate_bomb(size: int = 1024 ** 3) -> bytes:
    inner = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    layer = b"".join(inner.compress(chunk) for _ in range(size // len(chunk))) + inner.flush()
    return zlib.compress(layer, 9)


def _shared_strings_bomb(strings: int = 2_000_000) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        body = "".join(f"<si><t>s{n:08d}xxxxxxxxxxxxxxx</t></si>" for n in range(strings))
        z.writestr("xl/sharedStrings.xml", f'<sst count="{strings}">{body}</sst>')
    return out.getvalue()


def _standard_workbook() -> bytes:
    from checklists.excel import workbook_bytes
    from checklists.files import parse_checklist

    source = ROOT / "checklists" / "standard" / "standard-6s.v2.yaml"
    return workbook_bytes(parse_checklist(source.read_text(encoding="utf-8")))


def hostile_rows(workdir: Path) -> list[tuple]:
    import json

    pikepdf_record = json.dumps({"record": "x" * 10_000}).encode()
    honest = {
        "photo": _jpeg(1600, 1200),
        "pdf": _pdf_carrying(zlib.compress(pikepdf_record), ["/FlateDecode"]),
        "workbook": _standard_workbook(),
    }
    cases = [
        ("photo", "6 300 × 6 300 JPEG (just under 40 Mpx)", _jpeg(6300, 6300)),
        ("photo", "PNG declaring 50 000 × 50 000", _png_header(50_000, 50_000)),
        ("pdf", "PDF: record.json inflating to 1 GiB through two Flate layers",
         _pdf_carrying(_flate_bomb(), ["/FlateDecode", "/FlateDecode"])),
        ("workbook", "xlsx: shared strings unpacking to 60 MB", _shared_strings_bomb()),
    ]
    baseline = {kind: _probe(kind, data, workdir) for kind, data in honest.items()}
    rows = []
    for kind, name, data in cases:
        grown, ms, outcome = _probe(kind, data, workdir)
        base_grown, base_ms, _ = baseline[kind]
        rows.append((f"{name} ({len(data) // 1024} KB): {outcome}", f"+{grown} MB · {ms} ms",
                     f"+{base_grown} MB · {base_ms} ms (honest {kind})",
                     f"target ≤ 300 MB, ≤ 2 000 ms: {'met' if grown <= 300 and ms <= 2000 else 'MISSED'}"))
    return rows


WORKER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from werkzeug.serving import make_server
    from app import create_app
    import api.views

    app = create_app({{"SECRET_KEY": "bench-secret-key-0123", "DATABASE_URL": {url!r}, "DATA_DIR": {data!r}}})
    if {dies!r} == "after_commit":
        api.views.keep_answer = lambda response: os._exit(9)
    elif {dies!r} == "before_commit":
        api.views.start_inspection = lambda **kwargs: os._exit(9)
    server = make_server("127.0.0.1", {port}, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()
""")


def _worker(url: str, data: Path, dies: str | None) -> tuple[subprocess.Popen, str, float]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", WORKER.format(root=str(ROOT), url=url, data=str(data),
                                                                      dies=dies, port=port)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = process.stdout.readline().strip()
    process.stdout.close()
    if ready != "ready":
        raise RuntimeError("the worker did not start")
    return process, f"http://127.0.0.1:{port}", started


def fault_rows(workdir: Path, repeats: int = 5) -> list[tuple]:
    import statistics

    import requests
    from sqlmodel import Session, func, select

    from accounts.models import User
    from accounts.sessions import create_api_token
    from database import make_engine, upgrade_database, write_session
    from demo.generate import generate_demo
    from inspections.models import Inspection
    from storage import LocalStorage

    url = f"sqlite:///{workdir}/faults.db"
    upgrade_database(url)
    engine = make_engine(url)
    with write_session(engine) as session:
        generate_demo(session=session, store=LocalStorage(workdir / "data"))
        supervisor = session.exec(select(User).where(User.role == "supervisor")).first()
        token = create_api_token(session=session, user=supervisor)
        workshop = supervisor.workshops[0].code if getattr(supervisor, "workshops", None) else None
    if workshop is None:
        from accounts.service import visible_workshops

        with Session(engine) as session:
            supervisor = session.get(User, supervisor.id)
            workshop = session.exec(visible_workshops(supervisor)).first().code
    headers = {"Authorization": f"Bearer {token}"}

    def drafts() -> int:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(Inspection).where(
                Inspection.status == "draft")).one()

    fresh = []
    for _ in range(repeats):  # the baseline: a worker started, its first answer to anything
        worker, base, started = _worker(url, workdir / "data", None)
        try:
            requests.get(f"{base}/healthz", timeout=30)
            fresh.append((time.perf_counter() - started) * 1000)
        finally:
            worker.kill()
            worker.wait(10)
    rows = []
    for dies in ("before_commit", "after_commit"):
        survived, recovery = 0, []
        for n in range(repeats):
            key = {"Idempotency-Key": f"bench-{dies}-{n}"}
            before = drafts()
            dying, base, _ = _worker(url, workdir / "data", dies)
            try:
                requests.post(f"{base}/api/v1/workshops/{workshop}/inspections", headers=headers | key, timeout=30)
            except requests.ConnectionError:
                pass
            dying.wait(10)
            survivor, base, started = _worker(url, workdir / "data", None)
            try:
                retry = requests.post(f"{base}/api/v1/workshops/{workshop}/inspections", headers=headers | key,
                                      timeout=30)
                recovery.append((time.perf_counter() - started) * 1000)
            finally:
                survivor.kill()
                survivor.wait(10)
            expected = 201 if dies == "before_commit" else 409
            if retry.status_code == expected and drafts() == before + 1:
                survived += 1
        rows.append((f"worker killed {dies.replace('_', ' ')} of a keyed start: done once, retry answered",
                     f"{survived} of {repeats} · start → retry answered {statistics.median(recovery):.0f} ms",
                     f"start → first /healthz {statistics.median(fresh):.0f} ms",
                     f"{statistics.median(recovery) / statistics.median(fresh):.2f}× (was 409s for 120 000 ms)"))
    engine.dispose()
    return rows


def main() -> list[tuple]:
    workdir = Path(tempfile.mkdtemp(prefix="sixs-bench-hostile-"))
    try:
        return hostile_rows(workdir) + fault_rows(workdir)
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("SIXS_BENCH", "1")
    print_rows(main())
