"""A shift without the server (#37), on a tablet's browser with its profile on disk: one online visit of the home
page, then the browser closed and opened again in a dead corner — the relay in front of the server switched off,
so nothing reaches it, not only the browser's offline switch."""

import pytest

from tests.browser.actions import first_page, login, visit_home_online
from tests.helpers import published_items

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [{"width": 768, "height": 1024}, {"width": 390, "height": 844}],
                         ids=["tablet", "phone"])
def test_after_one_online_visit_home_workshops_and_what_is_held_open_with_the_server_gone(
        live_server, relay, device, artifacts, viewport):
    _base, app = live_server
    visit_home_online(device, relay, viewport)
    relay.off()
    name = f"{viewport['width']}x{viewport['height']}"

    page = first_page(device.open(viewport=viewport))
    page.goto(f"{relay.url}/")
    assert page.locator('a[data-workshop-code="W1"]').count() == 1  # sup1's workshop, from the kept home page
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.click('a[data-workshop-code="W1"]')
    page.wait_for_url(f"{relay.url}/workshops/W1")
    assert page.locator("text=开始新检查").count() >= 1
    page.goto(f"{relay.url}/offline")
    row = page.locator('[data-held-workshop="W1"]')
    row.wait_for()
    items = len(published_items(app))
    assert "一号车间（W1）" in row.inner_text() and f"{items} 项" in row.inner_text()
    assert page.locator("[data-held-refreshed]").get_attribute("datetime")
    assert page.locator('[data-held-workshop="W2"]').count() == 0  # not sup1's
    page.screenshot(path=str(artifacts / f"offline-held-{name}.png"), full_page=True)
    # a page never kept says so, in a way the tablet shows (not the browser's dinosaur)
    assert page.goto(f"{relay.url}/workshops/W2").status == 503


def test_taps_on_start_while_the_first_is_on_its_way_start_one_inspection(live_server, browser):
    """Tried at 2 s latency: each tap on 开始新检查 used to make a draft of its own."""
    import re
    import time

    from sqlmodel import Session, func, select

    from inspections.models import Inspection

    base, app = live_server
    served = app.wsgi_app

    def slow_starts(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/inspections"):
            time.sleep(2)
        return served(environ, start_response)

    app.wsgi_app = slow_starts
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base)
        page.goto(f"{base}/workshops/W1")
        assert len(page.input_value('form[data-start-once] input[name="client_key"]')) >= 16
        # impatient taps, each after the one before has gone out (each cancels the page's wait for the one before,
        # not the server's work on it)
        page.evaluate("""() => { const b = document.querySelector('form[data-start-once] button[type=submit]');
                                 b.click(); setTimeout(() => b.click(), 400); setTimeout(() => b.click(), 800); }""")
        for _ in range(40):  # the cancelled waits end in errors the page does not show; the last one lands
            page.wait_for_timeout(500)
            if re.search(r"/inspections/\d+$", page.url):
                break
        assert re.search(r"/inspections/\d+$", page.url), page.url
        page.wait_for_timeout(2500)  # every start the server was working on has answered
    finally:
        context.close()
        app.wsgi_app = served
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(func.count()).select_from(Inspection)).one() == 1


def test_a_send_left_hanging_does_not_hold_the_queue_and_sync_now_cuts_it(live_server, browser):
    """A Wi-Fi that takes a request and never answers: 立即同步 cuts the hanging send and sends the queue again; the
    answer the server was still working on is not saved twice (the change's key)."""
    import threading

    from sqlmodel import Session, func, select

    from inspections.models import Answer, AnswerChange
    from tests.browser.actions import new_inspection

    base, app = live_server
    served, release, hung = app.wsgi_app, threading.Event(), []

    def first_save_hangs(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and "/answers/" in environ["PATH_INFO"] and not hung:
            hung.append(environ["PATH_INFO"])
            release.wait(60)
        return served(environ, start_response)

    app.wsgi_app = first_save_hangs
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", service_workers="block")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        page.locator('[data-item-code="sort-01"] input[type=radio][value="2"]').check()
        page.wait_for_function("() => !!document.querySelector('[data-item-code=\"sort-01\"] .state-saving')")
        page.locator('[data-item-code="sort-02"] input[type=radio][value="4"]').check()
        page.wait_for_selector('[data-outbox-count="2"]', state="attached")  # the second waits behind the first
        assert hung
        page.click('[data-action="sync-now"]')
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=10_000)  # not 20 s or more
    finally:
        release.set()
        context.close()
        app.wsgi_app = served
    page_saved = {"sort-01": 2, "sort-02": 4}
    with Session(app.extensions["engine"]) as session:
        answers = {a.item.key: a.score
                   for a in session.exec(select(Answer).where(Answer.inspection_id == inspection_id))}
        applied = session.exec(select(func.count()).select_from(AnswerChange).where(
            AnswerChange.inspection_id == inspection_id, AnswerChange.outcome == "applied")).one()
    assert answers == page_saved
    assert applied <= 2  # the cut send, when the server finishes it later, finds its key taken: nothing twice


