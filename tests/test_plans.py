"""Inspection plans through the API, on SQLite and PostgreSQL: every state an occurrence goes through, what is
refused (naming the field), who may do what, and editing, pausing and resuming changing future occurrences only.

Days are Shanghai's: the clock is set at instants where UTC and Shanghai disagree on the date where it matters.
"""

from datetime import UTC, datetime

import pytest

from tests.helpers import answer_all_api, drawn_signature, token_headers
from tests.seed import PASSWORD

# Monday 30 November 2026 at 10:00 in Shanghai (02:00 UTC)
MON_1000 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
WEEKLY = {"workshop": "W1", "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-11-30",
          "window_days": 3}


@pytest.fixture
def headers(app):
    made = {}

    def of(username):
        if username not in made:
            made[username] = token_headers(app, username)
        return made[username]
    return of


def _occurrences(client, headers, **query):
    response = client.get("/api/v1/occurrences", headers=headers, query_string=query)
    assert response.status_code == 200, response.data
    return response.get_json()["occurrences"]


def _submit(client, headers, inspection_id):
    answer_all_api(client, headers, inspection_id)
    response = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers,
                           json={"signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 200, response.data


def test_a_weekly_plan_goes_due_done_upcoming_and_missed(client, headers, travel, auth):
    travel(MON_1000)
    manager, sup = headers("manager"), headers("sup1")
    response = client.post("/api/v1/plans", headers=manager, json=WEEKLY)
    assert response.status_code == 201, response.data
    plan = response.get_json()
    assert (plan["workshop"], plan["rrule"], plan["window_days"], plan["paused"]) == ("W1", "FREQ=WEEKLY;BYDAY=MO",
                                                                                        3, False)
    [now] = _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-11-30"})
    assert (now["state"], now["opens_on"], now["closes_on"], now["inspection"]) == ("due", "2026-11-30",
                                                                                      "2026-12-02", None)
    # the supervisor starts the inspection: in progress, still due until submitted
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    [now] = _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-11-30"})
    assert (now["state"], now["draft"]) == ("due", inspection)
    # submitted on Wednesday 2 December 23:30 in Shanghai (15:30 UTC): the last day of the window, on time
    travel(datetime(2026, 12, 2, 15, 30, tzinfo=UTC))
    _submit(client, sup, inspection)
    [done, following] = _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-12-07"})
    assert (done["state"], done["inspection"], done["on_time"], done["done_on"]) == ("done", inspection, True,
                                                                                     "2026-12-02")
    assert (following["opens_on"], following["state"]) == ("2026-12-07", "upcoming")
    # Thursday 10 December 00:30 in Shanghai (still the 9th in UTC): the window of the 7th closed yesterday
    travel(datetime(2026, 12, 9, 16, 30, tzinfo=UTC))
    [_done, missed] = _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-12-07"})
    assert missed["state"] == "missed"
    # the next inspection started now is an extra one: no window is open (late ones are not allowed)
    extra = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    states = [(o["opens_on"], o["state"], o["draft"]) for o in _occurrences(
        client, sup, **{"from": "2026-11-30", "to": "2026-12-14"})]
    assert states == [("2026-11-30", "done", None), ("2026-12-07", "missed", None), ("2026-12-14", "upcoming", None)]
    assert [o["state"] for o in _occurrences(client, sup, state="missed")] == ["missed"]
    # submitted, it is a surprise inspection: counted apart on the board, fulfilling nothing
    _submit(client, sup, extra)
    assert [o["state"] for o in _occurrences(client, sup, **{"from": "2026-12-07", "to": "2026-12-07"})] == ["missed"]
    auth.login("manager")
    board = client.get("/plants/P1/plan-board?from=2026-11-30").get_data(as_text=True)
    w1 = board.split('data-workshop="W1"', 1)[1].split("</tr>", 1)[0]
    assert 'data-extra="1"' in w1 and 'data-week="2026-12-07" data-state="missed"' in w1


def test_late_inspections_fulfil_an_overdue_occurrence_until_the_next_window(client, headers, travel):
    travel(MON_1000)
    manager, sup = headers("manager"), headers("sup1")
    assert client.post("/api/v1/plans", headers=manager,
                       json={**WEEKLY, "window_days": 2, "allow_late": True}).status_code == 201
    # Wednesday 2 December 00:01 in Shanghai (1 December 16:01 UTC): the window (Mon–Tue) closed a minute ago
    travel(datetime(2026, 12, 1, 16, 1, tzinfo=UTC))
    [late] = _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-11-30"})
    assert (late["state"], late["late_until"]) == ("overdue", "2026-12-06")
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    _submit(client, sup, inspection)
    [done] = _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-11-30"})
    assert (done["state"], done["inspection"], done["on_time"]) == ("done", inspection, False)
    # the figures: planned 1, done 1, on time 0
    from plans.recurrence import State, completion
    figures = completion([(State(done["state"]), done["on_time"])])
    assert (figures.completion_rate, figures.on_time_rate) == (1.0, 0.0)


def test_a_manager_skips_an_occurrence_with_a_reason_and_a_supervisor_may_not(client, headers, travel):
    travel(MON_1000)
    manager, sup = headers("manager"), headers("sup1")
    client.post("/api/v1/plans", headers=manager, json=WEEKLY)
    [following] = _occurrences(client, sup, **{"from": "2026-12-07", "to": "2026-12-07"})
    url = f"/api/v1/occurrences/{following['id']}/skip"
    assert client.post(url, headers=sup, json={"reason": "停产检修"}).status_code == 403
    response = client.post(url, headers=manager, json={"reason": ""})
    assert response.status_code == 422 and response.get_json()["field"] == "reason"
    response = client.post(url, headers=manager, json={"reason": "停产检修", "until": "x"})
    assert response.status_code == 422 and response.get_json()["items"] == ["until"]
    response = client.post(url, headers=manager, json={"reason": "停产检修"})
    assert response.status_code == 200 and response.get_json()["state"] == "skipped"
    assert response.get_json()["skip"]["reason"] == "停产检修"
    # a done occurrence cannot be skipped
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
    _submit(client, sup, inspection)
    [done] = _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-11-30"})
    response = client.post(f"/api/v1/occurrences/{done['id']}/skip", headers=manager, json={"reason": "x"})
    assert response.status_code == 409
    for unknown in ("1-1-20261301", "999-1-20261130", "x", f"{done['plan']}-3-20261130"):
        assert client.post(f"/api/v1/occurrences/{unknown}/skip", headers=manager,
                           json={"reason": "x"}).status_code == 404


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"rrule": "FREQ=HOURLY"}, "rrule", "frequency"),
    ({"rrule": "every monday"}, "rrule", "unreadable"),
    ({"rrule": ""}, "rrule", "required"),
    ({"window_days": 8}, "window_days", "window_too_long"),
    ({"window_days": 0}, "window_days", "window_range"),
    ({"window_days": "3"}, "window_days", "bad_window_days"),  # the wrong type: refused by the model
    ({"inspectors": ["sup2"]}, "inspectors", "inspector_outside"),
    ({"inspectors": ["nobody"]}, "inspectors", "unknown_inspector"),
    ({"checklist": "nope"}, "checklist", "unknown_checklist"),
    ({"starts_on": "2026-13-01"}, "starts_on", "starts_on"),
    ({"workshop": "W9"}, "workshop", "unknown_workshop"),
    ({"workshop": None}, "workshop", "place_required"),
    ({"every": "week"}, "every", "unknown_field"),
])
def test_what_a_plan_cannot_be_is_refused_naming_the_field(client, headers, travel, change, field, code):
    travel(MON_1000)
    body = {k: v for k, v in {**WEEKLY, **change}.items() if v is not None}
    response = client.post("/api/v1/plans", headers=headers("manager"), json=body)
    assert response.status_code == 422, response.data
    assert (response.get_json()["field"], response.get_json()["code"]) == (field, code)
    assert client.get("/api/v1/plans", headers=headers("manager")).get_json()["plans"] == []


