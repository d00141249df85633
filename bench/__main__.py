"""make bench: server time of the form page, an answer save, the action and red-tag lists and the daily run,
and a full PDF render.

Every row has a baseline measured in the same run on the same machine:
- HTTP rows: a bare Flask endpoint (`/bench/bare`) returning a fixed string through the same app, so the
  difference is our own work (queries, templates), not Flask's;
- the PDF rows: the standard full report with 6 camera photos, beside the same HTML through WeasyPrint with
  default options and full-size photos, and printed by headless Chromium (`--print-to-pdf`); serving a stored
  report beside rendering it; peak memory of a render in a fresh process beside the default render's.
Figures are medians over many runs (p95 beside them) in this process, through the WSGI test client.
"""

from __future__ import annotations

import gzip
import os
import re
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
from bench.answers import category_save_row  # noqa: E402
from bench.offline import held_size_row  # noqa: E402
from bench.reference import machine_reference_row  # noqa: E402
from bench.sync import sync_rows  # noqa: E402
from database import upgrade_database, write_session  # noqa: E402
from demo.generate import DEMO_PASSWORD, generate_demo  # noqa: E402
from photos import photo_key  # noqa: E402

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
        generate_demo(session=session, store=app.extensions["storage"])  # with photos: red tags need one each

    @app.get("/bench/bare")
    def bare():
        return "ok"

    client = app.test_client()
    client.post("/login", data={"username": "zhang", "password": DEMO_PASSWORD})
    inspection_id = int(client.post("/workshops/SZ-CNC/inspections").location.rsplit("/", 1)[1])
    # a half-filled draft: the state a supervisor reloads most
    page = client.get(f"/inspections/{inspection_id}?category=set-in-order").text

    keys = re.findall(r'data-item-code="([^"]+)"', page)
    for key in keys[:21]:
        client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": "3"},
                    headers={"HX-Request": "true"})

    rows = [machine_reference_row()]
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
    rows.append(_first_load_row(client, form_url))
    scores = iter(["1", "2"] * 1000)
    key = keys[30]
    save_ms, save_p95 = timed(lambda: client.post(f"/inspections/{inspection_id}/answers/{key}",
                                                  data={f"score-{key}": next(scores)},
                                                  headers={"HX-Request": "true"}), 200)
    bare_post_ms, bare_post_p95 = timed(lambda: client.get("/bench/bare"), 200)
    rows.append(("answer save, htmx (server, SQLite; renders the item back)", f"{save_ms:.1f} ms (p95 {save_p95:.1f})",
                 f"{bare_post_ms:.2f} ms (p95 {bare_post_p95:.2f})", f"{save_ms / bare_post_ms:.0f}×"))
    rows.extend([_api_save_row(app, inspection_id, keys[31]), category_save_row(app, inspection_id, keys),
                 held_size_row(client, "the demo's supervisor")])
    trend_ms, trend_p95 = timed(lambda: client.get("/workshops/SZ-CNC"), 50)
    rows.append(("workshop trend page, 12 weeks", f"{trend_ms:.1f} ms (p95 {trend_p95:.1f})",
                 f"{base_ms:.2f} ms", f"{trend_ms / base_ms:.0f}×"))

    rows.extend(_action_rows(app, base_ms))

    # PDF: the standard full report with 6 photos of 1600×1200, rendered in a warm worker, beside
    # (a) the same HTML through WeasyPrint with default options and the full-size photos, and
    # (b) headless Chromium printing that same full-size HTML.
    submitted = _inspection_with_photos(client, 6)
    rows.extend(_background_report_rows(app, client, submitted))
    rows.extend(_period_report_rows(app))
    rows.extend(_pdf_rows(app, client, submitted, workdir, url))
    if CHROMIUM:
        rows.extend(sync_rows(CHROMIUM))  # a whole inspection done offline, then sent (own app and database)
    # last: the deduction sheet takes SZ-CNC over from the standard one
    rows.append(_deduction_form_row(app, client, form_url))

    print_rows(rows)
    app.extensions["engine"].dispose()
    shutil.rmtree(workdir, ignore_errors=True)


