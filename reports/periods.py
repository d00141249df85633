"""Reports over a period: a workshop's history and a plant's monthly 6S 评比 (ranking).

The maths (periods, finding counts, league tables, heat-map colours) are pure functions; the two query
helpers at the bottom read rollups and, for finding counts, the answers of the inspections in the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from checklists.models import ChecklistCategory, ChecklistItem, ChecklistVersion
from checklists.schemes import scheme_from_dict
from clock.periods import Period
from inspections.models import Answer, Inspection
from inspections.trends import OverallPoint, TrendPoint, change, mean


@dataclass(frozen=True)
class FindingRow:
    """One answer that was a finding, as plain values."""

    item_key: str
    item_text: str
    category_name: str
    inspection_id: int
    submitted_at: datetime
    score: int
    note: str
    flagged: bool = False  # a finding because the inspector flagged it, not because of the score


@dataclass(frozen=True)
class FindingCount:
    item_key: str
    item_text: str  # as worded the last time it was found
    category_name: str
    count: int
    last_seen: datetime
    inspection_ids: tuple[int, ...]


def top_findings(rows: Iterable[FindingRow], limit: int = 10) -> list[FindingCount]:
    """The items found most often (by stable item key, so a reworded item keeps its history)."""
    grouped: dict[str, list[FindingRow]] = {}
    for row in rows:
        grouped.setdefault(row.item_key, []).append(row)
    counts = []
    for key, found in grouped.items():
        latest = max(found, key=lambda r: (r.submitted_at, r.inspection_id))
        counts.append(FindingCount(
            item_key=key, item_text=latest.item_text, category_name=latest.category_name, count=len(found),
            last_seen=latest.submitted_at, inspection_ids=tuple(sorted({r.inspection_id for r in found})),
        ))
    counts.sort(key=lambda c: (-c.count, -c.last_seen.timestamp(), c.item_key))
    return counts[:limit]


@dataclass(frozen=True)
class LeagueRow:
    workshop_code: str
    workshop_name: str
    rank: int | None  # None: no inspection this month
    inspections: int
    average: float | None
    latest: float | None
    previous_average: float | None
    change: float | None
    category_averages: dict[str, float | None]
    missed: int = 0  # planned inspections of the month that did not happen
    missed_counted: bool = False  # …counted as 0 in the average (the plant's rule)
    failed: int = 0  # inspections of the month that failed (below the pass mark, or a critical item failed)
    checklists: tuple[str, ...] = ()  # the checklists its inspections of the month were filled against

    @property
    def passed(self) -> bool | None:
        """Every inspection of the month passed (None: none this month)."""
        return None if not self.inspections else not self.failed


def ranking_key(average: float | None, failed: int, code: str) -> tuple:
    """The ranking rule: a workshop (or plant) with a failed inspection in the month ranks after every one whose
    inspections all passed, whatever its average; within each group by average, best first; no data last."""
    return average is None, failed > 0, -(average or 0), code


def league_table(
    workshops: Sequence[tuple[str, str]], this_month: dict[str, list[TrendPoint]],
    last_month: dict[str, list[TrendPoint]], category_keys: Sequence[str],
    missed: Mapping[str, int] | None = None, zero_for_missed: frozenset[str] | set[str] = frozenset(),
) -> list[LeagueRow]:
    """Workshops ranked by ranking_key: failed after passed, then by average overall percent for the month; ties
    share a rank; no data last. missed: workshop code → planned inspections missed; for the codes in
    zero_for_missed each counts as a score of 0 in the average (so a workshop cannot rank well by skipping its
    hard weeks)."""
    missed = missed or {}
    rows = []
    for code, name in workshops:
        points = this_month.get(code, [])
        counted = code in zero_for_missed and missed.get(code, 0) > 0
        scores = [p.overall_percent for p in points] + ([0.0] * missed.get(code, 0) if counted else [])
        average = mean(scores)
        previous = mean(p.overall_percent for p in last_month.get(code, []))
        rows.append(LeagueRow(
            workshop_code=code, workshop_name=name, rank=None, inspections=len(points), average=average,
            latest=points[-1].overall_percent if points else None, previous_average=previous,
            change=change(average, previous),
            category_averages={key: mean(p.category_percents.get(key) for p in points) for key in category_keys},
            missed=missed.get(code, 0), missed_counted=counted,
            failed=sum(1 for p in points if p.passed is False),
            checklists=tuple(dict.fromkeys(p.checklist_key for p in points)),
        ))
    rows.sort(key=lambda r: ranking_key(r.average, r.failed, r.workshop_code))
    ranked, rank, last = [], 0, None
    for position, row in enumerate(rows, 1):
        if row.average is None:
            ranked.append(row)
            continue
        if (row.failed > 0, row.average) != last:
            rank, last = position, (row.failed > 0, row.average)
        ranked.append(LeagueRow(**{**row.__dict__, "rank": rank}))
    return ranked


HEAT_COLOURS = ("#15803d", "#65a30d", "#ca8a04", "#ea580c", "#b91c1c")  # best band … worst band


def heat_level(percent: float | None, grades: Sequence[tuple[float, str]]) -> int | None:
    """0 (best band) … 4 (worst band) whatever the number of bands; None without a percent."""
    if percent is None:
        return None
    index = next((i for i, (minimum, _label) in enumerate(grades) if percent >= minimum), len(grades) - 1)
    if len(grades) <= 1:
        return 0
    return round(index * (len(HEAT_COLOURS) - 1) / (len(grades) - 1))


def band_colour(percent: float | None, grades: Sequence[tuple[float, str]]) -> str:
    """The heat-map colour of a percent: one colour per grade band, best green to worst red."""
    level = heat_level(percent, grades)
    return "#e2e8f0" if level is None else HEAT_COLOURS[level]


# ---- queries ----

def finding_rows(*, session: Session, inspection_ids: Sequence[int]) -> list[FindingRow]:
    """The findings among the answers of these inspections, each judged by its own version's scheme."""
    if not inspection_ids:
        return []

    query = (
        select(Answer.score, Answer.flagged, Answer.note, ChecklistItem.key, ChecklistItem.text, ChecklistCategory.name,
               Inspection.id, Inspection.submitted_at, Inspection.version_id)
        .join(ChecklistItem, Answer.item_id == ChecklistItem.id)
        .join(ChecklistCategory, ChecklistItem.category_id == ChecklistCategory.id)
        .join(Inspection, Answer.inspection_id == Inspection.id)
        .where(Answer.inspection_id.in_(inspection_ids), Answer.not_applicable.is_(False))
    )
    # each version's scheme once (not per answer row: parsing it per row cost more than the query)
    schemes = {version_id: scheme_from_dict(scheme) for version_id, scheme in session.exec(
        select(ChecklistVersion.id, ChecklistVersion.scheme)
        .where(ChecklistVersion.id.in_(select(Inspection.version_id).where(Inspection.id.in_(inspection_ids)))))}
    rows = []
    for score, flagged, note, key, text, category, inspection_id, submitted_at, version_id in session.exec(query):
        if flagged or schemes[version_id].is_finding(score):
            rows.append(FindingRow(item_key=key, item_text=text, category_name=category,
                                   inspection_id=inspection_id, submitted_at=submitted_at, score=score,
                                   note=note or "", flagged=bool(flagged)))
    return rows


