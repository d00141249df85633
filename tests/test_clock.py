"""The one clock: its pure day arithmetic across zones and DST changes, and a guard that nothing else in the app asks
the machine for the time."""

import ast
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import clock

SHANGHAI, BUDAPEST, LOS_ANGELES = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Budapest"), ZoneInfo(
    "America/Los_Angeles")
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.clock


@pytest.mark.parametrize(("instant", "shanghai", "budapest"), [
    (datetime(2026, 12, 2, 0, 30, tzinfo=UTC), date(2026, 12, 2), date(2026, 12, 2)),
    (datetime(2026, 12, 2, 15, 59, tzinfo=UTC), date(2026, 12, 2), date(2026, 12, 2)),
    (datetime(2026, 12, 2, 16, 1, tzinfo=UTC), date(2026, 12, 3), date(2026, 12, 2)),
    (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), date(2026, 12, 1), date(2026, 12, 1)),
    (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), date(2027, 1, 1), date(2026, 12, 31)),
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 1), date(2027, 1, 1)),
])
def test_the_day_at_a_plant_is_its_own_calendars(instant, shanghai, budapest):
    assert clock.local_day(instant, SHANGHAI) == shanghai
    assert clock.local_day(instant, BUDAPEST) == budapest


def test_today_follows_the_clock_not_the_machine(travel):
    travel(datetime(2026, 12, 2, 16, 1, tzinfo=UTC))
    assert clock.today(SHANGHAI) == date(2026, 12, 3)
    assert clock.today(BUDAPEST) == date(2026, 12, 2)
    assert clock.now().tzinfo is UTC


def test_a_day_with_a_dst_change_is_23_or_25_hours_long():
    spring = clock.day_bounds(date(2026, 3, 29), date(2026, 3, 29), BUDAPEST)  # 02:00 → 03:00
    autumn = clock.day_bounds(date(2026, 10, 25), date(2026, 10, 25), BUDAPEST)  # 03:00 → 02:00
    assert spring == (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC))
    assert autumn == (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 23, 0, tzinfo=UTC))
    assert spring[1] - spring[0] == timedelta(hours=23) and autumn[1] - autumn[0] == timedelta(hours=25)


def test_a_day_whose_midnight_does_not_exist_starts_where_the_clocks_land():
    # Chile skipped 00:00-01:00 on 2026-09-06 (clocks from 24:00 to 01:00): the day starts at 01:00 local
    santiago = ZoneInfo("America/Santiago")
    since, until = clock.day_bounds(date(2026, 9, 6), date(2026, 9, 6), santiago)
    assert clock.local(since, santiago).hour == 1 and clock.local_day(since, santiago) == date(2026, 9, 6)
    assert clock.local_day(since - timedelta(seconds=1), santiago) == date(2026, 9, 5)
    assert until - since == timedelta(hours=23)


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31)),
       zone=st.sampled_from([SHANGHAI, BUDAPEST, LOS_ANGELES, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata"),
                             ZoneInfo("Pacific/Chatham"), ZoneInfo("America/Santiago")]))
def test_day_bounds_hold_exactly_the_instants_of_that_day(day, zone):
    since, until = clock.day_bounds(day, day, zone)
    assert since.tzinfo is UTC and until > since
    assert timedelta(hours=22) <= until - since <= timedelta(hours=26)
    assert clock.local_day(since, zone) == day and clock.local_day(until - timedelta(microseconds=1), zone) == day
    assert clock.local_day(since - timedelta(microseconds=1), zone) < day
    assert clock.local_day(until, zone) > day
    # consecutive days tile the time line: no gap, no overlap
    assert clock.day_bounds(day + timedelta(days=1), day + timedelta(days=1), zone)[0] == until


