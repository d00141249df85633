"""axe-core finds no serious or critical violations on the screens a supervisor uses."""

import re

import pytest

from tests.browser.actions import login
from tests.helpers import published_items, token_headers

pytestmark = pytest.mark.browser


def serious(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    assert results["passes"], "axe did not run"
    return [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in results["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 768}, {"width": 390, "height": 844}],
                         ids=["tablet", "phone"])
def test_home_form_review_and_result_have_no_serious_violations(live_server, browser, viewport):
    base, app = live_server
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base)
        assert serious(page) == []
        page.goto(f"{base}/workshops/W1")
        page.click("text=开始新检查")
        page.wait_for_url(re.compile(r"/inspections/\d+$"))
        assert serious(page) == []
        inspection_id = int(page.url.rsplit("/", 1)[1])
        headers, client = token_headers(app, "sup1"), app.test_client()
        for item in published_items(app):
            client.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers, json={"score": 1})
        page.goto(f"{base}/inspections/{inspection_id}/review")  # the summary, with its signature pads
        page.wait_for_selector(".sign-form")
        page.click(".countersign summary")
        assert serious(page) == []
        client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers)
        page.reload()
        page.wait_for_selector(".big-score")
        assert serious(page) == []
    finally:
        context.close()


def test_public_verify_page_and_workshop_report_form(live_server, browser, artifacts):
    """An auditor without an account checks a report; a manager picks a period for the workshop report."""
    from tests.conftest import AuthActions
    from tests.helpers import answer_all, start, submit

    base, app = live_server
    app.config["WTF_CSRF_ENABLED"] = False  # set up through the test client; the browser below keeps CSRF on
    client = app.test_client()
    AuthActions(client).login("sup1")
    inspection_id = start(client)
    answer_all(client, inspection_id, published_items(app))
    submit(client, inspection_id)
    file_sha = client.get(f"/inspections/{inspection_id}/report.pdf").headers["X-Report-SHA256"]
    app.config["WTF_CSRF_ENABLED"] = True
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{base}/verify/{file_sha}")
        assert page.locator('[data-verdict="authentic"]').is_visible()
        assert serious(page) == []
        page.screenshot(path=str(artifacts / "verify-768x1024.png"), full_page=True)
        login(page, base)
        page.goto(f"{base}/workshops/W1")
        assert serious(page) == []
        page.screenshot(path=str(artifacts / "workshop-768x1024.png"), full_page=True)
        with page.expect_response(lambda r: "/workshops/W1/report.pdf?from=" in r.url) as response_info:
            page.click('[data-action="workshop-report"]')
        response = response_info.value
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        assert 'filename="6S-W1-' in response.headers["content-disposition"]
        page.goto(f"{base}/")
        page.click('[data-action="plant-dashboard"]')
        page.wait_for_selector("table.league")
        assert serious(page) == []
        page.screenshot(path=str(artifacts / "plant-768x1024.png"), full_page=True)
    finally:
        context.close()
