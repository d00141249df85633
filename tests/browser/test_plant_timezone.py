"""The administrator moves a plant to Europe/Budapest on the sites screen (a typo is refused by name, nothing else
on the page is lost); its workshop's pages then show the plant's clock with the offset. 1024×768, 768×1024 and
390×844; screenshots in test-artifacts/."""

import pytest

from tests.browser.actions import login

pytestmark = [pytest.mark.browser, pytest.mark.clock]

VIEWPORTS = [{"width": 1024, "height": 768}, {"width": 768, "height": 1024}, {"width": 390, "height": 844}]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["landscape", "portrait", "phone"])
def test_the_admin_sets_a_plants_zone(live_server, browser, artifacts, viewport):
    base, _app = live_server
    name = f"{viewport['width']}x{viewport['height']}"
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base, "admin")
        page.goto(f"{base}/admin/sites")
        field = page.locator('input[data-timezone="P2"]')
        assert field.input_value() == "Asia/Shanghai"
        assert "当地现在" in page.locator('.site[data-plant="P2"] [data-plant-clock]').inner_text()
        field.fill("Europe/Budapset")
        page.locator('.site[data-plant="P2"] [data-action="save-timezone"]').click()
        page.wait_for_selector("text=未知的时区「Europe/Budapset」")
        assert page.locator('input[data-timezone="P2"]').input_value() == "Europe/Budapset"  # kept, to correct
        page.screenshot(path=str(artifacts / f"plant-timezone-refused-{name}.png"), full_page=True)
        page.locator('input[data-timezone="P2"]').fill("Europe/Budapest")
        page.locator('.site[data-plant="P2"] [data-action="save-timezone"]').click()
        page.wait_for_selector("text=已保存")
        assert page.locator('input[data-timezone="P2"]').input_value() == "Europe/Budapest"
        clock_text = page.locator('.site[data-plant="P2"] [data-plant-clock]').inner_text()
        assert "(UTC+01:00)" in clock_text or "(UTC+02:00)" in clock_text
        button = page.locator('.site[data-plant="P2"] [data-action="save-timezone"]').bounding_box()
        assert button["height"] >= 44 and button["x"] + button["width"] <= viewport["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scroll
        page.screenshot(path=str(artifacts / f"plant-timezone-{name}.png"), full_page=True)
    finally:
        context.close()
