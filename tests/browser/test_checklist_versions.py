"""A manager publishes a new checklist version in the browser; later inspections use it, earlier reports don't."""

import re
import subprocess

import pytest

from tests.browser.actions import login
from tests.helpers import published_items, token_headers

pytestmark = pytest.mark.browser

NEW_TEXT = "地面无灰尘、无碎屑、无油污，每班清扫并记录"


def test_new_version_reaches_new_inspections_only(live_server, browser, artifacts, tmp_path):
    base, app = live_server
    # an inspection submitted on version 2 before the change, through the API (CSRF is on in this server)
    api = app.test_client()
    headers = token_headers(app, "sup1")
    old_items = published_items(app)
    earlier = api.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    for item in old_items:
        api.put(f"/api/v1/inspections/{earlier}/answers/{item.key}", headers=headers,
                json={"score": 4 if item.key == "shine-01" else 2})
    assert api.post(f"/api/v1/inspections/{earlier}/submit", headers=headers).status_code == 200
    old_text = next(item.text for item in old_items if item.key == "shine-01")

    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base, "manager")
        page.goto(f"{base}/checklists/standard-6s/v2")
        page.click('[data-action="new-draft"]')
        page.wait_for_url(re.compile(r"/checklists/standard-6s/v3$"))
        assert page.get_attribute("[data-status]", "data-status") == "draft"

        item = page.locator('[data-item-code="shine-01"]')
        item.locator("summary", has_text="修改").click()
        item.locator("textarea[name=text]").fill(NEW_TEXT)
        item.locator("button[value=save]").click()
        # the meaning changed, so the reworded item gets a new key; the old key is gone from the draft
        page.wait_for_selector(f'.checklist-item:has-text("{NEW_TEXT}")')
        assert page.locator('[data-item-code="shine-01"]').count() == 0
        page.screenshot(path=str(artifacts / "checklist-editor-1024x768.png"))

        page.fill("#publish textarea[name=change_note]", "清扫第 1 条改为每班清扫并记录")
        page.check("#publish input[name=acknowledge]")
        page.click('[data-action="publish"]')
        page.wait_for_selector('[data-status="published"]')
        page.screenshot(path=str(artifacts / "checklist-published-1024x768.png"), full_page=False)

        page.goto(f"{base}/checklists/standard-6s/diff?a=2&b=3")
        assert page.locator('[data-kind="removed"][data-key="shine-01"]').count() == 1
        assert page.locator('[data-kind="added"]').inner_text().find(NEW_TEXT) >= 0

        page.click("[data-action=switch-user]")  # the outbox checks it is empty before the logout goes
        page.wait_for_url(re.compile(r"/login$"))
        login(page, base, "sup1")
        page.goto(f"{base}/workshops/W1")
        page.click("text=开始新检查")
        page.click('.tabs [data-category-key="shine"]')
        page.wait_for_selector(f'.item:has-text("{NEW_TEXT}")')
        assert "第 3 版" in page.inner_text(".inspection-head")
    finally:
        context.close()

    # the earlier report still shows version 2's item and its score
    pdf = tmp_path / "earlier.pdf"
    pdf.write_bytes(api.get(f"/inspections/{earlier}/report.pdf", headers=headers).data)
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                                             text=True, check=True).stdout)
    assert "第2版" in text and re.sub(r"\s+", "", old_text) in text and re.sub(r"\s+", "", NEW_TEXT) not in text
    assert re.search(re.escape(re.sub(r"\s+", "", old_text)) + r"4", text)  # its score, 4, right after it
