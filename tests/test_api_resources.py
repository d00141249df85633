"""What an integrator reads before and after entering a paper audit (SQLite and PostgreSQL): the checklists and a
version's every item, an inspection's items answered or not, and inspections listed with filters and a cursor."""

from datetime import UTC, datetime

from tests.helpers import answer_all_api, answer_all_in_one_go, drawn_signature, published_items, token_headers
from tests.seed import PASSWORD


def test_a_client_learns_the_checklist_it_must_fill_in(app, client):
    sup = token_headers(app, "sup1")
    listed = client.get("/api/v1/checklists", headers=sup).get_json()["checklists"]
    assert [c["key"] for c in listed] == ["standard-6s"]
    versions = listed[0]["versions"]
    assert all(v["status"] != "draft" for v in versions) and all(len(v["content_sha256"]) == 64 for v in versions)
    number = max(v["number"] for v in versions if v["status"] == "published")
    version = client.get(f"/api/v1/checklists/standard-6s/versions/{number}", headers=sup).get_json()
    items = [i["key"] for c in version["categories"] for i in c["items"]]
    assert items == [i.key for i in published_items(app)] and len(items) == 105
    assert version["scheme"]["type"] == "levels" and version["categories"][0]["key"] == "sort"
    assert client.get("/api/v1/checklists/standard-6s/versions/999", headers=sup).status_code == 404
    assert client.get("/api/v1/checklists/nope/versions/1", headers=sup).status_code == 404
    assert client.get("/api/v1/checklists?x=1", headers=sup).get_json()["items"] == ["x"]

    # the inspection lists every item, answered or not
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    client.put(f"/api/v1/inspections/{inspection}/answers/{items[0]}", headers=sup, json={"score": 2})
    body = client.get(f"/api/v1/inspections/{inspection}", headers=sup).get_json()
    assert [i["item"] for i in body["items"]] == items
    assert [i["item"] for i in body["items"] if i["answered"]] == [items[0]]


def test_inspections_are_listed_by_filter_and_page(app, client, travel):
    sup1, sup2, manager = (token_headers(app, u) for u in ("sup1", "sup2", "manager"))
    made = []
    for day, (headers, workshop) in enumerate([(sup1, "W1"), (sup2, "W2"), (sup1, "W1"), (sup1, "W1")], start=1):
        # 23:30 in Shanghai on the 1st … 4th of December (15:30 UTC the same day)
        travel(datetime(2026, 12, day, 15, 30, tzinfo=UTC))
        inspection = client.post(f"/api/v1/workshops/{workshop}/inspections", headers=headers).get_json()["id"]
        answer_all_in_one_go(app, inspection)
        assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=headers,
                           json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
        made.append(inspection)
    draft = client.post("/api/v1/workshops/W1/inspections", headers=sup1).get_json()["id"]

    def ids(headers, **query):
        response = client.get("/api/v1/inspections", headers=headers, query_string=query)
        assert response.status_code == 200, response.data
        return [i["id"] for i in response.get_json()["inspections"]]

    assert ids(manager) == made
    assert ids(sup1) == [made[0], made[2], made[3]]  # W2 is not theirs
    assert ids(manager, workshop="W2") == [made[1]] and ids(manager, plant="P1") == made
    assert ids(manager, status="draft") == [draft] and ids(manager, status="all") == [*made, draft]
    # days at the plant: 23:30 on the 2nd in Shanghai is the 2nd, though 15:30 UTC
    assert ids(manager, **{"from": "2026-12-02", "to": "2026-12-03"}) == [made[1], made[2]]
    assert ids(manager, inspector="sup2") == [made[1]]
    assert ids(manager, checklist="standard-6s", version="2") == made and ids(manager, checklist="nope") == []
    first = client.get("/api/v1/inspections", headers=manager, query_string={"limit": 3}).get_json()
    assert [i["id"] for i in first["inspections"]] == made[:3] and first["next_cursor"]
    second = client.get("/api/v1/inspections", headers=manager,
                        query_string={"limit": 3, "cursor": first["next_cursor"]}).get_json()
    assert [i["id"] for i in second["inspections"]] == made[3:] and second["next_cursor"] is None
    row = first["inspections"][0]
    assert (row["workshop"], row["plant"], row["status"], row["inspector"]) == ("W1", "P1", "submitted", "sup1")
    assert row["overall_percent"] == 75.0 and row["checklist"] == {"key": "standard-6s", "version": 2}
    for query, field in (({"limit": 0}, "limit"), ({"status": "x"}, "status"), ({"from": "12/01"}, "from"),
                         ({"cursor": "%%%"}, "cursor"), ({"colour": "red"}, "colour")):
        response = client.get("/api/v1/inspections", headers=manager, query_string=query)
        assert response.status_code == 422 and response.get_json()["items"] == [field], query
    assert client.get("/api/v1/inspections?workshop=W3", headers=sup1).status_code == 404


