"""Group-chat robots, where supervisors actually read their reminders: a WeCom (企业微信) group robot, a DingTalk
(钉钉) custom robot and a Feishu/Lark (飞书) custom bot. Infrastructure below the packages that send (plans'
reminders, actions' overdue digest), beside storage.py and tasks.py.

Written directly against the three documented webhook formats rather than through apprise: the robot's address is
a URL an admin pastes from the chat app, and we post to exactly that URL (so a local receiver can stand in for the
vendor in tests, and a plant behind an outgoing proxy can point it at a relay); apprise rebuilds the vendors' hosts
from tokens and does not sign Feishu messages.

- WeCom: POST {"msgtype": "markdown", "markdown": {"content": …}} (content ≤ 4096 bytes); answer {"errcode": 0}.
- DingTalk: with a secret, the URL gains ``timestamp`` (ms) and ``sign`` = Base64(HmacSHA256(key=secret,
  "timestamp\\nsecret")); POST {"msgtype": "markdown", "markdown": {"title", "text"}}; answer {"errcode": 0}.
- Feishu: with a secret, the body carries ``timestamp`` (s) and ``sign`` = Base64(HmacSHA256(key="timestamp\\n
  secret", empty message)); POST {"msg_type": "interactive", "card": …}; answer {"code": 0}.

Each robot takes at most 20 messages a minute: a Pacer spaces them, long texts are split at line ends, and a
"too fast" answer waits a minute and tries again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from outbound import open_url

KINDS = ("wecom", "dingtalk", "feishu")
PER_MINUTE = 20
MAX_BYTES = {"wecom": 4000, "dingtalk": 18000, "feishu": 18000}  # under each vendor's limit, with the title
# The vendors' "sending too fast" answers: wait a minute, then again.
RATE_LIMITED = {"wecom": {45009}, "dingtalk": {130101, 410100}, "feishu": {11232, 9499}}


class RobotError(ValueError):
    def __init__(self, field: str, message: str, code: str):
        super().__init__(message)
        self.field, self.code = field, code


@dataclass(frozen=True)
class Robot:
    kind: str
    url: str
    secret: str = ""


def check_robot(kind: str, url: str, secret: str) -> Robot:
    """A robot we can post to, or RobotError naming the field."""
    kind, url, secret = (kind or "").strip(), (url or "").strip(), (secret or "").strip()
    if kind not in KINDS:
        raise RobotError("kind", f"{kind!r} is not one of {', '.join(KINDS)}", "robot_kind")
    if not url.startswith(("http://", "https://")) or len(url) > 500 or any(c.isspace() for c in url):
        raise RobotError("url", "the robot's address starts with http:// or https://", "robot_url")
    if kind == "wecom" and secret:
        raise RobotError("secret", "a WeCom group robot has no signing secret", "robot_secret")
    if len(secret) > 128:
        raise RobotError("secret", "the secret is at most 128 characters", "robot_secret")
    return Robot(kind, url, secret)


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: str) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# What a robot's markdown would read as markup (a link, a heading, bold, a quote, WeCom's <font> tags), each
# replaced by its full-width look-alike: a supervisor's red-tag text can never post a clickable link as the system.
MARKDOWN_LOOKALIKES = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "<": "‹", ">": "›", "*": "＊",
                                     "_": "＿", "`": "‘", "#": "＃", "~": "～", "|": "｜", "!": "！", "\\": "＼"})


def plain_in_markdown(text: str) -> str:
    """People's words (item texts, red-tag texts, names) as plain text inside a robot's markdown."""
    return " ".join((text or "").split()).translate(MARKDOWN_LOOKALIKES)


def request_for(robot: Robot, title: str, text: str, now: float) -> tuple[str, bytes]:
    """The URL and JSON body of one message (markdown text under a title), signed where the robot has a secret."""
    url = robot.url
    if robot.kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}
    elif robot.kind == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": f"### {title}\n{text}"}}
        if robot.secret:
            stamp = str(int(now * 1000))
            query = urllib.parse.urlencode({"timestamp": stamp, "sign": dingtalk_sign(robot.secret, stamp)})
            url += ("&" if "?" in url else "?") + query
    else:
        body = {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": text}]}}
        if robot.secret:
            stamp = str(int(now))
            body = {"timestamp": stamp, "sign": feishu_sign(robot.secret, stamp), **body}
    return url, json.dumps(body, ensure_ascii=False).encode()


def split(text: str, limit: int) -> list[str]:
    """The text in parts of at most `limit` UTF-8 bytes, cut at line ends (a line longer than that is cut)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line.encode()) > limit:  # one enormous line: cut it by characters
            if current:
                parts.append(current)
                current = ""
            cut = limit
            while len(line[:cut].encode()) > limit:
                cut -= 1
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate.encode()) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


