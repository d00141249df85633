"""Plans kept and changed (as versions, so that editing, pausing and resuming change future occurrences only),
who may see and change them, skips, and a user's agenda (本周待检). The occurrences themselves are worked out in
plans.occurrences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_
from sqlmodel import Session, select

import audit.service as audit
from accounts.days import PlantDays
from accounts.models import Plant, Role, User, Workshop
from accounts.service import can_inspect, can_see_workshop, is_manager, visible_workshops
from checklists.models import Checklist
from checklists.service import versions_for_workshop
from events import News, announce
from plans.models import InspectionPlan, PlanSkip, PlanVersion
from plans.occurrences import OPEN_STATES, Occurrence, monday_of, occurrences, parse_occurrence_id, previous_open
from plans.recurrence import PlanError, Recurrence, State, parse_recurrence

MAX_REASON = 200
# Overdue lasts until the next window opens: up to a year for a yearly plan (a longer late one is not looked for).
AGENDA_LOOK_BACK_DAYS = 366


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
    seen = {w.id for w in session.exec(visible_workshops(user).where(Workshop.plant_id == plant.id))}
    return {w.id for w in _workshops_of(session, plant, None)} <= seen


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
    # managers and admins have the board; their home lists only the plans that name them
    named_only = is_manager(user)
    if named_only:
        naming = {v.plan_id for v in versions if user.id in v.inspector_ids}
        plans, versions = [p for p in plans if p.id in naming], [v for v in versions if v.plan_id in naming]
        if not plans:
            return []
    first = min((previous_open(v, monday) for v in versions), default=monday)
    found = occurrences(session, plans, max(first, monday - timedelta(days=AGENDA_LOOK_BACK_DAYS)),
                        monday + timedelta(days=6), days, workshop_ids=workshop_ids)
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
    workshop = session.get(Workshop, occurrence.workshop_id)
    announce(session, News(workshop.plant_id, "plan.occurrence_skipped", {
        "occurrence": occurrence.id, "plan": plan.id, "workshop": workshop.code,
        "opens_on": occurrence.window.opens_on.isoformat(), "closes_on": occurrence.window.closes_on.isoformat(),
        "reason": reason, "skipped_by": actor.username}))
    return skip
