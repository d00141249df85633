"""Many answers saved at once (the plain form's category, a category N/A, a panel's reconciled copy) are saved
exactly as the same saves one by one would be: the same answers, refusals, answer history and audit trail."""

from __future__ import annotations

import threading
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from accounts.models import User
from audit.models import AuditEvent
from audit.service import verify
from database import write_session
from inspections.answering import AnswerInput, save_answer, save_answers
from inspections.models import Answer, AnswerChange, Inspection
from inspections.service import InspectionError
from tests.helpers import start
from tests.seed import PASSWORD

KEYS = ["sort-01", "sort-02", "sort-03", "set-in-order-01", "set-in-order-02", "shine-01"]

change_inputs = st.builds(
    AnswerInput,
    item_key=st.sampled_from([*KEYS, "no-such-item"]),
    value=st.sampled_from([None, 0, 1, 2, 3, 4, "na", 9]),
    note=st.sampled_from([None, "", "  油污  ", "地面有油污", "x" * 2001]),
    base_revision=st.sampled_from([None, None, 0, 1, 2]),
    flagged=st.sampled_from([None, True, False]),
    change_key=st.sampled_from([None, None, "a", "b"]),  # made the inspection's own below: a replay, not a theft
)
# what the inspection holds before the batch: a few saves one by one
earlier_saves = st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from([0, 2, 4, "na"]),
                                   st.sampled_from([None, "已整改"])), max_size=6)


def _outcome(result):
    if isinstance(result, InspectionError):
        return ("refused", result.code, result.status, tuple(result.items),
                None if result.current is None else (result.current.score, result.current.revision))
    return ("saved", result.score, result.not_applicable, result.note, result.flagged, result.revision)


def _record(session, inspection_id, since_event):
    answers = sorted((a.item_id, a.score, a.not_applicable, a.note, a.flagged, a.revision) for a in session.exec(
        select(Answer).where(Answer.inspection_id == inspection_id)))
    history = [(c.item_id, c.outcome, c.old_value, c.new_value, c.old_note, c.new_note, c.old_flagged,
                c.new_flagged, c.revision) for c in session.exec(
        select(AnswerChange).where(AnswerChange.inspection_id == inspection_id).order_by(AnswerChange.id))]
    events = [(e.action, e.actor_name, e.old_value, e.new_value) for e in session.exec(
        select(AuditEvent).where(AuditEvent.id > since_event, AuditEvent.object_id == str(inspection_id))
        .order_by(AuditEvent.id))]
    return answers, history, events


def _fresh(app, client):
    client.post("/login", data={"username": "sup1", "password": PASSWORD})
    return start(client, "W1")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(before=earlier_saves, batch=st.lists(change_inputs, max_size=8))
def _one_by_one_equals_at_once(app, client, before, batch):
    recorded = []
    for saving_at_once in (False, True):
        inspection_id = _fresh(app, client)
        batch = [replace(c, change_key=c.change_key and f"{inspection_id}-{c.change_key}") for c in batch]
        with Session(app.extensions["engine"]) as session:
            inspection = session.get(Inspection, inspection_id)
            user = session.get(User, inspection.inspector_id)
            for key, value, note in before:
                save_answer(session=session, user=user, inspection=inspection, item_key=key, value=value, note=note)
            session.commit()
            since = session.exec(select(AuditEvent.id).order_by(AuditEvent.id.desc())).first()
            if saving_at_once:
                results = save_answers(session=session, user=user, inspection=inspection, changes=batch)
            else:
                results = []
                for change in batch:
                    try:
                        results.append(save_answer(session=session, user=user, inspection=inspection,
                                                   item_key=change.item_key, value=change.value, note=change.note,
                                                   change_key=change.change_key,
                                                   base_revision=change.base_revision, flagged=change.flagged))
                    except InspectionError as refused:
                        results.append(refused)
            outcomes = [_outcome(result) for result in results]
            session.commit()
            answers, history, events = _record(session, inspection_id, since)
        recorded.append((outcomes, answers, history, events))
    one_by_one, at_once = recorded
    assert at_once == one_by_one


