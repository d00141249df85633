"""Quality analytics read from the stored results: a workshop's control chart. Views and the API call these; the
maths is quality.spc (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, select

import clock
from accounts.models import User
from actions.models import Finding
from checklists.models import ChecklistCategory, ChecklistItem
from inspections.models import Inspection, InspectionStatus
from inspections.trends import (
    TrendPoint,
    category_names_in_order,
    like_for_like_points,
    version_changes,
    workshop_trend,
)
from quality.agreement import leniency
from quality.pareto import pareto
from quality.spc import ALTERNATING_LENGTH, DEFAULT_BASELINE, RUN_LENGTH, TREND_LENGTH, Signal, XmR, xmr

OVERALL = "overall"


class ChartError(ValueError):
    def __init__(self, field: str, message: str, code: str):
        super().__init__(message)
        self.field, self.code = field, code


@dataclass(frozen=True)
class ControlChart:
    series: str  # "overall" or a category key
    series_name: str
    points: list[TrendPoint]  # those with a value in the series, since the chart's start
    dates: list[str]  # each point's day at the plant, YYYY-MM-DD
    chart: XmR
    since_version_change: bool  # the points start at the last checklist version change
    category_names: dict[str, str]
    like_for_like: bool = False  # every version, each inspection scored on the items all versions share


def control_chart(*, session: Session, workshop, series: str = OVERALL, baseline: int | None = None,
                  rules=(1,), since=None, until=None, like: bool = False) -> ControlChart:
    """The workshop's XmR chart of its overall score or one category's, from the last checklist version change
    on (scores of different versions are not one process); limits from the first `baseline` points of it (12 by
    default). since/until (UTC instants) keep it to a period: a printed period report shows only its period.
    like: the like-for-like view instead — every inspection across versions, each scored on the items every
    version shares, so one process runs through the changes."""
    points = workshop_trend(session=session, workshop_id=workshop.id, since=since, until=until)
    if like and points:
        points, _common = like_for_like_points(session=session, points=points)
    names = category_names_in_order(session=session, inspection_ids=[p.inspection_id for p in points])
    if series != OVERALL and series not in names:
        raise ChartError("series", f"no series {series!r}: overall or one of {', '.join(names)}", "unknown_series")
    if baseline is not None and not 1 <= baseline <= 10_000:
        raise ChartError("baseline", "the baseline is 1 to 10000 points", "bad_baseline")
    changes = version_changes(points)
    start = changes[-1] if changes and not like else 0
    shown = [p for p in points[start:] if _value(p, series) is not None]
    zone = clock.zone_of(workshop.plant)
    chart = xmr([_value(p, series) for p in shown], baseline=baseline or DEFAULT_BASELINE, rules=rules)
    return ControlChart(series, "总分" if series == OVERALL else names[series], shown,
                        [clock.local_day(p.submitted_at, zone).isoformat() for p in shown], chart,
                        bool(changes) and not like, names, like)


def _value(point: TrendPoint, series: str) -> float | None:
    return point.overall_percent if series == OVERALL else point.category_percents.get(series)


# ------------------------------------------------------------------ Pareto of findings


@dataclass(frozen=True)
class ParetoResult:
    by: str  # item | category
    rows: list  # quality.pareto.ParetoRow
    inspections: dict[str, list[int]]  # key → the inspections behind the bar (newest first, at most 50)
    total: int


def pareto_of_findings(*, session: Session, workshops, period, by: str = "item") -> ParetoResult:
    """The period's findings (the `finding` rows made at submission and by corrections) at these workshops, counted
    by item (its stable key across versions, worded as last found) or by category; each plant's period in its own
    days."""

    if by not in ("item", "category"):
        raise ChartError("by", "by is item or category", "bad_by")
    by_zone: dict[str, list[int]] = {}
    for w in workshops:
        by_zone.setdefault(w.plant.timezone, []).append(w.id)
    counts: dict[str, list] = {}  # key → [label, count, [(submitted_at, inspection id)]]
    # Two index-driven reads rather than one join, so that neither engine's planner can pick a scan of every
    # finding (or, ordered by time, of every plant's inspections): the period's inspections by the
    # (workshop, submitted_at) index, then their findings by inspection.
    submitted: dict[int, object] = {}
    for zone_name, ids in by_zone.items():
        since, until = period.bounds(clock.zone_named(zone_name))
        submitted.update(session.exec(select(Inspection.id, Inspection.submitted_at).where(
            Inspection.workshop_id.in_(ids), Inspection.submitted_at >= since, Inspection.submitted_at < until)).all())
    findings = []
    inspection_ids = list(submitted)
    for start in range(0, len(inspection_ids), 5000):  # SQLite takes some thousands of parameters at most
        findings.extend(session.exec(select(Finding.item_key, Finding.item_id, Finding.inspection_id)
                                     .where(Finding.inspection_id.in_(inspection_ids[start:start + 5000]))).all())
    # each item's wording and category, read once per item version rather than once per finding
    items = {item_id: (text, category_key, category_name) for item_id, text, category_key, category_name in
             session.exec(select(ChecklistItem.id, ChecklistItem.text, ChecklistCategory.key, ChecklistCategory.name)
                          .join(ChecklistCategory, ChecklistItem.category_id == ChecklistCategory.id)
                          .where(ChecklistItem.id.in_({f[1] for f in findings})))} if findings else {}
    for item_key, item_id, inspection_id in sorted(findings, key=lambda r: (submitted[r[2]], r[2])):
        submitted_at = submitted[inspection_id]
        text, category_key, category_name = items[item_id]
        key, label = (item_key, text) if by == "item" else (category_key, category_name)
        entry = counts.setdefault(key, [label, 0, []])
        entry[0] = label  # the newest wording (rows sorted oldest first)
        entry[1] += 1
        entry[2].append((submitted_at, inspection_id))
    rows = pareto({key: (label, n) for key, (label, n, _found) in counts.items()})
    behind = {key: [i for _at, i in sorted(found, reverse=True)][:50] for key, (_l, _n, found) in counts.items()}
    return ParetoResult(by, rows, behind, sum(n for _l, n, _f in counts.values()))


@dataclass(frozen=True)
class Leniency:
    inspector: str  # display name
    difference: float  # percentage points above (+) or below (−) the others on the same floors in the same months
    groups: int  # workshop-months compared
    by_month: dict[str, float]  # "YYYY-MM" → that month's difference, for the months they were compared in


def inspector_leniency(*, session: Session, workshops, since, until) -> list[Leniency]:
    """Per inspector, how their overall scores compare with the other inspectors' scores of the same workshops in
    the same month (each plant's months), most lenient first; inspectors never compared are left out."""

    plants = {w.id: w.plant for w in workshops}
    rows = session.exec(select(Inspection.inspector_id, Inspection.workshop_id, Inspection.submitted_at,
                               Inspection.overall_percent)
                        .where(Inspection.workshop_id.in_(list(plants)),
                               # a joint inspection's copies compare inspectors on the same floor best of all
                               Inspection.status.in_([InspectionStatus.submitted, InspectionStatus.calibration]),
                               Inspection.submitted_at >= since,
                               Inspection.submitted_at < until, Inspection.overall_percent.is_not(None))).all()
    scores = [(inspector, (workshop_id, f"{clock.local(at, clock.zone_of(plants[workshop_id])):%Y-%m}"), percent)
              for inspector, workshop_id, at, percent in rows]
    found = leniency(scores)
    by_month: dict[object, dict[str, float]] = {}
    for month in sorted({group[1] for _i, group, _s in scores}):
        for inspector, (difference, _n) in leniency([s for s in scores if s[1][1] == month]).items():
            by_month.setdefault(inspector, {})[month] = difference
    names = {u.id: u.display_name for u in session.exec(select(User).where(User.id.in_(list(found))))} if found else {}
    return sorted((Leniency(names.get(i, str(i)), d, n, by_month.get(i, {})) for i, (d, n) in found.items()),
                  key=lambda r: (-r.difference, r.inspector))


def signal_words(signal: Signal, label) -> str:
    """The signal in the reader's language (the screen's, or the one a report is gathered in)."""
    where = label(signal.first)
    if signal.rule == 1:
        return (_("%(day)s 超出上控制限", day=label(signal.index)) if signal.direction == "high"
                else _("%(day)s 超出下控制限", day=label(signal.index)))
    if signal.rule == 2:
        return (_("连续 %(n)d 次高于中心线（%(day)s 起）", n=RUN_LENGTH, day=where) if signal.direction == "high"
                else _("连续 %(n)d 次低于中心线（%(day)s 起）", n=RUN_LENGTH, day=where))
    if signal.rule == 3:
        return (_("连续 %(n)d 次上升（%(day)s 起）", n=TREND_LENGTH, day=where) if signal.direction == "up"
                else _("连续 %(n)d 次下降（%(day)s 起）", n=TREND_LENGTH, day=where))
    return _("连续 %(n)d 次交替升降（%(day)s 起）", n=ALTERNATING_LENGTH, day=where)