def test_times_show_their_offset_only_away_from_plus_eight():
    summer = datetime(2026, 7, 1, 6, 5, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 6, 5, tzinfo=UTC)
    assert clock.wall_clock(summer, SHANGHAI) == "2026-07-01 14:05"
    assert clock.wall_clock(summer, BUDAPEST) == "2026-07-01 08:05 (+02:00)"
    assert clock.wall_clock(winter, BUDAPEST) == "2026-12-01 07:05 (+01:00)"
    assert clock.wall_clock(winter, LOS_ANGELES) == "2026-11-30 22:05 (-08:00)"
    assert clock.wall_clock(datetime(2026, 7, 1, 6, 5), SHANGHAI) == "2026-07-01 14:05"  # SQLite's naive UTC
    assert clock.wall_clock(None, SHANGHAI) == ""
    assert clock.wall_clock(winter, LOS_ANGELES, "%Y-%m-%d") == "2026-11-30"  # a date alone: no offset


@pytest.mark.parametrize("name", ["", None, "Asia/Shanghai", "Europe/Budapest", "UTC", "America/Argentina/Salta"])
def test_known_zones_are_accepted(name):
    assert clock.zone_named(name).key == (name or "Asia/Shanghai")


@pytest.mark.parametrize("name", ["Mars/Olympus", "shanghai", "../../etc/passwd", "/etc/localtime", "localtime",
                                  "Asia/Shanghai ", "CST", "+08:00"])
def test_unknown_zones_are_refused(name):
    if name == "Asia/Shanghai ":  # surrounding spaces are a typing slip, not another zone
        assert clock.zone_named(name).key == "Asia/Shanghai"
        return
    with pytest.raises(clock.UnknownZone):
        clock.zone_named(name)


# ---- nothing but clock.py reads the machine's clock ----

FORBIDDEN = {
    ("date", "today"): "date.today()",
    ("datetime", "today"): "datetime.today()",
    ("datetime", "now"): "datetime.now()",
    ("datetime", "utcnow"): "datetime.utcnow()",
    ("datetime", "utcfromtimestamp"): "datetime.utcfromtimestamp()",
    ("time", "localtime"): "time.localtime()",
}
# every package of the house (the floors pyproject.toml lists for import-linter) but the clock itself, and app.py
APP_DIRS = [name for name in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
            ["tool"]["importlinter"]["root_packages"] if name != "clock"]
APP_MODULES = ["app.py", "clock/periods.py"]


def stray_clock_calls(source: str) -> list[tuple[int, str]]:
    """Calls that read the machine's clock or zone: date.today(), datetime.now(), utcnow(), a bare
    astimezone() (the machine's zone), time.localtime()."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.attr if isinstance(func.value, ast.Attribute) else getattr(func.value, "id", None)
            if (owner, func.attr) in FORBIDDEN:
                found.append((node.lineno, FORBIDDEN[(owner, func.attr)]))
            elif func.attr == "utcnow":
                found.append((node.lineno, "utcnow()"))
            elif func.attr == "astimezone" and not node.args and not node.keywords:
                found.append((node.lineno, "astimezone() without a zone"))
        elif isinstance(func, ast.Name) and func.id == "utcnow":
            found.append((node.lineno, "utcnow()"))
    return found


def test_the_guard_finds_what_it_looks_for():
    source = ("from datetime import date, datetime\nimport datetime as dt\nx = date.today()\ny = datetime.now(UTC)\n"
              "z = dt.datetime.utcnow()\nw = moment.astimezone()\nv = utcnow()\nok = moment.astimezone(zone)\n")
    assert [line for line, _what in stray_clock_calls(source)] == [3, 4, 5, 6, 7]


def test_nothing_but_the_clock_reads_the_time():
    files = [ROOT / name for name in APP_MODULES]
    for directory in APP_DIRS:
        files += sorted((ROOT / directory).rglob("*.py"))
    assert len(files) > 120
    stray = [f"{path.relative_to(ROOT)}:{line}: {what}" for path in files
             for line, what in stray_clock_calls(path.read_text(encoding="utf-8"))]
    assert stray == [], "ask clock.now() / clock.today(zone) instead:\n" + "\n".join(stray)
    the_clock = (ROOT / "clock" / "__init__.py").read_text(encoding="utf-8")
    assert [what for _line, what in stray_clock_calls(the_clock)] == ["datetime.now()"]  # the one place
