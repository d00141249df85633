"""Saves are idempotent, stale saves are conflicts, and every change is kept (who, when, old, new)."""

from sqlmodel import Session, select

from inspections.models import Answer, AnswerChange
from tests.helpers import start, token_headers

HX = {"HX-Request": "true"}


def changes(app, inspection_id):
    with Session(app.extensions["engine"]) as session:
        return [(c.outcome, c.old_value, c.new_value, c.new_note, c.revision) for c in session.exec(
            select(AnswerChange).where(AnswerChange.inspection_id == inspection_id).order_by(AnswerChange.id))]


def test_a_replayed_change_is_stored_once(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    url = f"/inspections/{inspection_id}/answers/sort-01"
    for _ in range(3):  # server committed, the answer got lost, the tablet sends it again
        response = client.post(url, data={"score-sort-01": "2", "rev-sort-01": "0"},
                               headers={**HX, "X-Change-Key": "tablet-a-0001"})
        assert response.status_code == 200 and "已保存" in response.text
    assert changes(app, inspection_id) == [("applied", None, "2", "", 1)]
    assert 'name="rev-sort-01" value="1"' in response.text


def test_a_stale_save_is_a_conflict_showing_both_values_and_keeping_both(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    url = f"/inspections/{inspection_id}/answers/sort-01"
    client.post(url, data={"score-sort-01": "3", "rev-sort-01": "0"}, headers={**HX, "X-Change-Key": "a-1"})
    # a second tablet, which still saw no answer, picks 1
    response = client.post(url, data={"score-sort-01": "1", "rev-sort-01": "0"}, headers={**HX, "X-Change-Key": "b-1"})
    assert response.status_code == 409
    assert "另一台设备已改为“3”" in response.text and "你选的是“1”" in response.text
    assert 'data-action="keep-mine"' in response.text and 'name="rev-sort-01" value="1"' in response.text
    # replaying the refused change is still a conflict, not a silent success
    again = client.post(url, data={"score-sort-01": "1", "rev-sort-01": "0"}, headers={**HX, "X-Change-Key": "b-1"})
    assert again.status_code == 409
    # the person chooses theirs… or mine, now knowing revision 1
    response = client.post(url, data={"score-sort-01": "1", "rev-sort-01": "1"}, headers={**HX, "X-Change-Key": "b-2"})
    assert response.status_code == 200
    assert changes(app, inspection_id) == [("applied", None, "3", "", 1), ("conflict", "3", "1", None, 0),
                                           ("applied", "3", "1", "", 2)]
    with Session(app.extensions["engine"]) as session:
        answer = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).one()
        assert (answer.score, answer.revision) == (1, 2)


def test_without_a_revision_the_last_save_wins_and_is_recorded(app, client, auth):
    """Integrations and the plain API may omit the revision."""
    auth.login("sup1")
    inspection_id = start(client)
    url = f"/inspections/{inspection_id}/answers/sort-01"
    client.post(url, data={"score-sort-01": "3"}, headers=HX)
    client.post(url, data={"score-sort-01": "3", "note-sort-01": "补充备注"}, headers=HX)
    client.post(url, data={"score-sort-01": "3", "note-sort-01": "补充备注"}, headers=HX)  # no change: no row
    assert changes(app, inspection_id) == [("applied", None, "3", "", 1), ("applied", "3", "3", "补充备注", 2)]


def test_api_conflict_and_idempotency(app, client):
    headers = token_headers(app, "sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    url = f"/api/v1/inspections/{inspection_id}/answers/sort-02"
    first = client.put(url, headers=headers, json={"score": 4, "revision": 0, "change_key": "k1"})
    assert first.json["revision"] == 1
    assert client.put(url, headers=headers, json={"score": 4, "revision": 0, "change_key": "k1"}).json["revision"] == 1
    stale = client.put(url, headers=headers, json={"score": 0, "revision": 0, "change_key": "k2"})
    assert stale.status_code == 409 and stale.json["code"] == "conflict"
    assert stale.json["current"]["score"] == 4 and stale.json["current"]["revision"] == 1
    assert client.put(url, headers=headers, json={"score": 0, "revision": "x"}).status_code == 422


def test_plain_form_reports_conflicts_without_losing_the_other_items(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    client.post(f"/inspections/{inspection_id}/answers/sort-01", data={"score-sort-01": "4"}, headers=HX)
    response = client.post(f"/inspections/{inspection_id}/categories/sort",
                           data={"score-sort-01": "0", "rev-sort-01": "0", "score-sort-02": "2", "rev-sort-02": "0"})
    assert response.status_code == 409 and 'data-conflict="sort-01"' in response.text
    with Session(app.extensions["engine"]) as session:
        saved = {a.item.key: a.score for a in session.exec(select(Answer).where(Answer.inspection_id == inspection_id))}
    assert saved == {"sort-01": 4, "sort-02": 2}
