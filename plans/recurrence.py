"""The maths of a plan, pure: when inspections fall due, each one's window, its state on a given day, which window an
inspection started on a given day fulfils, and the completion figures. Days are the plant's calendar days (dates,
never instants), so a plant's daylight-saving changes cannot add or drop an occurrence.

A plan's recurrence is an RFC 5545 RRULE read by python-dateutil (weekly on Monday: ``FREQ=WEEKLY;BYDAY=MO``; every
two weeks: ``FREQ=WEEKLY;INTERVAL=2;BYDAY=MO``; monthly on the first Tuesday: ``FREQ=MONTHLY;BYDAY=1TU``; daily:
``FREQ=DAILY``), starting on a day. Each occurrence opens a window of ``window_days`` days (the day itself first).
After the window an inspection is still possible if the plan allows late ones, until the next window opens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrulestr

MAX_WINDOW_DAYS = 92
ALLOWED_FREQUENCIES = {DAILY: "DAILY", WEEKLY: "WEEKLY", MONTHLY: "MONTHLY", YEARLY: "YEARLY"}
_FORBIDDEN_PARTS = re.compile(r"\b(BYHOUR|BYMINUTE|BYSECOND|DTSTART|BYSETPOS=0)\b", re.IGNORECASE)
_GAP_SAMPLE = 60  # occurrences looked at for the shortest gap between two (every pattern of the rules repeats within)


class PlanError(ValueError):
    """A plan the app cannot use: `field` names the field, the message says why (English; screens translate)."""

    def __init__(self, field: str, message: str, code: str = "invalid", **params):
        super().__init__(message)
        self.field, self.code, self.params = field, code, params


class State(StrEnum):
    upcoming = "upcoming"  # its window has not opened
    due = "due"  # inside its window
    overdue = "overdue"  # after its window, still possible (late inspections allowed, next window not open)
    missed = "missed"  # its window is over and nothing fulfilled it
    done = "done"  # an inspection fulfilled it
    skipped = "skipped"  # a manager skipped it (with a reason)


@dataclass(frozen=True)
class Recurrence:
    rule: str  # the RRULE as given, upper-cased, without "RRULE:"
    starts_on: date
    window_days: int

    def _rule(self):
        return rrulestr(self.rule, dtstart=datetime(self.starts_on.year, self.starts_on.month, self.starts_on.day))


@dataclass(frozen=True)
class Window:
    opens_on: date  # the occurrence's day
    closes_on: date  # the last day inside the window
    next_opens_on: date | None  # the next occurrence's day (None after the last one)

    def holds(self, day: date) -> bool:
        return self.opens_on <= day <= self.closes_on


def parse_recurrence(rule: str, starts_on: date, window_days: int) -> Recurrence:
    """A recurrence the app can follow, or PlanError naming the field: a rule dateutil cannot read or that repeats
    more often than daily, a window shorter than a day, longer than MAX_WINDOW_DAYS or longer than the time
    between two occurrences (windows would overlap and one inspection would fulfil two)."""
    text = (rule or "").strip().upper().removeprefix("RRULE:")
    if not text:
        raise PlanError("rrule", "a recurrence is required, e.g. FREQ=WEEKLY;BYDAY=MO", "required")
    if len(text) > 200 or "\n" in text or _FORBIDDEN_PARTS.search(text):
        raise PlanError("rrule", f"{text[:60]!r} is not a recurrence of days this app follows", "unreadable")
    if not isinstance(window_days, int) or isinstance(window_days, bool) or not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise PlanError("window_days", f"the window is 1 to {MAX_WINDOW_DAYS} days", "window_range",
                        most=MAX_WINDOW_DAYS)
    recurrence = Recurrence(rule=text, starts_on=starts_on, window_days=window_days)
    try:
        parsed = recurrence._rule()
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise PlanError("rrule", f"{text[:60]!r} cannot be read as an RFC 5545 RRULE: {exc}",
                        "unreadable") from exc
    if getattr(parsed, "_freq", None) not in ALLOWED_FREQUENCIES:
        raise PlanError("rrule", "a plan repeats daily, weekly, monthly or yearly", "frequency")
    days = [moment.date() for moment in _first(parsed, _GAP_SAMPLE)]
    if not days:
        raise PlanError("rrule", f"{text[:60]!r} never falls on a day from {starts_on.isoformat()}", "never")
    gaps = [(later - earlier).days for earlier, later in zip(days, days[1:], strict=False)]
    if gaps and window_days > min(gaps):
        raise PlanError("window_days", f"the window ({window_days} days) is longer than the time between two "
                                       f"inspections ({min(gaps)} days)", "window_too_long", days=min(gaps))
    return recurrence


def _first(parsed, count: int) -> list[datetime]:
    found = []
    for moment in parsed:
        found.append(moment)
        if len(found) >= count:
            break
    return found


def windows(recurrence: Recurrence, start: date, end: date) -> list[Window]:
    """The windows whose occurrence day falls in [start, end] (both included), in order."""
    if end < start:
        return []
    parsed = recurrence._rule()
    first = datetime(start.year, start.month, start.day)
    last = datetime(end.year, end.month, end.day)
    days = [moment.date() for moment in parsed.between(first, last, inc=True)]
    if not days:
        return []
    following = parsed.after(datetime(days[-1].year, days[-1].month, days[-1].day))
    nexts = days[1:] + [following.date() if following else None]
    span = timedelta(days=recurrence.window_days - 1)
    return [Window(day, day + span, after) for day, after in zip(days, nexts, strict=True)]


def window_around(recurrence: Recurrence, day: date, allow_late: bool) -> Window | None:
    """The window an inspection started on `day` fulfils: the one open that day, or (late inspections allowed)
    the last one closed before it while the next has not opened; None for a day outside every window (the
    inspection is then a surprise one, counted as extra)."""
    if day < recurrence.starts_on:
        return None
    parsed = recurrence._rule()
    moment = parsed.before(datetime(day.year, day.month, day.day), inc=True)
    if moment is None:
        return None
    opened = moment.date()
    following = parsed.after(moment)
    window = Window(opened, opened + timedelta(days=recurrence.window_days - 1),
                    following.date() if following else None)
    if window.holds(day) or (allow_late and (window.next_opens_on is None or day < window.next_opens_on)):
        return window
    return None


def state_of(window: Window, today: date, *, fulfilled_on: date | None = None, skipped: bool = False,
             allow_late: bool = False) -> State:
    if skipped:
        return State.skipped
    if fulfilled_on is not None:
        return State.done
    if today < window.opens_on:
        return State.upcoming
    if today <= window.closes_on:
        return State.due
    if allow_late and (window.next_opens_on is None or today < window.next_opens_on):
        return State.overdue
    return State.missed


@dataclass(frozen=True)
class Completion:
    planned: int  # done, missed or overdue (skipped ones and windows still open and not done are not counted)
    done: int
    on_time: int  # done inside the window

    @property
    def completion_rate(self) -> float | None:  # 完成率
        return self.done / self.planned if self.planned else None

    @property
    def on_time_rate(self) -> float | None:  # 及时率
        return self.on_time / self.planned if self.planned else None


def completion(outcomes: Iterable[tuple[State, bool]]) -> Completion:
    """Figures from (state, fulfilled inside its window) pairs."""
    planned = done = on_time = 0
    for state, in_window in outcomes:
        if state in (State.done, State.missed, State.overdue):
            planned += 1
        if state == State.done:
            done += 1
            on_time += bool(in_window)
    return Completion(planned=planned, done=done, on_time=on_time)


# ---- the plan editor's choices, as rules and back ----

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
REPEATS = ("daily", "weekly", "biweekly", "monthly_weekday", "monthly_day", "custom")
_CHOICE_PATTERNS = [
    ("daily", re.compile(r"FREQ=DAILY")),
    ("weekly", re.compile(r"FREQ=WEEKLY;BYDAY=(?P<weekday>MO|TU|WE|TH|FR|SA|SU)")),
    ("biweekly", re.compile(r"FREQ=WEEKLY;INTERVAL=2;BYDAY=(?P<weekday>MO|TU|WE|TH|FR|SA|SU)")),
    ("monthly_weekday", re.compile(r"FREQ=MONTHLY;BYDAY=(?P<nth>[1-4]|-1)(?P<weekday>MO|TU|WE|TH|FR|SA|SU)")),
    ("monthly_day", re.compile(r"FREQ=MONTHLY;BYMONTHDAY=(?P<monthday>[1-9]|1[0-9]|2[0-8]|-1)")),
]


@dataclass(frozen=True)
class Choice:
    """What the plan editor offers instead of RRULE text (weekly on a day, every two weeks, the n-th weekday of
    the month, a day of the month, daily), or the text itself (custom)."""

    repeat: str
    weekday: str = "MO"
    nth: str = "1"
    monthday: str = "1"
    custom: str = ""


def rule_of(choice: Choice) -> str:
    """The RRULE text of a choice (not yet checked: parse_recurrence does that); PlanError for a choice the
    editor does not offer."""
    weekday = choice.weekday if choice.weekday in WEEKDAYS else None
    if choice.repeat == "daily":
        return "FREQ=DAILY"
    if choice.repeat in ("weekly", "biweekly", "monthly_weekday") and weekday is None:
        raise PlanError("weekday", f"{choice.weekday!r} is not a weekday", "weekday")
    if choice.repeat == "weekly":
        return f"FREQ=WEEKLY;BYDAY={weekday}"
    if choice.repeat == "biweekly":
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday}"
    if choice.repeat == "monthly_weekday":
        if choice.nth not in ("1", "2", "3", "4", "-1"):
            raise PlanError("nth", f"{choice.nth!r}: the 1st to 4th, or the last", "nth")
        return f"FREQ=MONTHLY;BYDAY={choice.nth}{weekday}"
    if choice.repeat == "monthly_day":
        if choice.monthday not in {str(d) for d in range(1, 29)} | {"-1"}:
            raise PlanError("monthday", f"{choice.monthday!r}: a day 1 to 28, or the last", "monthday")
        return f"FREQ=MONTHLY;BYMONTHDAY={choice.monthday}"
    if choice.repeat == "custom":
        return choice.custom.strip()
    raise PlanError("repeat", f"{choice.repeat!r} is not one of {', '.join(REPEATS)}", "repeat")


def choice_of(rule: str) -> Choice:
    """The editor's choice that makes exactly this rule, or custom."""
    text = (rule or "").strip().upper().removeprefix("RRULE:")
    for repeat, pattern in _CHOICE_PATTERNS:
        matched = pattern.fullmatch(text)
        if matched:
            return Choice(repeat, **{k: v for k, v in matched.groupdict().items() if v})
    return Choice("custom", custom=text)
