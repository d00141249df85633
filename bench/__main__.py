"""make bench: server time of the form page and of an answer save, and a full PDF render.

Every row has a baseline measured in the same run on the same machine:
- HTTP rows: a bare Flask endpoint (`/bench/bare`) returning a fixed string through the same app, so the
  difference is our own work (queries, templates), not Flask's;
- the PDF row: the same report HTML printed by headless Chromium (`--print-to-pdf`).
Figures are medians over many runs (p95 beside them) in this process, through the WSGI test client.
"""

from __future__ import annotations

import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from database import upgrade_database, write_session  # noqa: E402
from inspections.demo import DEMO_PASSWORD, generate_demo  # noqa: E402

CHROMIUM = shutil.which("chromium")


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="sixs-bench-"))
    url = f"sqlite:///{workdir}/bench.db"
    upgrade_database(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "DATA_DIR": str(workdir),
                      "WTF_CSRF_ENABLED": False})
    with write_session(app.extensions["engine"]) as session:
        generate_demo(session=session)

    @app.get("/bench/bare")
    def bare():
        return "ok"

    client = app.test_client()
    client.post("/login", data={"username": "zhang", "password": DEMO_PASSWORD})
    inspection_id = int(client.post("/workshops/SZ-CNC/inspections").location.rsplit("/", 1)[1])
    # a half-filled draft: the state a supervisor reloads most
    page = client.get(f"/inspections/{inspection_id}?category=set-in-order").text
    import re

    keys = re.findall(r'data-item-code="([^"]+)"', page)
    for key in keys[:21]:
        client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": "3"},
                    headers={"HX-Request": "true"})

    rows = []
    base_ms, base_p95 = timed(lambda: client.get("/bench/bare"), 300)
    form_url = f"/inspections/{inspection_id}?category=set-in-order"
    body = client.get(form_url).data
    form_ms, form_p95 = timed(lambda: client.get(form_url, headers={"Accept-Encoding": "gzip"}), 100)
    rows.append(("form page, 42-item category of 105, gzip (server)", f"{form_ms:.1f} ms (p95 {form_p95:.1f})",
                 f"{base_ms:.2f} ms (p95 {base_p95:.2f})", f"{form_ms / base_ms:.0f}×"))
    sent = client.get(form_url, headers={"Accept-Encoding": "gzip"})
    assert sent.headers.get("Content-Encoding") == "gzip"
    rows.append(("form page transferred (gzip) / raw", f"{len(sent.data) / 1024:.1f} KB / {len(body) / 1024:.1f} KB",
                 f"{len(gzip.compress(body)) / 1024:.1f} KB (gzip -6)", "target < 60 KB"))
    scores = iter(["1", "2"] * 1000)
    key = keys[30]
    save_ms, save_p95 = timed(lambda: client.post(f"/inspections/{inspection_id}/answers/{key}",
                                                  data={f"score-{key}": next(scores)},
                                                  headers={"HX-Request": "true"}), 200)
    bare_post_ms, bare_post_p95 = timed(lambda: client.get("/bench/bare"), 200)
    rows.append(("answer save, htmx (server, SQLite)", f"{save_ms:.1f} ms (p95 {save_p95:.1f})",
                 f"{bare_post_ms:.2f} ms (p95 {bare_post_p95:.2f})", f"{save_ms / bare_post_ms:.0f}×"))
    trend_ms, trend_p95 = timed(lambda: client.get("/workshops/SZ-CNC"), 50)
    rows.append(("workshop trend page, 12 weeks", f"{trend_ms:.1f} ms (p95 {trend_p95:.1f})",
                 f"{base_ms:.2f} ms", f"{trend_ms / base_ms:.0f}×"))

    # PDF: our WeasyPrint render (warm worker: first render excluded) vs Chromium printing the same HTML.
    submitted = 1
    client.get(f"/inspections/{submitted}/report.pdf")
    pdf = client.get(f"/inspections/{submitted}/report.pdf").data
    pdf_ms, pdf_p95 = timed(lambda: client.get(f"/inspections/{submitted}/report.pdf"), 8)
    chromium_cell = "not installed"
    ratio = "—"
    if CHROMIUM:
        from flask import render_template

        from database import db
        from inspections.models import Inspection
        from inspections.reports.context import inspection_report_context

        with app.test_request_context():
            html = render_template("print/inspection.html", **inspection_report_context(
                session=db(), inspection=db().get(Inspection, submitted)))
        css = (ROOT / "static" / "css" / "print.css").read_text(encoding="utf-8")
        html_path = workdir / "report.html"
        html_path.write_text(html.replace("</head>", f"<style>{css}</style></head>"), encoding="utf-8")

        def chromium_print():
            subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={workdir / 'chromium'}", "--no-pdf-header-footer",
                            f"--print-to-pdf={workdir / 'chromium.pdf'}", html_path.as_uri()],
                           check=True, capture_output=True, timeout=120)

        chromium_print()
        chrome_ms, _ = timed(chromium_print, 3)
        chromium_cell = f"{chrome_ms:.0f} ms, {(workdir / 'chromium.pdf').stat().st_size / 1024:.0f} KB (new process)"
        ratio = f"{pdf_ms / chrome_ms:.2f}×"
    rows.append(("PDF render, full report 105 items (WeasyPrint)",
                 f"{pdf_ms:.0f} ms (p95 {pdf_p95:.0f}), {len(pdf) / 1024:.0f} KB", chromium_cell, ratio))
    peak = _peak_rss_of_render(url, workdir, submitted)
    rows.append(("PDF render peak RSS (process incl. app)", f"{peak:.0f} MiB", "—", "target ≤ 250 MiB"))

    widths = [max(len(str(r[i])) for r in rows + [HEADER]) for i in range(4)]
    print()
    for row in [HEADER, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)))
    print()
    app.extensions["engine"].dispose()
    shutil.rmtree(workdir, ignore_errors=True)


HEADER = ("measure", "ours", "baseline", "ratio / target")


def _peak_rss_of_render(url: str, workdir: Path, inspection_id: int) -> float:
    code = f"""
import resource, sys
sys.path.insert(0, {str(ROOT)!r})
from app import create_app
app = create_app({{"TESTING": True, "SECRET_KEY": "b", "DATABASE_URL": {url!r}, "DATA_DIR": {str(workdir)!r},
                  "WTF_CSRF_ENABLED": False}})
c = app.test_client()
c.post("/login", data={{"username": "manager", "password": {DEMO_PASSWORD!r}}})
assert c.get("/inspections/{inspection_id}/report.pdf").status_code == 200
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return int(out.stdout.strip().splitlines()[-1]) / 1024


if __name__ == "__main__":
    main()
