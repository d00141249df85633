"""Findings → corrective actions → verified closure: every move and every refusal."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from accounts.models import User
from actions.models import ActionEvent, CorrectiveAction, Finding
from actions.service import due_days
from audit.models import AuditEvent
from tests.helpers import answer_all_in_one_go, plant_today, published_items, start, submit
from tests.test_photos import jpeg_bytes

LOW = (0, 5, 40)  # the indexes of the items scored 1 (a finding) in these tests


def found(app, client, auth) -> int:
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id, scores={  # the actions are the subject: the answers in one go
        item.key: 1 if i in LOW else 3 for i, item in enumerate(published_items(app))})
    assert submit(client, inspection_id).status_code == 303
    auth.logout()
    return inspection_id


def actions(app) -> list[CorrectiveAction]:
    with Session(app.extensions["engine"]) as session:
        rows = session.exec(select(CorrectiveAction).order_by(CorrectiveAction.id)).all()
        for row in rows:
            _ = row.finding.item_key
        return rows


def uid(app, username) -> int:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(User).where(User.username == username)).one().id


def test_due_days_come_from_the_version_or_the_defaults():
    assert due_days(None) == {"critical": 1, "normal": 7}
    assert due_days({"action_due_days": {"critical": 2, "normal": 14}}) == {"critical": 2, "normal": 14}
    assert due_days({"action_due_days": {"critical": "soon", "normal": -3}}) == {"critical": 1, "normal": 7}


def test_every_finding_becomes_an_open_action_due_by_severity(app, client, auth):
    inspection_id = found(app, client, auth)
    items = published_items(app)
    rows = actions(app)
    assert [a.finding.item_key for a in rows] == [items[i].key for i in LOW]
    auth.login("sup1")
    result = client.get(f"/inspections/{inspection_id}").text  # each finding links to its action
    assert all(f'data-action-link="{a.id}"' in result for a in rows) and result.count("待整改") >= len(LOW)
    auth.logout()
    with Session(app.extensions["engine"]) as session:
        for action in rows:
            finding = session.get(Finding, action.finding_id)
            assert finding.inspection_id == inspection_id and finding.score == 1
            days = 1 if finding.severity == "critical" else 7
            assert action.status == "open" and action.owner_id is None
            assert (action.due_on - finding.inspection.submitted_at.date()).days in (days, days + 1)  # local day


def test_the_whole_loop_with_every_refusal(app, client, auth, tmp_path):
    found(app, client, auth)
    action = actions(app)[0]
    url = f"/actions/{action.id}"
    today = plant_today()
    assign = {"owner_id": uid(app, "sup1"), "due_on": (today + timedelta(days=3)).isoformat(), "priority": "high",
              "action_text": "清理工作台并贴定置标识"}

    auth.login("auditor")  # reads W1, may not assign
    assert client.get(url).status_code == 200
    assert client.post(f"{url}/assign", data=assign).status_code == 403
    auth.logout()

    auth.login("sup1")
    outside = client.post(f"{url}/assign", data={**assign, "owner_id": uid(app, "sup2")})
    assert outside.status_code == 422 and "责任人必须是负责该车间的在职人员" in outside.text
    auditor_owner = client.post(f"{url}/assign", data={**assign, "owner_id": uid(app, "auditor")})
    assert auditor_owner.status_code == 422
    assert client.post(f"{url}/assign", data=assign).status_code == 303
    assert client.post(f"{url}/start").status_code == 303
    no_photo = client.post(f"{url}/done", data={"comment": "已清理"})
    assert no_photo.status_code == 422 and "请上传整改后的照片" in no_photo.text
    bad_photo = client.post(f"{url}/done", data={"comment": "已清理", "photo": (io.BytesIO(b"%PDF-1.4"), "a.jpg")})
    assert bad_photo.status_code == 422 and "无法读取这张照片" in bad_photo.text
    done = client.post(f"{url}/done", data={"comment": "已清理", "photo": (io.BytesIO(jpeg_bytes(800, 600)), "a.jpg")})
    assert done.status_code == 303
    assert client.post(f"{url}/verify").status_code == 403  # the owner does not verify their own work
    with client.get(f"{url}/after.jpg") as photo:
        assert photo.mimetype == "image/jpeg" and b"SecretCam" not in photo.data
    auth.logout()

    auth.login("sup2")  # another workshop: nothing to see
    assert client.get(url).status_code == 404 and client.post(f"{url}/verify").status_code == 404
    auth.logout()

    auth.login("manager")
    back = client.post(f"{url}/return", data={"comment": ""})
    assert back.status_code == 422 and "退回时请写明" in back.text
    assert client.post(f"{url}/return", data={"comment": "标识未贴"}).status_code == 303
    auth.logout()
    auth.login("sup1")
    assert client.post(f"{url}/done", data={"photo": (io.BytesIO(jpeg_bytes(640, 480, colour=(0, 90, 0))), "b.jpg")}
                       ).status_code == 303
    auth.logout()
    auth.login("manager")
    assert client.post(f"{url}/verify", data={"comment": "现场确认"}).status_code == 303
    assert client.post(f"{url}/verify").status_code == 409  # closed
    page = client.get(url).text
    assert "已关闭" in page and "标识未贴" in page and "现场确认" in page
    with Session(app.extensions["engine"]) as session:
        moves = [e.to_status for e in session.exec(select(ActionEvent).order_by(ActionEvent.id))]
        assert moves == ["in_progress", "done", "returned", "done", "verified"]
        audited = session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "corrective_action")
                               .order_by(AuditEvent.id)).all()
        assert audited == ["action.assign", "action.in_progress", "action.done", "action.returned", "action.done",
                           "action.verified"]


def test_a_done_form_sent_again_is_one_move_and_a_foreign_key_is_refused(app, client, auth):
    """The tablet's outbox resends a queued "done" (lost response, double tap): the same key is the same move, not
    a 409 "already done" that would tell the owner their fix was refused."""
    found(app, client, auth)
    first, second = actions(app)[:2]
    auth.login("sup1")
    for action in (first, second):
        assert client.post(f"/actions/{action.id}/assign", data={
            "owner_id": uid(app, "sup1"), "due_on": plant_today().isoformat(), "priority": "high"}).status_code == 303
    page = client.get(f"/actions/{first.id}").text
    key = page.split('name="client_key" value="', 1)[1].split('"', 1)[0]
    assert len(key) >= 16 and 'data-offline-queued="网络不通：%s 已暂存在本机' in page
    assert key not in client.get(f"/actions/{first.id}").text  # every page shown gets its own key

    def send(action_id, form_key, header=True, **extra):
        headers = {"X-Change-Key": form_key} if header else {}
        return client.post(f"/actions/{action_id}/done", headers=headers, data={
            "comment": "已清理", "client_key": form_key, "photo": (io.BytesIO(jpeg_bytes(640, 480)), "a.jpg"), **extra})

    sent = send(first.id, key)
    assert sent.status_code == 201 and sent.headers["Location"] == f"/actions/{first.id}"
    again = send(first.id, key)
    assert again.status_code == 201 and again.headers["Location"] == f"/actions/{first.id}"
    assert "已保存" in client.get(f"/actions/{first.id}").text  # the message waited for the page
    plain_again = send(first.id, key, header=False)
    assert plain_again.status_code == 303  # a plain form sent twice (no JavaScript) lands on the action too
    elsewhere = send(second.id, key)
    assert elsewhere.status_code == 409 and "表单已失效" in elsewhere.text and "data-error" in elsewhere.text
    bad = send(second.id, "not a key!")
    assert bad.status_code == 422 and "表单已失效，请重新打开这项整改" in bad.text
    other_key = "k" * 24
    assert send(first.id, other_key).status_code == 409  # a new form for an action already done: refused, said why
    auth.logout()
    auth.login("manager")  # the key is sup1's: the manager's resend of it is not theirs to reuse
    assert send(first.id, key).status_code == 409
    with Session(app.extensions["engine"]) as session:
        moves = session.exec(select(ActionEvent).where(ActionEvent.action_id == first.id)).all()
        assert [(m.to_status, m.client_key) for m in moves] == [("done", key)]
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "action.done")).all()) == 1


def test_the_next_inspector_may_verify_but_an_earlier_one_may_not(app, client, auth):
    found(app, client, auth)
    action = actions(app)[0]
    url = f"/actions/{action.id}"
    auth.login("manager")
    client.post(f"{url}/assign", data={"owner_id": uid(app, "manager"), "due_on": plant_today().isoformat(),
                                       "priority": "medium"})
    client.post(f"{url}/done", data={"photo": (io.BytesIO(jpeg_bytes(640, 480)), "a.jpg")})
    auth.logout()
    auth.login("sup1")
    assert client.post(f"{url}/verify").status_code == 403  # sup1 found it, has not inspected since
    next_one = start(client)
    page = client.get(f"/inspections/{next_one}").text
    assert f'/actions/{action.id}/verify' in page  # shown on the floor, by the item
    response = client.post(f"{url}/verify", data={"inspection_id": next_one, "next": f"/inspections/{next_one}"})
    assert response.status_code == 303 and response.location.endswith(f"/inspections/{next_one}")
    with Session(app.extensions["engine"]) as session:
        event = session.exec(select(ActionEvent).where(ActionEvent.to_status == "verified")).one()
        assert event.inspection_id == next_one


@pytest.mark.clock
def test_lists_and_the_home_count(app, client, auth, clock_at):
    found(app, client, auth)
    with Session(app.extensions["engine"]) as session:
        for action in session.exec(select(CorrectiveAction)):
            action.owner_id = session.exec(select(User).where(User.username == "sup1")).one().id
            action.due_on = plant_today() - timedelta(days=2)
        session.commit()
    auth.login("sup1")
    overdue = client.get("/workshops/W1/actions?status=overdue").text
    assert overdue.count("data-action-id=") == 3 and "逾期 2 天" in overdue
    assert client.get("/plants/P1/actions").text.count("data-action-id=") == 3
    assert "逾期 3" in client.get("/").text.replace("\n", "")
    auth.logout()
    auth.login("sup2")
    assert client.get("/workshops/W1/actions").status_code == 404
    assert client.get("/plants/P1/actions?status=all").text.count("data-action-id=") == 0


@pytest.mark.clock
def test_a_manager_of_two_plants_sees_each_plants_own_counts_at_home(app, client, auth, clock_at):
    found(app, client, auth)  # three actions in W1 (plant P1); none in P2
    with Session(app.extensions["engine"]) as session:
        rows = session.exec(select(CorrectiveAction).order_by(CorrectiveAction.id)).all()
        for action in rows[:2]:
            action.due_on = plant_today() - timedelta(days=1)
        rows[2].status = "done"
        session.commit()
    auth.login("manager")
    home = client.get("/").text
    overdue = re.findall(r'data-count="overdue" data-plant="(\w+)">([^<]+)<', home)
    waiting = re.findall(r'data-count="to-verify" data-plant="(\w+)">([^<]+)<', home)
    assert overdue == [("P1", "一厂 · 逾期 2")] and waiting == [("P1", "一厂 · 待核实 1")]  # nothing for 二厂


def test_api_and_export_list_the_actions_in_scope(app, client, auth):
    from tests.helpers import token_headers

    found(app, client, auth)
    headers = token_headers(app, "sup1")
    body = client.get("/api/v1/actions?workshop=W1&status=all", headers=headers).get_json()
    items = published_items(app)
    assert [a["item"] for a in body["actions"]] == [items[i].key for i in LOW]
    assert {a["status"] for a in body["actions"]} == {"open"} and body["actions"][0]["owner"] is None
    assert client.get("/api/v1/actions?status=nonsense", headers=headers).status_code == 422
    other = token_headers(app, "sup2")
    assert client.get("/api/v1/actions?workshop=W1", headers=other).status_code == 404
    assert client.get("/api/v1/actions?status=all", headers=other).get_json()["actions"] == []
    auth.login("sup1")
    csv = client.get("/exports/actions.csv?workshop=W1").text.splitlines()
    assert csv[0].lstrip("\ufeff").startswith("整改编号,工厂,车间代码") and len(csv) == 1 + len(LOW)
    assert "待整改" in csv[1] and items[LOW[0]].key in csv[1]
    with client.get("/exports/actions.xlsx?workshop=W1") as xlsx:
        assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_the_inspection_pdf_shows_each_findings_action_with_before_and_after(app, client, auth, tmp_path):
    import subprocess

    inspection_id = found(app, client, auth)
    action = actions(app)[0]
    auth.login("sup1")
    first = client.get(f"/inspections/{inspection_id}/report.pdf")
    client.post(f"/actions/{action.id}/assign", data={"owner_id": uid(app, "sup1"), "priority": "high",
                                                      "due_on": plant_today().isoformat(), "action_text": "清理台面"})
    client.post(f"/actions/{action.id}/done", data={"photo": (io.BytesIO(jpeg_bytes(900, 600, colour=(0, 120, 0))),
                                                              "after.jpg")})
    second = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert second.headers["X-Report-Document"] == f"6S-{inspection_id}-2"  # the record moved on: a new document
    path = tmp_path / "r.pdf"
    path.write_bytes(second.data)
    artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"report-with-actions-{app.extensions['engine'].dialect.name}.pdf").write_bytes(second.data)
    text = "".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert "整改：待核实·责任人sup1" in text and "清理台面" in text and "整改后" in text and "整改进展" in text
    assert "整改：待整改·责任人未指派" in text  # the other findings, not yet assigned
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    old = tmp_path / "old.pdf"
    old.write_bytes(first.data)
    old_images = subprocess.run(["pdfimages", "-list", str(old)], capture_output=True, text=True, check=True).stdout
    assert len(images.splitlines()) == len(old_images.splitlines()) + 1  # the after-photo


def test_workshop_page_and_plant_dashboard_show_the_action_figures(app, client, auth):
    found(app, client, auth)
    with Session(app.extensions["engine"]) as session:
        rows = session.exec(select(CorrectiveAction).order_by(CorrectiveAction.id)).all()
        rows[0].due_on = plant_today() - timedelta(days=1)
        session.commit()
    auth.login("manager")
    page = client.get("/workshops/W1").text
    assert 'data-open>3<' in page and 'data-overdue>1<' in page and 'data-closed>0<' in page
    dashboard = client.get("/plants/P1").text
    assert 'data-open>3<' in dashboard and 'href="/plants/P1/actions?status=overdue"' in dashboard


@pytest.mark.clock
def test_the_workshop_report_counts_actions_opened_and_closed_in_the_period(app, client, auth, tmp_path, clock_at):
    import subprocess

    found(app, client, auth)
    action = actions(app)[0]
    auth.login("manager")
    client.post(f"/actions/{action.id}/assign", data={"owner_id": uid(app, "manager"), "priority": "low",
                                                      "due_on": plant_today().isoformat()})
    client.post(f"/actions/{action.id}/done", data={"photo": (io.BytesIO(jpeg_bytes(640, 480)), "a.jpg")})
    assert client.post(f"/actions/{action.id}/verify").status_code == 303
    today = plant_today()
    pdf = client.get(f"/workshops/W1/report.pdf?from={(today - timedelta(days=30)).isoformat()}"
                     f"&to={today.isoformat()}")
    path = tmp_path / "w.pdf"
    path.write_bytes(pdf.data)
    text = "".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert "整改措施：本期发现3项，本期核实关闭1项" in text and "已关闭" in text and "待整改" in text


def test_a_correction_down_to_a_finding_opens_an_action_and_up_keeps_the_old_one(app, client, auth):
    inspection_id = found(app, client, auth)
    items = published_items(app)
    auth.login("manager")
    down = client.post(f"/inspections/{inspection_id}/items/{items[1].key}/correct",
                       data={"score": "0", "reason": "复查发现油污未处理"})
    up = client.post(f"/inspections/{inspection_id}/items/{items[0].key}/correct",
                     data={"score": "4", "reason": "误选，已确认合格"})
    assert down.status_code == up.status_code == 303
    keys = [a.finding.item_key for a in actions(app)]
    assert keys == [items[i].key for i in LOW] + [items[1].key]  # one more; the corrected-up one stays


def test_a_list_loads_its_details_in_a_few_queries_not_per_row(app, client, auth):
    from sqlalchemy import event

    engine = app.extensions["engine"]

    def statements_for_the_list() -> int:
        auth.login("manager")
        seen = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            client.get("/workshops/W1/actions?status=all")
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        auth.logout()
        return len(seen)

    def assign_owners():
        with Session(engine) as session:
            owners = [session.exec(select(User).where(User.username == name)).one().id for name in ("sup1", "manager")]
            for n, action in enumerate(session.exec(select(CorrectiveAction))):
                action.owner_id = owners[n % 2]
            session.commit()

    found(app, client, auth)
    assign_owners()
    few = statements_for_the_list()  # 3 actions
    for _ in range(3):
        found(app, client, auth)
    assign_owners()
    assert statements_for_the_list() == few  # 12 actions: the same queries whatever the number of rows


def test_the_forms_batch_check_agrees_with_may_verify_for_everyone(app, client, auth):
    """verifiable_keys (one query for the whole form) must say exactly what may_verify says per action."""
    from actions.service import may_verify, open_actions_for_items, verifiable_keys
    from inspections.models import Inspection

    found(app, client, auth)
    rows = actions(app)
    auth.login("manager")
    client.post(f"/actions/{rows[0].id}/assign", data={"owner_id": uid(app, "sup1"),
                                                       "due_on": plant_today().isoformat(), "priority": "medium"})
    auth.logout()
    auth.login("sup1")
    before_next = {}
    next_one = start(client)  # sup1 is now the next inspector: may verify the others, not their own
    auth.logout()
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, next_one)
        open_ = open_actions_for_items(session=session, workshop_id=inspection.workshop_id, before=inspection)
        assert len(open_) == len(LOW)
        for username in ("sup1", "sup2", "manager", "auditor", "admin"):
            user = session.exec(select(User).where(User.username == username)).one()
            expected = {k for k, a in open_.items() if may_verify(session=session, user=user, action=a)}
            got = verifiable_keys(session=session, user=user, workshop_id=inspection.workshop_id, actions=open_)
            assert got == expected, username
            before_next[username] = got
    owned = next(k for k, a in open_.items() if a.id == rows[0].id)
    assert owned not in before_next["sup1"] and len(before_next["sup1"]) == len(LOW) - 1
    assert before_next["sup2"] == set() and len(before_next["manager"]) == len(LOW)
