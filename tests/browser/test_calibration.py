"""A joint inspection on two tablets at 768×1024: the manager starts it, two supervisors each fill their own copy
on the form, neither can open the other's copy until both have submitted, then the calibration report shows the
item they scored apart and the manager makes one copy official."""

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from tests.browser.actions import answer_rest_and_submit, login
from tests.helpers import published_items
from tests.seed import PASSWORD

pytestmark = pytest.mark.browser
TABLET = {"width": 768, "height": 1024}


def _fill_on_the_form(page, base, inspection_id, app, username, first_score):
    """The first item tapped on the form, the other 104 as from the tablet's outbox (through the API), then
    signed and submitted on the review screen."""
    page.goto(f"{base}/inspections/{inspection_id}")
    assert "请独立评分" in page.locator(".calibration-note").inner_text()
    items = published_items(app)
    page.locator(f'[data-item-code="{items[0].key}"] input[type=radio][value="{first_score}"]').check()
    page.wait_for_selector(f'[data-item-code="{items[0].key}"] .state-saved')
    answer_rest_and_submit(page, base, app, inspection_id, items[1:], username)


def test_two_inspectors_calibrate_on_two_tablets(live_server, browser, artifacts, travel):
    travel(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    base, app = live_server
    from accounts.service import create_user

    with Session(app.extensions["engine"]) as session:
        create_user(session=session, username="sup3", password=PASSWORD, role="supervisor", display_name="张班长",
                    workshop_codes=["W1"])
        session.commit()
    contexts = [browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True) for _ in range(3)]
    try:
        manager, first, second = (c.new_page() for c in contexts)
        login(manager, base, "manager")
        manager.goto(f"{base}/workshops/W1")
        manager.click('[data-action="calibrations"]')
        manager.check('input[name=inspectors][value="sup1"]')
        manager.click('[data-action="start-calibration"]')
        assert "至少需要 2 名检查员" in manager.locator(".error").inner_text()  # one is not a panel
        manager.check('input[name=inspectors][value="sup3"]')
        manager.screenshot(path=str(artifacts / "calibration-start-768x1024.png"), full_page=True)
        manager.click('[data-action="start-calibration"]')
        manager.wait_for_url(re.compile(r"/calibrations/\d+$"))
        calibration_url = manager.url

        login(first, base, "sup1")
        login(second, base, "sup3")
        # each finds their copy on the home screen, marked as a joint inspection
        for page in (first, second):
            assert page.locator("text=联合检查").count() >= 1
        first.goto(calibration_url)
        first.click('[data-action="fill-my-copy"]')
        first.wait_for_url(re.compile(r"/inspections/\d+$"))
        copy_1 = int(first.url.rsplit("/", 1)[1])
        second.goto(calibration_url)
        second.click('[data-action="fill-my-copy"]')
        second.wait_for_url(re.compile(r"/inspections/\d+$"))
        copy_2 = int(second.url.rsplit("/", 1)[1])
        assert copy_1 != copy_2

        _fill_on_the_form(first, base, copy_1, app, "sup1", 4)
        # sup1 has submitted, sup3 has not: neither can open the other's copy, and no report yet
        assert first.goto(f"{base}/inspections/{copy_2}").status == 404
        assert second.goto(f"{base}/inspections/{copy_1}").status == 404
        second.goto(calibration_url)
        assert second.locator("[data-hidden-until-all]").is_visible()
        assert second.locator(".calibration-report").count() == 0
        assert "提交后可见" in second.locator(f'tr[data-copy="{copy_1}"]').inner_text()
        second.screenshot(path=str(artifacts / "calibration-waiting-768x1024.png"), full_page=True)

        _fill_on_the_form(second, base, copy_2, app, "sup3", 1)
        assert "校准记录" in second.locator(".calibration-note").inner_text()
        assert first.goto(f"{base}/inspections/{copy_2}").status == 200  # both submitted: open to each other

        manager.goto(calibration_url)
        items = published_items(app)
        apart = manager.locator(".calibration-apart > .table-scroll tbody tr")
        assert apart.count() == 1  # the only item scored apart leads; the other 104 wait behind a disclosure
        row = apart.first
        assert row.get_attribute("data-item") == items[0].key
        assert "spread-wide" in row.get_attribute("class")
        assert [c.strip() for c in row.locator("td").all_inner_texts()] == ["4", "1", "3"]
        assert manager.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        button = manager.locator(f'[data-action="make-official"][data-copy="{copy_1}"]')
        box = button.bounding_box()
        assert box["height"] >= 48
        manager.screenshot(path=str(artifacts / "calibration-report-768x1024.png"), full_page=True)
        button.click()
        manager.wait_for_url(calibration_url)
        assert "本车间的正式检查是" in manager.locator("#decision").inner_text()
        assert manager.locator(f'tr[data-copy="{copy_1}"].official').count() == 1
    finally:
        for context in contexts:
            context.close()