def _api_save_row(app, inspection_id: int, key: str) -> tuple:
    """One answer save through the API (JSON in, JSON out, a new change key each time), as the load test sends it,
    beside the bare endpoint measured right after."""
    from sqlmodel import Session, select

    from accounts.models import User
    from accounts.sessions import create_api_token

    with Session(app.extensions["engine"]) as session:
        user = session.exec(select(User).where(User.username == "zhang")).one()
        token = create_api_token(session=session, user=user, label="bench")
        session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    counter = iter(range(10_000))

    def save():
        n = next(counter)
        response = api.put(f"/api/v1/inspections/{inspection_id}/answers/{key}", headers=headers,
                           json={"score": 1 + n % 2, "change_key": f"bench-{n}"})
        assert response.status_code == 200, response.text

    ms, p95 = timed(save, 200)
    base_ms, base_p95 = timed(lambda: api.get("/bench/bare"), 200)
    return ("answer save, API (server, SQLite)", f"{ms:.1f} ms (p95 {p95:.1f})",
            f"{base_ms:.2f} ms (p95 {base_p95:.2f})", f"{ms / base_ms:.0f}× · target ≤ 20×")


def _first_load_row(client, form_url: str) -> tuple:
    """What a tablet with an empty cache fetches for the form: the page and every static file it links, as a
    browser asks (br, gzip), beside the same files sent as they are (before static compression)."""
    accept = {"Accept-Encoding": "br, gzip"}
    page = client.get(form_url, headers=accept)
    html = client.get(form_url).get_data(as_text=True)
    links = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html)))
    sent = len(page.data)
    raw = len(page.data)  # the page itself was compressed before too
    for link in links:
        response = client.get(link, headers=accept, buffered=True)
        assert response.status_code == 200, link
        sent += len(response.data)
        raw += len(client.get(link, headers={"Accept-Encoding": "identity"}, buffered=True).data)
    return (f"form first load transferred: page + {len(links)} static files (br)", f"{sent / 1024:.1f} KB",
            f"{raw / 1024:.1f} KB (static files uncompressed)", f"{sent / raw:.2f}× · target ≤ 45 KB")


def print_rows(rows: list[tuple]) -> None:
    widths = [max(len(str(r[i])) for r in rows + [HEADER]) for i in range(4)]
    print()
    for row in [HEADER, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)))
    print()


def _background_report_rows(app, client, inspection_id: int) -> list[tuple]:
    """Submit → stored reports with the consumer idle (the task run in this process, both kinds: full and
    findings), then the first download, which now serves stored bytes, beside rendering it in the request."""
    import time

    import tasks

    started = time.perf_counter()
    ran = tasks.drain(app)
    issue_ms = (time.perf_counter() - started) * 1000
    assert ran == 1
    first = time.perf_counter()
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    first_ms = (time.perf_counter() - first) * 1000
    assert response.status_code == 200
    return [("submit → stored reports (consumer idle; full + findings)", f"{issue_ms:.0f} ms", "—",
             "target ≤ 2000 ms"),
            ("first report download after submit (stored by the task)", f"{first_ms:.1f} ms",
             f"{issue_ms / 2:.0f} ms (one render in the request, before)", "target ≤ 20 ms")]