@dataclass
class Pacer:
    """At most PER_MINUTE messages to one address in any 60 seconds: waits (sleep) before the one that would
    exceed it. One Pacer is shared by everything a run sends."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic
    sent: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))

    def wait(self, url: str) -> None:
        key = url.split("?", 1)[0]
        times = self.sent[key]
        while times and self.now() - times[0] >= 60:
            times.popleft()
        if len(times) >= PER_MINUTE:
            self.sleep(60 - (self.now() - times[0]))
            times.popleft()
        times.append(self.now())


def _answer(robot: Robot, raw: bytes) -> tuple[bool, int | None, str]:
    """(accepted, vendor error code, text) from the robot's answer body."""
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return False, None, f"not JSON: {raw[:80]!r}"
    if not isinstance(answer, dict):
        return False, None, "unexpected answer (not the robot's JSON)"  # nothing of what answered is shown back
    code = answer.get("code", answer.get("StatusCode")) if robot.kind == "feishu" else answer.get("errcode")
    text = str(answer.get("msg") or answer.get("errmsg") or answer.get("StatusMessage") or "")
    return code == 0, code if isinstance(code, int) else None, text


def send(robot: Robot, title: str, text: str, *, pacer: Pacer, attempts: int = 3, backoff: float = 2.0,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> tuple[bool, str]:
    """Post the text (in as many parts as the robot's size limit needs). Network errors and 5xx are retried with
    backoff, "too fast" after a minute; any other refusal is final. Returns (all parts delivered, outcome)."""
    parts = split(text, MAX_BYTES[robot.kind])
    for number, part in enumerate(parts, start=1):
        shown = f"{title}（{number}/{len(parts)}）" if len(parts) > 1 else title
        delivered, outcome = _send_one(robot, shown, part, pacer, attempts, backoff, sleep, clock)
        if not delivered:
            return False, f"part {number}/{len(parts)}: {outcome}"
    return True, f"{len(parts)} message(s)"


def _send_one(robot, title, text, pacer, attempts, backoff, sleep, clock) -> tuple[bool, str]:
    outcome = ""
    for attempt in range(1, attempts + 1):
        pacer.wait(robot.url)
        url, body = request_for(robot, title, text, clock())
        request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - http(s) checked
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "6S-Inspect"})
        try:
            # http(s) only: check_robot refuses other schemes
            with open_url(request, timeout=10) as response:
                accepted, code, text_back = _answer(robot, response.read(65536))
            if accepted:
                return True, "ok"
            outcome = f"refused: {code} {text_back}".strip()
            if code not in RATE_LIMITED[robot.kind]:
                return False, outcome
            wait = 60.0
        except urllib.error.HTTPError as exc:
            exc.close()
            outcome = f"HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                return False, outcome
            wait = 60.0 if exc.code == 429 else backoff * 2 ** (attempt - 1)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            outcome = str(getattr(exc, "reason", exc))
            wait = backoff * 2 ** (attempt - 1)
        if attempt < attempts:
            sleep(wait)
    return False, outcome