@dataclass(frozen=True)
class PlantRow:
    plant_code: str
    plant_name: str
    rank: int | None
    workshops: int
    inspections: int
    average: float | None  # the mean of its workshops' monthly averages
    previous_average: float | None
    change: float | None
    best: LeagueRow | None  # the best workshop whose inspections all passed (a failed one is never "best")
    worst: LeagueRow | None  # the weakest: a failed one before any that passed
    category_averages: dict[str, float | None]
    failed: int = 0  # failed inspections of its workshops this month


def group_table(plants: Sequence[tuple[str, str]], league: Sequence[LeagueRow],
                plant_of: Mapping[str, str], category_keys: Sequence[str]) -> list[PlantRow]:
    """Plants ranked by ranking_key over the mean of their workshops' monthly averages (a plant with a failed
    inspection after those without); best and worst workshop of each, by the league's own order."""
    rows = []
    for code, name in plants:
        mine = [r for r in league if plant_of[r.workshop_code] == code]
        ranked = [r for r in mine if r.average is not None]
        average = mean(r.average for r in ranked)
        previous = mean(r.previous_average for r in mine)
        rows.append(PlantRow(
            plant_code=code, plant_name=name, rank=None, workshops=len(mine),
            inspections=sum(r.inspections for r in mine), average=average, previous_average=previous,
            change=change(average, previous),
            best=min((r for r in ranked if not r.failed), key=lambda r: ranking_key(r.average, 0, r.workshop_code),
                     default=None),
            worst=max(ranked, key=lambda r: ranking_key(r.average, r.failed, r.workshop_code)) if ranked else None,
            category_averages={k: mean(r.category_averages.get(k) for r in ranked) for k in category_keys},
            failed=sum(r.failed for r in mine),
        ))
    rows.sort(key=lambda r: ranking_key(r.average, r.failed, r.plant_code))
    ranked_rows, rank, last = [], 0, None
    for position, row in enumerate(rows, 1):
        if row.average is not None and (row.failed > 0, row.average) != last:
            rank, last = position, (row.failed > 0, row.average)
        ranked_rows.append(PlantRow(**{**row.__dict__, "rank": rank if row.average is not None else None}))
    return ranked_rows


def monthly_average(points_by_workshop: Mapping[int, Sequence[TrendPoint | OverallPoint]], months: Sequence[Period],
                    local_day) -> list[float | None]:
    """Per month: the mean over workshops of each workshop's mean overall percent that month (a plant's trend).

    local_day turns a stored UTC time into the user's calendar day (months are local, like the screens)."""
    index = {(m.start.year, m.start.month): n for n, m in enumerate(months)}
    sums: list[dict[int, list[float]]] = [{} for _ in months]  # month → workshop → its percents
    for workshop_id, points in points_by_workshop.items():
        for p in points:
            if p.overall_percent is None:
                continue
            day = local_day(p.submitted_at)  # once per point: time-zone conversion is the costly part
            n = index.get((day.year, day.month))
            if n is not None:
                sums[n].setdefault(workshop_id, []).append(p.overall_percent)
    values = [mean(mean(percents) for percents in month.values()) for month in sums]
    return values