def _period_report_rows(app) -> list[tuple]:
    """The workshop report (12 weeks of SZ-CNC) and the plant 评比 (SZ, this month), read by the manager: every
    download after the first serves the stored document, beside the first, which renders it (as every download
    did before)."""
    import time

    manager = app.test_client()
    manager.post("/login", data={"username": "manager", "password": DEMO_PASSWORD})
    rows = []
    for label, url in (("workshop report PDF, 12 weeks", "/workshops/SZ-CNC/report.pdf"),
                       ("plant 评比 PDF, this month", "/plants/SZ/report.pdf")):
        started = time.perf_counter()
        first = manager.get(url)
        first_ms = (time.perf_counter() - started) * 1000
        assert first.status_code == 200, url
        stored_ms, stored_p95 = timed(lambda url=url: manager.get(url), 30)
        rows.append((f"{label}: download (stored)", f"{stored_ms:.1f} ms (p95 {stored_p95:.1f})",
                     f"{first_ms:.0f} ms (first download: render + store, as each was before)",
                     f"{first_ms / stored_ms:.0f}× faster"))
    return rows


def _deduction_form_row(app, client, standard_url: str) -> tuple:
    """The form page of a plant's own 150-item deduction sheet (3 categories of 50, counted with steppers), half
    counted, beside the standard sheet's 42-item page and the bare endpoint, measured again here (after the PDF
    renders the process is not in the state it was at the start)."""
    from checklists.files import parse_checklist
    from checklists.service import import_checklist, publish_version, set_scope

    sheet = {"schema": 2, "key": "bench-deduction", "name": "扣分制评分表",
             "scoring": {"type": "deduction", "overall": "sum", "max_findings": 99},
             "categories": [{"key": f"c{c}", "name": f"类别{c}", "full_marks": 100 / 3,
                             "items": [{"key": f"c{c}-{i:02d}", "text": f"第 {i} 项：通道、物料、标识按定置图摆放",
                                        "deduct": 0.5 + (i % 3) * 0.5, "unit": "处"} for i in range(50)]}
                            for c in range(3)]}
    import yaml

    with write_session(app.extensions["engine"]) as session:
        version, _created = import_checklist(session=session, data=parse_checklist(yaml.safe_dump(sheet)))
        set_scope(session=session, checklist=version.checklist, workshop_codes=["SZ-CNC"])
        publish_version(session=session, version=version, user=None, note="bench")
    inspection_id = int(client.post("/workshops/SZ-CNC/inspections").location.rsplit("/", 1)[1])
    for i in range(25):
        key = f"c1-{i:02d}"
        client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": str(i % 4)},
                    headers={"HX-Request": "true"})
    url = f"/inspections/{inspection_id}?category=c1"
    assert 'class="count"' in client.get(url).text
    ms, p95 = timed(lambda: client.get(url, headers={"Accept-Encoding": "gzip"}), 100)
    standard_ms, _p95 = timed(lambda: client.get(standard_url, headers={"Accept-Encoding": "gzip"}), 100)
    base_ms, _p95 = timed(lambda: client.get("/bench/bare"), 300)
    return ("form page, 50-item category of a 150-item deduction sheet", f"{ms:.1f} ms (p95 {p95:.1f})",
            f"{standard_ms:.1f} ms (42 of 105 standard) · {base_ms:.2f} ms bare",
            f"{ms / standard_ms:.2f}× standard, {ms / base_ms:.0f}× bare")


HEADER = ("measure", "ours", "baseline", "ratio / target")


