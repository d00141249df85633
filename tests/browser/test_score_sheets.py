"""A plant's own score sheets on the tablet: a deduction sheet counted with the − n + stepper at 768×1024, and a
named-grade sheet (优/良/中/低/差) with each item's own words at 390×844. Screenshots in test-artifacts/."""

from pathlib import Path

import pytest

from tests.browser.actions import new_inspection, publish_sheet_file

pytestmark = pytest.mark.browser
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def saved_revision(page, key, revision):
    """Wait until the server has confirmed this revision of the item (the outbox updates it on each answer)."""
    page.wait_for_function(
        f"() => document.querySelector('[data-item-code=\"{key}\"] input[name^=rev-]').value == '{revision}'")


def test_a_deduction_sheet_is_counted_with_the_stepper(live_server, browser, artifacts):
    base, app = live_server
    publish_sheet_file(app, EXAMPLES / "deduction-sheet.yaml")
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    try:
        inspection_id = new_inspection(page, base, username="sup2", workshop="W2")
        item = page.locator('[data-item-code="sort-aisle"]')
        plus, minus = item.locator('[data-step="1"]'), item.locator('[data-step="-1"]')
        for target in (plus, minus, item.locator("input.count"), item.locator(".na-toggle")):
            box = target.bounding_box()
            assert box["height"] >= 48 and box["width"] >= 48  # a gloved thumb
        for _ in range(3):
            plus.tap()
        assert item.locator("input.count").input_value() == "3"
        assert item.locator("[data-deducted]").inner_text() == "扣 1.5 分"
        assert page.locator("[data-category-total]").inner_text() == "18.5 / 20"  # live, before the server answers
        saved_revision(page, "sort-aisle", 3)
        minus.tap()
        other = page.locator('[data-item-code="sort-unneeded"]')
        other.locator("input.count").fill("2")  # typed, as an inspector with a tally sheet does
        other.locator("input.count").press("Tab")
        assert page.locator("[data-category-total]").inner_text() == "17 / 20"  # 20 − 2 × 0.5 − 2 × 1
        page.wait_for_selector('[data-item-code="sort-unneeded"] .state-saved')
        saved_revision(page, "sort-aisle", 4)
        page.screenshot(path=str(artifacts / "deduction-sheet-768x1024.png"), full_page=True)
        page.reload()
        assert page.locator('[data-item-code="sort-aisle"] input.count').input_value() == "2"
        assert page.locator("[data-category-total]").inner_text() == "17 / 20"
        # N/A takes the item out: nothing off
        page.locator('[data-item-code="sort-unneeded"] .na-toggle').tap()
        assert page.locator("[data-category-total]").inner_text() == "19 / 20"
        saved_revision(page, "sort-unneeded", 2)
        page.reload()
        assert page.locator('[data-item-code="sort-unneeded"] .na-toggle input[type=checkbox]').is_checked()
        assert inspection_id
    finally:
        context.close()


def test_named_grades_show_their_names_and_each_items_words(live_server, browser, artifacts):
    base, app = live_server
    publish_sheet_file(app, EXAMPLES / "named-grades.yaml")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    try:
        new_inspection(page, base, username="sup2", workshop="W2")
        item = page.locator('[data-item-code="office-corridor"]')
        labels = [t.strip() for t in item.locator(".score-btn span").all_inner_texts()]
        assert labels == ["优", "良", "中", "低", "差", "不适用"]
        for button in item.locator(".score-btn").all():
            box = button.bounding_box()
            assert box["height"] >= 48 and box["x"] + box["width"] <= 390
        assert not item.locator("[data-chosen-level]").is_visible()
        item.locator(".score-btn", has_text="良").tap()
        assert item.locator("[data-chosen-level]").inner_text() == "良 畅通，个别物品临时放置"
        item.locator(".item-levels summary").tap()
        assert item.locator(".item-levels dd").nth(4).inner_text() == "堆满杂物，无法通行"
        page.wait_for_selector('[data-item-code="office-corridor"] .state-saved')
        page.screenshot(path=str(artifacts / "named-grades-390x844.png"), full_page=True)
        page.reload()
        assert page.locator('[data-item-code="office-corridor"] input[value="8"]').is_checked()
        chosen = page.locator('[data-item-code="office-corridor"] [data-chosen-level]')
        assert "畅通，个别物品临时放置" in chosen.inner_text()
    finally:
        context.close()
