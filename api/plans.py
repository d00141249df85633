"""The API of inspection plans: plans made, changed, paused and listed; occurrences listed and skipped. Routes join
the API's blueprint (its sign-in and CSRF rules apply)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, jsonify, request
from flask_login import current_user
from sqlmodel import select

import clock
from accounts.days import plant_days
from accounts.models import Plant, User, Workshop
from accounts.service import is_manager
from api.answers import OccurrenceOut, Occurrences, PlanOut, Plans
from api.openapi import operation
from api.problems import json_body
from api.schemas import NoBody, NoQuery, OccurrenceFilters, PlanBody, PlanChangeBody, SkipBody
from api.views import bp
from checklists.models import Checklist
from database import db
from plans.models import InspectionPlan
from plans.occurrences import Occurrence, occurrences
from plans.recurrence import PlanError, State
from plans.service import (
    PlanInput,
    change_plan,
    create_plan,
    find_occurrence,
    get_visible_plan,
    may_plan,
    set_paused,
    skip_occurrence,
    versions_of,
    visible_plans,
    visible_workshop_ids,
)

PLAN_FIELDS = {"workshop", "plant", "checklist", "rrule", "starts_on", "window_days", "inspectors", "allow_late"}
CHANGE_FIELDS = PLAN_FIELDS - {"workshop", "plant", "checklist"}
MAX_RANGE_DAYS = 400


def _refused(exc: PlanError):
    return jsonify(error=str(exc), code=exc.code, field=exc.field, items=[exc.field]), \
        403 if exc.code == "not_allowed" else 422


def _bad(message: str, code: str, fields: list[str]):
    return jsonify(error=message, code=code, field=fields[0] if fields else None, items=fields), 422


def _plan_input(body, allowed: set[str], base: InspectionPlan | None = None):
    """A PlanInput from the JSON, or an error response naming the fields it cannot use."""
    if not isinstance(body, dict):
        return None, _bad("expected a JSON object", "bad_request", [])
    unknown = sorted(set(body) - allowed)
    if unknown:
        return None, _bad(f"unknown fields: {', '.join(unknown)}", "unknown_field", unknown)
    starts = body.get("starts_on")
    try:
        starts_on = date.fromisoformat(starts) if isinstance(starts, str) else None
    except ValueError:
        starts_on = None
    if starts_on is None or not clock.FIRST_DAY <= starts_on <= clock.LAST_DAY:
        return None, _bad("starts_on: a date YYYY-MM-DD", "starts_on", ["starts_on"])
    window = body.get("window_days", 1)
    inspectors = body.get("inspectors", [])
    if not isinstance(inspectors, list) or not all(isinstance(n, str) for n in inspectors):
        return None, _bad("inspectors: a list of usernames", "inspectors_type", ["inspectors"])
    for name in ("workshop", "plant", "checklist", "rrule"):
        if body.get(name) is not None and not isinstance(body.get(name), str):
            return None, _bad(f"{name}: a string", "bad_type", [name])
    if base is not None:
        checklist = db().get(Checklist, base.checklist_id).key
    else:
        checklist = body.get("checklist") or ""
    return PlanInput(checklist=checklist, rrule=body.get("rrule") or "", starts_on=starts_on,
                     window_days=window, workshop=body.get("workshop"), plant=body.get("plant"),
                     inspectors=tuple(inspectors), allow_late=body.get("allow_late", False)), None


def plan_json(plan: InspectionPlan) -> dict:
    session = db()
    versions = versions_of(session, plan.id)
    version = versions[-1]
    users = {u.id: u.username for u in session.exec(select(User).where(User.id.in_(
        {i for v in versions for i in v.inspector_ids})))}
    workshop = session.get(Workshop, plan.workshop_id) if plan.workshop_id else None
    return {
        "id": plan.id, "plant": session.get(Plant, plan.plant_id).code, "workshop": workshop.code if workshop else None,
        "checklist": session.get(Checklist, plan.checklist_id).key, "rrule": version.rrule,
        "starts_on": version.starts_on.isoformat(), "window_days": version.window_days,
        "allow_late": version.allow_late, "paused": version.paused,
        "inspectors": [users[i] for i in version.inspector_ids if i in users],
        "versions": [{"valid_from": v.valid_from.isoformat(),
                      "valid_until": v.valid_until.isoformat() if v.valid_until else None,
                      "rrule": v.rrule, "starts_on": v.starts_on.isoformat(), "window_days": v.window_days,
                      "allow_late": v.allow_late, "paused": v.paused} for v in versions],
    }


def occurrence_json(found: Occurrence, workshops: dict[int, Workshop]) -> dict:
    window = found.window
    return {
        "id": found.id, "plan": found.plan_id, "workshop": workshops[found.workshop_id].code,
        "opens_on": window.opens_on.isoformat(), "closes_on": window.closes_on.isoformat(),
        "late_until": found.late_until.isoformat() if found.late_until else None,
        "state": found.state.value, "inspection": found.inspection_id, "draft": found.draft_id,
        "done_on": found.done_on.isoformat() if found.done_on else None, "on_time": found.on_time,
        "skip": {"reason": found.skip.reason, "at": found.skip.skipped_at.isoformat()} if found.skip else None,
    }


def _not_allowed():
    return jsonify(error="plans are made and changed by the workshops' managers", code="not_allowed"), 403


@bp.post("/plans")
@operation(summary="Make an inspection plan", tags=["plans"], ok={201: PlanOut}, body=PlanBody)
def create():
    session = db()
    if not is_manager(current_user):  # who may, before what they sent
        return _not_allowed()
    given, error = _plan_input(json_body(PlanBody), PLAN_FIELDS)
    if error:
        return error
    try:
        plan = create_plan(session=session, actor=current_user, given=given, days=plant_days(session))
    except PlanError as exc:
        return _refused(exc)
    session.commit()
    return jsonify(plan_json(plan)), 201


@bp.get("/plans")
@operation(summary="List inspection plans", tags=["plans"], ok={200: Plans}, query=NoQuery)
def list_plans():
    return jsonify(plans=[plan_json(p) for p in visible_plans(db(), current_user)])


def _plan_or_404(plan_id: int) -> InspectionPlan:
    plan = get_visible_plan(db(), current_user, plan_id)
    if plan is None:
        abort(404, "no such plan")
    return plan


@bp.get("/plans/<int:plan_id>")
@operation(summary="Read an inspection plan", tags=["plans"], ok={200: PlanOut}, query=NoQuery)
def get_plan(plan_id: int):
    return jsonify(plan_json(_plan_or_404(plan_id)))


@bp.put("/plans/<int:plan_id>")
@operation(summary="Change a plan from a day on", tags=["plans"], ok={200: PlanOut}, body=PlanChangeBody)
def change(plan_id: int):
    session = db()
    plan = _plan_or_404(plan_id)
    if not may_plan(session, current_user, plan):
        return _not_allowed()
    given, error = _plan_input(json_body(PlanChangeBody), CHANGE_FIELDS, base=plan)
    if error:
        return error
    try:
        change_plan(session=session, actor=current_user, plan=plan, given=given, days=plant_days(session))
    except PlanError as exc:
        return _refused(exc)
    session.commit()
    return jsonify(plan_json(plan))


def _pause(plan_id: int, paused: bool):
    session = db()
    plan = _plan_or_404(plan_id)
    if not may_plan(session, current_user, plan):  # who may, before what was sent
        return _not_allowed()
    json_body(NoBody, optional=True)  # nothing to send: anything sent is named
    try:
        set_paused(session=session, actor=current_user, plan=plan, paused=paused, days=plant_days(session))
    except PlanError as exc:
        return _refused(exc)
    session.commit()
    return jsonify(plan_json(plan))


@bp.post("/plans/<int:plan_id>/pause")
@operation(summary="Pause a plan", tags=["plans"], ok={200: PlanOut}, body=NoBody)
def pause(plan_id: int):
    return _pause(plan_id, True)


@bp.post("/plans/<int:plan_id>/resume")
@operation(summary="Resume a plan", tags=["plans"], ok={200: PlanOut}, body=NoBody)
def resume(plan_id: int):
    return _pause(plan_id, False)


def _day_arg(name: str, default: date):
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if clock.FIRST_DAY <= day <= clock.LAST_DAY else None


@bp.get("/occurrences")
@operation(summary="List plan occurrences", tags=["plans"], ok={200: Occurrences}, query=OccurrenceFilters)
def list_occurrences():
    session = db()
    days = plant_days(session)
    today = days.latest()
    start, end = _day_arg("from", today - timedelta(days=28)), _day_arg("to", today + timedelta(days=28))
    bad = [name for name, value in (("from", start), ("to", end)) if value is None]
    if bad:
        return _bad(f"{', '.join(bad)}: a date YYYY-MM-DD", "bad_date", bad)
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        return _bad(f"from … to is at most {MAX_RANGE_DAYS} days, from first", "bad_range", ["from", "to"])
    state = request.args.get("state") or None
    if state is not None and state not in State.__members__:
        return _bad(f"state: one of {', '.join(State.__members__)}", "bad_state", ["state"])
    seen = visible_workshop_ids(session, current_user)
    workshops = {w.id: w for w in session.exec(select(Workshop))}
    wanted = set(workshops) if seen is None else set(seen)
    if request.args.get("workshop"):
        code = request.args["workshop"]
        wanted = {i for i in wanted if workshops[i].code == code}
        if not wanted:
            abort(404, "no such workshop")
    if request.args.get("plant"):
        plant = session.exec(select(Plant).where(Plant.code == request.args["plant"])).first()
        wanted = {i for i in wanted if plant is not None and workshops[i].plant_id == plant.id}
        if not wanted:
            abort(404, "no such plant")
    plans = [p for p in visible_plans(session, current_user)
             if (p.workshop_id in wanted) or (p.workshop_id is None and any(
                 workshops[i].plant_id == p.plant_id for i in wanted))]
    found = occurrences(session, plans, start, end, days, workshop_ids=wanted)
    if state:
        found = [o for o in found if o.state == state]
    return jsonify(occurrences=[occurrence_json(o, workshops) for o in found],
                   **{"from": start.isoformat(), "to": end.isoformat()})


@bp.post("/occurrences/<occurrence>/skip")
@operation(summary="Skip an occurrence, with a reason", tags=["plans"], ok={200: OccurrenceOut}, body=SkipBody)
def skip(occurrence: str):
    session = db()
    found = find_occurrence(session, current_user, occurrence, plant_days(session))
    if found is None:
        abort(404, "no such occurrence")
    if not may_plan(session, current_user, session.get(InspectionPlan, found.plan_id)):
        return _not_allowed()
    body = json_body(SkipBody)
    try:
        skip_occurrence(session=session, actor=current_user, occurrence=found, reason=body["reason"])
    except PlanError as exc:
        return _refused(exc) if exc.code != "already_done" else (jsonify(error=str(exc), code=exc.code), 409)
    session.commit()
    found = find_occurrence(session, current_user, occurrence, plant_days(session))
    workshops = {found.workshop_id: session.get(Workshop, found.workshop_id)}
    return jsonify(occurrence_json(found, workshops))

