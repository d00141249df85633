"""Flagging an item on the tablet: one tap, kept offline, unticked by N/A."""

import pytest
from sqlmodel import Session, select

from checklists.models import ChecklistItem
from inspections.models import Answer
from tests.browser.actions import new_inspection

pytestmark = pytest.mark.browser


def flags(app, inspection_id) -> dict[str, bool]:
    with Session(app.extensions["engine"]) as session:
        rows = session.exec(select(ChecklistItem.key, Answer.flagged).join(Answer, Answer.item_id == ChecklistItem.id)
                            .where(Answer.inspection_id == inspection_id)).all()
        return dict(rows)


def test_a_flag_is_one_tap_survives_offline_and_goes_with_na(live_server, browser, artifacts):
    base, app = live_server
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        item = page.locator('[data-item-code="sort-02"]')
        item.locator('input[type=radio][value="4"]').check()
        page.wait_for_selector('[data-item-code="sort-02"] .state-saved')
        toggle = item.locator(".flag-toggle")
        box = toggle.bounding_box()
        assert box["height"] >= 48  # a gloved thumb can hit it
        toggle.click()
        page.wait_for_function("() => document.querySelector('[data-outbox-count]').dataset.outboxCount === '0'")
        page.wait_for_selector('[data-item-code="sort-02"] .state-saved')
        assert flags(app, inspection_id) == {"sort-02": True}
        assert item.locator(".finding-prompt").is_visible()  # a flagged item asks for a photo and a note too
        item.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "flagged-item-768x1024.png"))

        # the reload below is served by the service worker: wait until it is active (under load it may not be yet)
        page.evaluate("navigator.serviceWorker.ready")
        context.set_offline(True)  # a flag ticked offline is queued, restored on reload, sent when back
        other = page.locator('[data-item-code="sort-03"]')
        other.locator('input[type=radio][value="3"]').check()
        other.locator(".flag-toggle").click()
        # both changes are in the tablet's outbox (IndexedDB writes are asynchronous) before the page goes away
        page.wait_for_function("() => Number(document.querySelector('[data-outbox-count]').dataset.outboxCount) >= 2")
        page.reload()
        page.wait_for_selector('[data-item-code="sort-03"]')
        assert page.locator('[data-item-code="sort-03"] input[type=checkbox]').is_checked()
        context.set_offline(False)
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
        assert flags(app, inspection_id) == {"sort-02": True, "sort-03": True}

        # N/A is never a finding: choosing it unticks the flag, and both arrive together
        page.locator('[data-item-code="sort-02"] input[type=radio][value="na"]').check()
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
        page.wait_for_selector('[data-item-code="sort-02"] .state-saved')
        assert not page.locator('[data-item-code="sort-02"] input[type=checkbox]').is_checked()
        assert flags(app, inspection_id)["sort-02"] is False
    finally:
        context.close()
