"""Chromium itself finds the app installable (manifest, icons, a service worker in control), and the device's
storage is asked to be kept: in a profile on disk, as on a tablet (an incognito context can never install)."""

import pytest

from tests.browser.actions import login

pytestmark = pytest.mark.browser


def test_chromium_finds_the_app_installable_and_keeps_its_storage(live_server, device, artifacts):
    base, _app = live_server
    context = device.open(viewport={"width": 768, "height": 1024})
    page = context.pages[0] if context.pages else context.new_page()
    login(page, base)
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now in the worker's hands
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    cdp = context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest?lang=zh_CN") and not manifest["errors"]
    page.wait_for_selector("html[data-storage-persisted]", state="attached")
    # Chromium grants persistence to an installed or engaged site; headless may say no: it was asked, and said
    assert page.get_attribute("html", "data-storage-persisted") in ("true", "false")
    assert page.evaluate("navigator.storage.persisted()") == (
        page.get_attribute("html", "data-storage-persisted") == "true")
    page.screenshot(path=str(artifacts / "installable-home-768x1024.png"))
