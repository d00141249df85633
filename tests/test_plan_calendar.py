"""Each user's plan occurrences as a calendar feed at a secret address: parsed back with icalendar, revocable,
dead for a disabled account. SQLite and PostgreSQL."""

from datetime import UTC, date, datetime

from icalendar import Calendar

from tests.helpers import token_headers

MON_1000 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
WEEKLY = {"workshop": "W1", "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-11-30",
          "window_days": 3, "inspectors": ["sup1"]}


def _address(page: str) -> str:
    return page.split("data-calendar-address", 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]


def test_the_feed_lists_my_occurrences_and_can_be_revoked(app, client, auth, travel):
    travel(MON_1000)
    manager = token_headers(app, "manager")
    assert client.post("/api/v1/plans", headers=manager, json=WEEKLY).status_code == 201
    auth.login("sup1")
    page = client.post("/plans/calendar").get_data(as_text=True)
    address = _address(page)
    path = address.split("://", 1)[1].split("/", 1)[1]
    auth.logout()

    anonymous = app.test_client()
    response = anonymous.get("/" + path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "private, no-store"
    calendar = Calendar.from_ical(response.data)
    events = [e for e in calendar.walk("VEVENT")]
    starts = [e.decoded("dtstart") for e in events]
    assert starts[0] == date(2026, 11, 30) and date(2026, 12, 7) in starts and len(starts) == 14  # 1 + 13 weeks
    first = events[0]
    assert first.decoded("dtend") == date(2026, 12, 3)  # the window's last day is the 2nd: the end is exclusive
    assert "一号车间" in str(first["summary"]) and "待检" in str(first["summary"])
    assert str(first["status"]) == "CONFIRMED" and str(first["uid"]).startswith("1-1-20261130@")
    assert "/occurrences/1-1-20261130" in str(first["url"])

    # a skip shows as a cancelled event
    occurrence = "1-1-20261207"
    assert app.test_client().post(f"/api/v1/occurrences/{occurrence}/skip", headers=manager,
                                  json={"reason": "停产检修"}).status_code == 200
    events = Calendar.from_ical(anonymous.get("/" + path).data).walk("VEVENT")
    skipped = next(e for e in events if e.decoded("dtstart") == date(2026, 12, 7))
    assert str(skipped["status"]) == "CANCELLED" and "停产检修" in str(skipped["description"])

    # another user does not see sup1's plan (named inspectors only): sup2's feed is empty
    auth.login("sup2")
    other = _address(client.post("/plans/calendar").get_data(as_text=True))
    assert Calendar.from_ical(anonymous.get("/" + other.split("/", 3)[3]).data).walk("VEVENT") == []
    auth.logout()

    # a new address replaces the old one; revoking ends it
    auth.login("sup1")
    newer = _address(client.post("/plans/calendar").get_data(as_text=True))
    assert anonymous.get("/" + path).status_code == 404
    assert anonymous.get("/" + newer.split("/", 3)[3]).status_code == 200
    assert client.post("/plans/calendar/revoke").status_code == 303
    assert anonymous.get("/" + newer.split("/", 3)[3]).status_code == 404
    assert anonymous.get("/calendar/x.ics").status_code == 404


def test_a_disabled_account_s_feed_stops(app, client, auth, travel):
    travel(MON_1000)
    auth.login("sup1")
    address = _address(client.post("/plans/calendar").get_data(as_text=True))
    auth.logout()
    from sqlmodel import Session, select

    from accounts.models import User
    with Session(app.extensions["engine"]) as session:
        user = session.exec(select(User).where(User.username == "sup1")).one()
        user.active = False
        session.commit()
    assert app.test_client().get("/" + address.split("/", 3)[3]).status_code == 404
