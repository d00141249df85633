"""A local stand-in for the three chat vendors' robot webhooks, on 127.0.0.1: it checks what their documentation
asks (message format, size, signature, timestamp freshness, 20 messages a minute) and answers as they do.

Paths: /wecom, /dingtalk, /feishu. Each robot's secret is given when the receiver starts. `clock` is the time the
receiver judges timestamps and the per-minute limit by (a test may share a fake one with the sender's Pacer)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class RobotReceiver:
    def __init__(self, secrets: dict[str, str], clock=time.time):
        self.secrets, self.clock = secrets, clock
        self.accepted: list[tuple[str, dict]] = []  # (kind, body)
        self.refused: list[tuple[str, str]] = []  # (kind, why)
        self.recent: dict[str, deque] = defaultdict(deque)
        self.fail_next: dict[str, int] = {}  # kind → how many 500s to answer first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, answer = receiver.handle(self.path, self.headers.get("Content-Type", ""), body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _too_fast(self, kind: str) -> bool:
        now, recent = self.clock(), self.recent[kind]
        while recent and now - recent[0] >= 60:
            recent.popleft()
        if len(recent) >= 20:
            return True
        recent.append(now)
        return False

    def handle(self, path: str, content_type: str, raw: bytes):
        url = urlsplit(path)
        kind = url.path.strip("/")
        if self.fail_next.get(kind):
            self.fail_next[kind] -= 1
            return 500, {}
        if not content_type.startswith("application/json"):
            return self._refuse(kind, "content type", 400)
        body = json.loads(raw)
        secret = self.secrets.get(kind, "")
        if kind == "wecom":
            content = body.get("markdown", {}).get("content", "")
            if body.get("msgtype") != "markdown" or not content:
                return self._refuse(kind, "format", 200, errcode=40008)
            if len(content.encode()) > 4096:
                return self._refuse(kind, "too long", 200, errcode=40058)
            if self._too_fast(kind):
                return self._refuse(kind, "too fast", 200, errcode=45009)
            self.accepted.append((kind, body))
            return 200, {"errcode": 0, "errmsg": "ok"}
        if kind == "dingtalk":
            query = parse_qs(url.query)
            if secret:
                stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
                expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(),
                                                     hashlib.sha256).digest()).decode()
                if not stamp or abs(self.clock() * 1000 - int(stamp)) > 3600_000:
                    return self._refuse(kind, "timestamp", 200, errcode=310000)
                if sign != expected:
                    return self._refuse(kind, "sign", 200, errcode=310000)
            markdown = body.get("markdown", {})
            if body.get("msgtype") != "markdown" or not markdown.get("title") or not markdown.get("text"):
                return self._refuse(kind, "format", 200, errcode=40035)
            if self._too_fast(kind):
                return self._refuse(kind, "too fast", 200, errcode=130101)
            self.accepted.append((kind, body))
            return 200, {"errcode": 0, "errmsg": "ok"}
        if kind == "feishu":
            if secret:
                stamp = str(body.get("timestamp", ""))
                expected = base64.b64encode(hmac.new(f"{stamp}\n{secret}".encode(), b"",
                                                     hashlib.sha256).digest()).decode()
                if not stamp or abs(self.clock() - int(stamp)) > 3600:
                    return self._refuse(kind, "timestamp", 200, code=19021)
                if body.get("sign") != expected:
                    return self._refuse(kind, "sign", 200, code=19021)
            card = body.get("card", {})
            if body.get("msg_type") != "interactive" or not card.get("elements") or \
                    card["elements"][0].get("tag") != "markdown":
                return self._refuse(kind, "format", 200, code=19001)
            if self._too_fast(kind):
                return self._refuse(kind, "too fast", 200, code=11232)
            self.accepted.append((kind, body))
            return 200, {"code": 0, "msg": "success", "data": {}}
        return 404, {}

    def _refuse(self, kind: str, why: str, status: int, **answer):
        self.refused.append((kind, why))
        return status, answer or {"error": why}

    def texts(self, kind: str) -> list[str]:
        if kind == "wecom":
            return [b["markdown"]["content"] for k, b in self.accepted if k == kind]
        if kind == "dingtalk":
            return [b["markdown"]["text"] for k, b in self.accepted if k == kind]
        return [b["card"]["header"]["title"]["content"] + "\n" + b["card"]["elements"][0]["content"]
                for k, b in self.accepted if k == kind]
