"""The one clock of the app: "now" in UTC, and days as a plant lives them.

Every instant is stored and compared in UTC. Every *day* (an inspection's date, a due date, "overdue", a month of the
ranking, an auditor's last day) is a calendar day at a plant, in the plant's IANA time zone (Asia/Shanghai unless
the administrator sets another). Nothing else in the app asks the machine for the time: the machine runs on UTC or
on whatever TZ its owner chose, and neither is the plant's. Tests move this clock with time-machine.

Pure functions (no Flask, no database) so that the reports, the CLI and the views share them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE_NAME = "Asia/Shanghai"
# The offset the plants we started with live at: times there are shown without it, anywhere else with it.
HOME_OFFSET = timedelta(hours=8)

# The days a request may name: wide enough for any record, narrow enough that the day before, the month after
# and the UTC bounds of a day in any zone stay within Python's dates (years 1 … 9999).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


class UnknownZone(ValueError):
    """Not an IANA time zone name that this machine's zone database knows."""


def now() -> datetime:
    """The current instant, in UTC (aware)."""
    return datetime.now(UTC)


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone called `name` (the default zone when empty). Refuses names the zone database lacks, and the
    ones ZoneInfo would read as a path or a legacy alias of no real place ("../etc", "localtime")."""
    name = (name or "").strip() or DEFAULT_ZONE_NAME
    if name not in _known_zone_names():
        raise UnknownZone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed but unreadable
        raise UnknownZone(name) from exc


def _known_zone_names() -> frozenset[str]:
    global _ZONE_NAMES
    if _ZONE_NAMES is None:
        _ZONE_NAMES = frozenset(n for n in available_timezones() if "/" in n or n == "UTC")
    return _ZONE_NAMES


_ZONE_NAMES: frozenset[str] | None = None


def zone_names() -> list[str]:
    """Every zone name a plant may take, sorted (for the admin screen's suggestions)."""
    return sorted(_known_zone_names())


def zone_of(plant) -> ZoneInfo:
    """A plant's zone (anything with a `timezone` attribute; None or no attribute: the default zone)."""
    return zone_named(getattr(plant, "timezone", None))


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands stored datetimes back without their zone; they were stored in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def local(moment: datetime, zone: tzinfo) -> datetime:
    """An instant as the wall clock in `zone` shows it."""
    return as_utc(moment).astimezone(zone)


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The calendar day an instant falls on in `zone`."""
    return local(moment, zone).date()


def today(zone: tzinfo) -> date:
    """Today's date in `zone`."""
    return local_day(now(), zone)


def day_start(day: date, zone: tzinfo) -> datetime:
    """The UTC instant `day` begins in `zone`. Where the clocks jump over midnight, fold=0 reads 00:00 with the
    offset before the jump, which is exactly the instant of the jump: the day's first real moment."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def day_bounds(first: date, last: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The days first..last (inclusive) in `zone` as the half-open UTC interval [since, until)."""
    return day_start(first, zone), day_start(last + timedelta(days=1), zone)


def offset_text(moment: datetime, zone: tzinfo) -> str:
    """The zone's UTC offset at that instant as '+01:00' (its daylight-saving offset when in force)."""
    offset = local(moment, zone).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def wall_clock(moment: datetime | None, zone: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant written for a reader at the plant: its wall-clock time, with the offset where it is not the
    home offset (+08:00), so a Budapest time is never read as a Shanghai one."""
    if moment is None:
        return ""
    shown = local(moment, zone)
    text = shown.strftime(fmt)
    if "%H" in fmt and shown.utcoffset() != HOME_OFFSET:  # a date alone needs no offset
        text += f" ({offset_text(moment, zone)})"
    return text
