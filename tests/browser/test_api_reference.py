"""The API reference page works offline: the vendored Redoc draws the OpenAPI document, under its own
Content-Security-Policy, with nothing fetched from another host."""

import pytest

pytestmark = pytest.mark.browser


def test_the_reference_page_draws_the_document_offline(live_server, browser, artifacts):
    base, _app = live_server
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US")
    page = context.new_page()
    elsewhere, refused, blocked = [], [], []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None)
    page.on("requestfailed", lambda r: blocked.append(r.url) if "csp" in (r.failure or "").lower() else None)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: refused.append(str(e)))
    try:
        page.goto(f"{base}/api/v1/reference")
        page.wait_for_selector("text=Download OpenAPI description", timeout=30000)
        assert page.locator("text=6S Inspect API").first.is_visible()
        page.wait_for_selector("text=Operations")
        text = page.inner_text("body")
        assert "/api/v1/workshops" in text and "red tags" in text  # the document's paths and tags
        page.screenshot(path=str(artifacts / "api-reference-1024x768.png"))
        # Redoc's own badge asks its CDN for a logo: the page's policy stops it (nothing leaves the site); its
        # telemetry is switched off (disable-telemetry), so it does not even try
        assert elsewhere == blocked and all(url.startswith("https://cdn.redoc.ly/") for url in blocked)
        assert [m for m in refused if "cdn.redoc.ly" not in m] == []
    finally:
        context.close()
