"""Plans kept and changed, and their occurrences worked out: each window of each version, fulfilled by the first
inspection of the workshop against the plan's checklist started inside it (or late, when the plan allows), or
skipped by a manager. Nothing about an occurrence is stored except a skip, so an inspection started on screen,
through the API or replayed from a tablet's outbox fulfils its occurrence the same way, without a write.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, select

import audit.service as audit
import clock
from accounts.days import PlantDays
from accounts.models import Plant, Role, User, Workshop
from accounts.service import can_inspect, can_see_workshop, is_manager, visible_workshops
from checklists.models import Checklist
from checklists.service import versions_for_workshop
from inspections.models import Inspection, InspectionStatus
from plans.models import InspectionPlan, PlanSkip, PlanVersion
from plans.recurrence import (
    MAX_WINDOW_DAYS,
    Completion,
    PlanError,
    Recurrence,
    State,
    Window,
    completion,
    parse_recurrence,
    state_of,
)

MAX_REASON = 200
OPEN_STATES = (State.due, State.overdue)
# Overdue lasts until the next window opens: up to a year for a yearly plan (a longer late one is not looked for).
AGENDA_LOOK_BACK_DAYS = 366
_LOOK_BACK = MAX_WINDOW_DAYS + 8  # windows that can hold one day: one per day of the longest window, and versions


class PlanNotFound(LookupError):
    pass


@dataclass(frozen=True)
class PlanInput:
    """What a person asks for, as given (codes and usernames); `plan_input` checks it."""

    checklist: str
    rrule: str
    starts_on: date
    window_days: int
    workshop: str | None = None
    plant: str | None = None
    inspectors: tuple[str, ...] = ()
    allow_late: bool = False


@dataclass(frozen=True)
class _Checked:
    plant: Plant
    workshop: Workshop | None
    checklist: Checklist
    recurrence: Recurrence
    inspectors: list[User]
    allow_late: bool


# ------------------------------------------------------------------ checking what is asked


def _workshops_of(session: Session, plant: Plant, workshop: Workshop | None) -> list[Workshop]:
    if workshop is not None:
        return [workshop]
    return list(session.exec(select(Workshop).where(Workshop.plant_id == plant.id).order_by(Workshop.code)))


def _check(session: Session, actor: User, given: PlanInput, *, plan: InspectionPlan | None = None) -> _Checked:
    if plan is not None:  # the place and the checklist of a plan stay; a different one is a different plan
        plant, workshop = session.get(Plant, plan.plant_id), session.get(Workshop, plan.workshop_id) \
            if plan.workshop_id else None
        checklist = session.get(Checklist, plan.checklist_id)
    else:
        plant, workshop = _place(session, actor, given)
        checklist = session.exec(select(Checklist).where(Checklist.key == (given.checklist or "").strip())).first()
        if checklist is None:
            raise PlanError("checklist", f"no checklist {given.checklist!r}", "unknown_checklist",
                            checklist=given.checklist)
    workshops = _workshops_of(session, plant, workshop)
    if not workshops:
        raise PlanError("plant", f"plant {plant.code} has no workshops", "no_workshops", plant=plant.code)
    for each in workshops:
        if not any(v.checklist_id == checklist.id for v in versions_for_workshop(session=session, workshop=each)):
            raise PlanError("checklist", f"checklist {checklist.key} has no published version offered at "
                                         f"{each.code}", "checklist_not_offered", checklist=checklist.key,
                            workshop=each.code)
    if not isinstance(given.starts_on, date):
        raise PlanError("starts_on", "a first day YYYY-MM-DD is required", "starts_on")
    recurrence = parse_recurrence(given.rrule, given.starts_on, given.window_days)
    if not isinstance(given.allow_late, bool):
        raise PlanError("allow_late", "allow_late is true or false", "allow_late")
    inspectors = _inspectors(session, given.inspectors, workshops)
    return _Checked(plant, workshop, checklist, recurrence, inspectors, given.allow_late)


def _place(session: Session, actor: User, given: PlanInput) -> tuple[Plant, Workshop | None]:
    if bool(given.workshop) == bool(given.plant):
        raise PlanError("workshop", "give a workshop, or a plant for all its workshops", "place_required")
    if given.workshop:
        workshop = session.exec(select(Workshop).where(Workshop.code == given.workshop)).first()
        if workshop is None or not can_see_workshop(session=session, user=actor, workshop_id=workshop.id):
            raise PlanError("workshop", f"no workshop {given.workshop!r}", "unknown_workshop",
                            workshop=given.workshop)
        return session.get(Plant, workshop.plant_id), workshop
    plant = session.exec(select(Plant).where(Plant.code == given.plant)).first()
    if plant is None or not may_plan_plant(session, actor, plant):
        raise PlanError("plant", f"no plant {given.plant!r}", "unknown_plant", plant=given.plant)
    return plant, None


def may_plan_plant(session: Session, user: User, plant: Plant) -> bool:
    """A plant-wide plan: managers who see every workshop of the plant."""
    if not is_manager(user):
        return False
    ids = [w.id for w in _workshops_of(session, plant, None)]
    return all(can_see_workshop(session=session, user=user, workshop_id=i) for i in ids)


def may_plan(session: Session, user: User, plan: InspectionPlan) -> bool:
    if not is_manager(user):
        return False
    if plan.workshop_id is not None:
        return can_see_workshop(session=session, user=user, workshop_id=plan.workshop_id)
    return may_plan_plant(session, user, session.get(Plant, plan.plant_id))


def _inspectors(session: Session, usernames: Iterable[str], workshops: list[Workshop]) -> list[User]:
    names = [n.strip() for n in usernames if isinstance(n, str) and n.strip()]
    if any(not isinstance(n, str) for n in usernames):
        raise PlanError("inspectors", "inspectors are usernames", "inspectors_type")
    found = {u.username: u for u in session.exec(select(User).where(User.username.in_(names)))} if names else {}
    chosen = []
    for name in dict.fromkeys(names):
        user = found.get(name)
        if user is None or not user.active:
            raise PlanError("inspectors", f"no active user {name!r}", "unknown_inspector", user=name)
        outside = [w.code for w in workshops if not can_inspect(session=session, user=user, workshop_id=w.id)]
        if outside:
            raise PlanError("inspectors", f"{name} may not inspect {', '.join(outside)}", "inspector_outside",
                            user=name, workshops=", ".join(outside))
        chosen.append(user)
    return chosen


def _overlapping(session: Session, checked: _Checked, valid_from: date, *,
                 besides: int | None) -> InspectionPlan | None:
    """Another plan, still running from `valid_from`, for the same checklist at any of the same workshops: one
    inspection would fulfil both."""
    query = select(InspectionPlan).where(InspectionPlan.checklist_id == checked.checklist.id,
                                         InspectionPlan.plant_id == checked.plant.id)
    if checked.workshop is not None:
        query = query.where(or_(InspectionPlan.workshop_id.is_(None),
                                InspectionPlan.workshop_id == checked.workshop.id))
    for other in session.exec(query):
        if other.id == besides:
            continue
        versions = versions_of(session, other.id)
        if any(not v.paused and (v.valid_until is None or v.valid_until >= valid_from) for v in versions):
            return other
    return None


# ------------------------------------------------------------------ changing plans


def versions_of(session: Session, plan_id: int) -> list[PlanVersion]:
    return list(session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                             .order_by(PlanVersion.valid_from, PlanVersion.id)))


def current_version(session: Session, plan: InspectionPlan) -> PlanVersion:
    return versions_of(session, plan.id)[-1]


def _snapshot(plan: InspectionPlan, version: PlanVersion) -> dict:
    return {"plant_id": plan.plant_id, "workshop_id": plan.workshop_id, "checklist_id": plan.checklist_id,
            "rrule": version.rrule, "starts_on": version.starts_on.isoformat(), "window_days": version.window_days,
            "allow_late": version.allow_late, "paused": version.paused, "inspector_ids": list(version.inspector_ids),
            "valid_from": version.valid_from.isoformat()}


def create_plan(*, session: Session, actor: User, given: PlanInput, days: PlantDays) -> InspectionPlan:
    """A new plan. Its first occurrences are the rule's from its first day (a first day in the past counts
    from today: nothing is missed before the plan existed)."""
    if not is_manager(actor):
        raise PlanError("plan", "plans are made by managers", "not_allowed")
    checked = _check(session, actor, given)
    valid_from = max(days.of(checked.plant), checked.recurrence.starts_on)
    clash = _overlapping(session, checked, valid_from, besides=None)
    if clash is not None:
        raise PlanError("checklist", f"plan {clash.id} already schedules {checked.checklist.key} here",
                        "overlapping_plan", plan=clash.id)
    plan = InspectionPlan(plant_id=checked.plant.id, workshop_id=checked.workshop.id if checked.workshop else None,
                          checklist_id=checked.checklist.id, created_by_id=actor.id)
    session.add(plan)
    session.flush()
    version = _version(plan, checked, actor, valid_from, paused=False)
    session.add(version)
    session.flush()
    audit.record(session, actor=actor, action="plan.create", object_type="plan", object_id=plan.id,
                 new=_snapshot(plan, version))
    return plan


def _version(plan: InspectionPlan, checked: _Checked, actor: User, valid_from: date, paused: bool) -> PlanVersion:
    recurrence = checked.recurrence
    return PlanVersion(plan_id=plan.id, rrule=recurrence.rule, starts_on=recurrence.starts_on, valid_from=valid_from,
                       window_days=recurrence.window_days, allow_late=checked.allow_late, paused=paused,
                       inspector_ids=[u.id for u in checked.inspectors], created_by_id=actor.id)


def _take_effect(session: Session, plan: InspectionPlan, new: PlanVersion) -> None:
    """`new` governs from its valid_from on: versions that had not yet taken effect by then go, the one running
    then ends the day before."""
    for version in versions_of(session, plan.id):
        if version.valid_from >= new.valid_from:
            session.delete(version)
        elif version.valid_until is None or version.valid_until >= new.valid_from:
            version.valid_until = new.valid_from - timedelta(days=1)
    session.flush()
    session.add(new)
    session.flush()


def change_plan(*, session: Session, actor: User, plan: InspectionPlan, given: PlanInput,
                days: PlantDays) -> PlanVersion:
    """Future occurrences follow the new rule: windows that opened by today keep the old one (with its window and
    its late rule), the new rule counts from tomorrow (or its own later first day)."""
    if not may_plan(session, actor, plan):
        raise PlanError("plan", "plans are changed by their workshops' managers", "not_allowed")
    checked = _check(session, actor, given, plan=plan)
    old = current_version(session, plan)
    valid_from = max(days.of(plan.plant_id) + timedelta(days=1), checked.recurrence.starts_on)
    clash = _overlapping(session, checked, valid_from, besides=plan.id)
    if clash is not None:
        raise PlanError("checklist", f"plan {clash.id} already schedules {checked.checklist.key} here",
                        "overlapping_plan", plan=clash.id)
    new = _version(plan, checked, actor, valid_from, paused=old.paused)
    before = _snapshot(plan, old)
    _take_effect(session, plan, new)
    audit.record(session, actor=actor, action="plan.change", object_type="plan", object_id=plan.id, old=before,
                 new=_snapshot(plan, new))
    return new


def set_paused(*, session: Session, actor: User, plan: InspectionPlan, paused: bool, days: PlantDays) -> PlanVersion:
    """Pausing stops occurrences from tomorrow (today's open windows stay; skip them if they are not wanted);
    resuming brings them back from today."""
    if not may_plan(session, actor, plan):
        raise PlanError("plan", "plans are changed by their workshops' managers", "not_allowed")
    old, today = current_version(session, plan), days.of(plan.plant_id)
    if old.paused == paused:
        return old
    new = PlanVersion(plan_id=plan.id, rrule=old.rrule, starts_on=old.starts_on,
                      valid_from=today + timedelta(days=1) if paused else today,
                      window_days=old.window_days, allow_late=old.allow_late, paused=paused,
                      inspector_ids=list(old.inspector_ids), created_by_id=actor.id)
    before = _snapshot(plan, old)
    _take_effect(session, plan, new)
    audit.record(session, actor=actor, action="plan.pause" if paused else "plan.resume", object_type="plan",
                 object_id=plan.id, old=before, new=_snapshot(plan, new))
    return new


# ------------------------------------------------------------------ occurrences


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
    from plans.recurrence import windows as rule_windows

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
    from plans.recurrence import windows as rule_windows

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
            started = inspections.get((workshop.id, plan.checklist_id), [])
            submitted, drafts = _match(plan_windows, started,
                                       {k[2] for k in skips if k[:2] == (plan.id, workshop.id)})
            fulfilling = {inspection_id for inspection_id, _day in submitted.values()}
            extra[workshop.id] += sum(1 for s in started if s.submitted_on is not None and s.id not in fulfilling
                                      and start <= s.started_on <= end)
            for item in plan_windows:
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
    from checklists.models import ChecklistVersion

    workshop_ids = {w.id for ws in workshops_by_plant.values() for w in ws}
    checklist_ids = {p.checklist_id for p in plans}
    # a day apart on each side: plant days are at most 14 hours from UTC
    since = datetime.combine(earliest - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    query = (select(Inspection.id, Inspection.workshop_id, ChecklistVersion.checklist_id, Inspection.started_at,
                    Inspection.submitted_at, Inspection.status)
             .join(ChecklistVersion, Inspection.version_id == ChecklistVersion.id)
             .where(Inspection.workshop_id.in_(workshop_ids), ChecklistVersion.checklist_id.in_(checklist_ids),
                    Inspection.started_at >= since))
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


def agenda(session: Session, user: User, days: PlantDays, workshop_ids: set[int]) -> list[Occurrence]:
    """本周待检: the user's occurrences at these workshops that are open now (due, or overdue from an earlier week),
    and the rest of this week's (upcoming, done, skipped), most urgent first."""
    plans = visible_plans(session, user)
    if not plans or not workshop_ids:
        return []
    today = days.latest()
    monday = monday_of(today)
    # what can still be open from before this week: each plan's last opening before it (overdue lasts until the
    # next window opens), so a year of a daily plan is not worked out for one screen
    versions = session.exec(select(PlanVersion).where(PlanVersion.plan_id.in_([p.id for p in plans]))).all()
    first = min((_previous_open(v, monday) for v in versions), default=monday)
    found = occurrences(session, plans, max(first, monday - timedelta(days=AGENDA_LOOK_BACK_DAYS)),
                        monday + timedelta(days=6), days, workshop_ids=workshop_ids)
    # managers and admins have the board; their home lists only the plans that name them
    named_only = is_manager(user)
    kept = [o for o in found if (user.id in o.inspector_ids if named_only else o.for_user(user.id))
            and (o.state in OPEN_STATES or o.window.opens_on >= monday)]
    rank = {State.overdue: 0, State.due: 1, State.upcoming: 2, State.done: 3, State.skipped: 4, State.missed: 5}
    return sorted(kept, key=lambda o: (rank[o.state], o.window.closes_on, o.workshop_id))


# ------------------------------------------------------------------ reading, for a user


def visible_plans(session: Session, user: User) -> list[InspectionPlan]:
    """Plans of the workshops the user sees (a plant's plan when they see any of its workshops)."""
    workshops = session.exec(visible_workshops(user)).all()
    ids, plants = {w.id for w in workshops}, {w.plant_id for w in workshops}
    if not ids:
        return []
    query = select(InspectionPlan).where(or_(InspectionPlan.workshop_id.in_(ids),
                                             (InspectionPlan.workshop_id.is_(None))
                                             & InspectionPlan.plant_id.in_(plants)))
    return list(session.exec(query.order_by(InspectionPlan.plant_id, InspectionPlan.id)))


def _previous_open(version: PlanVersion, before: date) -> date:
    """The version's last opening before `before` (or `before` when it has none)."""
    if version.paused or version.valid_from >= before:
        return before
    rule = Recurrence(version.rrule, version.starts_on, version.window_days)._rule()
    moment = rule.before(datetime(before.year, before.month, before.day))
    day = moment.date() if moment else before
    return day if day >= version.valid_from else before


def checklist_keys(session: Session, plan_ids: set[int]) -> dict[int, str]:
    """Each plan's checklist key (what the start button sends)."""
    if not plan_ids:
        return {}
    return dict(session.exec(select(InspectionPlan.id, Checklist.key)
                             .join(Checklist, InspectionPlan.checklist_id == Checklist.id)
                             .where(InspectionPlan.id.in_(plan_ids))).all())


def visible_workshop_ids(session: Session, user: User) -> set[int] | None:
    return None if user.role == Role.admin else {w.id for w in session.exec(visible_workshops(user))}


def get_visible_plan(session: Session, user: User, plan_id: int) -> InspectionPlan | None:
    plan = session.get(InspectionPlan, plan_id)
    if plan is None:
        return None
    return plan if plan.id in {p.id for p in visible_plans(session, user)} else None


def find_occurrence(session: Session, user: User, text: str, days: PlantDays) -> Occurrence | None:
    """The occurrence by its id, when the user may see its workshop and its plan has it."""
    parsed = parse_occurrence_id(text)
    if parsed is None:
        return None
    plan_id, workshop_id, opens_on = parsed
    plan = get_visible_plan(session, user, plan_id)
    if plan is None or not can_see_workshop(session=session, user=user, workshop_id=workshop_id):
        return None
    found = occurrences(session, [plan], opens_on, opens_on, days, workshop_ids={workshop_id})
    return found[0] if found else None


def skip_occurrence(*, session: Session, actor: User, occurrence: Occurrence, reason: str) -> PlanSkip:
    plan = session.get(InspectionPlan, occurrence.plan_id)
    if not may_plan(session, actor, plan):
        raise PlanError("occurrence", "occurrences are skipped by their workshop's managers", "not_allowed")
    reason = (reason or "").strip()
    if not reason:
        raise PlanError("reason", "a reason is required (e.g. 停产检修)", "reason_required")
    if len(reason) > MAX_REASON:
        raise PlanError("reason", f"the reason is at most {MAX_REASON} characters", "reason_long", most=MAX_REASON)
    if occurrence.state == State.done:
        raise PlanError("occurrence", "this occurrence is done: its inspection stands", "already_done")
    if occurrence.skip is not None:
        return occurrence.skip
    skip = PlanSkip(plan_id=plan.id, workshop_id=occurrence.workshop_id, opens_on=occurrence.window.opens_on,
                    reason=reason, skipped_by_id=actor.id)
    session.add(skip)
    session.flush()
    audit.record(session, actor=actor, action="plan.skip", object_type="plan", object_id=plan.id,
                 new={"workshop_id": occurrence.workshop_id, "opens_on": occurrence.window.opens_on.isoformat(),
                      "reason": reason})
    return skip


def figures_of(found: Iterable[Occurrence]) -> Completion:
    return completion((o.state, o.on_time) for o in found)


def figures_by(found: Iterable[Occurrence], key) -> dict:
    grouped: dict = defaultdict(list)
    for each in found:
        grouped[key(each)].append(each)
    return {k: figures_of(v) for k, v in grouped.items()}


@dataclass
class Week:
    monday: date
    cells: dict[int, list[Occurrence]] = field(default_factory=dict)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# ------------------------------------------------------------------ the calendar feed


def _feed_digest(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def new_calendar_feed(session: Session, user: User) -> str:
    """A new secret address for the user's calendar (the old one stops working). Only its digest is kept: the
    token is shown once."""
    import secrets

    from plans.models import CalendarFeed

    token = secrets.token_urlsafe(24)
    feed = session.get(CalendarFeed, user.id)
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token_sha256=_feed_digest(token))
        session.add(feed)
    else:
        feed.token_sha256, feed.created_at = _feed_digest(token), clock.now()
    session.flush()
    audit.record(session, actor=user, action="calendar.new", object_type="user", object_id=user.id)
    return token


def revoke_calendar_feed(session: Session, user: User) -> bool:
    from plans.models import CalendarFeed

    feed = session.get(CalendarFeed, user.id)
    if feed is None:
        return False
    session.delete(feed)
    session.flush()
    audit.record(session, actor=user, action="calendar.revoke", object_type="user", object_id=user.id)
    return True


def calendar_feed_of(session: Session, user: User):
    from plans.models import CalendarFeed

    return session.get(CalendarFeed, user.id)


def feed_user(session: Session, token: str) -> User | None:
    """The active user whose feed this token opens, or None."""
    from accounts.service import is_usable
    from plans.models import CalendarFeed

    if not token or len(token) > 100:
        return None
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.token_sha256 == _feed_digest(token))).first()
    user = session.get(User, feed.user_id) if feed else None
    return user if user is not None and is_usable(user, session=session) else None


FEED_PAST_DAYS = 28
FEED_FUTURE_DAYS = 92


def feed_occurrences(session: Session, user: User, days: PlantDays) -> list[Occurrence]:
    """What the user's calendar shows: their occurrences from four weeks back to three months ahead, at the
    workshops they may inspect."""
    ids = {w.id for w in session.exec(visible_workshops(user))
           if can_inspect(session=session, user=user, workshop_id=w.id)}
    plans = visible_plans(session, user)
    today = days.latest()
    found = occurrences(session, plans, today - timedelta(days=FEED_PAST_DAYS),
                        today + timedelta(days=FEED_FUTURE_DAYS), days, workshop_ids=ids)
    return [o for o in found if o.for_user(user.id)]