def _action_rows(app, base_ms: float) -> list[tuple]:
    """The manager's lists of corrective actions and red tags, and the daily run (dry: no SMTP here)."""
    from sqlmodel import Session, func, select

    from actions.models import CorrectiveAction
    from redtags.models import RedTag

    with Session(app.extensions["engine"]) as session:
        n_actions = session.exec(select(func.count()).select_from(CorrectiveAction)).one()
        n_tags = session.exec(select(func.count()).select_from(RedTag)).one()
    manager = app.test_client()
    manager.post("/login", data={"username": "manager", "password": DEMO_PASSWORD})
    list_ms, list_p95 = timed(lambda: manager.get("/plants/SZ/actions?status=all"), 50)
    tags_ms, tags_p95 = timed(lambda: manager.get("/red-tags?status=all"), 50)
    busy = _busy_plant(app, "SZ")  # every answer of the plant a finding: the list shows its first 500
    busy_ms, busy_p95 = timed(lambda: manager.get("/plants/SZ/actions?status=all"), 20)
    runner = app.test_cli_runner()
    notify_ms, notify_p95 = timed(lambda: runner.invoke(args=["actions", "notify", "--dry-run"]), 10)
    help_ms, _ = timed(lambda: runner.invoke(args=["actions", "--help"]), 10)
    return [
        (f"plant action list, all statuses ({n_actions} actions in the demo)", f"{list_ms:.1f} ms (p95 {list_p95:.1f})",
         f"{base_ms:.2f} ms", f"{list_ms / base_ms:.0f}×"),
        (f"plant action list, all statuses, 500 shown of {busy}", f"{busy_ms:.1f} ms (p95 {busy_p95:.1f})",
         f"{base_ms:.2f} ms", f"{busy_ms / base_ms:.0f}×"),
        (f"red-tag register, all ({n_tags} tags)", f"{tags_ms:.1f} ms (p95 {tags_p95:.1f})", f"{base_ms:.2f} ms",
         f"{tags_ms / base_ms:.0f}×"),
        ("daily run, dry (escalation count, overdue digest and webhook payloads)",
         f"{notify_ms:.1f} ms (p95 {notify_p95:.1f})", f"{help_ms:.1f} ms (the same CLI, --help)",
         f"{notify_ms / help_ms:.0f}×"),
    ]


def _busy_plant(app, plant_code: str) -> int:
    """A finding with an open action for every answer of the plant's submitted inspections that has none."""
    from sqlmodel import func, select

    from accounts.models import Plant, Workshop
    from actions.models import CorrectiveAction, Finding
    from checklists.models import ChecklistItem
    from inspections.models import Answer, Inspection, InspectionStatus

    with write_session(app.extensions["engine"]) as session:
        rows = session.exec(
            select(Answer, Inspection, ChecklistItem).join(Inspection, Inspection.id == Answer.inspection_id)
            .join(ChecklistItem, ChecklistItem.id == Answer.item_id)
            .join(Workshop, Workshop.id == Inspection.workshop_id).join(Plant, Plant.id == Workshop.plant_id)
            .where(Plant.code == plant_code, Inspection.status == InspectionStatus.submitted)
            .where(~select(Finding.id).where(Finding.inspection_id == Answer.inspection_id,
                                             Finding.item_id == Answer.item_id).exists())).all()
        for answer, inspection, item in rows:
            finding = Finding(inspection_id=inspection.id, item_id=item.id, item_key=item.key,
                              workshop_id=inspection.workshop_id, score=answer.score, note=answer.note)
            session.add(finding)
            session.flush()
            session.add(CorrectiveAction(finding_id=finding.id, workshop_id=inspection.workshop_id,
                                         due_on=inspection.submitted_at.date()))
        session.flush()
        workshops = select(Workshop.id).join(Plant).where(Plant.code == plant_code)
        return session.exec(select(func.count()).select_from(CorrectiveAction)
                            .where(CorrectiveAction.workshop_id.in_(workshops))).one()


