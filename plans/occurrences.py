"""Occurrences worked out from a plan's versions and the inspections: each window of each version (plant days),
fulfilled by the first inspection of the workshop against the plan's checklist started inside it (or late, when
the plan allows), or skipped by a manager. Nothing about an occurrence is stored except a skip, so an inspection
started on screen, through the API or replayed from a tablet's outbox fulfils its occurrence the same way, without
a write."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, or_, select

import clock
from accounts.days import PlantDays
from accounts.models import Workshop
from checklists.models import ChecklistVersion
from inspections.models import Inspection, InspectionStatus
from plans.models import InspectionPlan, PlanSkip, PlanVersion
from plans.recurrence import (
    MAX_WINDOW_DAYS,
    Completion,
    Recurrence,
    State,
    Window,
    completion,
    state_of,
)
from plans.recurrence import windows as rule_windows

OPEN_STATES = (State.due, State.overdue)
_LOOK_BACK = MAX_WINDOW_DAYS + 8  # windows that can hold one day: one per day of the longest window, and versions


@dataclass(frozen=True)
class Occurrence:
    plan_id: int
    workshop_id: int
    window: Window
    state: State
    allow_late: bool
    inspector_ids: tuple[int, ...]
    inspection_id: int | None = None  # the submitted inspection that fulfilled it
    draft_id: int | None = None  # an inspection started for it, not yet submitted
    done_on: date | None = None  # the day (at the plant) it was submitted
    skip: PlanSkip | None = None

    @property
    def id(self) -> str:
        return occurrence_id(self.plan_id, self.workshop_id, self.window.opens_on)

    @property
    def on_time(self) -> bool:
        return self.done_on is not None and self.done_on <= self.window.closes_on

    @property
    def late_until(self) -> date | None:
        """The last day a late inspection fulfils it (None: late ones not allowed, or no next window yet)."""
        following = self.window.next_opens_on
        return following - timedelta(days=1) if self.allow_late and following else None

    def for_user(self, user_id: int) -> bool:
        return not self.inspector_ids or user_id in self.inspector_ids


def occurrence_id(plan_id: int, workshop_id: int, opens_on: date) -> str:
    return f"{plan_id}-{workshop_id}-{opens_on:%Y%m%d}"


def parse_occurrence_id(text: str) -> tuple[int, int, date] | None:
    parts = (text or "").split("-")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 12 for p in parts):
        return None
    try:
        return int(parts[0]), int(parts[1]), datetime.strptime(parts[2], "%Y%m%d").date()  # noqa: DTZ007 - a date
    except ValueError:
        return None


@dataclass
class _Windows:
    version: PlanVersion
    window: Window


def _plan_windows(versions: list[PlanVersion], start: date, end: date) -> list[_Windows]:
    """The plan's windows opening in [start, end], each with the version it follows; `next_opens_on` is the next
    occurrence of the plan (whichever version), so a late inspection ends where the plan's next window opens."""

    found: list[_Windows] = []
    for version in versions:
        if version.paused:
            continue
        first = max(start, version.valid_from)
        last = min(end, version.valid_until) if version.valid_until else end
        recurrence = Recurrence(version.rrule, version.starts_on, version.window_days)
        found += [_Windows(version, w) for w in rule_windows(recurrence, first, last)]
    found.sort(key=lambda w: w.window.opens_on)
    for index, each in enumerate(found):
        following = found[index + 1].window.opens_on if index + 1 < len(found) else _next_open(versions,
                                                                                               each.window.opens_on)
        each.window = Window(each.window.opens_on, each.window.closes_on, following)
    return found


def _next_open(versions: list[PlanVersion], after: date) -> date | None:

    candidates = []
    for version in versions:
        if version.paused or (version.valid_until and version.valid_until <= after):
            continue
        first = max(after + timedelta(days=1), version.valid_from)
        last = version.valid_until or first + timedelta(days=400)
        found = rule_windows(Recurrence(version.rrule, version.starts_on, version.window_days), first,
                             min(last, first + timedelta(days=400)))
        if found:
            candidates.append(found[0].opens_on)
    return min(candidates, default=None)


def _late_ok(item: _Windows, day: date) -> bool:
    window = item.window
    return item.version.allow_late and day > window.closes_on and (window.next_opens_on is None
                                                                    or day < window.next_opens_on)


