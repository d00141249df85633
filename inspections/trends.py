"""Trend history: pure maths over rollups, plus the queries that read the rollups (never the answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from checklists.models import Checklist, ChecklistVersion
from inspections.models import CategoryResult, Inspection, InspectionStatus


@dataclass(frozen=True)
class TrendPoint:
    inspection_id: int
    submitted_at: datetime
    overall_percent: float | None
    grade: str | None
    checklist_key: str
    version_number: int
    category_percents: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class TrendSeries:
    key: str
    name: str
    values: tuple[float | None, ...]


def series_from_points(points: list[TrendPoint], category_names: dict[str, str]) -> list[TrendSeries]:
    """The overall line first, then one line per category in checklist order."""
    series = [TrendSeries("overall", "总分", tuple(p.overall_percent for p in points))]
    for key, name in category_names.items():
        series.append(TrendSeries(key, name, tuple(p.category_percents.get(key) for p in points)))
    return series


def version_changes(points: list[TrendPoint]) -> list[int]:
    """Indexes of points whose checklist version differs from the point before."""
    return [
        i for i in range(1, len(points))
        if (points[i].checklist_key, points[i].version_number)
        != (points[i - 1].checklist_key, points[i - 1].version_number)
    ]


def change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous


def mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def workshop_trend(*, session: Session, workshop_id: int, limit: int | None = None,
                   since: datetime | None = None, until: datetime | None = None) -> list[TrendPoint]:
    """Submitted inspections of a workshop, oldest first, from the stored rollups (since ≤ submitted < until)."""
    return trends_by_workshop(session=session, workshop_ids=[workshop_id], limit=limit, since=since,
                              until=until).get(workshop_id, [])


def trends_by_workshop(*, session: Session, workshop_ids: list[int], limit: int | None = None,
                       since: datetime | None = None, until: datetime | None = None) -> dict[int, list[TrendPoint]]:
    """The trend points of several workshops in two queries (a plant's month: 30 workshops at once)."""
    query = (
        select(Inspection.id, Inspection.workshop_id, Inspection.submitted_at, Inspection.overall_percent,
               Inspection.grade, Checklist.key, ChecklistVersion.number)
        .join(ChecklistVersion, Inspection.version_id == ChecklistVersion.id)
        .join(Checklist, ChecklistVersion.checklist_id == Checklist.id)
        .where(Inspection.workshop_id.in_(workshop_ids), Inspection.status == InspectionStatus.submitted)
        .order_by(Inspection.submitted_at.desc(), Inspection.id.desc())
    )
    if since is not None:
        query = query.where(Inspection.submitted_at >= since)
    if until is not None:
        query = query.where(Inspection.submitted_at < until)
    if limit:  # the newest `limit` of one workshop (used with a single workshop)
        query = query.limit(limit)
    rows = list(reversed(session.exec(query).all()))
    ids = [row[0] for row in rows]
    percents: dict[int, dict[str, float | None]] = {i: {} for i in ids}
    for start in range(0, len(ids), 5000):  # bounded IN lists
        for inspection_id, key, percent in session.exec(
            select(CategoryResult.inspection_id, CategoryResult.category_key, CategoryResult.percent)
            .where(CategoryResult.inspection_id.in_(ids[start:start + 5000]))
        ):
            percents[inspection_id][key] = percent
    trends: dict[int, list[TrendPoint]] = {}
    for i, workshop_id, at, overall, grade, key, number in rows:
        trends.setdefault(workshop_id, []).append(TrendPoint(
            inspection_id=i, submitted_at=at, overall_percent=overall, grade=grade, checklist_key=key,
            version_number=number, category_percents=percents[i]))
    return trends


def category_names_in_order(*, session: Session, inspection_ids: list[int]) -> dict[str, str]:
    if not inspection_ids:
        return {}
    rows = session.exec(
        select(CategoryResult.category_key, CategoryResult.category_name, CategoryResult.position)
        .where(CategoryResult.inspection_id.in_(inspection_ids))
        .distinct()
        .order_by(CategoryResult.position)
    ).all()
    names: dict[str, str] = {}
    for key, name, _position in rows:
        names.setdefault(key, name)
    return names
