"""The corrective-action loop on a tablet: assign, fix with a photo taken on the spot, verify at the next
inspection. Screenshots at 768×1024."""

import io
import re

import pytest

from tests.browser.actions import login, submitted_with_a_finding
from tests.test_photos import jpeg_bytes

pytestmark = pytest.mark.browser


def test_assign_fix_and_verify_at_the_next_inspection(live_server, browser, artifacts, tmp_path):
    base, app = live_server
    submitted_with_a_finding(app, note="工作台上有废料")
    photo = tmp_path / "after.jpg"
    photo.write_bytes(jpeg_bytes(1200, 900, colour=(40, 140, 60)))

    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base, "manager")
        page.goto(f"{base}/workshops/W1/actions")
        page.click("[data-action-id] a")
        page.select_option("select[name=owner_id]", label="sup1")
        page.fill("textarea[name=action_text]", "清理工作台，废料放入指定区域")
        page.click('[data-action="assign"]')
        page.wait_for_selector("text=已保存")
        page.click('[data-action="switch-user"]')
        page.wait_for_url(re.compile(r"/login"))

        login(page, base, "sup1")
        page.screenshot(path=str(artifacts / "home-with-actions-tablet.png"), full_page=False)
        page.click('[data-count="mine"]')
        page.click("[data-action-id] a")
        page.set_input_files("input[name=photo]", str(photo))
        page.fill("textarea[name=comment]", "已清理")
        page.screenshot(path=str(artifacts / "action-tablet.png"), full_page=True)
        page.click('[data-action="done"]')
        page.wait_for_selector("text=待核实")
        page.goto(f"{base}/workshops/W1")
        page.click("text=开始新检查")
        page.wait_for_url(re.compile(r"/inspections/\d+$"))
        box = page.locator("[data-open-action]")
        assert box.count() == 1 and "待核实" in box.inner_text()  # shown by the item, for information
        assert box.locator('[data-action="verify-action"]').count() == 0  # sup1 owns the fix: not theirs to verify
        page.click('[data-action="switch-user"]')
        page.wait_for_url(re.compile(r"/login"))

        login(page, base, "manager")
        page.goto(f"{base}/workshops/W1")
        page.click("text=开始新检查")
        page.wait_for_url(re.compile(r"/inspections/\d+$"))
        box = page.locator("[data-open-action]")
        box.scroll_into_view_if_needed()
        box.screenshot(path=str(artifacts / "action-at-next-inspection.png"))
        box.locator('[data-action="verify-action"]').click()
        page.wait_for_selector("text=已保存")
        assert page.locator("[data-open-action]").count() == 0
        page.goto(f"{base}/workshops/W1/actions?status=verified")
        assert page.locator("[data-action-id]").count() == 1
        page.screenshot(path=str(artifacts / "actions-list-tablet.png"), full_page=False)
    finally:
        context.close()


def test_a_fix_marked_done_without_network_waits_on_the_tablet_and_arrives_once(live_server, browser, artifacts):
    """The owner photographs the fix where the problem was, often a Wi-Fi dead corner: the form with its photo
    waits in the outbox, survives a reload, and is one move when the network is back."""
    from PIL import Image
    from sqlmodel import Session, select

    from accounts.models import User
    from actions.models import ActionEvent, CorrectiveAction
    from photos import read_photo

    base, app = live_server
    submitted_with_a_finding(app)
    with Session(app.extensions["engine"]) as session:
        action = session.exec(select(CorrectiveAction)).one()
        action.owner_id = session.exec(select(User).where(User.username == "sup1")).one().id
        session.commit()
        action_id = action.id

    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base, "sup1")
        page.goto(f"{base}/actions/{action_id}")
        page.evaluate("navigator.serviceWorker.ready")
        page.reload()  # under the service worker now
        page.wait_for_selector('[data-action="done"]')

        context.set_offline(True)
        page.set_input_files("input[name=photo]", files=[{
            "name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(3200, 2400, colour=(40, 140, 60))}])
        page.fill("textarea[name=comment]", "油污已清理，地面划线补齐")
        page.click('[data-action="done"]')
        message = page.locator("#outbox-message")
        message.wait_for(state="visible")
        assert "已暂存在本机" in message.inner_text() and f"#{action_id}" in message.inner_text()
        page.wait_for_selector('[data-outbox-count="1"]')
        note = page.locator("[data-queued-note]")
        assert "已暂存在本机" in note.inner_text() and page.locator('[data-action="done"]').is_hidden()
        assert page.locator('[data-action="start"]').is_hidden()  # nothing else here works without the network
        note.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "action-queued-768x1024.png"))
        page.reload()  # still offline: the page from the service worker, the queued form from IndexedDB
        page.wait_for_selector('[data-outbox-count="1"]')
        page.wait_for_selector("[data-queued-note]")  # still says it waits: no second tap invited
        assert page.locator('[data-action="done"]').is_hidden()
        with Session(app.extensions["engine"]) as session:
            assert session.get(CorrectiveAction, action_id).status == "open"

        context.set_offline(False)
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
        message.wait_for(state="visible")
        assert "已提交为已完成" in message.inner_text()
    finally:
        context.close()

    from web import CLIENT_KEY

    with Session(app.extensions["engine"]) as session:
        action = session.get(CorrectiveAction, action_id)
        assert action.status == "done" and action.done_comment == "油污已清理，地面划线补齐"
        moves = session.exec(select(ActionEvent).where(ActionEvent.action_id == action_id)).all()
        assert [m.to_status for m in moves] == ["done"] and CLIENT_KEY.fullmatch(moves[0].client_key)
        with Image.open(io.BytesIO(read_photo(app.extensions["storage"], action.after_photo_sha256))) as image:
            assert max(image.size) <= 1600  # downscaled on the tablet before it waited
