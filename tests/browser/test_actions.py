"""The corrective-action loop on a tablet: assign, fix with a photo taken on the spot, verify at the next
inspection. Screenshots at 768×1024."""

import re

import pytest

from tests.browser.actions import login
from tests.helpers import published_items, token_headers
from tests.test_photos import jpeg_bytes

pytestmark = pytest.mark.browser


def test_assign_fix_and_verify_at_the_next_inspection(live_server, browser, artifacts, tmp_path):
    base, app = live_server
    headers, api = token_headers(app, "sup1"), app.test_client()
    inspection_id = api.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
    items = published_items(app)
    for n, item in enumerate(items):
        api.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers,
                json={"score": 1 if n == 0 else 3, "note": "工作台上有废料" if n == 0 else ""})
    assert api.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers).status_code == 200
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
