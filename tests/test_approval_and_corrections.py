"""After submit: the manager's approval (a signature that needs the password) and corrections (manager only,
with a reason, rescored, visible on screen and in the next PDF)."""

import json
import subprocess

from sqlmodel import Session, select

from audit.models import AuditEvent
from inspections.models import Answer, AnswerChange, Correction, Inspection, ReportDocument, Signature
from tests.helpers import answer_all_in_one_go, drawn_signature, published_items, scores_by, start, submit
from tests.seed import PASSWORD


def submitted_by_sup1(app, client, auth) -> int:
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id, scores=scores_by(published_items(app), lambda i, item: 1 if i == 0 else 3))
    assert submit(client, inspection_id).status_code == 303
    auth.logout()
    return inspection_id


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return "".join(text.split())


# ---- approval ----

def test_a_manager_approves_with_the_password_and_the_report_gets_a_new_document(app, client, auth, tmp_path):
    inspection_id = submitted_by_sup1(app, client, auth)
    auth.login("manager")
    first = client.get(f"/inspections/{inspection_id}/report.pdf")
    page = client.get(f"/inspections/{inspection_id}").text
    assert "质量经理批准" in page and f'action="/inspections/{inspection_id}/approve"' in page

    wrong = client.post(f"/inspections/{inspection_id}/approve",
                        data={"manager_signature": drawn_signature(), "password": "not-the-password"})
    assert wrong.status_code == 422 and "密码不正确，签名未保存" in wrong.text
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Signature).where(Signature.role == "manager")).all() == []

    right = client.post(f"/inspections/{inspection_id}/approve",
                        data={"manager_signature": drawn_signature(), "password": PASSWORD})
    assert right.status_code == 303
    with Session(app.extensions["engine"]) as session:
        approval = session.exec(select(Signature).where(Signature.role == "manager")).one()
        assert approval.signer_name == "manager" and approval.password_confirmed and approval.image_png
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "inspection.sign")
                             .order_by(AuditEvent.id.desc())).first()
        assert json.loads(event.new_value)["meaning"] == "approved" and event.actor_name == "manager"
    page = client.get(f"/inspections/{inspection_id}").text
    assert "质量经理 · 已批准" in page and "已验证密码" in page and 'data-action="approve"' not in page
    second = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert second.headers["X-Report-Document"] == f"6S-{inspection_id}-2" and second.data != first.data
    assert "质量经理（批准）manager" in pdf_text(second.data, tmp_path)
    again = client.post(f"/inspections/{inspection_id}/approve",
                        data={"manager_signature": drawn_signature(), "password": PASSWORD})
    assert again.status_code == 409  # approved once


def test_only_another_manager_approves(app, client, auth):
    inspection_id = submitted_by_sup1(app, client, auth)
    for username in ("sup1", "auditor"):
        auth.login(username)
        assert 'data-action="approve"' not in client.get(f"/inspections/{inspection_id}").text
        response = client.post(f"/inspections/{inspection_id}/approve",
                               data={"manager_signature": drawn_signature(), "password": PASSWORD})
        assert response.status_code == 403
        auth.logout()
    auth.login("manager")  # a manager's own inspection needs someone else's approval
    own = start(client)
    answer_all_in_one_go(app, own)
    assert submit(client, own).status_code == 303
    response = client.post(f"/inspections/{own}/approve",
                           data={"manager_signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 403
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Signature).where(Signature.role == "manager")).all() == []


def test_wrong_passwords_at_signing_lock_like_a_sign_in(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    for _ in range(5):
        response = submit(client, inspection_id, password="guess-guess-guess")
        assert response.status_code == 422 and "密码不正确" in response.text
    locked = submit(client, inspection_id)  # the right password, too late
    assert locked.status_code == 429 and "分钟后再试" in locked.text
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, inspection_id).status == "draft"
        assert len(session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all()) == 105
        assert session.exec(select(Signature)).all() == []


# ---- corrections ----