def test_on_a_phone_every_link_and_button_of_the_floor_is_a_thumbs_size(live_server, browser, artifacts):
    """Measured at 390×844: the top bar's 红牌 and 计划, a photo's 标注, the open action's 详情 by an item, and the
    review page's links (an unanswered item, a category, 去补充) were 24–44 px high."""
    from tests.browser.actions import new_inspection, submitted_with_a_finding
    from tests.test_photos import jpeg_bytes

    base, app = live_server
    submitted_with_a_finding(app)  # the next inspection shows its open action by the item, with 详情
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", has_touch=True)
    page = context.new_page()

    def heights(selector: str) -> list[float]:
        boxes = [page.locator(selector).nth(n).bounding_box() for n in range(page.locator(selector).count())]
        assert boxes, selector
        return [round(box["height"]) for box in boxes if box]

    try:
        inspection_id = new_inspection(page, base)
        for selector in (".topbar a.nav", ".topbar a.lang", '[data-open-action] a[href^="/actions/"]'):
            assert min(heights(selector)) >= 48, (selector, heights(selector))
        first = page.locator(".item").first.get_attribute("data-item-code")
        page.locator(f'[data-item-code="{first}"] input[type=radio][value="0"]').check()
        page.locator(f'[data-item-code="{first}"] input[type=file]').set_input_files(
            files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}])
        page.wait_for_selector(f'[data-item-code="{first}"] [data-action="markup"]')
        assert min(heights('[data-action="markup"]')) >= 48
        page.goto(f"{base}/inspections/{inspection_id}/review")
        for selector in ("#unanswered .missing a", ".review-categories a"):
            assert min(heights(selector)) >= 48, (selector, heights(selector))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(artifacts / "review-targets-390x844.png"))
    finally:
        context.close()


def test_the_score_so_far_counts_what_waits_on_the_tablet_as_the_server_then_does(live_server, relay, device,
                                                                                   artifacts):
    """The server out of reach (the relay switched off): answers waiting on the tablet move the score so far at once,
    counted on the tablet by the server's rules (scoring.js), a failed critical item included — also after the
    browser is closed and opened again on the page it kept from before the last answer the server took; once they
    are sent, the server shows the same figure."""
    from tests.browser.actions import new_inspection

    page = first_page(device.open())
    inspection_id = new_inspection(page, relay.url)
    page.evaluate("navigator.serviceWorker.ready")
    form = f"{relay.url}/inspections/{inspection_id}?category=safety"
    page.goto(form)  # the worker in control keeps this page as it is now: nothing answered
    page.locator('[data-item-code="safety-09"] input[type=radio][value="4"]').check()
    page.wait_for_selector('.running-score[data-running="100.0"]:not([data-device])')  # the server's figure
    relay.off()
    page.locator('[data-item-code="safety-10"] input[type=radio][value="0"]').check()  # critical, at its worst
    page.locator('[data-item-code="safety-11"] input[type=radio][value="3"]').check()
    page.wait_for_selector('[data-outbox-count="2"]', state="attached")
    on_tablet = page.locator(".running-score[data-device]")
    on_tablet.wait_for()
    assert on_tablet.get_attribute("data-running") == "58.3"  # (4 + 0 + 3) / 12
    assert on_tablet.locator("[data-critical-failed]").get_attribute("data-critical-failed") == "safety-10"
    shown = on_tablet.inner_text()
    assert "当前 58.3% 不合格" in shown and "关键项不合格" in shown
    tab = page.locator('a.tab[data-category-key="safety"] .tab-count')
    assert tab.inner_text() == "3/10 · 58%"
    page.screenshot(path=str(artifacts / "offline-score-so-far.png"))

    page = first_page(device.open())  # closed and opened again, still in the dead corner
    page.goto(form)
    page.wait_for_selector('[data-outbox-count="2"]', state="attached")
    on_tablet = page.locator(".running-score[data-device]")
    on_tablet.wait_for()
    tab = page.locator('a.tab[data-category-key="safety"] .tab-count')
    assert on_tablet.inner_text() == shown and tab.inner_text() == "3/10 · 58%"
    assert page.inner_text(".progress-count").startswith("已评 3 / ")

    relay.on()
    login(page, relay.url)  # the browser's session ended with it: signed in again, the queue goes out
    page.goto(form)
    page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=15_000)
    by_server = page.locator(".running-score:not([data-device])")
    by_server.wait_for()
    assert by_server.get_attribute("data-running") == "58.3" and by_server.inner_text() == shown
    assert tab.inner_text() == "3/10 · 58%"


