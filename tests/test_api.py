"""The JSON API (/api/v1), with tokens and with the browser session, on SQLite and PostgreSQL."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from accounts.models import User
from accounts.sessions import create_api_token
from tests.helpers import published_items
from tests.seed import PASSWORD


@pytest.fixture
def token_for(app):
    def make(username):
        with Session(app.extensions["engine"]) as session:
            user = session.exec(select(User).where(User.username == username)).one()
            token = create_api_token(session=session, user=user)
            session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


def test_api_needs_credentials(client):
    response = client.get("/api/v1/workshops")
    assert response.status_code == 401 and "Bearer" in response.json["error"]
    assert client.get("/api/v1/workshops", headers={"Authorization": "Bearer 6s_wrong"}).status_code == 401


def test_workshops_are_filtered_by_scope(client, token_for):
    assert client.get("/api/v1/workshops", headers=token_for("sup1")).json == {
        "workshops": [{"code": "W1", "name": "一号车间", "plant": "P1"}]}
    codes = [w["code"] for w in client.get("/api/v1/workshops", headers=token_for("admin")).json["workshops"]]
    assert codes == ["W1", "W2", "W3"]


@pytest.mark.clock
def test_paper_audit_entered_through_the_api(app, client, token_for, clock_at):
    headers = token_for("sup1")
    response = client.post("/api/v1/workshops/W1/inspections", headers=headers)
    assert response.status_code == 201
    inspection_id = response.json["id"]
    assert response.json["version"] == 2
    items = published_items(app)
    for item in items[:-1]:
        score = "na" if item.key.startswith("office-") else 4
        response = client.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers,
                              json={"score": score, "note": "纸质记录补录" if item.key == "sort-01" else ""})
        assert response.status_code == 200, response.json
    response = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers)
    assert response.status_code == 422
    assert response.json["items"] == [items[-1].key]
    draft = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).json
    assert draft["status"] == "draft" and draft["overall_percent"] is None

    client.put(f"/api/v1/inspections/{inspection_id}/answers/{items[-1].key}", headers=headers,
               json={"score": "na"})
    response = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers)
    assert response.status_code == 200
    body = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).json
    assert body["status"] == "submitted"
    assert body["workshop"] == "W1" and body["checklist"] == {"key": "standard-6s", "version": 2}
    assert body["inspector"] == "sup1" and body["submitted_at"]
    assert len(body["answers"]) == len(items)
    assert body["answers"][0] == {"item": "sort-01", "category": "sort", "critical": False, "score": 4,
                                  "note": "纸质记录补录", "flagged": False, "photo_count": 0}
    percents = {c["key"]: c["percent"] for c in body["categories"]}
    assert percents["sort"] == 100.0 and percents["office"] is None
    assert body["overall_percent"] == 100.0 and body["grade"] == "优" and body["passed"] is True

    trend = client.get("/api/v1/workshops/W1/trend", headers=headers).json
    assert [p["id"] for p in trend["inspections"]] == [inspection_id]
    point = trend["inspections"][0]
    assert point["overall_percent"] == 100.0 and point["checklist"] == {"key": "standard-6s", "version": 2}
    # the trend's day is the plant's (Shanghai), whatever the UTC date of the instant
    shanghai_day = datetime.fromisoformat(body["submitted_at"]).astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert point["categories"]["office"] is None and point["date"] == shanghai_day.isoformat()


@pytest.mark.parametrize(("body", "field"), [({"score": 7}, "sort-01"), ({"score": "x"}, "sort-01"),
                                              ({"score": True}, "sort-01"), ({"note": "no score"}, None),
                                              ({"score": 2, "note": 5}, "note"), ({"score": 2, "colour": 1}, "colour"),
                                              ({"score": 2, "change_key": "k" * 65}, "change_key")])
def test_bad_answers_get_422_with_a_reason(client, token_for, body, field):
    headers = token_for("sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    response = client.put(f"/api/v1/inspections/{inspection_id}/answers/sort-01", headers=headers, json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == 422 and problem["title"] == "Unprocessable Content" and problem["detail"]
    assert problem["code"] and (field is None or problem["items"] == [field])


def test_unknown_item_is_404(client, token_for):
    headers = token_for("sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    response = client.put(f"/api/v1/inspections/{inspection_id}/answers/nope-99", headers=headers,
                          json={"score": 1})
    assert response.status_code == 404


def test_other_scopes_are_404_for_every_api_route(client, token_for):
    inspection_id = client.post("/api/v1/workshops/W2/inspections", headers=token_for("sup2")).json["id"]
    headers = token_for("sup1")
    assert client.post("/api/v1/workshops/W2/inspections", headers=headers).status_code == 404
    assert client.get("/api/v1/workshops/W2/trend", headers=headers).status_code == 404
    assert client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).status_code == 404
    assert client.put(f"/api/v1/inspections/{inspection_id}/answers/sort-01", headers=headers,
                      json={"score": 1}).status_code == 404
    assert client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers).status_code == 404


def test_disabled_users_token_stops_working(app, client, token_for):
    headers = token_for("sup1")
    with Session(app.extensions["engine"]) as session:
        user = session.exec(select(User).where(User.username == "sup1")).one()
        user.active = False
        session.commit()
    assert client.get("/api/v1/workshops", headers=headers).status_code == 401


def test_submit_through_the_api_with_a_drawn_signature(app, client, token_for):
    from tests.helpers import drawn_signature

    headers = token_for("sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
    for item in published_items(app):
        client.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers, json={"score": 4})
    blank = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQAB"
             "h6FO1AAAAABJRU5ErkJggg==")  # one transparent pixel
    response = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers, json={"signature": blank})
    assert response.status_code == 422 and response.get_json()["code"] == "signature_empty"
    assert client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).get_json()["status"] == "draft"
    # a token is not the person: the signature needs the signer's password too
    response = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers,
                           json={"signature": drawn_signature()})
    assert response.status_code == 422 and response.get_json()["code"] == "password_wrong"
    assert client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).get_json()["status"] == "draft"
    response = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers,
                           json={"signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 200
    signatures = response.get_json()["signatures"]
    assert [(s["role"], s["name"], s["drawn"], s["meaning"], s["password_confirmed"]) for s in signatures] == [
        ("inspector", "sup1", True, "inspected", True)]


def test_a_token_speaks_for_its_user_even_beside_a_session_cookie(client, auth, token_for):
    auth.login("manager")
    assert len(client.get("/api/v1/workshops").get_json()["workshops"]) == 3
    body = client.get("/api/v1/workshops", headers=token_for("sup1")).get_json()
    assert [w["code"] for w in body["workshops"]] == ["W1"]
    assert client.get("/api/v1/workshops", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_trend_api_period_and_like_for_like_view(app, client, token_for):
    headers = token_for("sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
    items = published_items(app)
    for item in items:
        client.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers, json={"score": 3})
    client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers)
    full = client.get("/api/v1/workshops/W1/trend", headers=headers).get_json()
    assert full["view"] == "full" and full["common_items"] is None and len(full["inspections"]) == 1
    like = client.get("/api/v1/workshops/W1/trend?view=like", headers=headers).get_json()
    assert like["view"] == "like" and len(like["common_items"]) == len(items)
    assert like["inspections"][0]["overall_percent"] == full["inspections"][0]["overall_percent"] == 75.0
    old = client.get("/api/v1/workshops/W1/trend?from=2000-01-01&to=2000-12-31", headers=headers).get_json()
    assert old["inspections"] == []
    assert client.get("/api/v1/workshops/W1/trend?from=nope", headers=headers).status_code == 422


def test_trend_api_agrees_with_the_rollups_and_a_recomputation(app, client, token_for):
    from checklists.schemes import scheme_from_dict
    from inspections.models import CategoryResult, Inspection
    from inspections.scoring import score_inspection
    from inspections.service import answer_value, category_specs

    headers = token_for("sup1")
    for pattern in (lambda i: i % 5, lambda i: "na" if i < 19 else 4 - i % 3):
        inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
        for i, item in enumerate(published_items(app)):
            client.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers,
                       json={"score": pattern(i)})
        assert client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers).status_code == 200
    points = client.get("/api/v1/workshops/W1/trend", headers=headers).get_json()["inspections"]
    assert len(points) == 2
    with Session(app.extensions["engine"]) as session:
        for point in points:
            inspection = session.get(Inspection, point["id"])
            stored = {r.category_key: r.percent for r in session.exec(
                select(CategoryResult).where(CategoryResult.inspection_id == inspection.id))}
            again = score_inspection(category_specs(inspection.version),
                                     {a.item.key: answer_value(a) for a in inspection.answers},
                                     scheme_from_dict(inspection.version.scheme))
            assert point["overall_percent"] == pytest.approx(inspection.overall_percent, abs=0.006)
            assert point["overall_percent"] == pytest.approx(again.overall_percent, abs=0.006)
            for category in again.categories:
                assert point["categories"][category.key] == (
                    None if category.percent is None else pytest.approx(category.percent, abs=0.006))
                assert (stored[category.key] is None) == (category.percent is None)


def test_what_broke_the_api_is_refused_in_words_and_loses_nothing(app, client, token_for):
    """The inputs an integrator found: ids past 64 bits and JSON nested 100 000 deep were 500s; a truncated submit
    body submitted without its signature; a 65-character change_key was cut and the next change lost; text/plain
    passed for JSON; 401 and 405 lacked their headers."""
    from tests.helpers import answer_all_api, drawn_signature
    from tests.seed import PASSWORD

    headers = token_for("sup1")
    huge = client.get("/api/v1/inspections/1180591620717411303424", headers=headers)
    assert huge.status_code == 404 and huge.json["code"] == "not_found"
    assert huge.mimetype == "application/problem+json" and huge.json["status"] == 404
    # one past PostgreSQL's integer ids is not found either (it was a 500 there); a PUT to one is 404, not 405
    assert client.get("/api/v1/inspections/2147483648", headers=headers).status_code == 404
    assert client.put("/api/v1/plans/45287145850177893433344", headers=headers, json={}).status_code == 404
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    answer = f"/api/v1/inspections/{inspection_id}/answers/sort-01"
    deep = client.put(answer, headers=headers | {"Content-Type": "application/json"},
                      data='{"score": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert deep.status_code == 400 and deep.json["code"] == "bad_json"
    malformed = client.put(answer, headers=headers | {"Content-Type": "application/json"}, data='{"score": 3')
    assert malformed.status_code == 400 and malformed.json["code"] == "bad_json"
    plain = client.put(answer, headers=headers | {"Content-Type": "text/plain"}, data='{"score": 3}')
    assert plain.status_code == 415 and plain.json["code"] == "unsupported_media_type"

    # two change keys sharing their first 64 characters are two changes, or the longer one is refused
    key = "k" * 64
    assert client.put(answer, headers=headers, json={"score": 3, "change_key": key}).status_code == 200
    longer = client.put(answer, headers=headers, json={"score": 1, "change_key": key + "x"})
    assert longer.status_code == 422 and longer.json["items"] == ["change_key"]

    answer_all_api(client, headers, inspection_id)
    cut = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers | {
        "Content-Type": "application/json"}, data='{"signature": "data:image/png;base64,iVBORw0KGgo')
    assert cut.status_code == 400
    assert client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).json["status"] == "draft"
    signed = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers,
                         json={"signature": drawn_signature(), "password": PASSWORD})
    assert signed.status_code == 200 and signed.json["signatures"][0]["drawn"] is True

    anonymous = client.get("/api/v1/workshops")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.json["code"] == "unauthenticated"
    wrong = client.get("/api/v1/workshops", headers={"Authorization": "Bearer nonsense"})
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    not_allowed = client.delete("/api/v1/workshops", headers=headers)
    assert not_allowed.status_code == 405 and not_allowed.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert not_allowed.json["code"] == "method_not_allowed"
    unknown_route = client.get("/api/v1/nothing-here", headers=headers)
    assert unknown_route.status_code == 404 and unknown_route.mimetype == "application/problem+json"


def test_a_retried_post_with_its_idempotency_key_gets_the_first_answer(app, client, token_for):
    """Starting an inspection twice made two drafts: with the same Idempotency-Key the retry is answered from the
    first request; another request under that key is refused; another user's key is theirs."""
    from sqlmodel import Session, select

    from inspections.models import Inspection

    headers = token_for("sup1")
    first = client.post("/api/v1/workshops/W1/inspections", headers=headers | {"Idempotency-Key": "start-w1-1"})
    again = client.post("/api/v1/workshops/W1/inspections", headers=headers | {"Idempotency-Key": "start-w1-1"})
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    with Session(app.extensions["engine"]) as session:
        assert len(session.exec(select(Inspection)).all()) == 1
    other = client.post("/api/v1/workshops/W2/inspections", headers=headers | {"Idempotency-Key": "start-w1-1"})
    assert other.status_code in (404, 422)  # W2 is outside sup1's scope: 404 before anything is claimed
    reused = client.post("/api/v1/workshops/W1/inspections", headers=headers | {"Idempotency-Key": "start-w1-1"},
                         json={"checklist": "standard-6s"})
    assert reused.status_code == 422 and reused.get_json()["code"] == "idempotency_key_reused"
    # a refusal is an answer too: replayed, not run again
    inspection_id = first.get_json()["id"]
    submit = f"/api/v1/inspections/{inspection_id}/submit"
    refused = client.post(submit, headers=headers | {"Idempotency-Key": "submit-1"})
    assert refused.status_code == 422 and refused.get_json()["code"] == "unanswered"
    assert client.post(submit, headers=headers | {"Idempotency-Key": "submit-1"}).get_json() == refused.get_json()
    assert client.post("/api/v1/workshops/W1/inspections",
                       headers=headers | {"Idempotency-Key": "x" * 256}).status_code == 400
    manager = token_for("manager")
    theirs = client.post("/api/v1/workshops/W1/inspections", headers=manager | {"Idempotency-Key": "start-w1-1"})
    assert theirs.status_code == 201 and theirs.get_json()["id"] != inspection_id


