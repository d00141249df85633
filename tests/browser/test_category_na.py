"""本类全部不适用 over scores already given asks first, on a page of its own (no script needed); going back keeps
the scores, confirming clears them. 768×1024 and 390×844; screenshots in test-artifacts/."""

import pytest

from tests.browser.actions import new_inspection

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [{"width": 768, "height": 1024}, {"width": 390, "height": 844}],
                         ids=["portrait", "phone"])
def test_a_whole_category_na_asks_before_it_clears_scores(live_server, browser, artifacts, viewport):
    base, _app = live_server
    name = f"{viewport['width']}x{viewport['height']}"
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base)
        page.goto(f"{base}/inspections/{inspection_id}?category=office")
        item = page.locator('[data-item-code="office-01"]')
        item.locator('input[type=radio][value="4"]').check()
        page.wait_for_selector('[data-item-code="office-01"] .state-saved')
        page.click('[data-action="category-na"]')
        page.wait_for_selector('[data-confirm="category-na"]')
        assert "本类已有 1 项评分" in page.inner_text("main")
        for action in ("keep-scores", "confirm-category-na"):
            box = page.locator(f'[data-action="{action}"]').bounding_box()
            assert box["height"] >= 48 and box["x"] + box["width"] <= viewport["width"]
        page.screenshot(path=str(artifacts / f"category-na-confirm-{name}.png"), full_page=True)
        page.click('[data-action="keep-scores"]')
        page.wait_for_selector('[data-item-code="office-01"]')
        assert page.locator('[data-item-code="office-01"] input[type=radio][value="4"]').is_checked()
        page.click('[data-action="category-na"]')
        page.click('[data-action="confirm-category-na"]')
        page.wait_for_url(lambda url: "category=" in url)
        page.goto(f"{base}/inspections/{inspection_id}?category=office")
        assert page.locator('[data-item-code="office-01"] input[type=radio][value="na"]').is_checked()
    finally:
        context.close()
