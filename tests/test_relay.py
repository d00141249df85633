"""The tests' relay: off means the port refuses at once, on again means the same port reaches the server."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.relay import Relay


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_off_refuses_the_very_next_connection_and_on_reopens_the_same_port(server):
    relay = Relay(server).on()
    try:
        assert requests.get(relay.url, timeout=5).text == "hello"
        relay.off()
        for _ in range(3):  # not one more connection slips through to the server
            with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", relay.port), 2):
                pass
        relay.on()
        assert requests.get(relay.url, timeout=5).text == "hello"
    finally:
        relay.off()
