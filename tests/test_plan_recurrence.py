"""The pure maths of inspection plans (plans/recurrence.py): occurrences, windows, states, fulfilment, figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from plans.recurrence import (
    MAX_WINDOW_DAYS,
    PlanError,
    State,
    completion,
    parse_recurrence,
    state_of,
    window_around,
    windows,
)

RULES = {
    "FREQ=DAILY": 1,
    "FREQ=WEEKLY;BYDAY=MO": 7,
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO": 14,
    "FREQ=WEEKLY;BYDAY=MO,TH": 3,
    "FREQ=MONTHLY;BYDAY=1TU": 28,
    "FREQ=MONTHLY;BYMONTHDAY=-1": 28,  # the last day of every month
    "FREQ=MONTHLY;BYMONTHDAY=31": 31,  # only months that have a 31st
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29": 366,  # leap days only
}
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))
rules = st.sampled_from(sorted(RULES))


@st.composite
def plans(draw):
    rule = draw(rules)
    starts_on = draw(days)
    window = draw(st.integers(min_value=1, max_value=min(RULES[rule], MAX_WINDOW_DAYS)))
    return parse_recurrence(rule, starts_on, window)


def test_the_usual_programmes():
    weekly = parse_recurrence("FREQ=WEEKLY;BYDAY=MO", date(2026, 11, 25), 3)  # a Wednesday: first Monday is 30th
    assert [(w.opens_on, w.closes_on) for w in windows(weekly, date(2026, 11, 1), date(2026, 12, 15))] == [
        (date(2026, 11, 30), date(2026, 12, 2)), (date(2026, 12, 7), date(2026, 12, 9)),
        (date(2026, 12, 14), date(2026, 12, 16))]
    first_tuesdays = parse_recurrence("rrule:freq=monthly;byday=1tu", date(2026, 1, 1), 5)
    assert [w.opens_on for w in windows(first_tuesdays, date(2026, 10, 1), date(2027, 2, 28))] == [
        date(2026, 10, 6), date(2026, 11, 3), date(2026, 12, 1), date(2027, 1, 5), date(2027, 2, 2)]
    fortnightly = parse_recurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", date(2026, 12, 28), 7)
    assert [w.opens_on for w in windows(fortnightly, date(2026, 12, 1), date(2027, 2, 1))] == [
        date(2026, 12, 28), date(2027, 1, 11), date(2027, 1, 25)]  # across the year end


@pytest.mark.parametrize(("rule", "window", "field", "says"), [
    ("", 3, "rrule", "required"),
    ("FREQ=FORTNIGHTLY", 3, "rrule", "cannot be read"),
    ("FREQ=HOURLY", 1, "rrule", "daily, weekly, monthly or yearly"),
    ("FREQ=DAILY;BYHOUR=9", 1, "rrule", "not a recurrence of days"),
    ("DTSTART:20260101\nRRULE:FREQ=DAILY", 1, "rrule", "not a recurrence of days"),
    ("FREQ=WEEKLY;BYDAY=MO", 0, "window_days", "1 to"),
    ("FREQ=WEEKLY;BYDAY=MO", MAX_WINDOW_DAYS + 1, "window_days", "1 to"),
    ("FREQ=WEEKLY;BYDAY=MO", 8, "window_days", "longer than the time between two inspections (7 days)"),
    ("FREQ=WEEKLY;BYDAY=MO,TH", 4, "window_days", "(3 days)"),
    ("FREQ=DAILY;COUNT=0", 1, "rrule", "never falls on a day"),
])
def test_a_plan_the_app_cannot_follow_is_refused_naming_the_field(rule, window, field, says):
    with pytest.raises(PlanError, match=says.replace("(", r"\(").replace(")", r"\)")) as refused:
        parse_recurrence(rule, date(2026, 12, 5), window)
    assert refused.value.field == field


@settings(max_examples=150, deadline=None)
@given(plans(), days, st.integers(min_value=0, max_value=800), st.integers(min_value=0, max_value=800))
def test_no_occurrence_is_lost_or_doubled_wherever_a_period_is_cut(plan, start, cut, length):
    """Month ends, year ends, leap days: the windows of [start, end] are those of [start, cut] and of
    (cut, end], each once, in order, and they never overlap."""
    end = start + timedelta(days=length)
    middle = start + timedelta(days=min(cut, length))
    whole = windows(plan, start, end)
    assert whole == windows(plan, start, middle) + windows(plan, middle + timedelta(days=1), end)
    assert len({w.opens_on for w in whole}) == len(whole)
    for earlier, later in zip(whole, whole[1:], strict=False):
        assert earlier.closes_on < later.opens_on and earlier.next_opens_on == later.opens_on
    assert all(w.opens_on >= plan.starts_on for w in whole)


@settings(max_examples=150, deadline=None)
@given(plans(), st.integers(min_value=0, max_value=400), st.booleans())
def test_an_inspection_fulfils_at_most_one_window_and_the_right_one(plan, offset, allow_late):
    day = plan.starts_on + timedelta(days=offset)
    found = window_around(plan, day, allow_late)
    around = windows(plan, day - timedelta(days=400), day)
    if found is None:
        assert not any(w.holds(day) for w in around)
        if allow_late:
            assert not around  # with late inspections allowed, every day after the first window belongs to one
        return
    assert found in around or found.opens_on == day
    if not found.holds(day):
        assert allow_late and found.closes_on < day and (found.next_opens_on is None or day < found.next_opens_on)


@settings(max_examples=100, deadline=None)
@given(plans(), st.integers(min_value=0, max_value=400), st.booleans())
def test_a_window_goes_upcoming_due_then_overdue_or_missed_in_that_order(plan, offset, allow_late):
    (window, *_rest) = windows(plan, plan.starts_on, plan.starts_on + timedelta(days=800)) or [None]
    assume(window is not None)
    order = [State.upcoming, State.due, State.overdue, State.missed]
    seen = [state_of(window, window.opens_on + timedelta(days=d - 3), allow_late=allow_late)
            for d in range(0, offset + 4)]
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)
    assert State.overdue not in seen or allow_late
    assert state_of(window, window.opens_on + timedelta(days=offset), fulfilled_on=window.opens_on) == State.done
    assert state_of(window, window.opens_on, skipped=True) == State.skipped


def test_a_daily_plan_across_a_daylight_saving_change_is_one_window_a_day():
    # plant days are dates: the night the clocks go back in Los Angeles (2026-11-01) is still one day
    daily = parse_recurrence("FREQ=DAILY", date(2026, 10, 25), 1)
    opened = [w.opens_on for w in windows(daily, date(2026, 10, 30), date(2026, 11, 3))]
    assert opened == [date(2026, 10, 30) + timedelta(days=n) for n in range(5)]


@given(st.lists(st.tuples(st.sampled_from(list(State)), st.booleans()), max_size=60))
def test_completion_figures_stay_between_nothing_and_everything(outcomes):
    figures = completion(outcomes)
    assert figures.on_time <= figures.done <= figures.planned
    if figures.planned:
        assert 0 <= figures.on_time_rate <= figures.completion_rate <= 1
    else:
        assert figures.completion_rate is None and figures.on_time_rate is None
    assert figures.planned == sum(s in (State.done, State.missed, State.overdue) for s, _ in outcomes)


def test_completion_counts_what_was_planned_not_what_was_skipped_or_still_open():
    figures = completion([(State.done, True), (State.done, False), (State.missed, False), (State.skipped, False),
                          (State.due, False), (State.upcoming, False), (State.overdue, False)])
    assert (figures.planned, figures.done, figures.on_time) == (4, 2, 1)
    assert figures.completion_rate == 0.5 and figures.on_time_rate == 0.25
