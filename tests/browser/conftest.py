"""A real server on loopback and Debian's Chromium, driven by Playwright at tablet sizes."""

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def live_server(sqlite_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "DATABASE_URL": sqlite_url,
                      "DATA_DIR": str(tmp_path / "data"),  # CSRF on, as in production
                      "OUTBOUND_ALLOW": "127.0.0.0/8,::1,localhost"})  # the tests' receivers
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    app.extensions["engine"].dispose()


@pytest.fixture
def relay(live_server):
    """The live server behind a relay (tests/relay.py) that a test switches off like the Wi-Fi in a dead corner."""
    from urllib.parse import urlsplit

    from tests.relay import Relay

    base, _app = live_server
    relay = Relay(urlsplit(base).port).on()
    yield relay
    relay.off()


@pytest.fixture(scope="session")
def playwright_driver():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def device(playwright_driver, tmp_path):
    """A tablet's browser with a profile on disk, as a real one keeps it: `device.open(**context options)` starts
    the browser on that profile (closing one still open), so a test closes it and opens it again with what it
    stored (service worker, caches, IndexedDB). Closed at the end."""

    class Device:
        def __init__(self):
            self.profile = tmp_path / "profile"
            self.context = None

        def open(self, start_url: str | None = None, **options):
            """start_url: the address the browser opens itself, as a home-screen icon does (a page.goto right after
            the start can race the browser reading its service workers from disk)."""
            self.close()
            options.setdefault("viewport", {"width": 768, "height": 1024})
            options.setdefault("locale", "zh-CN")
            args = [*CHROMIUM_ARGS, *([start_url] if start_url else [])]
            self.context = playwright_driver.chromium.launch_persistent_context(
                str(self.profile), executable_path=CHROMIUM, args=args, headless=True, **options)
            return self.context

        def close(self):
            if self.context is not None:
                self.context.close()
                self.context = None

    tablet = Device()
    yield tablet
    tablet.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
