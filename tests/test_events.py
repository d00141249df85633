"""events.py: the domain's news, and how a handler's failure is felt (#36). A findings handler must succeed with
the submit (it raises: nothing is submitted); a report handler runs on its own (it raises: the submit stands, and
everything else that reacts still does)."""

import logging

import pytest
from sqlmodel import Session, func, select

import events
import tasks
from actions.models import Finding
from inspections.models import Inspection, InspectionStatus
from tests.helpers import answer_all, published_items, start, submit


def test_every_event_says_who_sends_it_and_how_its_handlers_run():
    for event in events.ALL:
        assert len(event.__doc__) > 120 and "Sent by" in event.__doc__ and "Handled by" in event.__doc__, event.name
        assert ("Must succeed" in event.__doc__) == event.must_succeed, event.name


def test_a_required_event_with_nobody_listening_refuses_to_be_sent():
    lonely = events.Event("nobody-listens", "A test's own event.", must_succeed=True, required=True)
    with pytest.raises(RuntimeError, match="nothing is connected"):
        lonely.send(None)


def _answered(client, auth, app):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all(client, inspection_id, published_items(app), score_for=lambda i, item: 1 if i < 3 else 4)
    return inspection_id


def _state(app, inspection_id):
    with Session(app.extensions["engine"]) as session:
        status = session.get(Inspection, inspection_id).status
        findings = session.exec(select(func.count()).select_from(Finding)
                                .where(Finding.inspection_id == inspection_id)).one()
        runs = session.exec(select(func.count()).select_from(tasks.TaskRun)
                            .where(tasks.TaskRun.key == f"inspection:{inspection_id}")).one()
    return status, findings, runs


def test_a_failing_findings_handler_undoes_the_submit(app, client, auth):
    inspection_id = _answered(client, auth, app)

    def broken(*, session, inspection, today):
        raise RuntimeError("the findings could not be recorded")

    events.findings_due.connect(broken)
    try:
        with pytest.raises(RuntimeError, match="could not be recorded"):
            submit(client, inspection_id)
    finally:
        events.findings_due.disconnect(broken)
    assert _state(app, inspection_id) == (InspectionStatus.draft, 0, 0)  # nothing of the submit is left
    assert submit(client, inspection_id).status_code == 303  # and it goes through once the handler is fixed
    assert _state(app, inspection_id) == (InspectionStatus.submitted, 3, 1)


def test_a_failing_report_handler_does_not_undo_the_submit(app, client, auth, caplog):
    inspection_id = _answered(client, auth, app)
    calls = []

    def broken(*, session, inspection):
        calls.append(inspection.id)
        session.add(tasks.TaskRun(key="half-written", name="x"))
        session.flush()
        raise RuntimeError("the report queue is on fire")

    events.record_changed.connect(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="events"):
            assert submit(client, inspection_id).status_code == 303
    finally:
        events.record_changed.disconnect(broken)
    assert calls and set(calls) == {inspection_id}  # sent by the signature and by the submit itself
    assert "the report queue is on fire" in caplog.text and "record-changed" in caplog.text
    # submitted with its findings, and the real report handler still asked for the reports
    assert _state(app, inspection_id) == (InspectionStatus.submitted, 3, 1)
    with Session(app.extensions["engine"]) as session:  # what the failing handler wrote was rolled back alone
        assert session.exec(select(tasks.TaskRun).where(tasks.TaskRun.key == "half-written")).first() is None


def test_the_news_is_delivered_with_the_change_or_the_change_is_undone(app, client, auth):
    """events.announced must succeed: the webhook deliveries are an outbox written in the change's transaction, so
    a submit whose news cannot be written is no submit (and nothing is half-announced)."""
    from webhooks.models import WebhookDelivery
    from webhooks.service import create_endpoint

    with Session(app.extensions["engine"]) as session:
        from accounts.models import Plant, User

        admin = session.exec(select(User).where(User.username == "admin")).one()
        plant = session.exec(select(Plant).where(Plant.code == "P1")).one()
        create_endpoint(session=session, actor=admin, plant=plant, url="http://127.0.0.1:9/hooks",
                        events=["inspection.submitted", "finding.created"])
        session.commit()
    inspection_id = _answered(client, auth, app)

    def broken(*, session, news):
        raise RuntimeError("the news could not be written")

    events.announced.connect(broken)
    try:
        with pytest.raises(RuntimeError, match="could not be written"):
            submit(client, inspection_id)
    finally:
        events.announced.disconnect(broken)
    assert _state(app, inspection_id) == (InspectionStatus.draft, 0, 0)
    assert submit(client, inspection_id).status_code == 303
    with Session(app.extensions["engine"]) as session:
        told = sorted(d.event for d in session.exec(select(WebhookDelivery)))
    assert told == ["finding.created"] * 3 + ["inspection.submitted"]  # each finding, then the submit


def test_news_of_an_unknown_kind_is_refused_by_name(app):
    with Session(app.extensions["engine"]) as session, pytest.raises(ValueError, match="'inspection.sumbitted'"):
        events.announce(session, events.News(1, "inspection.sumbitted", {}))
