"""The daily run reminds people of plans: the e-mail digest (a local SMTP sink) and the plant's group-chat robots
(a local receiver checking WeCom's and DingTalk's formats and DingTalk's signature), once a day. SQLite and
PostgreSQL."""

from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from accounts.models import Plant, User
from accounts.robots import add_robot
from tests.conftest import _free_port
from tests.helpers import token_headers
from tests.robot_receiver import RobotReceiver
from tests.test_action_notify import Sink

MON_1000 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 30 November, 10:00 in Shanghai
SUN_0730 = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)  # the daily run: Sunday 6 December, 07:30 in Shanghai
SECRET = "SEC0123456789abcdef0123456789abcdef"


@pytest.fixture
def receiver():
    found = RobotReceiver({"dingtalk": SECRET})
    yield found
    found.close()


def test_reminders_reach_mail_and_robots_once_a_day(app, travel, receiver):
    travel(MON_1000)
    api, manager = app.test_client(), token_headers(app, "manager")
    # both open their next window tomorrow (Monday the 7th); W2's last one (Mon–Tue) is late until today
    for body in ({"workshop": "W1", "window_days": 3}, {"workshop": "W2", "window_days": 2, "allow_late": True}):
        assert api.post("/api/v1/plans", headers=manager, json={
            "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-11-30", **body}
        ).status_code == 201
    with Session(app.extensions["engine"]) as session:
        for user in session.exec(select(User)):
            user.email = f"{user.username}@example.cn"
        plant = session.exec(select(Plant).where(Plant.code == "P1")).one()
        add_robot(session=session, actor=None, plant=plant, kind="wecom", url=f"{receiver.base}/wecom?key=k1",
                  secret="")
        add_robot(session=session, actor=None, plant=plant, kind="dingtalk",
                  url=f"{receiver.base}/dingtalk?access_token=t1", secret=SECRET)
        session.commit()

    travel(SUN_0730)
    sink, port = Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, PUBLIC_BASE_URL="https://6s.example.cn")
        first = app.test_cli_runner().invoke(args=["actions", "notify"])
        second = app.test_cli_runner().invoke(args=["actions", "notify"])
    finally:
        controller.stop()
    assert first.exit_code == 0, first.output
    assert "3 plan reminders; 2 chat robots" in first.output
    assert receiver.refused == []
    [wecom] = receiver.texts("wecom")
    [dingtalk] = receiver.texts("dingtalk")
    for text in (wecom, dingtalk):
        assert "一厂 · 6S 巡检提醒 2026-12-06" in text
        assert "**明天开始（2）**\n- 一号车间：窗口 12-07 – 12-09" in text and "- 二号车间：窗口 12-07 – 12-08" in text
        assert "**已超期，可补检（1）**\n- 二号车间：窗口 11-30 – 12-01，可补检至 12-06" in text
        assert "https://6s.example.cn/occurrences/" in text
    mails = {tuple(to)[0]: message for to, message in sink.messages}
    assert set(mails) == {"sup1@example.cn", "sup2@example.cn", "manager@example.cn"}
    assert "1 项检查提醒" in mails["sup1@example.cn"]["Subject"]
    assert "明天开始" in mails["sup1@example.cn"].get_content() and "二号车间" not in \
        mails["sup1@example.cn"].get_content()
    assert "已超期" in mails["manager@example.cn"].get_content()  # managers hear of the overdue one
    assert "明天开始" not in mails["manager@example.cn"].get_content()
    # the same day again: nothing twice
    assert second.exit_code == 0 and "already delivered today: 3 e-mails, 0 webhooks, 2 chat robots" in second.output
    assert len(receiver.accepted) == 2 and len(sink.messages) == 3


