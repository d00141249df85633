"""A group with plants in two zones: P1 stays on Asia/Shanghai, the administrator moves P2 to Europe/Budapest.
Every day then is the plant's own: inspection dates, due dates and "overdue", red-tag holding periods, report
periods and months, the daily run, auditor expiry, file names; times are shown on the plant's wall clock with the
offset where it is not +08:00 (SQLite and PostgreSQL, at instants chosen to break naive code)."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from accounts.models import Plant, User
from actions.models import CorrectiveAction
from audit.models import AuditEvent
from inspections.models import Inspection
from tests.helpers import answer_all_in_one_go, published_items, start, submit, token_headers

pytestmark = pytest.mark.clock

LATE_EVENING = datetime(2026, 12, 2, 16, 30, tzinfo=UTC)  # Shanghai 12-03 00:30, Budapest 12-02 17:30


def set_zone(client, app, plant_code: str, name: str):
    with Session(app.extensions["engine"]) as session:
        plant_id = session.exec(select(Plant).where(Plant.code == plant_code)).one().id
    return client.post(f"/admin/plants/{plant_id}/timezone", data={"timezone": name})


@pytest.fixture
def budapest(app, client, auth):
    """P2 (workshop W3) on Europe/Budapest, set on the admin screen."""
    auth.login("admin")
    assert set_zone(client, app, "P2", "Europe/Budapest").status_code == 303
    auth.logout()


def inspect(app, client, workshop: str, low=(0,)) -> int:
    inspection_id = start(client, workshop)
    answer_all_in_one_go(app, inspection_id, scores={  # these tests are about the dates of what follows
        item.key: 1 if i in low else 3 for i, item in enumerate(published_items(app))})
    assert submit(client, inspection_id).status_code == 303
    return inspection_id


def test_the_admin_sets_a_plants_zone_and_a_wrong_one_is_refused_by_name(app, client, auth):
    auth.login("admin")
    page = client.get("/admin/sites").text
    assert 'data-timezone="P1"' in page and 'value="Asia/Shanghai"' in page
    assert '<option value="Europe/Budapest">' in page
    refused = set_zone(client, app, "P2", "Europe/Budapset")
    assert refused.status_code == 422 and "未知的时区「Europe/Budapset」" in refused.text
    assert 'value="Europe/Budapset"' in refused.text  # what was typed stays, to be corrected
    english = client.post(refused.request.path + "?lang=en", data={"timezone": "Mars/Olympus"})
    assert english.status_code == 422 and "Unknown time zone “Mars/Olympus”" in english.text
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Plant.timezone).where(Plant.code == "P2")).one() == "Asia/Shanghai"
    assert set_zone(client, app, "P2", " Europe/Budapest ").status_code == 303
    page = client.get("/admin/sites").text
    assert 'data-timezone="P2"' in page and 'value="Europe/Budapest"' in page
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Plant.timezone).where(Plant.code == "P2")).one() == "Europe/Budapest"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "plant.timezone")).one()
        assert json.loads(event.old_value) == {"timezone": "Asia/Shanghai"}
        assert json.loads(event.new_value) == {"timezone": "Europe/Budapest"}
    auth.logout()
    auth.login("manager")
    assert set_zone(client, app, "P1", "UTC").status_code == 403


def test_dates_due_dates_and_overdue_are_each_plants_own(app, client, auth, budapest, travel):
    travel(LATE_EVENING)
    auth.login("manager")
    in_shanghai, in_budapest = inspect(app, client, "W1"), inspect(app, client, "W3")
    headers = token_headers(app, "manager")
    trend = {code: client.get(f"/api/v1/workshops/{code}/trend", headers=headers).json for code in ("W1", "W3")}
    assert [(p["id"], p["date"]) for p in trend["W1"]["inspections"]] == [(in_shanghai, "2026-12-03")]
    assert [(p["id"], p["date"]) for p in trend["W3"]["inspections"]] == [(in_budapest, "2026-12-02")]
    assert trend["W3"]["timezone"] == "Europe/Budapest"
    with Session(app.extensions["engine"]) as session:
        due = {a.workshop_id: a.due_on for a in session.exec(select(CorrectiveAction))}
        workshop_of = {i.id: i.workshop_id for i in session.exec(select(Inspection))}
    # item 0 is no critical item: 7 days from the day at the plant
    assert due[workshop_of[in_shanghai]] == date(2026, 12, 10)
    assert due[workshop_of[in_budapest]] == date(2026, 12, 9)

    # both due "yesterday in Shanghai": overdue there, not yet in Budapest, where it is still the 2nd
    with Session(app.extensions["engine"]) as session:
        for action in session.exec(select(CorrectiveAction)):
            action.due_on = date(2026, 12, 2)
        session.commit()
    overdue = client.get("/api/v1/actions?status=overdue", headers=headers).json["actions"]
    assert [a["workshop"] for a in overdue] == ["W1"]
    listed = {a["workshop"]: a["overdue"] for a in client.get("/api/v1/actions", headers=headers).json["actions"]}
    assert listed == {"W1": True, "W3": False}
    assert "逾期 1 天" in client.get("/workshops/W1/actions?status=overdue").text
    assert "逾期 1 天" not in client.get("/workshops/W3/actions?status=open").text

    travel(datetime(2026, 12, 2, 23, 30, tzinfo=UTC))  # now the 3rd in Budapest too
    overdue = client.get("/api/v1/actions?status=overdue", headers=headers).json["actions"]
    assert sorted(a["workshop"] for a in overdue) == ["W1", "W3"]


def test_times_are_shown_on_the_plants_clock_with_its_offset_across_the_dst_change(app, client, auth, budapest,
                                                                                    travel):
    travel(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # 01:30 CET, the night the clocks go forward
    auth.login("manager")
    before = inspect(app, client, "W3")
    travel(datetime(2026, 3, 29, 22, 30, tzinfo=UTC))  # 00:30 CEST on the 30th
    after = inspect(app, client, "W3")
    shown = {i: client.get(f"/inspections/{i}").text for i in (before, after)}
    assert "2026-03-29 01:30 (+01:00)" in shown[before]
    assert "2026-03-30 00:30 (+02:00)" in shown[after]
    headers = token_headers(app, "manager")
    one_day = client.get("/api/v1/workshops/W3/trend?from=2026-03-29&to=2026-03-29", headers=headers).json
    assert [p["id"] for p in one_day["inspections"]] == [before]
    next_day = client.get("/api/v1/workshops/W3/trend?from=2026-03-30&to=2026-03-30", headers=headers).json
    assert [p["id"] for p in next_day["inspections"]] == [after]
    csv_rows = client.get("/exports/inspections.csv?workshop=W3&from=2026-03-29&to=2026-03-29").text.splitlines()
    assert len(csv_rows) == 2 and "提交时间（Europe/Budapest）" in csv_rows[0]
    # begun at 01:30 CET (the seconds are those the test took to get there: the clock ticks on)
    assert re.search(r",2026-03-29 01:30:\d\d,", csv_rows[1]), csv_rows[1]
    # a Shanghai plant's page keeps showing times without an offset
    travel(datetime(2026, 3, 30, 2, 0, tzinfo=UTC))
    in_shanghai = inspect(app, client, "W1")
    assert "2026-03-30 10:00" in client.get(f"/inspections/{in_shanghai}").text
    assert "(+08:00)" not in client.get(f"/inspections/{in_shanghai}").text
    # the home screen lists several plants: each draft on its own plant's clock
    start(client, "W3")
    assert "开始于 2026-03-30 04:00 (+02:00)" in client.get("/").text


def test_months_of_the_ranking_and_report_periods_are_the_plants(app, client, auth, budapest, travel):
    travel(datetime(2026, 11, 30, 22, 30, tzinfo=UTC))  # Shanghai: Dec 1 06:30; Budapest: Nov 30 23:30
    auth.login("manager")
    w1, w3 = inspect(app, client, "W1"), inspect(app, client, "W3")
    headers = token_headers(app, "manager")

    def league(plant, month):
        body = client.get(f"/api/v1/plants/{plant}/league?month={month}", headers=headers).json
        return {w["code"]: w["inspections"] for w in body["workshops"]}

    assert league("P1", "2026-12")["W1"] == 1 and league("P1", "2026-11")["W1"] == 0
    assert league("P2", "2026-11")["W3"] == 1 and league("P2", "2026-12")["W3"] == 0
    # the default month is the plant's current one
    assert client.get("/api/v1/plants/P1/league", headers=headers).json["month"] == "2026-12"
    assert client.get("/api/v1/plants/P2/league", headers=headers).json["month"] == "2026-11"
    # the group dashboard takes each plant's month: W3 in Budapest's November, W1 in Shanghai's December
    assert "2 个工厂 · 1 次检查" in client.get("/plants?month=2026-11").text
    assert "2 个工厂 · 1 次检查" in client.get("/plants?month=2026-12").text
    # the period of a workshop report is days at the plant
    workshop_page = client.get("/workshops/W3?from=2026-11-30&to=2026-11-30").text
    assert f"/inspections/{w3}" in workshop_page
    assert f"/inspections/{w1}" not in client.get("/workshops/W1?from=2026-11-30&to=2026-11-30").text
    assert f"/inspections/{w1}" in client.get("/workshops/W1?from=2026-12-01&to=2026-12-01").text


def test_red_tags_hold_and_escalate_by_the_plants_days(app, client, auth, budapest, travel, tmp_path):
    from tests.test_red_tags import raise_one

    travel(LATE_EVENING)
    auth.login("manager")
    shanghai_tag, budapest_tag = raise_one(client, "W1", holding_days="3"), raise_one(client, "W3", holding_days="3")
    headers = token_headers(app, "manager")
    tags = {t["workshop"]: t for t in client.get("/api/v1/red-tags", headers=headers).json["red_tags"]}
    assert (tags["W1"]["tagged_on"], tags["W1"]["hold_until"]) == ("2026-12-03", "2026-12-06")
    assert (tags["W3"]["tagged_on"], tags["W3"]["hold_until"]) == ("2026-12-02", "2026-12-05")
    assert shanghai_tag and budapest_tag
    # 2026-12-05 17:00 UTC: the 6th in Shanghai (W1's last day), past the 5th in Budapest? not yet (18:00 there)
    travel(datetime(2026, 12, 5, 17, 0, tzinfo=UTC))
    run = app.test_cli_runner().invoke(args=["actions", "notify", "--dry-run"])
    assert "0 red tags would escalate" in run.output
    travel(datetime(2026, 12, 5, 23, 30, tzinfo=UTC))  # the 6th in Budapest: W3's tag is past its period
    run = app.test_cli_runner().invoke(args=["actions", "notify"])
    assert "1 red tags escalated" in run.output, run.output
    with Session(app.extensions["engine"]) as session:
        escalated = session.exec(select(CorrectiveAction).where(CorrectiveAction.red_tag_id.is_not(None))).all()
        assert [a.due_on for a in escalated] == [date(2026, 12, 6) + timedelta(days=3)]
    travel(datetime(2026, 12, 6, 16, 30, tzinfo=UTC))  # the 7th in Shanghai
    run = app.test_cli_runner().invoke(args=["actions", "notify"])
    assert "1 red tags escalated" in run.output


def test_the_plant_webhook_carries_the_plants_own_date(app, client, auth, budapest, travel):
    import threading
    from http.server import HTTPServer

    from tests.test_action_notify import Receiver

    travel(LATE_EVENING)
    auth.login("manager")
    inspect(app, client, "W1")
    inspect(app, client, "W3")
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.replies, Receiver.got = [], []
    try:
        with Session(app.extensions["engine"]) as session:
            for plant in session.exec(select(Plant)):
                plant.webhook_url = f"http://127.0.0.1:{server.server_port}/{plant.code}"
                plant.webhook_secret = "s3cret-shared-with-the-relay"
            for action in session.exec(select(CorrectiveAction)):
                action.due_on = date(2026, 12, 1)
            session.commit()
        run = app.test_cli_runner().invoke(args=["actions", "notify"])
    finally:
        server.shutdown()
        server.server_close()
    assert run.exit_code == 0, run.output
    payloads = {p["plant"]: p for p in (json.loads(body) for _headers, body in Receiver.got)}
    assert (payloads["P1"]["date"], payloads["P1"]["timezone"]) == ("2026-12-03", "Asia/Shanghai")
    assert (payloads["P2"]["date"], payloads["P2"]["timezone"]) == ("2026-12-02", "Europe/Budapest")


def test_an_auditors_last_day_ends_at_midnight_at_their_plants(app, client, auth, budapest, travel):
    from tests.seed import PASSWORD

    with Session(app.extensions["engine"]) as session:
        auditor = session.exec(select(User).where(User.username == "auditor")).one()  # W1 (Shanghai) and W3
        auditor.access_expires_on = date(2026, 12, 2)
        session.commit()
    travel(datetime(2026, 12, 2, 15, 50, tzinfo=UTC))  # 23:50 in Shanghai: still the last day
    auth.login("auditor")
    assert client.get("/workshops/W1").status_code == 200
    travel(datetime(2026, 12, 2, 16, 10, tzinfo=UTC))  # the 3rd in Shanghai: over, although Budapest is on the 2nd
    assert client.get("/workshops/W1").status_code == 302  # the session no longer counts: to the login
    refused = client.post("/login", data={"username": "auditor", "password": PASSWORD})
    assert refused.status_code == 422 and "2026-12-02 到期" in refused.text
    # an auditor of the Budapest plant alone keeps the evening there
    auth.login("admin")
    with Session(app.extensions["engine"]) as session:
        auditor_id = session.exec(select(User).where(User.username == "auditor")).one().id
    assert client.post(f"/admin/users/{auditor_id}", data={
        "display_name": "审核员", "role": "auditor", "workshop": ["W3"], "active": "on",
        "access_expires_on": "2026-12-02"}).status_code == 303
    assert 'class="status status-retired"' not in client.get("/admin/users").text.split("auditor", 1)[1][:400]
    auth.logout()
    auth.login("auditor")
    assert client.get("/workshops/W3").status_code == 200


def test_file_names_carry_the_plants_date(app, client, auth, travel):
    travel(LATE_EVENING)
    auth.login("manager")
    inspection_id = inspect(app, client, "W1")
    pdf = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Disposition"].endswith('-W1-20261203.pdf"')
    export = client.get("/exports/inspections.csv?workshop=W1")
    assert "6S-inspections-20261203-0030" in export.headers["Content-Disposition"]
    auth.logout()
    auth.login("admin")
    assert "6S-audit-2026-12-03.csv" in client.get("/admin/audit.csv").headers["Content-Disposition"]


def test_reports_issued_by_the_task_consumer_print_the_plants_clock(app, client, auth, travel, tmp_path):
    """A New York plant: the consumer (no request, no page that named the plant) renders its stored report on New
    York's clock with the offset, as the screen shows it — never Shanghai's (#34)."""
    import subprocess

    import tasks
    from actions.models import CorrectiveAction

    auth.login("admin")
    assert set_zone(client, app, "P2", "America/New_York").status_code == 303
    auth.logout()
    travel(datetime(2026, 12, 6, 23, 35, 5, tzinfo=UTC))  # New York 12-06 18:35 (-05:00); Shanghai 12-07 07:35
    auth.login("manager")
    inspection_id = inspect(app, client, "W3")
    assert "2026-12-06 18:35 (-05:00)" in client.get(f"/inspections/{inspection_id}").text
    assert tasks.drain(app) >= 1  # what the consumer does
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert response.headers["X-Report-Document"] == f"6S-{inspection_id}-1"  # the stored one, not a re-render
    path = tmp_path / "report.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "2026-12-06 18:35 (-05:00)" in text  # inspected, issued, signed
    assert text.count("(-05:00)") >= 3
    assert "2026-12-07 07:35" not in text and "2026-12-07" not in text
    with Session(app.extensions["engine"]) as session:
        due = {a.due_on for a in session.exec(select(CorrectiveAction))}
    assert due == {date(2026, 12, 13)}  # the plant's day + 7, printed as such
    assert "2026-12-13" in text
