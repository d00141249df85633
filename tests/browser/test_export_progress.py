"""A large export on the screen: the link leads to the page that asks for it, the job page shows the bar and,
polling, the download link once the consumer has written the file, without a reload. At 1024×768, 768×1024 and
390×844; screenshots in test-artifacts/."""

import pytest

import tasks
from tests.browser.actions import login, submitted_with_a_finding

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024), (390, 844)])
def test_a_large_export_shows_its_progress_then_the_download(live_server, browser, artifacts, size):
    base, app = live_server
    submitted_with_a_finding(app)
    app.extensions["tasks"].huey.flush()  # the submit queued its reports: not what this test is about
    app.config["LARGE_EXPORT_ROWS"] = 10  # the 105 answers of one inspection count as large here
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    try:
        login(page, base, "sup1")
        page.goto(f"{base}/workshops/W1")
        page.click("text=全部评分明细 Excel")
        assert "105" in page.locator(".export-job").inner_text()
        page.screenshot(path=str(artifacts / f"export-ask-{width}x{height}.png"))
        button = page.locator('[data-action="start-export"]')
        box = button.bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= width  # a thumb's target, on the screen
        button.click()
        page.wait_for_url(f"{base}/exports/jobs/*")
        assert page.locator("[data-export-state]").get_attribute("data-export-state") == "queued"
        assert page.locator("progress").is_visible()
        page.screenshot(path=str(artifacts / f"export-queued-{width}x{height}.png"))
        assert tasks.drain(app) == 1  # the consumer's turn
        page.wait_for_selector('[data-export-state="done"]', timeout=10_000)  # the poll every second brings it
        page.screenshot(path=str(artifacts / f"export-done-{width}x{height}.png"))
        with page.expect_download() as info:
            page.click('[data-action="download-export"]')
        assert info.value.suggested_filename.startswith("6S-answers-") and info.value.suggested_filename.endswith(
            ".xlsx")
        page.goto(f"{base}/exports/jobs")
        assert page.locator("[data-export-job]").count() == 1
        page.screenshot(path=str(artifacts / f"export-list-{width}x{height}.png"))
    finally:
        context.close()