def test_who_may_plan(client, headers, travel):
    travel(MON_1000)
    assert client.post("/api/v1/plans", headers=headers("sup1"), json=WEEKLY).status_code == 403
    # a supervisor of W1 is an inspector of W1; W3 is in another plant the supervisor does not see
    response = client.post("/api/v1/plans", headers=headers("manager"), json={**WEEKLY, "inspectors": ["sup1"]})
    assert response.status_code == 201 and response.get_json()["inspectors"] == ["sup1"]
    # the same checklist twice at a workshop would be fulfilled by one inspection
    response = client.post("/api/v1/plans", headers=headers("manager"),
                           json={**WEEKLY, "workshop": None, "plant": "P1"})
    assert response.status_code == 422 and response.get_json()["code"] == "overlapping_plan"
    # a plant's plan covers every workshop of it, seen by whoever sees one of them
    response = client.post("/api/v1/plans", headers=headers("manager"),
                           json={**WEEKLY, "workshop": None, "plant": "P2"})
    assert response.status_code == 201
    assert [p["plant"] for p in client.get("/api/v1/plans", headers=headers("sup1")).get_json()["plans"]] == ["P1"]
    auditor = client.get("/api/v1/occurrences", headers=headers("auditor"),
                         query_string={"from": "2026-11-30", "to": "2026-11-30"}).get_json()["occurrences"]
    assert sorted(o["workshop"] for o in auditor) == ["W1", "W3"]
    assert client.get("/api/v1/occurrences", headers=headers("sup1"), query_string={"workshop": "W3"}).status_code \
        == 404