def _inspection_with_photos(client, count: int) -> int:
    """A submitted inspection of the standard checklist with `count` camera-size photos on its findings."""
    import io

    from PIL import Image

    inspection_id = int(client.post("/workshops/SZ-ASM/inspections").location.rsplit("/", 1)[1])
    keys = []
    for category in ("sort", "set-in-order", "shine", "standardize", "sustain", "safety", "office"):
        page = client.get(f"/inspections/{inspection_id}?category={category}").text
        keys += re.findall(r'data-item-code="([^"]+)"', page)
    for i, key in enumerate(keys):
        client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": "1" if i % 15 == 0 else "3"})
    for n, key in enumerate(keys[0:15 * count:15]):
        image = Image.effect_mandelbrot((1600, 1200), (-2.0 + n * 0.1, -1.2, 1.0, 1.2), 60).convert("RGB")
        data = io.BytesIO()
        image.save(data, format="JPEG", quality=90)
        client.post(f"/inspections/{inspection_id}/photos/{key}", content_type="multipart/form-data",
                    data={f"photo-{key}": (io.BytesIO(data.getvalue()), "photo.jpg")})
    response = client.post(f"/inspections/{inspection_id}/submit",
                           data={"signature_typed": "1", "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.data[:400]
    return inspection_id


# Peak RSS from /proc (VmHWM, in kB), reset at start: ru_maxrss would carry over the parent's peak
# through fork, and the bench process is large by then.
PEAK_RSS_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
open("/proc/self/clear_refs", "w").write("5")
def peak():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
from app import create_app
from bench.__main__ import render_ours, render_plain, render_default
app = create_app({{"TESTING": True, "SECRET_KEY": "b", "DATABASE_URL": {url!r}, "DATA_DIR": {data!r},
                  "WTF_CSRF_ENABLED": False}})
before = peak()
with app.test_request_context():
    pdf = {render}(app, {inspection_id})
print(before, peak(), len(pdf))
"""


def _report_html(app, inspection_id: int, full_size: bool) -> tuple[str, dict]:
    """Our report HTML; full_size: photos as file:// links to the originals and signatures inline (baselines)."""
    import base64

    from flask import render_template

    from database import db
    from inspections.models import Inspection
    from reports.archive import Issue
    from reports.context import inspection_report_context
    from reports.language import ReportLanguage, language_context
    from web import qr_svg

    inspection = db().get(Inspection, inspection_id)
    context = inspection_report_context(session=db(), inspection=inspection)
    issue = Issue(number=f"6S-{inspection_id}-1", sequence=1, record_sha256="0" * 64, record_json="{}",
                  previous=None, reason="issued")
    html = render_template("print/inspection.html", **context, issue=issue, kind="full", now=inspection.submitted_at,
                           verify_url="https://example.invalid/verify", verify_qr=qr_svg("https://example.invalid/v"),
                           previous_number=None, **language_context(ReportLanguage("zh")))
    if full_size:
        import re

        data_dir = Path(app.config["DATA_DIR"])
        html = re.sub(r'src="photos/([0-9a-f]{64})\.thumb\.jpg"',
                      lambda m: f'src="{(data_dir / photo_key(m.group(1))).as_uri()}"', html)
        for s in context["signatures"]:
            if s.image_png:
                html = html.replace(f"signatures/{s.image_sha256}.png",
                                    "data:image/png;base64," + base64.b64encode(s.image_png).decode())
    return html, context


def render_ours(app, inspection_id: int) -> bytes:
    from database import db
    from inspections.models import Inspection
    from reports.archive import Issue
    from reports.issuing import render_inspection_pdf

    issue = Issue(number=f"6S-{inspection_id}-1", sequence=1, record_sha256="0" * 64, record_json="{}",
                  previous=None, reason="issued")
    return render_inspection_pdf(db().get(Inspection, inspection_id), "full", issue)


def render_plain(app, inspection_id: int) -> bytes:
    """The same report as a plain PDF: no PDF/A (tags, XMP, output intent) and no record carried inside."""
    from database import db
    from inspections.models import Inspection
    from reports.archive import Issue
    from reports.issuing import render_inspection_pdf

    issue = Issue(number=f"6S-{inspection_id}-1", sequence=1, record_sha256="0" * 64, record_json="{}",
                  previous=None, reason="issued")
    return render_inspection_pdf(db().get(Inspection, inspection_id), "full", issue, archival=False)


def render_default(app, inspection_id: int) -> bytes:
    """The naive way: WeasyPrint's default fetcher and options, full-size photos."""
    from weasyprint import CSS, HTML

    html, _context = _report_html(app, inspection_id, full_size=True)
    css = CSS(filename=str(ROOT / "static" / "css" / "print.css"))
    return HTML(string=html, base_url=str(ROOT / "static") + "/").write_pdf(stylesheets=[css])


def _peak_rss(url: str, data_dir: str, inspection_id: int, render: str) -> tuple[float, float]:
    code = PEAK_RSS_SCRIPT.format(root=str(ROOT), url=url, data=data_dir, render=render, inspection_id=inspection_id)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    before, after, _size = (int(v) for v in out.stdout.strip().splitlines()[-1].split())
    return before / 1024, after / 1024


def _pdf_rows(app, client, inspection_id: int, workdir: Path, url: str) -> list[tuple]:
    rows = []
    with app.test_request_context():
        render_ours(app, inspection_id)  # warm: fonts loaded, templates compiled
        ours = render_ours(app, inspection_id)
        ours_ms, ours_p95 = timed(lambda: render_ours(app, inspection_id), 8)
        render_plain(app, inspection_id)
        plain = render_plain(app, inspection_id)
        plain_ms, plain_p95 = timed(lambda: render_plain(app, inspection_id), 8)
        render_default(app, inspection_id)
        default_pdf = render_default(app, inspection_id)
        default_ms, _ = timed(lambda: render_default(app, inspection_id), 3)
        html, _context = _report_html(app, inspection_id, full_size=True)
    rows.append(("PDF/A-3a render (tagged, XMP, record inside) vs the same as plain PDF",
                 f"{ours_ms:.0f} ms (p95 {ours_p95:.0f})", f"{plain_ms:.0f} ms (p95 {plain_p95:.0f})",
                 f"{ours_ms / plain_ms:.2f}×"))
    rows.append(("PDF/A-3a file size vs plain", f"{len(ours) / 1024:.0f} KB", f"{len(plain) / 1024:.0f} KB",
                 f"{len(ours) / len(plain):.2f}×"))
    rows.append(("PDF render, 105 items + 6 photos (warm worker)", f"{ours_ms:.0f} ms (p95 {ours_p95:.0f})",
                 f"{default_ms:.0f} ms (WeasyPrint defaults, full-size photos)",
                 f"{ours_ms / default_ms:.2f}× · target ≤ 500 ms"))
    chrome_cell, chrome_ratio = "chromium not installed", "—"
    if CHROMIUM:
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
        chrome_size = (workdir / "chromium.pdf").stat().st_size
        chrome_cell = f"{chrome_ms:.0f} ms, {chrome_size / 1024:.0f} KB (Chromium --print-to-pdf, new process)"
        chrome_ratio = f"{ours_ms / chrome_ms:.2f}×"
    rows.append(("PDF render vs Chromium", f"{ours_ms:.0f} ms", chrome_cell, chrome_ratio))
    rows.append(("PDF file size", f"{len(ours) / 1024:.0f} KB", f"{len(default_pdf) / 1024:.0f} KB (defaults)",
                 f"{len(ours) / len(default_pdf):.2f}× · target ≤ 1 MB"))
    client.get(f"/inspections/{inspection_id}/report.pdf")  # issue and store it once
    served_ms, served_p95 = timed(lambda: client.get(f"/inspections/{inspection_id}/report.pdf"), 50)
    rows.append(("stored report served (GET report.pdf again)", f"{served_ms:.1f} ms (p95 {served_p95:.1f})",
                 f"{ours_ms:.0f} ms (render each time)", f"{served_ms / ours_ms:.3f}× · target ≤ 20 ms"))
    data_dir = app.config["DATA_DIR"]
    base, peak = _peak_rss(url, data_dir, inspection_id, "render_ours")
    _base, plain_peak = _peak_rss(url, data_dir, inspection_id, "render_plain")
    _base, default_peak = _peak_rss(url, data_dir, inspection_id, "render_default")
    rows.append(("PDF render peak RSS (process incl. app)", f"{peak:.0f} MiB (app alone {base:.0f})",
                 f"{plain_peak:.0f} MiB (plain PDF) · {default_peak:.0f} MiB (defaults)", "target ≤ 250 MiB"))
    return rows


if __name__ == "__main__":
    main()
