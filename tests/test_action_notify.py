"""The daily digest (a local SMTP sink) and the signed plant webhook (a local receiver that fails first)."""

import hashlib
import hmac
import json
import threading
from datetime import date, timedelta
from email import message_from_bytes
from email.policy import default
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from accounts.models import Plant, User
from actions.models import CorrectiveAction
from actions.notify import OverdueRow, Recipient, build_digests, post_webhook, signature
from tests.conftest import _free_port
from tests.helpers import plant_today
from tests.test_actions import found


def row(action_id, workshop_id, owner_id, due=date(2026, 11, 1), today=date(2026, 11, 3)):
    return OverdueRow(action_id, "P1", "一厂", workshop_id, f"车间{workshop_id}", "地面油污", owner_id,
                      f"user{owner_id}", due, today)


def test_each_person_gets_one_digest_with_their_own_and_their_workshops_actions():
    owners = {1: Recipient(1, "张", "zhang@example.cn"), 2: Recipient(2, "李", "")}
    managers = {10: [Recipient(9, "王经理", "wang@example.cn")], 20: []}
    # workshop 20 is at a plant a day behind (Budapest while Shanghai has passed midnight)
    digests = build_digests([row(1, 10, 1, today=date(2026, 11, 5)), row(2, 10, 2, today=date(2026, 11, 5)),
                             row(3, 20, 1, today=date(2026, 11, 4))], owners, managers)
    by_person = {d.to.name: [r.action_id for r in d.rows] for d in digests}
    assert by_person == {"张": [1, 3], "王经理": [1, 2]}  # 李 has no address: the home screen tells them
    body = digests[0].body("https://6s.example.cn")
    assert "逾期 4 天" in body and "逾期 3 天" in body and "https://6s.example.cn/actions/1" in body
    assert digests[0].day == date(2026, 11, 5) and "（2026-11-05）" in digests[0].subject()


def test_an_owner_who_also_manages_the_workshop_gets_each_action_once():
    me = Recipient(1, "王", "wang@example.cn")
    digests = build_digests([row(1, 10, 1), row(2, 10, 1), row(1, 10, 1)], {1: me}, {10: [me]})
    assert [[r.action_id for r in d.rows] for d in digests] == [[1, 2]]


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default)))
        return "250 OK"


@pytest.mark.clock
def test_the_digest_reaches_owners_and_managers_over_smtp(app, client, auth, clock_at):
    found(app, client, auth)
    with Session(app.extensions["engine"]) as session:
        users = {u.username: u for u in session.exec(select(User))}
        users["sup1"].email, users["manager"].email = "sup1@example.cn", "manager@example.cn"
        for action in session.exec(select(CorrectiveAction)):
            action.owner_id, action.due_on = users["sup1"].id, plant_today() - timedelta(days=3)
        session.commit()
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                          PUBLIC_BASE_URL="https://6s.example.cn")
        result = app.test_cli_runner().invoke(args=["actions", "notify"])
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert "3 overdue actions; 2 e-mails" in result.output
    received = {tuple(to): message for to, message in sink.messages}
    assert set(received) == {("sup1@example.cn",), ("manager@example.cn",)}
    mail = received[("sup1@example.cn",)]
    assert "3 项整改已逾期" in mail["Subject"] and "逾期 3 天" in mail.get_content()
    assert "https://6s.example.cn/actions/" in mail.get_content()


