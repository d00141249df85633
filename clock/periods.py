"""Periods of plant days: a report's or a page's ?from=&to= and ?month=, and the UTC bounds of those days at a
plant. Pure date logic, read by screens and reports alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import clock

DEFAULT_PERIOD_DAYS = 84  # twelve weekly audits
MAX_PERIOD_DAYS = 5 * 366
FIRST_DAY, LAST_DAY = clock.FIRST_DAY, clock.LAST_DAY


class PeriodError(ValueError):
    """code: bad_date | reversed | too_long | bad_month"""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """These days at a plant in `zone` as the UTC interval [since, until) that stored instants are compared
        with (a day in Budapest is not a day in Shanghai; a day with a DST change is 23 or 25 hours)."""
        return clock.day_bounds(self.start, self.end, zone)


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, both optional: the last twelve weeks up to today by default."""
    try:
        end = date.fromisoformat(raw_to) if raw_to else today
        start = date.fromisoformat(raw_from) if raw_from else end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    except (ValueError, OverflowError) as exc:
        raise PeriodError("bad_date", "dates are written YYYY-MM-DD") from exc
    if not (FIRST_DAY <= start <= LAST_DAY and FIRST_DAY <= end <= LAST_DAY):
        raise PeriodError("bad_date", f"dates lie between {FIRST_DAY} and {LAST_DAY}")
    if start > end:
        raise PeriodError("reversed", "the period starts after it ends")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError("too_long", "a period is at most five years")
    return Period(start, end)


def parse_month(raw: str | None, today: date) -> Period:
    """?month=YYYY-MM: that calendar month; the current month by default."""
    if raw:
        try:
            year, month = (int(part) for part in raw.split("-"))
            first = date(year, month, 1)
        except ValueError as exc:
            raise PeriodError("bad_month", "a month is written YYYY-MM") from exc
        if not FIRST_DAY <= first <= LAST_DAY:
            raise PeriodError("bad_month", f"months lie between {FIRST_DAY:%Y-%m} and {LAST_DAY:%Y-%m}")
    else:
        first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def previous_month(period: Period) -> Period:
    last = period.start - timedelta(days=1)
    return Period(last.replace(day=1), last)


def months_back(month: Period, count: int) -> list[Period]:
    """The `count` calendar months ending with `month`, oldest first."""
    months = [month]
    while len(months) < count:
        months.insert(0, previous_month(months[0]))
    return months