def occurrences(session: Session, plans: list[InspectionPlan], start: date, end: date, days: PlantDays,
                workshop_ids: set[int] | None = None) -> list[Occurrence]:
    """Every occurrence of these plans opening in [start, end] (plant days), at the workshops given (all the
    plans' workshops when None), with its state today at its plant."""
    return worked_out(session, plans, start, end, days, workshop_ids)[0]


def worked_out(session: Session, plans: list[InspectionPlan], start: date, end: date, days: PlantDays,
               workshop_ids: set[int] | None = None) -> tuple[list[Occurrence], dict[int, int]]:
    """The occurrences (as `occurrences`), and per workshop the extra (surprise) inspections: submitted ones of a
    plan's checklist, started in [start, end], that fulfil no window."""
    if not plans:
        return [], {}
    plan_ids = [p.id for p in plans]
    versions: dict[int, list[PlanVersion]] = defaultdict(list)
    for version in session.exec(select(PlanVersion).where(PlanVersion.plan_id.in_(plan_ids))
                                .order_by(PlanVersion.valid_from, PlanVersion.id)):
        versions[version.plan_id].append(version)
    plant_ids = {p.plant_id for p in plans}
    workshops_by_plant: dict[int, list[Workshop]] = defaultdict(list)
    for workshop in session.exec(select(Workshop).where(Workshop.plant_id.in_(plant_ids)).order_by(Workshop.code)):
        if workshop_ids is None or workshop.id in workshop_ids:
            workshops_by_plant[workshop.plant_id].append(workshop)
    skips = {(s.plan_id, s.workshop_id, s.opens_on): s for s in session.exec(
        select(PlanSkip).where(PlanSkip.plan_id.in_(plan_ids), PlanSkip.opens_on >= start, PlanSkip.opens_on <= end))}

    found: list[Occurrence] = []
    extra: dict[int, int] = defaultdict(int)
    windows_by_plan = {p.id: _plan_windows(versions[p.id], start, end) for p in plans}
    earliest = min((w[0].window.opens_on for w in windows_by_plan.values() if w), default=None)
    if earliest is None:
        return [], {}
    latest = max(_last_useful_day(w) for ws in windows_by_plan.values() for w in ws)
    inspections = _inspections(session, plans, workshops_by_plant, earliest, latest, days)
    for plan in plans:
        plan_windows = windows_by_plan[plan.id]
        targets = [w for w in workshops_by_plant[plan.plant_id] if plan.workshop_id in (None, w.id)]
        for workshop in targets:
            today = days.of(workshop)
            # a workshop added to the plant later has no windows before it existed
            added = clock.local_day(_aware(workshop.created_at), days.zones.get(workshop.plant_id, days.default_zone)) \
                if workshop.created_at else None
            here = [w for w in plan_windows if added is None or w.window.opens_on >= added]
            started = inspections.get((workshop.id, plan.checklist_id), [])
            submitted, drafts = _match(here, started,
                                       {k[2] for k in skips if k[:2] == (plan.id, workshop.id)})
            fulfilling = {inspection_id for inspection_id, _day in submitted.values()}
            extra[workshop.id] += sum(1 for s in started if s.submitted_on is not None and s.id not in fulfilling
                                      and start <= s.started_on <= end)
            for item in here:
                opens = item.window.opens_on
                skip = skips.get((plan.id, workshop.id, opens))
                done = submitted.get(opens)
                state = state_of(item.window, today, fulfilled_on=done[1] if done else None,
                                 skipped=skip is not None, allow_late=item.version.allow_late)
                draft = drafts.get(opens)
                found.append(Occurrence(
                    plan_id=plan.id, workshop_id=workshop.id, window=item.window, state=state,
                    allow_late=item.version.allow_late, inspector_ids=tuple(item.version.inspector_ids),
                    inspection_id=done[0] if done else None, done_on=done[1] if done else None,
                    draft_id=draft if state in (State.due, State.overdue, State.upcoming) else None, skip=skip))
    found.sort(key=lambda o: (o.window.opens_on, o.workshop_id, o.plan_id))
    return found, dict(extra)


@dataclass(frozen=True)
class _Started:
    id: int
    started_on: date
    submitted_on: date | None


def _last_useful_day(item: _Windows) -> date:
    """The last day an inspection could start and still fulfil this window (late, until the next one opens)."""
    window = item.window
    if item.version.allow_late:
        return window.next_opens_on - timedelta(days=1) if window.next_opens_on else date.max - timedelta(days=2)
    return window.closes_on


