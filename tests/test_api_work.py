"""Corrective actions and red tags worked through the API (SQLite and PostgreSQL), with the screens' rules: an
action assigned, started, done with an after-photo (a retry with the same key is one move), returned with a
reason, done again and verified; a red tag raised with a photo and decided; who may asked before the body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from actions.models import ActionEvent
from tests.helpers import answer_all_api, drawn_signature, token_headers
from tests.seed import PASSWORD
from tests.test_photos import jpeg_bytes

AT = datetime(2026, 12, 2, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai


def findings(app, client, count=2) -> list[int]:
    sup = token_headers(app, "sup1")
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    keys = answer_all_api(client, sup, inspection)
    for key in keys[:count]:
        client.put(f"/api/v1/inspections/{inspection}/answers/{key}", headers=sup, json={"score": 1})
    assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=sup,
                       json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    listed = client.get("/api/v1/actions?workshop=W1", headers=sup).get_json()["actions"]
    return [a["id"] for a in listed if a["inspection"] == inspection]


def test_an_action_is_worked_to_its_close_through_the_api(app, client, travel):
    travel(AT)
    sup, manager, auditor = (token_headers(app, u) for u in ("sup1", "manager", "auditor"))
    first, second = findings(app, client)
    url = f"/api/v1/actions/{first}"
    action = client.get(url, headers=sup).get_json()
    assert (action["status"], action["source"], action["owner"], action["after_photo"]) == (
        "open", "finding", None, None)

    # who may, before what was sent: the read-only auditor learns nothing about the body
    refused = client.post(f"{url}/assign", headers=auditor, data="{not json")
    assert refused.status_code == 403 and refused.json["code"] == "not_allowed"
    assert client.get(url, headers=token_headers(app, "sup2")).status_code == 404  # W1 is not theirs

    due = (AT + timedelta(days=10)).date().isoformat()
    assigned = client.post(f"{url}/assign", headers=manager, json={"owner": "sup1", "due_on": due,
                                                                   "priority": "high", "action": "清理工具柜"})
    assert assigned.status_code == 200, assigned.json
    assert (assigned.json["owner"], assigned.json["due_on"], assigned.json["priority"]) == ("sup1", due, "high")
    for body, field in (({"owner": "nobody"}, "owner"), ({"priority": "urgent"}, "priority"),
                        ({"due_on": "next week"}, "due_on"), ({"colour": "red"}, "colour")):
        bad = client.post(f"{url}/assign", headers=manager, json=body)
        assert bad.status_code == 422 and bad.json["items"] == [field], (body, bad.json)
    assert client.post(f"{url}/start", headers=sup).json["status"] == "in_progress"

    # done: the after-photo is required; the same X-Change-Key again is the same move
    no_photo = client.post(f"{url}/done", headers=sup, data={"comment": "已清理"},
                           content_type="multipart/form-data")
    assert no_photo.status_code == 422 and no_photo.json["code"] == "photo_required"
    assert client.post(f"{url}/done", headers=sup, json={"comment": "x"}).status_code == 415
    key = {"X-Change-Key": "done-" + "a" * 20}
    for _ in range(2):
        done = client.post(f"{url}/done", headers=sup | key, content_type="multipart/form-data",
                           data={"comment": "已清理", "photo": (__import__("io").BytesIO(jpeg_bytes()), "after.jpg")})
        assert done.status_code == 200 and done.json["status"] == "done", done.json
    assert client.get(done.json["after_photo"], headers=sup).mimetype == "image/jpeg"
    with Session(app.extensions["engine"]) as session:
        moves = session.exec(select(ActionEvent).where(ActionEvent.action_id == first)).all()
    assert [m.to_status for m in moves].count("done") == 1

    # returned with a reason (not without), done again, verified by the manager
    assert client.post(f"{url}/return", headers=manager, json={}).json["code"] == "comment_required"
    assert client.post(f"{url}/return", headers=manager, json={"comment": "柜门还是坏的"}).json["status"] == "returned"
    again = client.post(f"{url}/done", headers=sup, content_type="multipart/form-data",
                        data={"photo": (__import__("io").BytesIO(jpeg_bytes(colour=(10, 200, 10))), "a.jpg")})
    assert again.json["status"] == "done"
    verified = client.post(f"{url}/verify", headers=manager, json={"comment": "已确认"})
    assert verified.status_code == 200 and verified.json["status"] == "verified" and verified.json["closed_at"]
    assert client.post(f"{url}/verify", headers=manager, json={}).status_code == 409  # closed
    listed = client.get("/api/v1/actions?status=verified", headers=manager).get_json()["actions"]
    assert [a["id"] for a in listed] == [first] and second not in [a["id"] for a in listed]


def test_a_red_tag_is_raised_with_a_photo_and_decided_through_the_api(app, client, travel):
    import io

    travel(AT)
    sup, manager = token_headers(app, "sup1"), token_headers(app, "manager")
    form = {"what": "旧夹具", "location": "A 区 3 号架", "reason": "unneeded", "quantity": "2 件", "holding_days": "7"}
    missing = client.post("/api/v1/workshops/W1/red-tags", headers=sup, content_type="multipart/form-data",
                          data=dict(form))
    assert missing.status_code == 422 and missing.json["code"] == "photo_required"
    key = {"X-Change-Key": "tag-" + "b" * 20}
    made = [client.post("/api/v1/workshops/W1/red-tags", headers=sup | key, content_type="multipart/form-data",
                        data=form | {"photo": (io.BytesIO(jpeg_bytes()), "tag.jpg")}) for _ in range(2)]
    assert [m.status_code for m in made] == [201, 201] and made[0].json["id"] == made[1].json["id"]
    tag = made[0].json
    assert (tag["number"], tag["status"], tag["quantity"], tag["workshop"]) == ("RT-W1-0001", "held", "2 件", "W1")
    assert tag["tagged_on"] == "2026-12-02"  # the plant's day at 23:59 in Shanghai
    unknown = client.post("/api/v1/workshops/W1/red-tags", headers=sup, content_type="multipart/form-data",
                          data=form | {"colour": "red"})
    assert unknown.status_code == 422 and unknown.json["items"] == ["colour"]
    assert client.post("/api/v1/workshops/W1/red-tags", headers=token_headers(app, "auditor"),
                       content_type="multipart/form-data", data=form).status_code == 403
    url = f"/api/v1/red-tags/{tag['id']}"
    assert client.get(url, headers=token_headers(app, "sup2")).status_code == 404
    bad = client.post(f"{url}/decide", headers=sup, json={"outcome": "burn"})
    assert bad.status_code == 422 and bad.json["items"] == ["outcome"]
    decided = client.post(f"{url}/decide", headers=manager, json={"outcome": "scrap", "note": "已报废"})
    assert decided.status_code == 200 and (decided.json["status"], decided.json["outcome"]) == ("decided", "scrap")
    assert client.post(f"{url}/decide", headers=manager, json={"outcome": "keep"}).status_code == 409
    register = client.get("/api/v1/red-tags?status=decided", headers=sup).get_json()["red_tags"]
    assert [t["number"] for t in register] == ["RT-W1-0001"]
