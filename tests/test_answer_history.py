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


def _race(app, url: str, bodies: list[dict], headers: dict) -> list:
    """Every body PUT to url at the same moment, each from its own thread (two tablets, an outbox replay racing
    the live save): the responses, in the order of bodies."""
    import threading

    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def save(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.put(url, headers=headers, json=bodies[index])
        results[index] = (response.status_code, response.json)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_racing_first_saves_of_one_item_are_each_applied_or_refused_never_an_error(app, client):
    """Six devices save the same unanswered item at once, each a different value, all believing it unanswered
    (revision 0): one wins, the others are conflicts showing the winner's value; nothing fails and no revision is
    handed out twice. On PostgreSQL two first saves used to insert the answer twice (a 500)."""
    headers = token_headers(app, "sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    url = f"/api/v1/inspections/{inspection_id}/answers/sort-01"
    results = _race(app, url, [{"score": value, "revision": 0, "change_key": f"race-{value}"}
                               for value in (0, 1, 2, 3, 4, "na")], headers)
    assert sorted(status for status, _ in results) == [200] + [409] * 5, results
    winner = next(body for status, body in results if status == 200)
    assert all(body["current"]["score"] == winner["score"] for status, body in results if status == 409)
    assert [(outcome, rev) for outcome, _, _, _, rev in changes(app, inspection_id)
            if outcome == "applied"] == [("applied", 1)]


def test_racing_saves_without_a_revision_are_applied_one_after_another(app, client):
    """Without a revision the last save wins, but every save is applied on top of the one before: revisions 1…n
    each once, and the history chains old → new without a gap."""
    headers = token_headers(app, "sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    url = f"/api/v1/inspections/{inspection_id}/answers/sort-01"
    results = _race(app, url, [{"score": 3, "note": f"n{i}", "change_key": f"free-{i}"} for i in range(8)], headers)
    assert [status for status, _ in results] == [200] * 8, results
    history = changes(app, inspection_id)
    assert [rev for *_, rev in history] == list(range(1, 9))
    assert sorted(body["revision"] for _, body in results) == list(range(1, 9))
    with Session(app.extensions["engine"]) as session:
        applied = session.exec(select(AnswerChange).where(AnswerChange.inspection_id == inspection_id)
                               .order_by(AnswerChange.id)).all()
        assert all(later.old_note == earlier.new_note for earlier, later in zip(applied, applied[1:], strict=False))


def test_a_change_replayed_while_it_is_being_saved_is_stored_once(app, client):
    headers = token_headers(app, "sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    url = f"/api/v1/inspections/{inspection_id}/answers/sort-01"
    client.put(url, headers=headers, json={"score": 1, "change_key": "before"})
    results = _race(app, url, [{"score": 4, "note": "同一次修改", "change_key": "same"}] * 6, headers)
    assert [status for status, _ in results] == [200] * 6, results
    assert {(body["score"], body["revision"]) for _, body in results} == {(4, 2)}
    assert [c[0] for c in changes(app, inspection_id)] == ["applied", "applied"]


def test_saves_racing_a_submit_land_before_it_or_are_refused_after_it(app, client):
    """A submit and late saves of the same inspection at the same moment: each save either lands before the
    submit (and is in its score) or is refused as locked; the stored score is the score of the stored answers."""
    import threading

    from inspections.models import Inspection
    from tests.helpers import answer_all_api

    headers = token_headers(app, "sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    keys = answer_all_api(client, headers, inspection_id, score=4)[:6]
    barrier = threading.Barrier(len(keys) + 1)
    statuses: dict = {}

    def save(key):
        own = app.test_client()
        barrier.wait()
        statuses[key] = own.put(f"/api/v1/inspections/{inspection_id}/answers/{key}", headers=headers,
                                json={"score": 0, "change_key": f"late-{key}"}).status_code

    def submit():
        own = app.test_client()
        barrier.wait()
        statuses["submit"] = own.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers).status_code

    threads = [threading.Thread(target=save, args=(key,)) for key in keys] + [threading.Thread(target=submit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses.pop("submit") == 200
    assert set(statuses.values()) <= {200, 409}, statuses
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        stored = {a.item.key: a.score for a in inspection.answers}
        from inspections.service import current_score
        assert inspection.status == "submitted"
        assert inspection.overall_percent == current_score(inspection).overall_percent
    assert all(stored[key] == (0 if status == 200 else 4) for key, status in statuses.items())


def test_a_stale_save_of_a_field_nobody_else_changed_is_kept_beside_theirs(app, client, auth):
    """A note typed on a tablet that saw revision 1 while another changed the score: the note joins the new score
    (it was refused as a conflict about scores, and lost when the other value was kept). A stale save of a field
    someone else did change is still a conflict."""
    auth.login("sup1")
    inspection_id = start(client)
    url = f"/inspections/{inspection_id}/answers/sort-01"

    def save(key, **fields):
        return client.post(url, data={f"{name}-sort-01": value for name, value in fields.items()},
                           headers={**HX, "X-Change-Key": key})

    assert save("m-1", score="3", rev="0").status_code == 200  # revision 1, seen by both tablets
    assert save("x-1", score="1", rev="1").status_code == 200  # tablet X: a lower score, revision 2
    noted = save("y-1", note="地面有油污", rev="1")  # tablet Y, still on revision 1: only a note
    assert noted.status_code == 200
    with Session(app.extensions["engine"]) as session:
        answer = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).one()
        assert (answer.score, answer.note, answer.revision) == (1, "地面有油污", 3)
    assert save("y-2", score="4", rev="1").status_code == 409  # the score X changed: a conflict, as before
    assert save("x-2", note="已清理", rev="2").status_code == 409  # the note Y changed since X's revision 2
    assert save("y-3", flag="1", rev="2").status_code == 200  # the flag nobody changed joins too
    assert [c[0] for c in changes(app, inspection_id)] == [
        "applied", "applied", "applied", "conflict", "conflict", "applied"]


def test_a_stale_save_merges_only_what_it_sets():
    from inspections.merging import untouched_since

    seen = ("3", "", False)
    assert untouched_since(seen, ("1", "", False), (False, True, False))  # note only; the score moved
    assert not untouched_since(seen, ("1", "", False), (True, False, False))  # the score moved
    assert not untouched_since(seen, ("3", "别人的备注", False), (False, True, False))  # the note moved
    assert untouched_since(seen, ("3", None, False), (False, True, False))  # no note and "" are the same
    assert not untouched_since(seen, ("3", "", True), (False, False, True))  # the flag moved