def test_a_batch_saves_what_the_same_saves_one_by_one_would(sqlite_app):
    """Hypothesis draws what the inspection holds and a batch (repeated items, unknown items, bad scores, notes too
    long, stale revisions, flags on N/A): the results, answers, history and audit events are the same."""
    _one_by_one_equals_at_once(sqlite_app, sqlite_app.test_client())
    with Session(sqlite_app.extensions["engine"]) as session:
        assert verify(session).intact


def test_racing_batches_of_first_answers_are_applied_one_on_top_of_the_other(app, client):
    """Two category saves of the same unanswered items at the same moment (two tablets, the plain form): neither
    fails; each item ends at revision 2 with a history that chains 1 → 2, whichever engine."""
    inspection_id = _fresh(app, client)
    gate = threading.Barrier(2)
    failures = []

    def save(note):
        try:
            gate.wait(10)
            # as the form's category save: a request's write session (SQLite's writers queue at its gate)
            with write_session(app.extensions["engine"]) as session:
                inspection = session.get(Inspection, inspection_id)
                user = session.get(User, inspection.inspector_id)
                results = save_answers(session=session, user=user, inspection=inspection,
                                       changes=[AnswerInput(item_key=key, value=2, note=note) for key in KEYS])
                assert not [r for r in results if isinstance(r, InspectionError)], results
        except Exception as exc:  # noqa: BLE001 (reported below, from the test's thread)
            failures.append(exc)

    threads = [threading.Thread(target=save, args=(note,)) for note in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    with Session(app.extensions["engine"]) as session:
        answers, history, _events = _record(session, inspection_id, 0)
        assert [revision for *_, revision in answers] == [2] * len(KEYS)
        by_item = {}
        for item_id, outcome, _old, _new, old_note, new_note, *_flags, revision in history:
            by_item.setdefault(item_id, []).append((outcome, old_note, new_note, revision))
        for steps in by_item.values():
            (first, second) = steps
            assert (first[0], first[3], second[0], second[3]) == ("applied", 1, "applied", 2)
            assert first[1] is None and second[1] == first[2]  # the second saw the first's note
        assert verify(session).intact


def test_the_plain_form_saves_a_category_with_its_photo_and_names_a_bad_score_keeping_the_rest(app, client):
    """Without JavaScript one form saves the category: the valid answers and the photo are kept, the item whose
    score is not one names its error on the page shown again (422), and an unknown category is a 404."""
    import io
    import re

    from inspections.models import Photo
    from tests.test_photos import jpeg_bytes

    inspection_id = _fresh(app, client)
    response = client.post(f"/inspections/{inspection_id}/categories/sort", content_type="multipart/form-data", data={
        "score-sort-01": "3", "score-sort-02": "x9", "score-sort-03": "1", "note-sort-03": "地面油污",
        "photo-sort-03": (io.BytesIO(jpeg_bytes(width=64, height=48)), "油污.jpg")})
    assert response.status_code == 422
    item = re.search(r'data-item-code="sort-02".*?(?=data-item-code="sort-03")', response.text, re.S).group(0)
    assert re.search(r'<span class="state-error">[^<]*不适用', item)  # says which answers the item takes
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        keys = {i.id: i.key for c in inspection.version.categories for i in c.items}
        saved = {keys[a.item_id]: (a.score, a.note) for a in inspection.answers}
        assert saved == {"sort-01": (3, ""), "sort-03": (1, "地面油污")}
        photos = session.exec(select(Photo).where(Photo.inspection_id == inspection_id)).all()
        assert [keys[p.item_id] for p in photos] == ["sort-03"]
    assert client.post(f"/inspections/{inspection_id}/categories/no-such-category", data={}).status_code == 404
