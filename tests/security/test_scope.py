"""Scope: a supervisor outside W1 finds nothing of W1, by any door; ids cannot be probed (404, never 403)."""

from datetime import date

import pytest
from sqlmodel import Session, select

from accounts.models import User
from tests.conftest import AuthActions
from tests.helpers import token_headers
from tests.security.conftest import fingerprint
from tests.seed import PASSWORD

W1_READS = [
    "/inspections/{submitted}", "/inspections/{draft}", "/inspections/{draft}/review",
    "/inspections/{submitted}/report.pdf", "/inspections/{submitted}/report.pdf?detail=findings",
    "/photos/{photo}", "/photos/{photo}?size=thumb", "/signatures/{signature}.png",
    "/workshops/W1", "/workshops/W1/label", "/workshops/W1/report.pdf",
    "/inspections/{submitted}/items/{item_key}/correct",
    "/exports/inspections.csv?workshop=W1", "/exports/answers.xlsx?workshop=W1",
    "/red-tags/{tag}", "/red-tags/{tag}/photo.jpg", "/red-tags/{tag}/card", "/red-tags?workshop=W1",
    "/workshops/W1/red-tags/new",
]
W1_WRITES = [
    ("/inspections/{draft}/answers/{item_key}", {"score-{item_key}": "4"}),
    ("/inspections/{draft}/categories/{category_key}", {"score-{item_key}": "4"}),
    ("/inspections/{draft}/categories/{category_key}/not-applicable", {}),
    ("/inspections/{draft}/submit", {}),
    ("/inspections/{submitted}/countersign", {"leader_name": "x"}),
    ("/inspections/{submitted}/approve", {}),
    ("/inspections/{submitted}/items/{item_key}/correct", {"score": "4", "reason": "越权更正"}),
    ("/workshops/W1/inspections", {}),
    ("/workshops/W1/red-tags", {"what": "x", "location": "x", "reason": "other", "holding_days": "7"}),
    ("/red-tags/{tag}/decide", {"outcome": "scrap"}),
]
API_READS = ["/api/v1/inspections/{submitted}", "/api/v1/inspections/{draft}", "/api/v1/workshops/W1/trend"]


def fill(path: str, target) -> str:
    return path.format(**vars(target))


def test_another_workshops_records_do_not_exist_for_a_supervisor(app, target):
    client = app.test_client()
    AuthActions(client).login("sup2")
    headers = token_headers(app, "sup2")
    before = fingerprint(app)
    for path in W1_READS:
        response = client.get(fill(path, target))
        assert response.status_code == 404, path
        assert b"%PDF" not in response.data[:8] and b"JFIF" not in response.data[:16], path
    for path, data in W1_WRITES:
        response = client.post(fill(path, target), data={fill(k, target): v for k, v in data.items()})
        assert response.status_code == 404, path
    for path in API_READS:
        assert client.get(fill(path, target), headers=headers).status_code == 404, path
    put = client.put(fill("/api/v1/inspections/{draft}/answers/{item_key}", target), headers=headers,
                     json={"score": 0})
    assert put.status_code == 404
    assert fingerprint(app) == before


def test_exports_and_lists_leave_out_what_is_out_of_scope(app, target):
    client = app.test_client()
    AuthActions(client).login("sup2")
    rows = client.get("/exports/inspections.csv").text.splitlines()
    assert len(rows) == 1  # the header only: W2 has no inspections, W1's are not there
    assert "一号车间" not in client.get("/").text
    workshops = client.get("/api/v1/workshops", headers=token_headers(app, "sup2")).get_json()["workshops"]
    assert [w["code"] for w in workshops] == ["W2"]


@pytest.mark.parametrize("username", ["auditor", "manager", "admin"])
def test_those_in_scope_can_read(app, target, username):
    client = app.test_client()
    AuthActions(client).login(username)
    for path in ("/inspections/{submitted}", "/photos/{photo}", "/inspections/{submitted}/report.pdf"):
        with client.get(fill(path, target)) as response:
            assert response.status_code == 200, (username, path)


def test_an_expired_auditor_is_refused_at_sign_in_and_mid_session(app, target):
    client = app.test_client()
    AuthActions(client).login("auditor")
    assert client.get(fill("/inspections/{submitted}", target)).status_code == 200
    with Session(app.extensions["engine"]) as session:
        auditor = session.exec(select(User).where(User.username == "auditor")).one()
        auditor.access_expires_on = date(2020, 1, 1)
        session.commit()
    assert client.get(fill("/inspections/{submitted}", target)).status_code == 302  # back to the sign-in
    refused = client.post("/login", data={"username": "auditor", "password": PASSWORD})
    assert refused.status_code == 422 and "到期" in refused.text
