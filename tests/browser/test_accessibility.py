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
