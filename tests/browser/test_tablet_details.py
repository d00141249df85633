"""Tablet details: on a phone the category tabs say that they scroll (the row fades where more tabs are, the current
tab is scrolled into the row), and the "待同步" badge never covers a control: scrolled to, every button of the form
stands clear of it, the last item's 不适用 too."""

import pytest

from tests.browser.actions import new_inspection

pytestmark = pytest.mark.browser

COVERED = """() => {
  const badge = document.getElementById('outbox');
  const controls = [...document.querySelectorAll(
      '#category-panel .score-btn, #category-panel button, #category-panel summary, #category-panel a')]
    .filter(c => c.offsetParent !== null);
  const covered = [];
  for (const control of controls) {
    control.scrollIntoView({block: 'end'});  // the worst place: the bottom of the screen, where the badge sits
    const r = control.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !(control.contains(hit) || hit.contains(control))) {
      covered.push((control.closest('[data-item-code]') || {}).dataset?.itemCode + ' ' + control.textContent.trim()
                   + ' under ' + (hit ? (hit.closest('#outbox') ? 'the badge' : hit.tagName) : 'nothing'));
    }
  }
  return {count: controls.length, covered, badge: !badge.hidden};
}"""

TABS = """() => {
  const row = document.querySelector('.tabs');
  const current = row.querySelector('[aria-current="page"]').getBoundingClientRect();
  const box = row.getBoundingClientRect();
  return {scrolls: row.scrollWidth > row.clientWidth + 2, after: row.classList.contains('more-after'),
          before: row.classList.contains('more-before'), mask: getComputedStyle(row).maskImage
          || getComputedStyle(row).webkitMaskImage, currentInside: current.left >= box.left - 1
          && current.right <= box.right + 1};
}"""


def test_category_tabs_on_a_phone_say_that_they_scroll(live_server, browser, artifacts):
    base, _app = live_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    try:
        inspection = new_inspection(page, base)
        state = page.evaluate(TABS)
        assert state["scrolls"] and state["after"] and not state["before"] and "gradient" in state["mask"]
        page.screenshot(path=str(artifacts / "tabs-hint-390x844.png"), clip={"x": 0, "y": 0, "width": 390,
                                                                             "height": 300})
        page.evaluate("document.querySelector('.tabs').scrollLeft = 10000")
        page.wait_for_function("document.querySelector('.tabs').classList.contains('more-before')")
        state = page.evaluate(TABS)
        assert state["before"] and not state["after"]
        # the last category, opened by its address: its tab is in view in the row, the row fades on the left
        page.goto(f"{base}/inspections/{inspection}?category=office")
        state = page.evaluate(TABS)
        assert state["currentInside"] and state["before"]
        # on a tablet the seven tabs fit: no fade, nothing hidden
        page.set_viewport_size({"width": 1024, "height": 768})
        page.goto(f"{base}/inspections/{inspection}")
        state = page.evaluate(TABS)
        assert not state["scrolls"] and not state["after"] and not state["before"]
    finally:
        context.close()


@pytest.mark.parametrize("size", [(390, 844), (768, 1024)])
def test_the_sync_badge_never_covers_a_control(live_server, browser, artifacts, size):
    base, _app = live_server
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    try:
        inspection = new_inspection(page, base)
        page.goto(f"{base}/inspections/{inspection}?category=office")
        context.set_offline(True)
        page.locator("[data-item-code] .score-btn").first.click()
        page.wait_for_selector('#outbox:not([hidden])')
        result = page.evaluate(COVERED)
        assert result["badge"] and result["count"] > 10
        assert result["covered"] == []
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.screenshot(path=str(artifacts / f"sync-badge-bottom-{width}x{height}.png"))
        context.set_offline(False)
    finally:
        context.close()
