"""Queued changes leave the tablet only on the server's own acknowledgement (#34): a session ended elsewhere, the
sign-in page, or another user signing in on the same tablet never makes the outbox drop or mis-send them."""

import time

import pytest
from sqlmodel import Session, select

from inspections.models import Answer, AnswerChange
from tests.browser.actions import login, new_inspection
from tests.helpers import published_items
from tests.seed import PASSWORD

pytestmark = pytest.mark.browser

QUEUED = '() => new Promise(r => { const o = indexedDB.open("sixs-outbox", 1); o.onsuccess = () => { ' \
         'const q = o.result.transaction("changes").objectStore("changes").getAll(); ' \
         'q.onsuccess = () => r(q.result.map(c => [c.item, c.user])); }; })'


def wait_for_empty_queue(page):
    deadline = time.monotonic() + 30
    while page.evaluate(QUEUED):
        assert time.monotonic() < deadline, "the outbox never emptied"
        page.wait_for_timeout(200)


def stored_answers(app, inspection_id) -> dict[str, int | None]:
    with Session(app.extensions["engine"]) as session:
        return {a.item.key: a.score for a in session.exec(select(Answer).where(Answer.inspection_id == inspection_id))}


def applied_changes(app, inspection_id) -> list[str]:
    with Session(app.extensions["engine"]) as session:
        return [c.outcome for c in session.exec(
            select(AnswerChange).where(AnswerChange.inspection_id == inspection_id))]


def queue_offline(page, context, app, count=4):
    items = [item for item in published_items(app) if item.category_key == "sort"][:count]
    context.set_offline(True)
    for n, item in enumerate(items):
        page.locator(f'[data-item-code="{item.key}"] input[type=radio][value="{n % 4}"]').check()
    page.wait_for_selector(f'[data-outbox-count="{count}"]', state="attached")
    return {item.key: n % 4 for n, item in enumerate(items)}


def end_all_sessions_elsewhere(browser, base, username="sup1"):
    """The user's phone: 在所有设备上退出."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", service_workers="block")
    page = phone.new_page()
    login(page, base, username)
    page.goto(f"{base}/account")
    page.click('[data-action="end-all-sessions"]')
    page.wait_for_url(f"{base}/login*")
    phone.close()


def test_a_session_ended_elsewhere_keeps_the_queue_until_the_same_user_signs_in(live_server, browser, artifacts):
    base, app = live_server
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", service_workers="block")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        form_url = page.url
        expected = queue_offline(page, context, app)
        end_all_sessions_elsewhere(browser, base)

        context.set_offline(False)
        page.click('[data-action="sync-now"]')
        page.wait_for_selector('#outbox-message[data-outbox-state="sign-in"]')
        assert "请重新登录，暂存的内容会在登录后上传" in page.inner_text("#outbox-message")
        page.screenshot(path=str(artifacts / "outbox-sign-in-again-768x1024.png"))
        assert page.get_attribute("[data-outbox-count]", "data-outbox-count") == "4"
        assert stored_answers(app, inspection_id) == {}  # the 302 to /login was not taken for a save

        # the sign-in page loads the outbox script but sends nothing: nobody is signed in there
        assert page.locator('#outbox [data-action="sign-in-again"]').is_visible()  # in the corner, always seen
        page.click('#outbox [data-action="sign-in-again"]')
        page.wait_for_url(f"{base}/login*")
        page.wait_for_timeout(1500)
        assert len(page.evaluate(QUEUED)) == 4 and stored_answers(app, inspection_id) == {}

        page.fill("input[name=username]", "sup1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(form_url)  # back to the form it was sent from
        wait_for_empty_queue(page)
    finally:
        context.close()
    assert stored_answers(app, inspection_id) == expected
    assert applied_changes(app, inspection_id) == ["applied"] * 4  # each exactly once


def test_another_user_signing_in_never_sends_the_queue_as_themselves(live_server, browser, artifacts):
    base, app = live_server
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN", service_workers="block")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        expected = queue_offline(page, context, app, count=3)
        end_all_sessions_elsewhere(browser, base)
        context.set_offline(False)

        login(page, base, "manager")  # the next person on the shared tablet
        page.wait_for_selector('#outbox-others:not([hidden])')
        others = page.locator("#outbox-others")
        assert others.get_attribute("data-other-count") == "3"
        assert "只会在" in others.inner_text() and "登录后以其本人身份上传" in others.inner_text()
        page.screenshot(path=str(artifacts / "outbox-other-users-queue-1024x768.png"))
        page.goto(f"{base}/inspections/{inspection_id}")
        page.wait_for_timeout(1500)
        assert stored_answers(app, inspection_id) == {}  # nothing went out as the manager
        assert page.get_attribute("[data-outbox-count]", "data-outbox-count") == "0"  # the manager's own: none
        page.click('[data-action="keep-for-them"]')
        assert page.locator("#outbox-others").is_hidden()
        assert len(page.evaluate(QUEUED)) == 3

        page.click('[data-action="switch-user"]')
        page.wait_for_url(f"{base}/login*")
        login(page, base, "sup1")
        page.goto(f"{base}/inspections/{inspection_id}")
        wait_for_empty_queue(page)
    finally:
        context.close()
    assert stored_answers(app, inspection_id) == expected
    assert applied_changes(app, inspection_id) == ["applied"] * 3


def test_a_failed_result_says_why_on_a_phone_without_overflowing(live_server, browser, artifacts):
    """390×844: the verdict with its reasons wraps inside the page (#34)."""
    from tests.browser.actions import answer_rest_and_submit

    base, app = live_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", service_workers="block")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        page.goto(f"{base}/inspections/{inspection_id}?category=safety")
        page.locator('[data-item-code="safety-09"] input[type=radio][value="0"]').check()
        page.wait_for_selector("[data-critical-failed]")  # the running header says it at once (the tablet's figure)
        page.wait_for_selector(".running-score:not([data-device]) [data-critical-failed]")  # then the server's
        items = [item for item in published_items(app) if item.key != "safety-09"]
        answer_rest_and_submit(page, base, app, inspection_id, items, score=4)
        page.goto(f"{base}/inspections/{inspection_id}")
        verdict = page.locator('[data-verdict="failed"]')
        assert "关键项不合格" in verdict.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(artifacts / "result-failed-critical-390x844.png"))
    finally:
        context.close()


