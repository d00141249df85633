"""The weekly programme in a browser at tablet size: the manager plans it in the editor (htmx preview), the
supervisor starts the due inspection from the home screen, and the manager's board turns green."""

import re
from datetime import UTC, datetime

import pytest

from tests.browser.actions import login
from tests.helpers import answer_all_api, drawn_signature, token_headers
from tests.seed import PASSWORD

pytestmark = pytest.mark.browser
MON_1000 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 30 November, 10:00 in Shanghai


@pytest.mark.parametrize("viewport", [{"width": 768, "height": 1024}, {"width": 390, "height": 844}],
                         ids=["tablet", "phone"])
def test_planned_due_started_from_home_turns_the_board_green(live_server, browser, artifacts, travel, viewport):
    travel(MON_1000)
    base, app = live_server
    name = f"{viewport['width']}x{viewport['height']}"
    manager = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True).new_page()
    login(manager, base, "manager")
    manager.goto(f"{base}/plans/new")
    manager.select_option("select[name=place]", "workshop:W1")
    manager.select_option("select[name=repeat]", "biweekly")
    manager.wait_for_selector('#plan-preview li[data-opens="2026-12-14"]')  # every two weeks: the 14th follows
    manager.select_option("select[name=repeat]", "weekly")
    manager.wait_for_selector('#plan-preview li[data-opens="2026-12-07"]')
    manager.fill("input[name=window_days]", "3")
    manager.check('input[name=inspectors][value="sup1"]')
    manager.screenshot(path=str(artifacts / f"plan-editor-{name}.png"), full_page=True)
    manager.click('[data-action="save-plan"]')
    manager.wait_for_url(f"{base}/plants/P1/plan-board")
    assert manager.locator('tr[data-workshop="W1"] td[data-week="2026-11-30"]').get_attribute("data-state") == "due"

    supervisor = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True).new_page()
    login(supervisor, base, "sup1")
    first_card = supervisor.locator("main section.card").first
    assert first_card.get_attribute("data-section") == "this-week"
    start = supervisor.locator('[data-state="due"] [data-action="start-planned"]')
    box = start.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 48
    assert supervisor.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    supervisor.screenshot(path=str(artifacts / f"plan-home-{name}.png"))
    start.click()
    supervisor.wait_for_url(re.compile(r"/inspections/\d+$"))
    inspection = int(supervisor.url.rsplit("/", 1)[1])
    # the answers and the signature through the API: the form has its own browser tests
    headers, api = token_headers(app, "sup1"), app.test_client()
    answer_all_api(api, headers, inspection)
    assert api.post(f"/api/v1/inspections/{inspection}/submit", headers=headers,
                    json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    supervisor.goto(f"{base}/")
    assert supervisor.locator('[data-occurrence] >> nth=0').get_attribute("data-state") == "done"

    manager.reload()
    cell = manager.locator('tr[data-workshop="W1"] td[data-week="2026-11-30"]')
    assert cell.get_attribute("data-state") == "done"
    colour = cell.evaluate("td => getComputedStyle(td).backgroundColor")
    assert colour == "rgb(21, 128, 61)"  # green
    assert manager.locator('[data-figure="completion"]').inner_text() == "100%"
    widest = manager.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect()
        .right > document.documentElement.clientWidth + 1 && !e.closest('.board-scroll')).map(e => e.tagName + '.' +
        e.className)""")
    assert widest == [], widest  # the board scrolls inside itself: the page never scrolls sideways
    manager.screenshot(path=str(artifacts / f"plan-board-{name}.png"), full_page=True)
    cell.locator("a").click()
    manager.wait_for_selector(f'[data-inspection="{inspection}"]')