def test_a_manager_corrects_with_a_reason_and_everything_shows_it(app, client, auth, tmp_path):
    inspection_id = submitted_by_sup1(app, client, auth)
    item = published_items(app)[0]
    with Session(app.extensions["engine"]) as session:
        before = session.get(Inspection, inspection_id).overall_percent
    auth.login("manager")
    first = client.get(f"/inspections/{inspection_id}/report.pdf")
    page = client.get(f"/inspections/{inspection_id}").text
    assert f'/inspections/{inspection_id}/items/{item.key}/correct' in page
    form = client.get(f"/inspections/{inspection_id}/items/{item.key}/correct").text
    assert item.text in form and 'name="reason"' in form

    no_reason = client.post(f"/inspections/{inspection_id}/items/{item.key}/correct",
                            data={"score": "4", "reason": " "})
    assert no_reason.status_code == 422 and "更正必须写明原因" in no_reason.text
    assert 'value="4" checked' in no_reason.text  # the chosen value stays on the form
    unchanged = client.post(f"/inspections/{inspection_id}/items/{item.key}/correct",
                            data={"score": "1", "reason": "复核无变化"})
    assert unchanged.status_code == 422 and "没有变化" in unchanged.text
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Correction)).all() == []
        assert session.get(Inspection, inspection_id).overall_percent == before

    done = client.post(f"/inspections/{inspection_id}/items/{item.key}/correct",
                       data={"score": "4", "note": "已现场整改并复查", "reason": "检查员误选，复查照片确认合格"})
    assert done.status_code == 303
    with Session(app.extensions["engine"]) as session:
        correction = session.exec(select(Correction)).one()
        assert (correction.old_value, correction.new_value) == ("1", "4")
        assert correction.reason == "检查员误选，复查照片确认合格"
        inspection = session.get(Inspection, inspection_id)
        assert inspection.overall_percent > before
        answer = session.exec(select(Answer).where(Answer.inspection_id == inspection_id,
                                                   Answer.item_id == correction.item_id)).one()
        assert answer.score == 4 and answer.revision == correction.answer_revision
        assert session.exec(select(AnswerChange).where(AnswerChange.outcome == "correction")).one().old_value == "1"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "inspection.correct")).one()
        assert event.reason == correction.reason and json.loads(event.old_value)["value"] == "1"
    page = client.get(f"/inspections/{inspection_id}").text
    assert "更正记录" in page and "检查员误选，复查照片确认合格" in page and "已更正" in page
    second = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert second.headers["X-Report-Document"] == f"6S-{inspection_id}-2"
    text = pdf_text(second.data, tmp_path)
    assert "更正记录" in text and "检查员误选，复查照片确认合格" in text and "1→4" in text and "已更正" in text
    assert f"6S-{inspection_id}-1" in text  # the new document names the one it replaces
    with Session(app.extensions["engine"]) as session:
        docs = session.exec(select(ReportDocument).order_by(ReportDocument.sequence)).all()
        assert [d.reason for d in docs] == ["issued", "corrected"]
    assert "更正记录" not in pdf_text(first.data, tmp_path)


def test_only_a_manager_corrects_and_only_a_submitted_inspection(app, client, auth):
    inspection_id = submitted_by_sup1(app, client, auth)
    key = published_items(app)[0].key
    url = f"/inspections/{inspection_id}/items/{key}/correct"
    data = {"score": "4", "reason": "我想改成满分"}
    for username, status in (("sup1", 403), ("auditor", 403), ("sup2", 404)):
        auth.login(username)
        assert 'data-action="correct"' not in client.get(f"/inspections/{inspection_id}").text
        assert client.post(url, data=data).status_code == status
        assert client.get(url).status_code == status
        auth.logout()
    auth.login("manager")
    assert client.post(f"/inspections/{inspection_id}/items/no-such-item/correct", data=data).status_code == 404
    draft = start(client)
    assert client.post(f"/inspections/{draft}/items/{key}/correct", data=data).status_code == 409
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Correction)).all() == []