def test_a_key_still_being_answered_is_409_until_it_is_abandoned(app, client, token_for):
    from datetime import timedelta

    from sqlmodel import Session, select

    import clock
    from accounts.models import User
    from api.idempotency import _fingerprint
    from api.models import IdempotencyKey

    headers = token_for("sup1")
    with app.test_request_context("/api/v1/workshops/W1/inspections", method="POST"):
        same = _fingerprint()  # the request below, claimed by another worker a moment ago
    with Session(app.extensions["engine"]) as session:
        sup1 = session.exec(select(User).where(User.username == "sup1")).one()
        session.add(IdempotencyKey(user_id=sup1.id, key="busy", request_sha256=same, created_at=clock.now()))
        session.add(IdempotencyKey(user_id=sup1.id, key="dead", request_sha256=same,
                                   created_at=clock.now() - timedelta(minutes=5)))
        session.commit()
    busy = client.post("/api/v1/workshops/W1/inspections", headers=headers | {"Idempotency-Key": "busy"})
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
    assert busy.get_json()["code"] == "idempotency_in_progress"
    dead = client.post("/api/v1/workshops/W1/inspections", headers=headers | {"Idempotency-Key": "dead"})
    assert dead.status_code == 201  # a claim never answered in two minutes: the worker died; the key is free


def test_each_token_has_its_own_rate_budget(sqlite_url, tmp_path, travel):
    """Over API_RATE_LIMIT a token gets 429 problem details with Retry-After; another token (even of the same
    user) and the public description are not held back; the budget comes back as the window moves on."""
    from datetime import UTC, datetime

    from tests.conftest import _make_app
    from tests.helpers import token_headers

    travel(datetime(2026, 12, 2, 15, 59, 30, tzinfo=UTC))
    sqlite_app = _make_app(sqlite_url, tmp_path, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3/minute")
    client = sqlite_app.test_client()
    first, second = token_headers(sqlite_app, "sup1"), token_headers(sqlite_app, "sup1")
    answers = [client.get("/api/v1/workshops", headers=first) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.mimetype == "application/problem+json" and refused.json["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert answers[0].headers["X-RateLimit-Limit"] == "3" and answers[1].headers["X-RateLimit-Remaining"] == "1"
    assert client.get("/api/v1/workshops", headers=second).status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    travel(datetime(2026, 12, 2, 16, 0, 31, tzinfo=UTC))  # a minute on (and a new day in Shanghai)
    assert client.get("/api/v1/workshops", headers=first).status_code == 200
    sqlite_app.extensions["engine"].dispose()
