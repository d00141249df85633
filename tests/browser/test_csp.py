"""The Content-Security-Policy holds in a real browser: every screen works with no inline code, and the
browser reports no violation. Screenshots of the account, admin and correction screens at tablet size."""

import re

import pytest

from tests.browser.actions import login
from tests.helpers import published_items, token_headers

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def watch(page) -> list[str]:
    problems = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text
            or m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems


def test_every_screen_runs_under_the_policy(live_server, browser, artifacts):
    base, app = live_server
    headers, api = token_headers(app, "sup1"), app.test_client()
    inspection_id = api.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
    items = published_items(app)
    for n, item in enumerate(items):
        api.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers,
                json={"score": 1 if n < 3 else 3})
    assert api.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers).status_code == 200
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    problems = watch(page)
    try:
        login(page, base, "sup1")
        page.goto(f"{base}/workshops/W1")
        page.click("text=开始新检查")
        page.wait_for_url(re.compile(r"/inspections/\d+$"))
        first = items[0].key
        page.locator(f'[data-item-code="{first}"] .score-btn').first.click()  # an htmx save
        page.wait_for_selector(f'[data-item-code="{first}"] [data-state="saved"], '
                               f'[data-item-code="{first}"] .state-saved', timeout=10_000)
        page.goto(f"{base}/account")
        page.screenshot(path=str(artifacts / "account-tablet.png"), full_page=True)
        page.click('[data-action="switch-user"]')
        page.wait_for_url(re.compile(r"/login"))
        login(page, base, "manager")
        page.goto(f"{base}/inspections/{inspection_id}")
        page.click(".approve summary")
        page.screenshot(path=str(artifacts / "result-manager-tablet.png"), full_page=False)
        page.goto(f"{base}/inspections/{inspection_id}/items/{items[0].key}/correct")
        page.locator(".score-btn").nth(4).click()
        page.fill("textarea[name=reason]", "复查照片确认已整改合格")
        page.screenshot(path=str(artifacts / "correct-tablet.png"), full_page=True)
        page.click('[data-action="save-correction"]')
        page.wait_for_selector("#corrections")
        page.locator("#corrections").screenshot(path=str(artifacts / "corrections-tablet.png"))
        page.click('[data-action="switch-user"]')
        page.wait_for_url(re.compile(r"/login"))
        login(page, base, "admin")
        for path, name in (("/admin/users", "admin-users"), ("/admin/users/new", "admin-new-user"),
                           ("/admin/sites", "admin-sites"),
                           ("/admin/audit", "admin-audit"), ("/offline", "offline-held")):
            page.goto(f"{base}{path}")
            page.screenshot(path=str(artifacts / f"{name}-tablet.png"), full_page=False)
            assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"], path
        page.goto(f"{base}/admin/users")
        page.click("text=sup1")
        page.screenshot(path=str(artifacts / "admin-user-tablet.png"), full_page=True)
    finally:
        context.close()
    assert problems == []