def test_a_manager_approves_and_corrects_through_the_api(app, client):
    """The screens' rules through the API: approval with the password (not of one's own inspection), a correction
    with a reason that rescored the result and keeps the old value."""
    sup, manager = token_headers(app, "sup1"), token_headers(app, "manager")
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    keys = answer_all_api(client, sup, inspection)
    approve = f"/api/v1/inspections/{inspection}/approve"
    corrections = f"/api/v1/inspections/{inspection}/corrections"
    early = client.post(corrections, headers=manager, json={"item": keys[0], "score": 4, "reason": "复核后更正"})
    assert early.status_code == 409 and early.get_json()["code"] == "not_submitted"
    assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=sup,
                       json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200

    assert client.post(approve, headers=sup, json={"password": PASSWORD}).status_code == 403
    wrong = client.post(approve, headers=manager, json={"password": "not-the-password"})
    assert wrong.status_code == 422 and wrong.get_json()["items"] == ["password"]
    approved = client.post(approve, headers=manager, json={"password": PASSWORD, "signature": drawn_signature()})
    assert approved.status_code == 200
    roles = {s["role"]: s for s in approved.get_json()["signatures"]}
    assert roles["manager"]["password_confirmed"] and roles["manager"]["drawn"]
    assert client.post(approve, headers=manager, json={"password": PASSWORD}).status_code == 409  # once

    assert client.post(corrections, headers=sup, json={"item": keys[0], "score": 4, "reason": "x"}).status_code == 403
    for body, field in (({"item": keys[0], "score": 4}, "reason"), ({"score": 4, "reason": "复核"}, "item"),
                        ({"item": keys[0], "score": 9, "reason": "复核后更正"}, keys[0]),
                        ({"item": keys[0], "score": 4, "reason": "复核后更正", "by": "me"}, "by")):
        refused = client.post(corrections, headers=manager, json=body)
        assert refused.status_code == 422 and refused.get_json()["items"] == [field], body
    before = client.get(f"/api/v1/inspections/{inspection}", headers=manager).get_json()["overall_percent"]
    corrected = client.post(corrections, headers=manager,
                            json={"item": keys[0], "score": 0, "reason": "复核：工作台上仍有废料"})
    assert corrected.status_code == 201
    body = corrected.get_json()
    assert body["overall_percent"] < before
    assert next(a for a in body["answers"] if a["item"] == keys[0])["score"] == 0
    assert client.post(corrections, headers=manager, json={"item": "nope-99", "score": 1,
                                                           "reason": "复核后更正"}).status_code == 404


def test_photos_go_up_with_the_screens_checks(app, client):
    from io import BytesIO

    from tests.test_photos import jpeg_bytes

    sup, sup2 = token_headers(app, "sup1"), token_headers(app, "sup2")
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    key = published_items(app)[0].key
    url = f"/api/v1/inspections/{inspection}/items/{key}/photos"

    def upload(headers, data=None, **fields):
        files = {"photo": (BytesIO(data if data is not None else jpeg_bytes()), "p.jpg")} | fields
        return client.post(url, headers=headers, data=files, content_type="multipart/form-data")

    made = upload(sup | {"X-Change-Key": "photo-1"})
    assert made.status_code == 201 and len(made.get_json()["sha256"]) == 64
    assert made.get_json()["width"] <= 1600  # re-encoded as on the tablet
    assert upload(sup | {"X-Change-Key": "photo-1"}).get_json()["id"] == made.get_json()["id"]  # a replay: once
    assert upload(sup, data=b"not an image").get_json()["code"] == "photo_unreadable"
    assert upload(sup, colour="red").get_json()["items"] == ["colour"]
    assert client.post(url, headers=sup, json={"photo": "x"}).status_code == 415
    assert upload(sup2).status_code == 404  # another supervisor's workshop
    listed = client.get(f"/api/v1/inspections/{inspection}/photos", headers=sup).get_json()["photos"]
    assert [p["id"] for p in listed[key]] == [made.get_json()["id"]]
    download = client.get(listed[key][0]["url"], headers=sup)
    assert download.status_code == 200 and download.mimetype == "image/jpeg"


def test_the_workshop_leader_countersigns_through_the_api(app, client):
    sup = token_headers(app, "sup1")
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    answer_all_api(client, sup, inspection)
    url = f"/api/v1/inspections/{inspection}/countersign"
    early = client.post(url, headers=sup, json={"name": "张主任", "password": PASSWORD})
    assert early.status_code == 409  # a draft is not countersigned
    assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=sup,
                       json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    assert client.post(url, headers=token_headers(app, "auditor"), data="{x").status_code == 403  # before the body
    assert client.post(url, headers=token_headers(app, "sup2"), json={}).status_code == 404
    wrong = client.post(url, headers=sup, json={"name": "张主任", "password": "not it"})
    assert wrong.status_code == 422 and wrong.json["items"] == ["password"]
    nameless = client.post(url, headers=sup, json={"name": "", "password": PASSWORD})
    assert nameless.status_code == 422 and nameless.json["items"] == ["name"]
    signed = client.post(url, headers=sup, json={"name": "张主任", "signature": drawn_signature(),
                                                 "password": PASSWORD})
    assert signed.status_code == 200, signed.json
    leader = [s for s in signed.json["signatures"] if s["role"] == "workshop_leader"]
    assert leader and (leader[0]["name"], leader[0]["drawn"], leader[0]["password_confirmed"]) == ("张主任", True, True)
    assert client.post(url, headers=sup, json={"name": "李主任", "password": PASSWORD}).status_code == 409
