"""Flaky Wi-Fi: nothing is lost offline, nothing is duplicated by retries, submit happens once."""

import os
import random

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlmodel import Session, func, select

from inspections.models import Answer, AnswerChange, CategoryResult, Inspection, Photo, Signature
from tests.browser.actions import draw_signature, new_inspection
from tests.helpers import published_items, token_headers
from tests.seed import PASSWORD
from tests.test_photos import jpeg_bytes

pytestmark = pytest.mark.browser


def radio(page, key, value):
    return page.locator(f'[data-item-code="{key}"] input[type=radio][value="{value}"]')


def outbox_count(page) -> int:
    return int(page.get_attribute("[data-outbox-count]", "data-outbox-count"))


def wait_out_the_back_off(page, rounds=60):
    """Moves the page's clock past each retry the outbox has scheduled until nothing waits."""
    for _ in range(rounds):
        try:
            page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=1_000)
            return
        except PlaywrightTimeout:
            page.clock.fast_forward(30_000)  # the longest back-off: the timer fires once, then a send goes out
    raise AssertionError(f"the outbox still holds {outbox_count(page)} changes after {rounds} retries")


def test_offline_answers_and_photos_survive_a_reload_and_arrive_once(live_server, browser, artifacts):
    base, app = live_server
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        page.evaluate("navigator.serviceWorker.ready")
        page.reload()  # now under the service worker, which keeps this page for offline use
        page.wait_for_selector('[data-item-code="sort-01"]')

        context.set_offline(True)
        items = [item for item in published_items(app) if item.category_key == "sort"][:15]
        for n, item in enumerate(items):
            radio(page, item.key, str(n % 5)).check()
        for key in ("sort-01", "sort-02"):
            page.locator(f'[data-item-code="{key}"] input[type=file]').set_input_files(
                files=[{"name": f"{key}.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(3200, 2400)}])
        page.wait_for_selector('[data-outbox-count="17"]')
        assert page.locator('.item [data-state="queued"]').count() >= 15
        # the progress counts the queued answers, and says they are waiting
        count = page.locator(".progress-count")
        assert count.get_attribute("data-pending") == "15" and count.get_attribute("data-answered") == "0"
        assert count.inner_text() == f"已评 15 / {len(published_items(app))}（15 项待同步）"
        page.screenshot(path=str(artifacts / "offline-queued-1024x768.png"))

        page.reload()  # still offline: the service worker serves the page, the outbox re-applies the answers
        page.wait_for_selector('[data-outbox-count="17"]')
        for n, item in enumerate(items):
            assert radio(page, item.key, str(n % 5)).is_checked()
        assert page.locator(".progress-count").get_attribute("data-pending") == "15"

        context.set_offline(False)
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
        assert page.locator(".progress-count").get_attribute("data-answered") == "15"
        assert page.locator(".progress-count").get_attribute("data-pending") == "0"
        assert page.locator(".progress-count").inner_text() == f"已评 15 / {len(published_items(app))}"
    finally:
        context.close()

    with Session(app.extensions["engine"]) as session:
        answers = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all()
        assert {a.item.key: a.score for a in answers} == {item.key: n % 5 for n, item in enumerate(items)}
        applied = session.exec(select(AnswerChange).where(AnswerChange.inspection_id == inspection_id)).all()
        assert len(applied) == 15 and {c.outcome for c in applied} == {"applied"}
        photos = session.exec(select(Photo).where(Photo.inspection_id == inspection_id)).all()
        assert len(photos) == 2 and all(max(p.width, p.height) <= 1600 for p in photos)


def test_lost_requests_and_lost_responses_leave_the_server_equal_to_the_screen(live_server, browser):
    base, app = live_server
    # No service worker here: Playwright's page.route does not see requests a service worker makes, and whether
    # the worker had claimed the page before the first tap depended on how busy the machine was (then nothing was
    # lost and the test failed). The outbox's retries, which this is about, live in the page.
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", service_workers="block")
    # The page's clock is Playwright's: the outbox's back-off (2 s, doubling to 30 s) is skipped over rather than
    # waited out. Retries still come from the outbox's own timer, as on a tablet; only the waiting is shortened.
    context.clock.install()
    page = context.new_page()
    rng = random.Random(int(os.environ.get("FLAKY_SEED", "30")))
    lost = {"request": 0, "response": 0}

    def flaky(route):
        roll = rng.random()
        if roll < 0.15:
            lost["request"] += 1
            route.abort()
        elif roll < 0.30:
            lost["response"] += 1  # the server commits, the tablet never hears back
            route.fetch()
            route.abort()
        else:
            route.continue_()

    try:
        inspection_id = new_inspection(page, base)
        page.route("**/answers/**", flaky)
        chosen = {}
        for category in ("sort", "set-in-order"):
            page.click(f'.tabs [data-category-key="{category}"]')
            page.wait_for_selector(f'#category-panel h2:has-text("{"整理" if category == "sort" else "整顿"}")')
            keys = page.eval_on_selector_all(".item", "els => els.map(e => e.dataset.itemCode)")
            for key in keys:
                first = str(rng.randint(0, 4))
                radio(page, key, first).check()
                chosen[key] = first
                if rng.random() < 0.25:  # a change of mind
                    second = str(rng.randint(0, 4))
                    radio(page, key, second).check()
                    chosen[key] = second
            wait_out_the_back_off(page)
        page.unroute("**/answers/**")
        screen = {}
        for category in ("sort", "set-in-order"):
            page.click(f'.tabs [data-category-key="{category}"]')
            # the panel of that category, not a fixed wait (300 ms was not enough on a busy machine)
            page.wait_for_selector(f'#category-panel h2:has-text("{"整理" if category == "sort" else "整顿"}")')
            for key, value in page.eval_on_selector_all(
                    ".item input[type=radio]:checked", "els => els.map(e => [e.name.slice(6), e.value])"):
                screen[key] = value
    finally:
        context.close()
    assert lost["request"] > 3 and lost["response"] > 3
    with Session(app.extensions["engine"]) as session:
        server = {a.item.key: str(a.score) for a in session.exec(
            select(Answer).where(Answer.inspection_id == inspection_id))}
        conflicts = session.exec(select(func.count()).select_from(AnswerChange).where(
            AnswerChange.inspection_id == inspection_id, AnswerChange.outcome == "conflict")).one()
    assert server == chosen == screen
    assert conflicts == 0  # our own replays never look like someone else's change


def test_five_taps_and_a_retry_submit_once(live_server, browser):
    base, app = live_server
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        headers = token_headers(app, "sup1")
        client = app.test_client()
        for item in published_items(app):
            client.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers, json={"score": 3})
        page.goto(f"{base}/inspections/{inspection_id}/review")
        draw_signature(page, 'canvas[data-signature-for="signature"]')
        page.fill(".sign-form input[name=password]", PASSWORD)
        # five impatient taps in a row, faster than the page can navigate away
        page.evaluate("() => { const b = document.querySelector('[data-action=submit-inspection]');"
                      " for (let i = 0; i < 5; i++) b.click(); }")
        page.wait_for_selector("section.signatures")  # the result page
        retry = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers)
        assert retry.status_code == 200
    finally:
        context.close()
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, inspection_id).status == "submitted"
        assert session.exec(select(func.count()).select_from(CategoryResult).where(
            CategoryResult.inspection_id == inspection_id)).one() == 7
        assert session.exec(select(func.count()).select_from(Inspection)).one() == 1
        assert session.exec(select(func.count()).select_from(Signature)).one() == 1
