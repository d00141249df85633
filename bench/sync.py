"""make bench: a whole inspection done on a tablet without the server, then sent (#37). Debian's Chromium with a
profile on disk and the app behind a relay on 127.0.0.1 (tests/relay.py) switched off like a dead corner's Wi-Fi:
the inspection is started on the tablet, all 105 items answered, 6 camera photos taken, reviewed and signed there;
measured is the time from "online again" (the relay on, 立即同步) to everything stored and the record submitted.
Beside it, in the same run: the same 105 answers and 6 photos given online, from the last tap to all stored."""

from __future__ import annotations

import io
import shutil
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image
from sqlmodel import Session, func, select
from werkzeug.serving import make_server

from app import create_app
from database import upgrade_database, write_session
from demo.generate import DEMO_PASSWORD, generate_demo
from inspections.models import Inspection, InspectionStatus, Photo
from tests.relay import Relay

WORKSHOP = "SZ-CNC"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
ANSWER_ALL = """() => {
  for (const item of document.querySelectorAll('.item[data-item-code]')) {
    if (item.querySelector('input[type=radio]:checked')) continue;
    const radio = item.querySelector('input[type=radio][value="3"]');
    radio.checked = true;
    radio.dispatchEvent(new Event('change', {bubbles: true}));
  }
}"""


def camera_photo(seed: int) -> bytes:
    """A 4000×3000 photo with a camera's detail (noise compresses like a real scene, not like a flat colour)."""
    image = Image.effect_noise((4000, 3000), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def sync_rows(chromium: str) -> list[tuple]:
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="sixs-bench-sync-"))
    url = f"sqlite:///{workdir}/sync.db"
    upgrade_database(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-sync-" + "s" * 32, "DATABASE_URL": url,
                      "DATA_DIR": str(workdir / "data")})
    with write_session(app.extensions["engine"]) as session:
        generate_demo(session=session, store=app.extensions["storage"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    relay = Relay(server.server_port).on()
    photos = [camera_photo(n) for n in range(6)]
    try:
        with sync_playwright() as playwright:
            online = _run(playwright, chromium, relay, workdir / "online", photos, app, offline=False)
            offline = _run(playwright, chromium, relay, workdir / "offline", photos, app, offline=True)
    finally:
        relay.off()
        server.shutdown()
        app.extensions["engine"].dispose()
        shutil.rmtree(workdir, ignore_errors=True)
    return [("online again → all stored: an offline start, 105 answers, 6 photos, signed submit (Chromium)",
             f"{offline:.1f} s", f"{online:.1f} s (the same answers and photos given online: last tap → stored)",
             f"{offline / online:.1f}×")]


def _stored(app, photos: int, submitted: bool) -> bool:
    """The server's own word: the newest inspection holds every answer and photo (and is submitted)."""
    with Session(app.extensions["engine"]) as session:
        newest = session.exec(select(Inspection).order_by(Inspection.id.desc())).first()
        if newest is None:
            return False
        photo_count = session.exec(select(func.count()).select_from(Photo).where(
            Photo.inspection_id == newest.id)).one()
        done = len(newest.answers) == 105 and photo_count == photos
        return done and (newest.status == InspectionStatus.submitted) == submitted


def _until(condition, limit_s: float = 300) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the tablet's work did not arrive")
        time.sleep(0.02)


def _run(playwright, chromium: str, relay: Relay, profile: Path, photos: list[bytes], app, offline: bool) -> float:
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=chromium, args=ARGS, headless=True, viewport={"width": 768, "height": 1024},
        locale="zh-CN")
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{relay.url}/login")
        page.fill("input[name=username]", "zhang")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{relay.url}/")
        page.evaluate("navigator.serviceWorker.ready")
        page.goto(f"{relay.url}/")
        page.wait_for_selector("html[data-holdings-refreshed]", state="attached")
        if offline:
            relay.off()
        page.goto(f"{relay.url}/workshops/{WORKSHOP}")
        page.click("form[data-start-once] button[type=submit]")
        page.wait_for_selector(".item[data-item-code]")
        items = page.locator(".item[data-item-code]")
        for n, photo in enumerate(photos):
            item = items.nth(n * 3)
            item.locator("input[type=radio][value='1']").check()  # a finding, with its photo
            item.locator("input[type=file]").set_input_files(
                files=[{"name": f"IMG_{n}.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        page.wait_for_function(f"() => document.querySelectorAll('[data-queued-photo], .photos img').length >= "
                               f"{len(photos)}")
        if offline:
            page.evaluate(ANSWER_ALL)  # the blank form holds every category
        else:
            for tab in page.locator("a.tab[data-category-key]").all():  # a draft's page: one category at a time
                key = tab.get_attribute("data-category-key")
                page.click(f'a.tab[data-category-key="{key}"]')
                page.wait_for_selector(f'#category-panel [data-item-code^="{key}-"]')
                page.evaluate(ANSWER_ALL)
        if offline:
            page.wait_for_selector('.progress-count[data-pending="105"]', state="attached")
            page.click('[data-action="review-inspection"]')
            page.wait_for_selector("#device-review:not([hidden])")
            pad = page.locator("#device-review canvas[data-signature-for=signature]").bounding_box()
            page.mouse.move(pad["x"] + 20, pad["y"] + 40)
            page.mouse.down()
            page.mouse.move(pad["x"] + 200, pad["y"] + 120, steps=8)
            page.mouse.up()
            page.fill("#device-review input[name=device_password]", DEMO_PASSWORD)
            page.click('[data-action="device-submit"]')
            page.wait_for_selector("[data-device-signed]:not([hidden])")
            relay.on()
            began = time.perf_counter()
            page.click('[data-action="sync-now"]')
        else:
            began = time.perf_counter()
        _until(lambda: _stored(app, len(photos), submitted=offline))
        return time.perf_counter() - began
    finally:
        context.close()