def test_storage_running_short_is_said_in_time_and_a_photo_that_no_longer_fits_is_refused_keeping_the_rest(
        live_server, relay, browser):
    """The tablet's storage nearly full, the server out of reach: a photo that does not fit is refused on the spot
    with a clear message and the answers already queued stay; with a little room it is kept, and the message says
    the storage is nearly full; all of it arrives once the server is back.

    What the browser says of its storage is set for the page (navigator.storage.estimate): Chromium's DevTools quota
    override (Storage.overrideQuotaForOrigin) did not reach estimate() in this build, neither in a profile on disk
    nor in an in-memory one (tried)."""
    from sqlmodel import Session, select

    from inspections.models import Answer, Photo
    from tests.browser.actions import new_inspection
    from tests.test_photos import jpeg_bytes

    _base, app = live_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", service_workers="block")
    context.add_init_script("""
        const real = navigator.storage.estimate.bind(navigator.storage);
        navigator.storage.estimate = () => real().then(e => {
          const room = Number(sessionStorage.getItem("room"));
          return room ? { usage: e.usage, quota: e.usage + room } : e;
        });""")
    page = context.new_page()
    photo = [{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(width=1200, height=900)}]
    try:
        inspection_id = new_inspection(page, relay.url)
        relay.off()
        page.locator('[data-item-code="sort-01"] input[type=radio][value="2"]').check()
        page.wait_for_selector('[data-outbox-count="1"]', state="attached")
        page.evaluate("sessionStorage.setItem('room', String(256 * 1024))")
        page.locator('[data-item-code="sort-02"] input[type=file]').set_input_files(files=photo)
        page.wait_for_selector('#outbox-message[data-outbox-state="storage-full"]')
        assert "本机存储空间已满，这张照片没有暂存" in page.inner_text("#outbox-message")
        assert "存储空间已满" in page.inner_text('[data-item-code="sort-02"] .save-state')
        assert page.get_attribute("[data-outbox-count]", "data-outbox-count") == "1"  # the answer is still queued

        page.evaluate("sessionStorage.setItem('room', String(8 * 1024 * 1024))")
        page.locator('[data-item-code="sort-02"] input[type=file]').set_input_files(files=photo)
        page.wait_for_selector('[data-outbox-count="2"]', state="attached")
        page.wait_for_selector('#outbox-message[data-outbox-state="storage-short"]')
        assert "本机存储空间快满了（约剩 7 MB）" in page.inner_text("#outbox-message")

        relay.on()
        page.click('[data-action="sync-now"]')
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=15_000)
        page.wait_for_selector("#outbox-message", state="hidden")  # sent: the space is free again
    finally:
        context.close()
    with Session(app.extensions["engine"]) as session:
        assert [a.score for a in session.exec(select(Answer).where(Answer.inspection_id == inspection_id))] == [2]
        assert len(session.exec(select(Photo).where(Photo.inspection_id == inspection_id)).all()) == 1
