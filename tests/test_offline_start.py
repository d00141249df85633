"""Starts made on a tablet (#37): the device's key makes a start once however often it arrives, the version the
device held is kept when a newer one was published meanwhile, the device's clock is kept beside the arrival and
believed only within the server's bounds; what cannot be accepted is refused with its reason and field."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

from accounts.models import User, UserWorkshop, Workshop
from inspections.device_start import CLOCK_MARGIN, RETIRED_GRACE, believed_start, retired_version_startable
from inspections.models import Inspection
from tests.conftest import AuthActions

AT = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def offline_start(client, key, workshop="W1", **fields):
    return client.post(f"/workshops/{workshop}/inspections", headers={"X-Change-Key": key},
                       data={"checklist": "standard-6s", **fields})


def inspections(app) -> list[Inspection]:
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(Inspection).options(selectinload(Inspection.version))
                                 .order_by(Inspection.id)).all())


def publish_next_version(client) -> None:
    AuthActions(client).login("manager")
    assert client.post("/checklists/standard-6s/edit").status_code in (302, 303)
    assert client.post("/checklists/standard-6s/v3/publish",
                       data={"change_note": "措辞", "acknowledge": "yes"}).status_code == 303
    AuthActions(client).login("sup1")


def test_the_same_start_sent_again_is_one_inspection_and_the_device_clock_is_kept(app, client, travel):
    travel(AT)
    AuthActions(client).login("sup1")
    tapped = (AT - timedelta(hours=2)).isoformat()  # started offline two hours ago
    first = offline_start(client, "k" * 20 + "start-one", version="2", device_started_at=tapped)
    assert first.status_code == 201 and first.headers["Location"].startswith("/inspections/")
    for _ in range(3):  # the reply was lost: the tablet sends it again; a double tap
        again = offline_start(client, "k" * 20 + "start-one", version="2", device_started_at=tapped)
        assert again.status_code == 201 and again.headers["Location"] == first.headers["Location"]
    (inspection,) = inspections(app)
    assert inspection.client_key == "k" * 20 + "start-one" and inspection.version.number == 2
    assert inspection.started_at.replace(tzinfo=UTC) == AT - timedelta(hours=2)  # the device's time, believed
    assert inspection.device_started_at.replace(tzinfo=UTC) == AT - timedelta(hours=2)
    assert inspection.received_at.replace(tzinfo=UTC) - AT < timedelta(seconds=30)
    assert not inspection.device_clock_doubted
    # a plain form (no key) is an ordinary start, as before
    plain = client.post("/workshops/W1/inspections", data={"checklist": "standard-6s"})
    assert plain.status_code == 303 and len(inspections(app)) == 2


def test_the_version_held_on_the_device_is_kept_when_a_newer_one_came_out_meanwhile(app, client, travel):
    travel(AT)
    AuthActions(client).login("sup1")
    tapped = (AT - timedelta(minutes=30)).isoformat()
    travel(AT + timedelta(minutes=10))
    publish_next_version(client)  # v3 published 40 minutes after the tablet started on v2
    travel(AT + timedelta(hours=1))
    kept = offline_start(client, "device-start-kept-v2", version="2", device_started_at=tapped)
    assert kept.status_code == 201
    assert inspections(app)[-1].version.number == 2  # the version it was filled against, forever
    # a start the device says it made after v3 came out, still on v2: refused, with the reason and the field
    late = offline_start(client, "device-start-late-v2", version="2",
                         device_started_at=(AT + timedelta(minutes=50)).isoformat())
    assert late.status_code == 409 and "version" in late.text and "替换" in late.text
    # a version never published
    assert offline_start(client, "device-start-never-v9", version="9").status_code == 422
    assert len(inspections(app)) == 1


def test_a_clock_the_server_cannot_believe_counts_from_the_arrival_and_is_marked(app, client, travel):
    travel(AT)
    AuthActions(client).login("sup1")
    ahead = offline_start(client, "device-clock-ahead-01", version="2",
                          device_started_at=(AT + timedelta(hours=7)).isoformat())  # a clock hours ahead
    assert ahead.status_code == 201  # refused for nothing
    behind = offline_start(client, "device-clock-behind-1", version="2",
                           device_started_at="2019-03-01T08:00:00+08:00")  # before the version existed
    assert behind.status_code == 201
    for inspection in inspections(app):
        assert inspection.device_clock_doubted
        assert abs(inspection.started_at.replace(tzinfo=UTC) - AT) < timedelta(seconds=30)  # the arrival
    assert {i.device_started_at.replace(tzinfo=UTC) for i in inspections(app)} == {
        AT + timedelta(hours=7), datetime(2019, 3, 1, 0, 0, tzinfo=UTC)}


def test_what_cannot_be_accepted_is_refused_naming_the_field_and_nothing_is_made(app, client):
    AuthActions(client).login("sup1")
    short = offline_start(client, "short")
    assert short.status_code == 422 and "client_key" in short.text
    bad_time = offline_start(client, "device-start-bad-time", device_started_at="明天早上")
    assert bad_time.status_code == 422 and "device_started_at" in bad_time.text
    naive = offline_start(client, "device-start-naive-tm", device_started_at="2026-12-02T09:30:00")
    assert naive.status_code == 422 and "device_started_at" in naive.text
    bad_version = offline_start(client, "device-start-bad-vers", version="v2")
    assert bad_version.status_code == 422 and "version" in bad_version.text
    assert inspections(app) == []
    # a key that started someone else's inspection is theirs
    assert offline_start(client, "device-start-of-sup1x").status_code == 201
    AuthActions(client).login("manager")
    taken = offline_start(client, "device-start-of-sup1x")
    assert taken.status_code == 409 and "client_key" in taken.text
    assert len(inspections(app)) == 1


def test_a_start_from_a_workshop_taken_out_of_the_users_scope_meanwhile_is_refused(app, client):
    AuthActions(client).login("sup1")
    with Session(app.extensions["engine"]) as session:
        sup1 = session.exec(select(User).where(User.username == "sup1")).one()
        w1 = session.exec(select(Workshop).where(Workshop.code == "W1")).one()
        session.delete(session.get(UserWorkshop, (sup1.id, w1.id)))
        session.commit()
    refused = offline_start(client, "device-start-scope-gone")
    assert refused.status_code in (403, 404)
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(func.count()).select_from(Inspection)).one() == 0


BLANK = "/workshops/W1/checklists/standard-6s/v2/form"


def test_the_blank_form_a_device_keeps_is_the_form_page_with_every_category_and_no_answers(sqlite_app):
    """The page a tablet fills offline: the draft form's DOM (rows, score inputs, notes, photos, N/A, the version's
    rules for the score so far), every category on it, addressed to the placeholder inspection 0 that the tablet
    replaces once the server has made the start."""
    import re

    client = sqlite_app.test_client()
    AuthActions(client).login("sup1")
    page = client.get(BLANK)
    assert page.status_code == 200
    html = page.text
    assert html.count('class="item" id="item-') == 105 and html.count("data-category-panel=") == 7
    assert html.count('data-save-url="/inspections/0/answers/') == 105
    assert html.count('data-upload-url="/inspections/0/photos/') == 105
    assert " checked" not in html and "state-saved" not in html  # nothing answered
    assert 'data-answers="{}"' in html and 'id="device-rules"' in html
    shown = re.findall(r'data-category-panel="([\w-]+)"( hidden)?', html)
    assert shown[:2] == [("sort", ""), ("set-in-order", " hidden")]  # one category at a time, 整理 first
    assert 'data-workshop="W1" data-checklist="standard-6s" data-version="2"' in html
    assert inspections(sqlite_app) == []  # showing it makes nothing


def test_the_blank_form_is_for_a_version_on_offer_to_someone_who_may_inspect_the_workshop(sqlite_app):
    client = sqlite_app.test_client()
    AuthActions(client).login("sup1")
    assert client.get("/workshops/W1/checklists/standard-6s/v1/form").status_code == 404  # not on offer now
    assert client.get("/workshops/W1/checklists/no-such-sheet/v2/form").status_code == 404
    assert client.get("/workshops/W2/checklists/standard-6s/v2/form").status_code == 404  # not sup1's workshop
    AuthActions(client).login("auditor")  # sees every workshop, inspects none
    assert client.get(BLANK).status_code == 403
    client.post("/logout")
    assert client.get(BLANK).status_code in (302, 401)


def test_the_blank_form_of_a_start_the_server_has_made_leads_to_that_inspection(sqlite_app):
    """A tablet that reopens the form of its offline start once the start went through gets the real inspection;
    someone else's key leads nowhere."""
    client = sqlite_app.test_client()
    AuthActions(client).login("sup1")
    assert offline_start(client, "device-start-made-123", version="2").status_code == 201
    (made,) = inspections(sqlite_app)
    moved = client.get(f"{BLANK}?device=device-start-made-123")
    assert moved.status_code == 303 and moved.headers["Location"].endswith(f"/inspections/{made.id}")
    assert client.get(f"{BLANK}?device=device-start-other-12").status_code == 200  # not made yet: the blank form
    AuthActions(client).login("manager")
    assert client.get(f"{BLANK}?device=device-start-made-123").status_code == 200  # sup1's start, not the manager's


MOMENTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))


@given(device_at=MOMENTS, received=MOMENTS, published=MOMENTS)
def test_a_believed_time_lies_between_the_publication_and_the_arrival(device_at, received, published):
    believed = believed_start(device_at, received, published)
    if believed is None:
        assert device_at > received + CLOCK_MARGIN or device_at < published - CLOCK_MARGIN
    else:
        assert published - CLOCK_MARGIN <= believed <= received and believed <= device_at


@given(retired=MOMENTS, believed=st.none() | MOMENTS, received=MOMENTS)
def test_a_retired_version_is_startable_only_when_it_was_current_at_the_start(retired, believed, received):
    allowed = retired_version_startable(retired, believed, received)
    if believed is not None:
        assert allowed == (believed <= retired)
    else:
        assert allowed == (retired >= received - RETIRED_GRACE)
    assert retired_version_startable(None, believed, received)


@pytest.mark.parametrize("missing", [None])
def test_no_device_time_means_the_arrival(missing):
    assert believed_start(missing, datetime(2026, 1, 1, tzinfo=UTC), None) is None
