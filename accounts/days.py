"""Today at each plant. A group's plants may keep different time zones, so "overdue" or "today's run" is a question
for each plant: at 17:00 UTC Shanghai is already on the next day while Budapest is not.

`PlantDays` is taken at one instant (one clock reading for a whole request or daily run) and answers both in
Python (`of(workshop)`) and in SQL (`before(column, workshop_column)`), with one condition per distinct date rather
than per plant: at any instant every plant is on one of at most three dates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_
from sqlmodel import Session, select

import clock
from accounts.models import Plant, Workshop


@dataclass(frozen=True)
class PlantDays:
    """Plant id → its zone, and the date at each plant at instant `at` (or `fixed` at every plant)."""

    zones: dict[int, ZoneInfo]
    at: datetime
    default_zone: ZoneInfo
    fixed: date | None = None  # the daily run's --date: every plant on that day

    def _day_in(self, zone: ZoneInfo) -> date:
        return self.fixed or clock.local_day(self.at, zone)

    def of(self, thing) -> date:
        """Today at a plant (a Plant, a Workshop, or a plant id)."""
        return self._day_in(self.zones.get(_plant_id(thing), self.default_zone))

    def dates(self) -> dict[date, list[int]]:
        """Which plants are on which date."""
        grouped: dict[date, list[int]] = {}
        for plant_id, zone in self.zones.items():
            grouped.setdefault(self._day_in(zone), []).append(plant_id)
        return grouped

    def before(self, day_column, workshop_column):
        """SQL: `day_column` (a date) lies before today at the plant of `workshop_column`'s workshop."""
        grouped = self.dates()
        if not grouped:
            return false()
        if len(grouped) == 1:
            return day_column < next(iter(grouped))
        return or_(*(and_(workshop_column.in_(select(Workshop.id).where(Workshop.plant_id.in_(ids))),
                          day_column < day) for day, ids in sorted(grouped.items())))

    def latest(self) -> date:
        """The furthest date any plant has reached (the default zone's today when there are no plants)."""
        days = self.dates()
        return max(days) if days else self._day_in(self.default_zone)


def _plant_id(thing: Plant | Workshop | int | None) -> int | None:
    if isinstance(thing, Plant):
        return thing.id
    if isinstance(thing, Workshop):
        return thing.plant_id
    return thing


def plant_days(session: Session, at: datetime | None = None) -> PlantDays:
    """Today at every plant, read once (a handful of rows)."""
    zones = {plant_id: clock.zone_named(name) for plant_id, name in session.exec(select(Plant.id, Plant.timezone))}
    return PlantDays(zones=zones, at=at or clock.now(), default_zone=clock.zone_named(None))


def fixed_day(session: Session, day: date) -> PlantDays:
    """Every plant on the same given date (the daily run's --date, to catch up a missed day)."""
    return replace(plant_days(session), fixed=day)
