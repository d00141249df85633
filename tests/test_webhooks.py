"""Event webhooks end to end (SQLite and PostgreSQL), against a receiver on 127.0.0.1 that checks each message the
way docs/api.md tells an integrator to (HMAC-SHA256 over id, timestamp and body, by hand — not with the library
that signs them) and keeps each event once by its webhook-id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

import tasks
from tests.helpers import answer_all_in_one_go, drawn_signature, token_headers
from tests.seed import PASSWORD
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.tasks import DELIVER_TASK

AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai


class Receiver:
    """Answers with the statuses queued in `replies` (then 200), after `delay` seconds; records every request and
    keeps each event once by its id, as a receiver should."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.events: dict[str, dict] = {}
        self.replies: list[int] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append((headers, body))
                time.sleep(receiver.delay)
                status = receiver.replies.pop(0) if receiver.replies else 200
                if status == 200:
                    receiver.events.setdefault(headers["webhook-id"], json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/6s"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def verified(secret: str, headers: dict, body: bytes) -> bool:
    """docs/api.md's recipe, by hand."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", given) for given in headers["webhook-signature"].split())


def subscribe(app, client, auth, url: str, events: list[str]) -> WebhookEndpoint:
    auth.login("admin")
    with Session(app.extensions["engine"]) as session:
        from accounts.models import Plant

        plant = session.exec(select(Plant).where(Plant.code == "P1")).one()
    response = client.post("/admin/webhooks", data={"plant": plant.id, "url": url, "events": events,
                                                    "description": "MES"})
    assert response.status_code == 303, response.data.decode()
    auth.logout()
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())).first()


def submitted_inspection(app, client, low_items: int = 2) -> int:
    sup = token_headers(app, "sup1")
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    keys = answer_all_in_one_go(app, inspection)
    for key in keys[:low_items]:  # findings
        assert client.put(f"/api/v1/inspections/{inspection}/answers/{key}", headers=sup,
                          json={"score": 1}).status_code == 200
    assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=sup,
                       json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    return inspection


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives back naive UTC


def attempts_of(app) -> list[WebhookAttempt]:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()


def deliveries(app) -> list[WebhookDelivery]:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def test_a_submitted_inspection_reaches_the_subscriber_signed(app, client, auth, receiver, travel):
    travel(AT)
    endpoint = subscribe(app, client, auth, receiver.url,
                         ["inspection.submitted", "finding.created", "report.issued"])
    inspection = submitted_inspection(app, client, low_items=2)
    made = deliveries(app)
    assert [d.event for d in made] == ["finding.created", "finding.created", "inspection.submitted"]
    assert receiver.requests == []  # written with the submit, posted by the queue after the commit
    tasks.drain(app)  # the deliveries, and the report's issue (which announces itself)
    # two findings, the submission, the two reports (full, findings only)
    assert len(receiver.requests) == 5 and all(verified(endpoint.secret, h, b) for h, b in receiver.requests)
    by_type = {}
    for event in receiver.events.values():
        by_type.setdefault(event["type"], []).append(event)
    submitted = by_type["inspection.submitted"][0]
    assert submitted["plant"] == "P1" and submitted["data"]["inspection"] == inspection
    assert submitted["data"]["findings"] == 2 and submitted["data"]["workshop"] == "W1"
    assert submitted["data"]["overall_percent"] == client.get(
        f"/api/v1/inspections/{inspection}", headers=token_headers(app, "manager")).get_json()["overall_percent"]
    findings = sorted(e["data"]["item"] for e in by_type["finding.created"])
    assert len(findings) == 2 and all(e["data"]["action"] for e in by_type["finding.created"])
    reports = [e["data"] for e in by_type["report.issued"]]
    assert {r["kind"] for r in reports} == {"full", "findings"}
    assert all(r["inspection"] == inspection and len(r["file_sha256"]) == 64 for r in reports)
    headers, body = receiver.requests[0]
    assert headers["content-type"] == "application/json" and headers["webhook-id"].startswith("evt_")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert not verified(endpoint.secret, headers, body + b" ")  # the signature covers the body
    assert not verified(endpoint.secret, headers | {"webhook-timestamp": str(int(headers["webhook-timestamp"]) - 1)},
                        body)  # and the timestamp
    assert {d.state for d in deliveries(app)} == {"delivered"}

    # the admin reads the log: each delivery, its attempt and the answer
    auth.login("admin")
    page = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert page.count('data-state="delivered"') == 5 and "HTTP 200" in page
    assert "whsec_" in page  # the secret is shown to the admin, to set up the receiver


def test_a_failed_delivery_is_retried_with_the_same_id_and_redelivered_from_the_screen(
        app, client, auth, receiver, travel):
    travel(AT)
    endpoint = subscribe(app, client, auth, receiver.url, ["inspection.submitted"])
    submitted_inspection(app, client, low_items=0)
    receiver.replies = [500, 503]
    tasks.drain(app, only={DELIVER_TASK})  # the deliveries; the reports are not the subject
    (delivery,) = deliveries(app)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    from webhooks.service import open_session, sweep

    def next_wait() -> tuple[datetime, timedelta]:
        # the clock ticks on from AT and a busy machine takes seconds to get here: count from the attempt itself
        (delivery,) = deliveries(app)
        due, tried = utc(delivery.next_attempt_at), utc(attempts_of(app)[-1].at)
        return due, due - tried

    due, wait = next_wait()
    assert timedelta(minutes=1) <= wait < timedelta(minutes=1, seconds=30)  # the first wait is a minute
    with open_session(app.extensions["engine"]) as session:
        assert sweep(session) == 0  # not due yet
    travel(due + timedelta(seconds=5))
    with open_session(app.extensions["engine"]) as session:
        assert sweep(session) == 1
    assert deliveries(app)[0].last_status == 503 and deliveries(app)[0].attempts == 2
    due, wait = next_wait()
    assert timedelta(minutes=5) <= wait < timedelta(minutes=5, seconds=30)  # the second wait is five minutes
    travel(due - timedelta(seconds=5))
    with open_session(app.extensions["engine"]) as session:
        assert sweep(session) == 0
    travel(due + timedelta(seconds=5))
    with open_session(app.extensions["engine"]) as session:
        assert sweep(session) == 1
    (delivery,) = deliveries(app)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)
    ids = {h["webhook-id"] for h, _b in receiver.requests}
    bodies = {b for _h, b in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1 and len(bodies) == 1 and len(receiver.events) == 1

    # redelivered from the admin's screen: the same message again, logged
    auth.login("admin")
    response = client.post(f"/admin/webhooks/{endpoint.id}/deliveries/{delivery.id}/redeliver")
    assert response.status_code == 303
    tasks.drain(app, only={DELIVER_TASK})  # the deliveries; the reports are not the subject
    assert len(receiver.requests) == 4 and receiver.requests[-1][0]["webhook-id"] in ids
    with Session(app.extensions["engine"]) as session:
        attempts = session.exec(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
        from audit.models import AuditEvent

        audited = session.exec(select(AuditEvent).where(AuditEvent.action == "webhook.redeliver")).all()
    assert [a.status for a in attempts] == [500, 503, 200, 200] and len(audited) == 1
    other = client.post(f"/admin/webhooks/{endpoint.id}/deliveries/999999/redeliver")
    assert other.status_code == 404


def test_a_timeout_is_retried_and_the_receiver_keeps_the_event_once(app, client, auth, receiver, travel,
                                                                     monkeypatch):
    import webhooks.service as service

    travel(AT)
    monkeypatch.setattr(service, "TIMEOUT_SECONDS", 0.3)
    subscribe(app, client, auth, receiver.url, ["inspection.submitted"])
    submitted_inspection(app, client, low_items=0)
    receiver.delay = 1.0  # answers after we stopped waiting
    tasks.drain(app, only={DELIVER_TASK})  # the deliveries; the reports are not the subject
    (delivery,) = deliveries(app)
    assert delivery.state == "pending" and delivery.last_status is None and "timed out" in delivery.last_error
    receiver.delay = 0
    travel(AT + timedelta(minutes=2))
    with service.open_session(app.extensions["engine"]) as session:
        assert service.sweep(session) == 1
    time.sleep(1.0)  # the first request's late answer
    assert deliveries(app)[0].state == "delivered"
    assert len(receiver.requests) == 2 and len(receiver.events) == 1  # the same id twice: one event

    # one delivery goes out once, even when the queue and the sweep reach it together
    with Session(app.extensions["engine"]) as session:
        row = session.get(WebhookDelivery, delivery.id)
        row.state, row.claimed_at = "sending", service.clock.now()
        session.commit()
    with service.open_session(app.extensions["engine"]) as session:
        assert service.deliver(session, delivery.id) is None and service.sweep(session) == 0
    travel(AT + timedelta(minutes=4))  # a claim not finished in time (its worker died) is taken up again
    with service.open_session(app.extensions["engine"]) as session:
        assert service.deliver(session, delivery.id).delivered
    assert len(receiver.requests) == 3


def test_overdue_actions_and_escalations_are_announced_once(app, client, auth, receiver, travel):
    travel(AT)
    subscribe(app, client, auth, receiver.url, ["action.overdue", "action.verified"])
    submitted_inspection(app, client, low_items=2)
    runner = app.test_cli_runner()
    travel(AT + timedelta(days=30))
    first = runner.invoke(args=["actions", "notify"])
    assert "2 overdue-action webhook deliveries" in first.output, first.output
    second = runner.invoke(args=["actions", "notify"])
    assert "0 overdue-action webhook deliveries" in second.output  # once per action and due date
    tasks.drain(app, only={DELIVER_TASK})  # the deliveries; the reports are not the subject
    overdue = [e for e in receiver.events.values() if e["type"] == "action.overdue"]
    assert len(overdue) == 2 and all(e["data"]["days_overdue"] > 20 for e in overdue)


def test_only_admins_subscribe_and_refusals_name_the_field(app, client, auth):
    for username in ("manager", "sup1", "auditor"):
        auth.login(username)
        assert client.get("/admin/webhooks").status_code == 403
        assert client.post("/admin/webhooks", data={"plant": 1, "url": "https://x", "events": ["report.issued"]}
                           ).status_code == 403
        auth.logout()
    auth.login("admin")
    bad_url = client.post("/admin/webhooks", data={"plant": 1, "url": "ftp://mes", "events": ["report.issued"]})
    assert bad_url.status_code == 422 and "接收网址须以 http:// 或 https:// 开头" in bad_url.get_data(as_text=True)
    unknown = client.post("/admin/webhooks", data={"plant": 1, "url": "https://mes", "events": ["report.burnt"]})
    assert unknown.status_code == 422 and "report.burnt" in unknown.get_data(as_text=True)
    none = client.post("/admin/webhooks", data={"plant": 1, "url": "https://mes"})
    assert none.status_code == 422 and "请至少选择一个事件" in none.get_data(as_text=True)
    assert client.get("/admin/webhooks/999").status_code == 404
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(WebhookEndpoint)).all() == []


def test_a_missed_planned_inspection_is_announced_once(app, client, auth, receiver, travel):
    travel(datetime(2026, 11, 27, 3, 0, tzinfo=UTC))  # a Friday
    subscribe(app, client, auth, receiver.url, ["plan.occurrence_missed"])
    plan = client.post("/api/v1/plans", headers=token_headers(app, "manager"), json={
        "workshop": "W1", "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-11-30",
        "window_days": 1})
    assert plan.status_code == 201, plan.json
    runner = app.test_cli_runner()
    travel(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 00:30 on Tuesday 1 December in Shanghai
    first = runner.invoke(args=["actions", "notify"])
    assert "1 missed-occurrence webhook deliveries" in first.output, first.output
    assert "0 missed-occurrence" in runner.invoke(args=["actions", "notify"]).output  # once
    tasks.drain(app)
    (missed,) = [e for e in receiver.events.values() if e["type"] == "plan.occurrence_missed"]
    assert (missed["data"]["workshop"], missed["data"]["opens_on"], missed["data"]["closes_on"]) == (
        "W1", "2026-11-30", "2026-11-30")