def test_editing_pausing_and_resuming_change_future_occurrences_only(client, headers, travel):
    travel(MON_1000)
    manager, sup = headers("manager"), headers("sup1")
    plan = client.post("/api/v1/plans", headers=manager, json=WEEKLY).get_json()
    # Tuesday: from now on, Wednesdays with a one-day window; Monday's window stays as it was (3 days)
    travel(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    response = client.put(f"/api/v1/plans/{plan['id']}", headers=manager,
                          json={"rrule": "FREQ=WEEKLY;BYDAY=WE", "starts_on": "2026-11-30", "window_days": 1})
    assert response.status_code == 200, response.data
    assert [(v["valid_from"], v["valid_until"]) for v in response.get_json()["versions"]] == [
        ("2026-11-30", "2026-12-01"), ("2026-12-02", None)]
    windows = [(o["opens_on"], o["closes_on"]) for o in _occurrences(
        client, sup, **{"from": "2026-11-30", "to": "2026-12-10"})]
    assert windows == [("2026-11-30", "2026-12-02"), ("2026-12-02", "2026-12-02"), ("2026-12-09", "2026-12-09")]
    # a workshop's plan cannot move to another checklist or place through a change
    response = client.put(f"/api/v1/plans/{plan['id']}", headers=manager, json={**WEEKLY})
    assert response.status_code == 422 and set(response.get_json()["items"]) == {"workshop", "checklist"}
    # paused on Tuesday: nothing from Wednesday on; resumed the next Tuesday: Wednesdays again from then
    assert client.post(f"/api/v1/plans/{plan['id']}/pause", headers=manager).get_json()["paused"] is True
    assert [o["opens_on"] for o in _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-12-31"})] == [
        "2026-11-30"]
    travel(datetime(2026, 12, 8, 2, 0, tzinfo=UTC))
    assert client.post(f"/api/v1/plans/{plan['id']}/resume", headers=manager).get_json()["paused"] is False
    assert [o["opens_on"] for o in _occurrences(client, sup, **{"from": "2026-11-30", "to": "2026-12-17"})] == [
        "2026-11-30", "2026-12-09", "2026-12-16"]
    assert client.post(f"/api/v1/plans/{plan['id']}/pause", headers=sup).status_code == 403


def test_occurrence_queries_are_checked(client, headers, travel):
    travel(MON_1000)
    sup = headers("sup1")
    for query, field in ((({"from": "30/11/2026"}), "from"), ({"state": "late"}, "state"),
                         ({"from": "2026-01-01", "to": "2027-12-31"}, "from")):
        response = client.get("/api/v1/occurrences", headers=sup, query_string=query)
        assert response.status_code == 422 and response.get_json()["items"][0] == field


def test_a_budapest_plant_keeps_its_days_across_the_spring_change(app, client, headers, travel):
    """P2 (W3) on Europe/Budapest: clocks go forward on Sunday 29 March 2026. A weekly Monday plan's window is the
    plant's Monday, whichever UTC date that starts on; an inspection at 00:30 on Monday 30 March in Budapest
    (22:30 UTC on the 29th) fulfils the window of the 30th, and one at 23:30 on Sunday the 5th of April (21:30 UTC)
    does not fulfil the window opening on the 6th."""
    from sqlmodel import Session, select

    from accounts.models import Plant
    with Session(app.extensions["engine"]) as session:
        session.exec(select(Plant).where(Plant.code == "P2")).one().timezone = "Europe/Budapest"
        session.commit()
    travel(datetime(2026, 3, 23, 8, 0, tzinfo=UTC))
    manager = headers("manager")
    assert client.post("/api/v1/plans", headers=manager, json={**WEEKLY, "workshop": "W3", "starts_on": "2026-03-23",
                                                               "window_days": 1}).status_code == 201
    inspector = manager  # W3's inspector here (the plant's manager)
    travel(datetime(2026, 3, 29, 22, 30, tzinfo=UTC))
    first = client.post("/api/v1/workshops/W3/inspections", headers=inspector).get_json()["id"]
    _submit(client, inspector, first)
    travel(datetime(2026, 4, 5, 21, 30, tzinfo=UTC))
    early = client.post("/api/v1/workshops/W3/inspections", headers=inspector).get_json()["id"]
    _submit(client, inspector, early)
    travel(datetime(2026, 4, 7, 8, 0, tzinfo=UTC))
    found = {o["opens_on"]: o for o in _occurrences(client, manager, workshop="W3",
                                                    **{"from": "2026-03-23", "to": "2026-04-06"})}
    assert [(day, o["state"], o["inspection"]) for day, o in sorted(found.items())] == [
        ("2026-03-23", "missed", None), ("2026-03-30", "done", first), ("2026-04-06", "missed", None)]


def test_a_workshop_added_later_counts_from_the_day_it_was_added(app, client, headers, auth, travel):
    travel(MON_1000)
    manager = headers("manager")
    assert client.post("/api/v1/plans", headers=manager, json={**WEEKLY, "workshop": None, "plant": "P1"}
                       ).status_code == 201
    travel(datetime(2026, 12, 16, 2, 0, tzinfo=UTC))  # Wednesday the 16th: the admin adds a workshop
    auth.login("admin")
    from sqlmodel import Session, select

    from accounts.models import Plant
    with Session(app.extensions["engine"]) as session:
        plant_id = session.exec(select(Plant.id).where(Plant.code == "P1")).one()
    assert client.post(f"/admin/plants/{plant_id}/workshops", data={"code": "W9", "name": "九号车间"}
                       ).status_code == 303
    travel(datetime(2026, 12, 22, 2, 0, tzinfo=UTC))
    found = _occurrences(client, manager, plant="P1", **{"from": "2026-11-30", "to": "2026-12-21"})
    by_workshop = {}
    for o in found:
        by_workshop.setdefault(o["workshop"], []).append((o["opens_on"], o["state"]))
    assert by_workshop["W9"] == [("2026-12-21", "due")]  # not missed for the weeks before it existed
    assert [day for day, _state in by_workshop["W1"]] == ["2026-11-30", "2026-12-07", "2026-12-14", "2026-12-21"]
