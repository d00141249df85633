"""The result page while the report is issued in the background: it says 报告生成中 and, polling, turns to
报告已生成 once the consumer has stored it, without a reload. 768×1024; screenshot in test-artifacts/."""

import pytest

import tasks
from tests.browser.actions import login, submitted_with_a_finding

pytestmark = pytest.mark.browser


def test_the_result_page_follows_the_report_being_issued(live_server, browser, artifacts):
    base, app = live_server
    inspection_id = submitted_with_a_finding(app)
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base, "sup1")
        page.goto(f"{base}/inspections/{inspection_id}")
        state = page.locator("[data-report-state]")
        assert state.get_attribute("data-report-state") == "queued" and "报告生成中" in state.inner_text()
        page.screenshot(path=str(artifacts / "report-state-queued-768x1024.png"))
        assert tasks.drain(app) == 1  # the consumer's turn
        page.wait_for_selector('[data-report-state="ready"]', timeout=10_000)  # the poll every 2 s brings it
        assert page.locator("[data-report-state]").inner_text() == "报告已生成"
        with page.expect_response(lambda r: "report.pdf" in r.url) as info:
            page.click('[data-action="report-pdf"]')
        assert info.value.headers["x-report-document"] == f"6S-{inspection_id}-1"
    finally:
        context.close()