class Receiver(BaseHTTPRequestHandler):
    replies: list[int] = []
    got: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.got.append((dict(self.headers), body))
        self.send_response(Receiver.replies.pop(0) if Receiver.replies else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_plant_webhook_is_signed_and_retried_after_a_failure(app, client, auth):
    found(app, client, auth)
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.replies, Receiver.got = [503], []
    try:
        with Session(app.extensions["engine"]) as session:
            plant = session.exec(select(Plant).where(Plant.code == "P1")).one()
            plant.webhook_url = f"http://127.0.0.1:{server.server_port}/hook"
            plant.webhook_secret = "s3cret-shared-with-the-relay"
            for action in session.exec(select(CorrectiveAction)):
                action.due_on = plant_today() - timedelta(days=1)
            session.commit()
        app.config["WEBHOOK_BACKOFF"] = 0.01
        result = app.test_cli_runner().invoke(args=["actions", "notify"])
    finally:
        server.shutdown()
        server.server_close()
    assert "webhook P1: delivered after 2 tries" in result.output
    assert len(Receiver.got) == 2 and Receiver.got[0][1] == Receiver.got[1][1]  # the same body, sent again
    headers, body = Receiver.got[1]
    expected = hmac.new(b"s3cret-shared-with-the-relay", headers["X-6S-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-6S-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["event"] == "actions.overdue" and payload["plant"] == "P1" and payload["count"] == 3


def test_a_webhook_gives_up_on_a_4xx_and_backs_off_exponentially_on_errors():
    sleeps = []
    delivered, tries, outcome = post_webhook("http://127.0.0.1:9/none", "k", {"a": 1}, attempts=3, backoff=2.0,
                                             sleep=sleeps.append)
    assert not delivered and tries == 3 and sleeps == [2.0, 4.0]
    assert post_webhook("file:///etc/passwd", "k", {}) == (False, 0, "not an http(s) URL")
    assert signature("k", "1", b"{}") == "sha256=" + hmac.new(b"k", b"1.{}", hashlib.sha256).hexdigest()


def test_admin_sets_a_plant_webhook_and_a_users_email_with_clear_refusals(app, client, auth):
    auth.login("admin")
    with Session(app.extensions["engine"]) as session:
        plant_id = session.exec(select(Plant).where(Plant.code == "P1")).one().id
        sup1_id = session.exec(select(User).where(User.username == "sup1")).one().id
    url = f"/admin/plants/{plant_id}/webhook"
    bad = client.post(url, data={"webhook_url": "file:///etc/passwd", "webhook_secret": "x" * 20})
    assert bad.status_code == 422 and "http://" in bad.text
    short = client.post(url, data={"webhook_url": "https://relay.example.cn/6s", "webhook_secret": "short"})
    assert short.status_code == 422 and "16–128" in short.text
    assert client.post(url, data={"webhook_url": "https://relay.example.cn/6s",
                                  "webhook_secret": "a-long-shared-secret"}).status_code == 303
    assert client.post(url, data={"webhook_url": "https://relay.example.cn/v2"}).status_code == 303  # secret kept
    page = client.get("/admin/sites").text
    assert "https://relay.example.cn/v2" in page and "a-long-shared-secret" not in page
    with Session(app.extensions["engine"]) as session:
        assert session.get(Plant, plant_id).webhook_secret == "a-long-shared-secret"
    form = {"display_name": "sup1", "role": "supervisor", "workshop": "W1", "active": "on"}
    bad_mail = client.post(f"/admin/users/{sup1_id}", data={**form, "email": "not-an-address"})
    assert bad_mail.status_code == 422 and "邮箱地址无效" in bad_mail.text
    assert client.post(f"/admin/users/{sup1_id}", data={**form, "email": "sup1@example.cn"}).status_code == 303
    with Session(app.extensions["engine"]) as session:
        assert session.get(User, sup1_id).email == "sup1@example.cn"


class PickySink(Sink):
    """Refuses one address, like a mail server that does not know the mailbox."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address == "gone@example.cn":
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.clock
def test_a_second_run_the_same_day_sends_only_what_did_not_arrive(app, client, auth, clock_at):
    found(app, client, auth)
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.replies, Receiver.got = [], []
    today = plant_today()
    with Session(app.extensions["engine"]) as session:
        users = {u.username: u for u in session.exec(select(User))}
        users["sup1"].email, users["manager"].email = "sup1@example.cn", "manager@example.cn"
        for action in session.exec(select(CorrectiveAction)):
            action.owner_id, action.due_on = users["sup1"].id, today - timedelta(days=2)
        plant = session.exec(select(Plant).where(Plant.code == "P1")).one()
        plant.webhook_url = f"http://127.0.0.1:{server.server_port}/hook"
        plant.webhook_secret = "s3cret-shared-with-the-relay"
        session.commit()
    port = _free_port()  # nothing listens there yet: the mail server is down
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, WEBHOOK_BACKOFF=0.01)
    runner = app.test_cli_runner()
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    try:
        down = runner.invoke(args=["actions", "notify"])
        assert down.exit_code == 1
        assert "mail sup1@example.cn: FAILED" in down.output and "sent 0 e-mails" in down.output
        assert "webhook P1: delivered after 1 tries" in down.output  # the mail failing does not hold the plant back
        controller.start()
        retry = runner.invoke(args=["actions", "notify"])
        assert retry.exit_code == 0, retry.output
        assert "sent 2 e-mails" in retry.output and "0 e-mails, 1 webhooks" in retry.output
        assert len(Receiver.got) == 1  # the relay was not told twice
        assert sorted(to for to, _m in sink.messages) == [["manager@example.cn"], ["sup1@example.cn"]]
        third = runner.invoke(args=["actions", "notify"])
        assert third.exit_code == 0 and "2 e-mails, 1 webhooks" in third.output and "sent" not in third.output
        assert len(sink.messages) == 2 and len(Receiver.got) == 1
        resend = runner.invoke(args=["actions", "notify", "--resend"])
        assert resend.exit_code == 0 and "sent 2 e-mails" in resend.output
        assert len(sink.messages) == 4 and len(Receiver.got) == 2
        tomorrow = runner.invoke(args=["actions", "notify", "--date", (today + timedelta(days=1)).isoformat()])
        assert tomorrow.exit_code == 0 and "sent 2 e-mails" in tomorrow.output and len(Receiver.got) == 3
    finally:
        controller.stop()
        server.shutdown()
        server.server_close()
    from actions.models import NotificationDelivery

    with Session(app.extensions["engine"]) as session:
        kept = session.exec(select(NotificationDelivery).order_by(NotificationDelivery.id)).all()
    assert {(row.day, row.channel) for row in kept} == {(today, "mail"), (today, "webhook"),
                                                        (today + timedelta(days=1), "mail"),
                                                        (today + timedelta(days=1), "webhook")}
    assert len(kept) == 6 and {row.action_count for row in kept} == {3}


def test_a_refused_address_fails_alone_and_is_tried_again_next_run(app, client, auth):
    found(app, client, auth)
    with Session(app.extensions["engine"]) as session:
        users = {u.username: u for u in session.exec(select(User))}
        users["sup1"].email, users["manager"].email = "gone@example.cn", "manager@example.cn"
        sup1_id = users["sup1"].id
        for action in session.exec(select(CorrectiveAction)):
            action.owner_id, action.due_on = sup1_id, plant_today() - timedelta(days=1)
        session.commit()
    sink = PickySink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        first = app.test_cli_runner().invoke(args=["actions", "notify"])
        with Session(app.extensions["engine"]) as session:
            session.get(User, sup1_id).email = "sup1@example.cn"  # the admin fixes the address
            session.commit()
        second = app.test_cli_runner().invoke(args=["actions", "notify"])
    finally:
        controller.stop()
    assert first.exit_code == 1 and "sent 1 e-mails" in first.output
    assert "mail gone@example.cn: FAILED (gone@example.cn: 550 5.1.1 no such mailbox)" in first.output
    assert second.exit_code == 0 and "sent 1 e-mails" in second.output
    assert [to for to, _m in sink.messages] == [["manager@example.cn"], ["sup1@example.cn"]]


def test_the_daily_run_reads_the_overdue_actions_in_the_same_queries_however_many(app, client, auth):
    from sqlalchemy import event

    from accounts.days import plant_days
    from actions.notify import overdue_rows

    engine = app.extensions["engine"]

    def make_all_overdue():
        with Session(engine) as session:
            owner = session.exec(select(User).where(User.username == "sup1")).one().id
            for action in session.exec(select(CorrectiveAction)):
                action.owner_id, action.due_on = owner, plant_today() - timedelta(days=1)
            session.commit()

    def statements() -> tuple[int, int]:
        seen = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        with Session(engine) as session:
            event.listen(engine, "before_cursor_execute", listen)
            try:
                rows = overdue_rows(session, plant_days(session))
            finally:
                event.remove(engine, "before_cursor_execute", listen)
        assert all(r.item_text and r.owner_name == "sup1" for r in rows)
        return len(rows), len(seen)

    found(app, client, auth)
    make_all_overdue()
    few_rows, few = statements()
    for _ in range(3):
        found(app, client, auth)
    make_all_overdue()
    many_rows, many = statements()
    assert (few_rows, many_rows) == (3, 12) and many == few


def test_links_sent_without_a_request_use_the_address_people_sign_in_at(app, client, auth):
    """#35: with PUBLIC_BASE_URL unset (make run) the daily run's links were relative ("/actions/7"), which opens
    nothing from a WeCom message or a webhook. The first sign-in's address is remembered; only an admin's sign-in
    moves it (a Host header is the client's to write)."""
    from accounts.models import SiteAddress
    from tests.seed import PASSWORD

    found(app, client, auth)  # signs in at http://localhost/
    plant_site = "http://192.168.1.20:8000"
    for who, at in (("sup2", "http://evil.example"), ("admin", plant_site), ("sup1", "http://evil.example")):
        signed_in = client.post("/login", data={"username": who, "password": PASSWORD}, base_url=at)
        assert signed_in.status_code == 303
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(SiteAddress.base_url)).all() == [plant_site]
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.replies, Receiver.got = [], []
    try:
        with Session(app.extensions["engine"]) as session:
            plant = session.exec(select(Plant).where(Plant.code == "P1")).one()
            plant.webhook_url = f"http://127.0.0.1:{server.server_port}/hook"
            plant.webhook_secret = "s3cret-shared-with-the-relay"
            for action in session.exec(select(CorrectiveAction)):
                action.due_on = plant_today() - timedelta(days=1)
            session.commit()
        assert not app.config.get("PUBLIC_BASE_URL")
        result = app.test_cli_runner().invoke(args=["actions", "notify"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    body = json.loads(Receiver.got[0][1])
    urls = [action["url"] for action in body["actions"]]
    assert urls and all(url.startswith(f"{plant_site}/actions/") for url in urls), urls
