"""Forged form and JSON fields: what the server decides (status, version, inspector, scores) is never taken
from the client."""

from sqlmodel import Session, select

from accounts.models import Role, User
from checklists.models import ChecklistVersion
from inspections.models import Inspection
from tests.conftest import AuthActions
from tests.helpers import answer_all, published_items, submit, token_headers


def ids(app):
    with Session(app.extensions["engine"]) as session:
        versions = {v.number: v.id for v in session.exec(select(ChecklistVersion))}
        users = {u.username: u.id for u in session.exec(select(User))}
    return versions, users


FORGED = lambda versions, users: {  # noqa: E731
    "status": "submitted", "checklist_version_id": versions[1], "version_id": versions[1],
    "inspector_id": users["manager"], "overall_percent": "100", "grade": "A", "passed": "true",
    "workshop_id": "3", "submitted_at": "2020-01-01T00:00:00",
}


def test_forged_fields_in_screen_posts_are_ignored(app, client, auth):
    versions, users = ids(app)
    forged = FORGED(versions, users)
    auth.login("sup1")
    response = client.post("/workshops/W1/inspections", data=forged)
    inspection_id = int(response.location.rsplit("/", 1)[1])
    items = published_items(app)
    key = items[0].key
    client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": "1", **forged})
    client.post(f"/inspections/{inspection_id}/categories/{items[0].category_key}",
                data={f"score-{key}": "2", **forged})
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection.status == "draft" and inspection.inspector_id == users["sup1"]
        assert inspection.version_id == max(versions.items())[1] and inspection.workshop.code == "W1"
        assert inspection.overall_percent is None
    answer_all(client, inspection_id, items, score_for=lambda i, item: 1)
    assert submit(client, inspection_id, **forged).status_code == 303
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection.overall_percent == 25.0 and not inspection.passed  # scored by the server
        assert inspection.inspector_id == users["sup1"] and inspection.submitted_at.year > 2020


def test_forged_fields_in_api_bodies_are_refused_by_name(app, client):
    versions, users = ids(app)
    headers = token_headers(app, "sup1")
    forged = FORGED(versions, users)
    refused = client.post("/api/v1/workshops/W1/inspections", headers=headers, json=forged)
    assert refused.status_code == 422 and refused.get_json()["items"] == sorted(forged)
    created = client.post("/api/v1/workshops/W1/inspections", headers=headers)
    assert created.status_code == 201
    inspection_id = created.get_json()["id"]
    key = published_items(app)[0].key
    put = client.put(f"/api/v1/inspections/{inspection_id}/answers/{key}", headers=headers,
                     json={"score": 2, **forged})
    assert put.status_code == 422 and put.get_json()["items"] == sorted(set(forged) - {"score"})
    assert client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).get_json()["answers"] == []
    body = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).get_json()
    assert body["status"] == "draft" and body["inspector"] == "sup1" and body["workshop"] == "W1"
    assert body["checklist"]["version"] == max(versions) and body["overall_percent"] != 100


def test_a_role_or_scope_posted_by_a_non_admin_changes_nothing(app, client, auth):
    _versions, users = ids(app)
    auth.login("manager")
    response = client.post(f"/admin/users/{users['manager']}", data={"role": "admin", "active": "on"})
    assert response.status_code == 403
    response = client.post("/account/password", data={"current_password": "x", "role": "admin",
                                                      "new_password": "x", "confirm": "x"})
    assert response.status_code in (200, 422)
    with Session(app.extensions["engine"]) as session:
        assert session.get(User, users["manager"]).role == Role.manager
    AuthActions(client).logout()