def test_a_change_the_server_refuses_is_set_aside_and_shown_never_holding_the_queue(live_server, browser,
                                                                                       artifacts):
    """#35: a queued note the server refuses as bad input (a right-to-left override pasted from a chat) neither
    blocks the changes behind it nor vanishes: it is set aside on the tablet, shown with the reason and what was
    typed, through a reload, until the supervisor removes it."""
    base, app = live_server
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", service_workers="block")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        items = [item for item in published_items(app) if item.category_key == "sort"][:3]
        context.set_offline(True)
        first, bad, last = items
        page.locator(f'[data-item-code="{first.key}"] input[type=radio][value="3"]').check()
        note = page.locator(f'[data-item-code="{bad.key}"] textarea')
        note.fill("地面油污\u202e已清理")  # a note waits for its score; both go out as one change
        page.locator(f'[data-item-code="{bad.key}"] input[type=radio][value="1"]').check()
        page.locator(f'[data-item-code="{last.key}"] input[type=radio][value="2"]').check()
        page.wait_for_selector('[data-outbox-count="3"]', state="attached")
        context.set_offline(False)
        page.click('[data-action="sync-now"]')
        page.wait_for_selector("#outbox-refused:not([hidden]) [data-set-aside]")
        refused = page.locator("#outbox-refused")
        assert "服务器没有接受以下内容" in refused.inner_text() and "地面油污" in refused.inner_text()
        assert "评分 1" in refused.inner_text() and "地面油污[U+202E]已清理" in refused.inner_text()
        assert bad.text[:12] in refused.inner_text()
        page.wait_for_selector('[data-outbox-count="0"]', state="attached")
        assert stored_answers(app, inspection_id) == {first.key: 3, last.key: 2}  # the rest went through
        refused.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "outbox-set-aside-768x1024.png"))

        page.reload()
        page.wait_for_selector("#outbox-refused:not([hidden]) [data-set-aside]")  # still there after a reload
        assert len(page.evaluate(QUEUED)) == 1
        page.click('[data-action="dismiss-set-aside"]')
        page.wait_for_selector("#outbox-refused", state="hidden")
        assert page.evaluate(QUEUED) == []
    finally:
        context.close()