def _inspections(session: Session, plans, workshops_by_plant, earliest: date, latest: date,
                 days: PlantDays) -> dict[tuple[int, int], list[_Started]]:

    workshop_ids = {w.id for ws in workshops_by_plant.values() for w in ws}
    checklist_ids = {p.checklist_id for p in plans}
    # a day apart on each side: plant days are at most 14 hours from UTC
    since = datetime.combine(earliest - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    query = (select(Inspection.id, Inspection.workshop_id, ChecklistVersion.checklist_id, Inspection.started_at,
                    Inspection.submitted_at, Inspection.status)
             .join(ChecklistVersion, Inspection.version_id == ChecklistVersion.id)
             .where(Inspection.workshop_id.in_(workshop_ids), ChecklistVersion.checklist_id.in_(checklist_ids),
                    Inspection.started_at >= since,
                    # a joint inspection's copies fulfil nothing until one of them is made the official record
                    or_(Inspection.calibration_id.is_(None), Inspection.status == InspectionStatus.submitted)))
    if latest < date.max - timedelta(days=2):
        query = query.where(Inspection.started_at < datetime.combine(latest + timedelta(days=2), datetime.min.time(),
                                                                      tzinfo=UTC))
    rows = session.exec(query.order_by(Inspection.started_at, Inspection.id))
    plant_of = {w.id: w.plant_id for ws in workshops_by_plant.values() for w in ws}
    found: dict[tuple[int, int], list[_Started]] = defaultdict(list)
    for inspection_id, workshop_id, checklist_id, started_at, submitted_at, status in rows:
        zone = days.zones.get(plant_of[workshop_id], days.default_zone)
        started = clock.local_day(_aware(started_at), zone)
        submitted = clock.local_day(_aware(submitted_at), zone) if status == InspectionStatus.submitted \
            and submitted_at else None
        found[(workshop_id, checklist_id)].append(_Started(inspection_id, started, submitted))
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _match(plan_windows: list[_Windows], started: list[_Started],
           skipped: set[date]) -> tuple[dict[date, tuple[int, date]], dict[date, int]]:
    """Which inspection fulfils which window: submitted inspections first, each in order of starting, to the
    earliest window open on its day (else, late ones allowed, the window it is late for); then drafts to the
    windows left, as work in progress. An inspection matching no window is an extra (surprise) one."""
    opens = [w.window.opens_on for w in plan_windows]
    submitted: dict[date, tuple[int, date]] = {}
    drafts: dict[date, int] = {}
    for inspection in started:
        if inspection.submitted_on is None:
            continue
        target = _target(plan_windows, opens, inspection.started_on, taken=submitted.keys() | skipped)
        if target is not None:
            submitted[target] = (inspection.id, inspection.submitted_on)
    for inspection in started:
        if inspection.submitted_on is None:
            target = _target(plan_windows, opens, inspection.started_on,
                             taken=submitted.keys() | skipped | drafts.keys())
            if target is not None:
                drafts[target] = inspection.id
    return submitted, drafts


def _target(plan_windows: list[_Windows], opens: list[date], day: date, taken) -> date | None:
    """The window an inspection started on `day` fulfils. Windows are in order of opening and a version's windows
    never overlap, so only the few opened in the last MAX_WINDOW_DAYS can hold the day, and only the last one
    opened before it can be late."""
    index = bisect_right(opens, day)
    inside = []
    for item in reversed(plan_windows[max(0, index - _LOOK_BACK):index]):
        if item.window.opens_on < day - timedelta(days=MAX_WINDOW_DAYS):
            break
        if item.window.holds(day) and item.window.opens_on not in taken:
            inside.append(item.window.opens_on)
    if inside:
        return min(inside)
    if index and _late_ok(plan_windows[index - 1], day) and opens[index - 1] not in taken:
        return opens[index - 1]
    return None



def previous_open(version: PlanVersion, before: date) -> date:
    """The version's last opening before `before` (or `before` when it has none)."""
    if version.paused or version.valid_from >= before:
        return before
    rule = Recurrence(version.rrule, version.starts_on, version.window_days)._rule()
    moment = rule.before(datetime(before.year, before.month, before.day))
    day = moment.date() if moment else before
    return day if day >= version.valid_from else before


def figures_of(found: Iterable[Occurrence]) -> Completion:
    return completion((o.state, o.on_time) for o in found)


def figures_by(found: Iterable[Occurrence], key) -> dict:
    grouped: dict = defaultdict(list)
    for each in found:
        grouped[key(each)].append(each)
    return {k: figures_of(v) for k, v in grouped.items()}


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
