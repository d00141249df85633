"""Outbound posts only where an administrator allows (#35): internal addresses refused however written, redirects
never followed, nothing of the far side's answer shown back."""

import http.server
import threading
import urllib.request

import pytest

from outbound import OutboundRefused, check_destination, open_url
from webhooks.service import post


@pytest.fixture
def no_allowance(monkeypatch):
    monkeypatch.delenv("OUTBOUND_ALLOW", raising=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "http://127.1/", "http://0x7f000001/", "http://[::1]/",
                                 "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://localhost/",
                                 "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://192.168.1.1/",
                                 "ftp://example.com/", "file:///etc/passwd"])
def test_internal_addresses_are_refused_however_written(no_allowance, url):
    with pytest.raises(OutboundRefused):
        check_destination(url)


def test_an_administrator_may_allow_the_plants_own_systems(monkeypatch):
    monkeypatch.setenv("OUTBOUND_ALLOW", "10.2.0.0/16, erp.lan, localhost")
    check_destination("http://10.2.3.4/hook")
    check_destination("http://localhost:8080/hook")
    with pytest.raises(OutboundRefused):
        check_destination("http://10.3.0.1/hook")


class _Redirecting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self):  # noqa: N802 - the http.server name
        _Redirecting.hits.append(self.path)
        self.send_response(307)
        self.send_header("Location", "/elsewhere")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_is_never_followed(monkeypatch):
    monkeypatch.setenv("OUTBOUND_ALLOW", "127.0.0.0/8")
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        outcome = post(f"http://127.0.0.1:{server.server_port}/hook", {}, b"{}")
        assert outcome.status == 307 and not outcome.delivered
        assert _Redirecting.hits == ["/hook"]  # the signed post never went to /elsewhere
    finally:
        server.shutdown()
        server.server_close()


def test_a_webhook_to_an_internal_address_fails_saying_why(no_allowance):
    outcome = post("http://169.254.169.254/latest/meta-data/", {}, b"{}")
    assert outcome.status is None and "internal address" in outcome.error
    request = urllib.request.Request("http://127.0.0.1:9/", data=b"x", method="POST")
    with pytest.raises(OutboundRefused):
        open_url(request, timeout=1)
