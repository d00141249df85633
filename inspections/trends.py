"""Trend history: pure maths over rollups, plus the queries that read the rollups (never the answers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session, select

from checklists.models import Checklist, ChecklistCategory, ChecklistItem, ChecklistVersion
from checklists.schemes import Scheme, scheme_from_dict
from inspections.models import Answer, CategoryResult, Inspection, InspectionStatus
from inspections.scoring import NA, AnswerValue, CategorySpec, score_inspection
from inspections.service import category_specs
from web import screen_is_english


@dataclass(frozen=True)
class TrendPoint:
    inspection_id: int
    submitted_at: datetime
    overall_percent: float | None
    grade: str | None
    checklist_key: str
    version_number: int
    category_percents: dict[str, float | None] = field(default_factory=dict)
    passed: bool | None = None  # the inspection's verdict (a critical item failed fails it whatever the percent)


@dataclass(frozen=True)
class TrendSeries:
    key: str
    name: str
    values: tuple[float | None, ...]


def series_from_points(points: list[TrendPoint], category_names: dict[str, str],
                       overall_name: str = "总分") -> list[TrendSeries]:
    """The overall line first (named in the reader's language by the caller), then one line per category in
    checklist order."""
    series = [TrendSeries("overall", overall_name, tuple(p.overall_percent for p in points))]
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
               Inspection.grade, Checklist.key, ChecklistVersion.number, Inspection.passed)
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
    for i, workshop_id, at, overall, grade, key, number, passed in rows:
        trends.setdefault(workshop_id, []).append(TrendPoint(
            inspection_id=i, submitted_at=at, overall_percent=overall, grade=grade, checklist_key=key,
            version_number=number, category_percents=percents[i], passed=passed))
    return trends


def category_names_in_order(*, session: Session, inspection_ids: list[int],
                            english: bool | None = None) -> dict[str, str]:
    """key → name of the categories these inspections were scored in, in checklist order. In English (the
    screen's language unless `english` says) a category's name_en where the version it was scored in has one."""
    if not inspection_ids:
        return {}
    if english is None:

        english = screen_is_english()
    rows = session.exec(
        select(CategoryResult.category_key, CategoryResult.category_name, CategoryResult.position)
        .where(CategoryResult.inspection_id.in_(inspection_ids))
        .distinct()
        .order_by(CategoryResult.position)
    ).all()
    names: dict[str, str] = {}
    for key, name, _position in rows:
        names.setdefault(key, name)
    if english:
        found = session.exec(
            select(CategoryResult.category_key, ChecklistCategory.name_en)
            .join(Inspection, Inspection.id == CategoryResult.inspection_id)
            .join(ChecklistCategory, (ChecklistCategory.version_id == Inspection.version_id)
                  & (ChecklistCategory.key == CategoryResult.category_key))
            .where(CategoryResult.inspection_id.in_(inspection_ids), ChecklistCategory.name_en != "")
            .distinct()).all()
        english_names = dict(found)
        names = {key: english_names.get(key) or name for key, name in names.items()}
    return names


# ---- like-for-like: only the items every compared version has (by stable key) ----

def common_item_keys(specs_by_version: Mapping[int, Sequence[CategorySpec]]) -> set[str]:
    """The item keys present in every one of these versions."""
    key_sets = [{item.key for category in specs for item in category.items} for specs in specs_by_version.values()]
    return set.intersection(*key_sets) if key_sets else set()


def restrict(specs: Sequence[CategorySpec], keys: set[str]) -> list[CategorySpec]:
    """The same categories with only the given items (a category left empty drops out)."""
    kept = [replace(c, items=tuple(i for i in c.items if i.key in keys)) for c in specs]
    return [c for c in kept if c.items]


def like_for_like(
    points: Sequence[TrendPoint], version_of: Mapping[int, int], specs_by_version: Mapping[int, Sequence[CategorySpec]],
    schemes: Mapping[int, Scheme], answers: Mapping[int, Mapping[str, AnswerValue]],
) -> tuple[list[TrendPoint], set[str]]:
    """The points rescored on the common items only, so that versions compare item for item.

    version_of: inspection id → version id; answers: inspection id → {item key: value}. Returns the new points and
    the common keys (say how many in the chart).
    """
    used = {version_of[p.inspection_id] for p in points}
    keys = common_item_keys({v: specs_by_version[v] for v in used})
    rescored = []
    for p in points:
        version = version_of[p.inspection_id]
        specs = restrict(specs_by_version[version], keys)
        result = score_inspection(specs, {k: v for k, v in answers[p.inspection_id].items() if k in keys},
                                  schemes[version]) if specs else None
        rescored.append(TrendPoint(
            inspection_id=p.inspection_id, submitted_at=p.submitted_at,
            overall_percent=result.overall_percent if result else None, grade=result.grade if result else None,
            checklist_key=p.checklist_key, version_number=p.version_number,
            category_percents={c.key: c.percent for c in result.categories} if result else {},
        ))
    return rescored, keys


def like_for_like_points(*, session: Session, points: Sequence[TrendPoint]) -> tuple[list[TrendPoint], set[str]]:
    """Reads what like_for_like needs (the versions and the answers of these inspections) and applies it."""

    ids = [p.inspection_id for p in points]
    if not ids:
        return [], set()
    version_of = dict(session.exec(select(Inspection.id, Inspection.version_id).where(Inspection.id.in_(ids))).all())
    versions = session.exec(select(ChecklistVersion).where(ChecklistVersion.id.in_(set(version_of.values())))).all()
    specs = {v.id: category_specs(v) for v in versions}
    schemes = {v.id: scheme_from_dict(v.scheme) for v in versions}
    answers: dict[int, dict[str, AnswerValue]] = {i: {} for i in ids}
    for start in range(0, len(ids), 2000):
        for inspection_id, key, score, not_applicable in session.exec(
            select(Answer.inspection_id, ChecklistItem.key, Answer.score, Answer.not_applicable)
            .join(ChecklistItem, Answer.item_id == ChecklistItem.id)
            .where(Answer.inspection_id.in_(ids[start:start + 2000]))
        ):
            answers[inspection_id][key] = NA if not_applicable else score
    return like_for_like(points, version_of, specs, schemes, answers)


@dataclass(frozen=True)
class OverallPoint:
    submitted_at: datetime
    overall_percent: float | None


def overall_by_workshop(*, session: Session, workshop_ids: list[int], since: datetime,
                        until: datetime) -> dict[int, list[OverallPoint]]:
    """Only the overall percent of each inspection (a plant's 12-month line): one lean query, no joins."""
    grouped: dict[int, list[OverallPoint]] = {}
    for workshop_id, at, overall in session.exec(
        select(Inspection.workshop_id, Inspection.submitted_at, Inspection.overall_percent)
        .where(Inspection.workshop_id.in_(workshop_ids), Inspection.status == InspectionStatus.submitted,
               Inspection.submitted_at >= since, Inspection.submitted_at < until)
    ):
        grouped.setdefault(workshop_id, []).append(OverallPoint(at, overall))
    return grouped
