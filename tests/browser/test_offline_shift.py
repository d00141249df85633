"""A shift without the server (#37), on a tablet's browser with its profile on disk: one online visit of the home
page, then the browser closed and opened again in a dead corner — the relay in front of the server switched off,
so nothing reaches it, not only the browser's offline switch."""

from urllib.parse import urlsplit

import pytest

from tests.browser.actions import login
from tests.helpers import published_items
from tests.relay import Relay

pytestmark = pytest.mark.browser


@pytest.fixture
def relay(live_server):
    base, _app = live_server
    relay = Relay(urlsplit(base).port).on()
    yield relay
    relay.off()


def first_page(context):
    return context.pages[0] if context.pages else context.new_page()


def visit_home_online(device, relay, viewport) -> None:
    page = first_page(device.open(viewport=viewport))
    login(page, relay.url)
    page.evaluate("navigator.serviceWorker.ready")
    page.goto(f"{relay.url}/")  # the worker is in control: it keeps what the list names
    page.wait_for_selector("html[data-holdings-refreshed]", state="attached")
    assert page.get_attribute("html", "data-holdings-refreshed") == "true"
    device.close()


@pytest.mark.parametrize("viewport", [{"width": 768, "height": 1024}, {"width": 390, "height": 844}],
                         ids=["tablet", "phone"])
def test_after_one_online_visit_home_workshops_and_what_is_held_open_with_the_server_gone(
        live_server, relay, device, artifacts, viewport):
    _base, app = live_server
    visit_home_online(device, relay, viewport)
    relay.off()
    name = f"{viewport['width']}x{viewport['height']}"

    page = first_page(device.open(viewport=viewport))
    page.goto(f"{relay.url}/")
    assert page.locator('a[data-workshop-code="W1"]').count() == 1  # sup1's workshop, from the kept home page
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.click('a[data-workshop-code="W1"]')
    page.wait_for_url(f"{relay.url}/workshops/W1")
    assert page.locator("text=开始新检查").count() >= 1
    page.goto(f"{relay.url}/offline")
    row = page.locator('[data-held-workshop="W1"]')
    row.wait_for()
    items = len(published_items(app))
    assert "一号车间（W1）" in row.inner_text() and f"{items} 项" in row.inner_text()
    assert page.locator("[data-held-refreshed]").get_attribute("datetime")
    assert page.locator('[data-held-workshop="W2"]').count() == 0  # not sup1's
    page.screenshot(path=str(artifacts / f"offline-held-{name}.png"), full_page=True)
    # a page never kept says so, in a way the tablet shows (not the browser's dinosaur)
    assert page.goto(f"{relay.url}/workshops/W2").status == 503