def test_a_robot_that_refuses_fails_the_run_for_a_retry(app, travel, receiver):
    travel(MON_1000)
    api = app.test_client()
    assert api.post("/api/v1/plans", headers=token_headers(app, "manager"), json={
        "workshop": "W1", "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-11-30",
        "window_days": 3}).status_code == 201
    with Session(app.extensions["engine"]) as session:
        plant = session.exec(select(Plant).where(Plant.code == "P1")).one()
        add_robot(session=session, actor=None, plant=plant, kind="dingtalk", url=f"{receiver.base}/dingtalk",
                  secret="SEC-wrong-secret")
        session.commit()
    travel(SUN_0730)
    result = app.test_cli_runner().invoke(args=["actions", "notify"])
    assert result.exit_code == 1 and "dingtalk robot of P1: FAILED" in result.output
    assert receiver.refused == [("dingtalk", "sign")]


def test_an_admin_adds_tests_and_removes_a_robot_on_screen(app, client, auth, receiver):
    auth.login("admin")
    with Session(app.extensions["engine"]) as session:
        plant_id = session.exec(select(Plant.id).where(Plant.code == "P1")).one()
    response = client.post(f"/admin/plants/{plant_id}/robots", data={"kind": "wecom", "url": "qyapi.weixin.qq.com"})
    assert response.status_code == 422
    assert "机器人地址必须以 http:// 或 https:// 开头" in response.get_data(as_text=True)
    response = client.post(f"/admin/plants/{plant_id}/robots", data={
        "kind": "dingtalk", "url": f"{receiver.base}/dingtalk?access_token=t9", "secret": SECRET, "label": "班组群"})
    assert response.status_code == 303
    page = client.get("/admin/sites").get_data(as_text=True)
    assert "班组群" in page and "access_token=t9" not in page  # the token in the address is a credential
    robot_id = int(page.split('data-robot="', 1)[1].split('"', 1)[0])
    page = client.post(f"/admin/robots/{robot_id}/test", follow_redirects=True).get_data(as_text=True)
    assert "测试消息已送达" in page and len(receiver.accepted) == 1
    assert client.post(f"/admin/robots/{robot_id}/delete").status_code == 303
    assert 'data-robot="' not in client.get("/admin/sites").get_data(as_text=True)
    auth.logout()
    auth.login("manager")
    assert client.post(f"/admin/plants/{plant_id}/robots", data={"kind": "wecom", "url": "https://x"}).status_code \
        == 403


def test_a_slow_robot_never_holds_anyone_elses_save(sqlite_app, tmp_path):
    """#35: the robot test posts with no transaction open, so a supervisor's save goes through while the robot's
    receiver is still thinking (it held SQLite's writers' lock for the receiver's ten seconds)."""
    import http.server
    import threading

    from tests.conftest import AuthActions
    from tests.helpers import start

    got, release, waited_out = threading.Event(), threading.Event(), []

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server name
            self.rfile.read(int(self.headers["Content-Length"]))
            got.set()
            waited_out.append(not release.wait(8))  # released by the test (the save came through), or not
            body = b'{"errcode": 0, "errmsg": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app = sqlite_app
    admin = app.test_client()
    AuthActions(admin).login("admin")
    with Session(app.extensions["engine"]) as session:
        plant_id = session.exec(select(Plant.id).where(Plant.code == "P1")).one()
    assert admin.post(f"/admin/plants/{plant_id}/robots", data={
        "kind": "wecom", "url": f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=k"}
    ).status_code == 303
    robot_id = int(admin.get("/admin/sites").get_data(as_text=True).split('data-robot="', 1)[1].split('"', 1)[0])
    supervisor = app.test_client()
    AuthActions(supervisor).login("sup1")
    draft = start(supervisor)
    answers = {}
    testing = threading.Thread(target=lambda: answers.setdefault("robot", admin.post(f"/admin/robots/{robot_id}/test")))
    testing.start()
    try:
        assert got.wait(10), "the robot never heard of the test"
        saved = supervisor.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "3"},
                                headers={"HX-Request": "true"})
        assert saved.status_code == 200  # while the robot is still answering
    finally:
        release.set()
        testing.join(20)
        server.shutdown()
        server.server_close()
    assert answers["robot"].status_code == 303
    assert waited_out == [False]  # the save did not wait for the robot
