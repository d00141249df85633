"""Screens of the inspection programme: the plans (list and editor), a plant's plan board (workshops × weeks) and
one occurrence (see it, start it, skip it). Views parse, call plans.service, render."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlmodel import select

import clock
from accounts.days import plant_days
from accounts.models import Plant, User, Workshop
from accounts.service import can_inspect, is_manager, visible_workshops
from checklists.models import Checklist
from checklists.service import versions_for_workshop
from database import db
from plans.calendar import (
    calendar_feed_of,
    calendar_of,
    feed_occurrences,
    feed_user,
    new_calendar_feed,
    revoke_calendar_feed,
)
from plans.figures import board_cells
from plans.models import InspectionPlan
from plans.occurrences import figures_by, figures_of, monday_of, worked_out
from plans.recurrence import (
    MAX_WINDOW_DAYS,
    REPEATS,
    WEEKDAYS,
    Choice,
    PlanError,
    State,
    choice_of,
    parse_recurrence,
    rule_of,
    windows,
)
from plans.service import (
    PlanInput,
    change_plan,
    create_plan,
    current_version,
    find_occurrence,
    get_visible_plan,
    may_plan,
    set_paused,
    skip_occurrence,
    versions_of,
    visible_plans,
)
from web import at_plant, public_url, render_page

bp = Blueprint("plans", __name__)
BOARD_WEEKS = 26
BOARD_WEEKS_BACK = 4  # the board opens with this many weeks before the current one (earlier: ← 更早)


@bp.before_request
def _require_login():
    """Every screen here needs a signed-in user; the calendar feed opens with its own secret instead."""
    if request.endpoint == "plans.calendar_feed":
        return None
    return login_required(lambda: None)()


def plan_error_text(exc: PlanError) -> str:
    """The refusal in the reader's language, naming the field."""
    p = exc.params
    texts = {
        "required": _("请填写重复规则"),
        "unreadable": _("无法识别的重复规则"),
        "frequency": _("计划只能按天、周、月或年重复"),
        "never": _("该规则从开始日期起不会出现任何日期"),
        "window_range": _("检查窗口为 1 到 %(n)d 天", n=p.get("most", MAX_WINDOW_DAYS)),
        "window_too_long": _("检查窗口比两次检查的间隔（%(n)d 天）还长", n=p.get("days", 0)),
        "weekday": _("请选择星期"), "nth": _("请选择第几个"), "monthday": _("请选择日期（1–28 日或最后一天）"),
        "repeat": _("请选择重复方式"),
        "unknown_checklist": _("没有这个检查表：%(key)s", key=p.get("checklist", "")),
        "checklist_not_offered": _("检查表 %(key)s 在 %(w)s 没有已发布的版本",
                                   key=p.get("checklist", ""), w=p.get("workshop", "")),
        "unknown_workshop": _("没有这个车间：%(code)s", code=p.get("workshop", "")),
        "unknown_plant": _("没有这个工厂：%(code)s", code=p.get("plant", "")),
        "place_required": _("请选择一个车间，或整个工厂"),
        "no_workshops": _("该工厂还没有车间"),
        "starts_on": _("请填写开始日期"),
        "unknown_inspector": _("没有这个在职用户：%(name)s", name=p.get("user", "")),
        "inspector_outside": _("%(name)s 不能检查 %(w)s", name=p.get("user", ""), w=p.get("workshops", "")),
        "overlapping_plan": _("已有计划 #%(id)s 安排了同一检查表", id=p.get("plan", "")),
        "reason_required": _("请填写跳过的原因（如：停产检修）"),
        "reason_long": _("原因最多 %(n)d 个字", n=p.get("most", 200)),
        "already_done": _("这次检查已完成，不能跳过"),
        "not_allowed": _("只有该车间的质量经理可以修改计划"),
    }
    return texts.get(exc.code, str(exc))


# ------------------------------------------------------------------ the plans and their editor


@bp.get("/plans")
def index():
    session = db()
    plans = visible_plans(session, current_user)
    return render_page("plans/index.html", rows=[_row(p) for p in plans], may_create=is_manager(current_user),
                       plants=_plants_seen())


def _plants_seen() -> list[Plant]:
    workshops = db().exec(visible_workshops(current_user)).all()
    return list({w.plant.id: w.plant for w in workshops}.values())


def _row(plan: InspectionPlan) -> dict:
    session = db()
    version = current_version(session, plan)
    return {"plan": plan, "version": version, "choice": choice_of(version.rrule),
            "plant": session.get(Plant, plan.plant_id),
            "workshop": session.get(Workshop, plan.workshop_id) if plan.workshop_id else None,
            "checklist": session.get(Checklist, plan.checklist_id),
            "inspectors": _names(version.inspector_ids), "may_change": may_plan(session, current_user, plan)}


def _names(ids) -> list[str]:
    if not ids:
        return []
    users = {u.id: u for u in db().exec(select(User).where(User.id.in_(ids)))}
    return [users[i].display_name for i in ids if i in users]


def _editor_options() -> dict:
    session = db()
    workshops = [w for w in session.exec(visible_workshops(current_user)).all()]
    offered: dict[str, Checklist] = {}
    for workshop in workshops:
        for version in versions_for_workshop(session=session, workshop=workshop):
            offered.setdefault(version.checklist.key, version.checklist)
    ids = {w.id for w in workshops}
    people = [u for u in session.exec(select(User).where(User.active).order_by(User.display_name))
              if any(can_inspect(session=session, user=u, workshop_id=i) for i in ids)]
    return {"workshops": workshops, "plants": _plants_seen(), "checklists": list(offered.values()),
            "people": people, "repeats": REPEATS, "weekdays": WEEKDAYS, "max_window": MAX_WINDOW_DAYS}


def _form_input() -> tuple[PlanInput, Choice]:
    form = request.form
    choice = Choice(repeat=form.get("repeat", "weekly"), weekday=form.get("weekday", "MO"),
                    nth=form.get("nth", "1"), monthday=form.get("monthday", "1"), custom=form.get("custom", ""))
    place = form.get("place", "")
    try:
        starts_on = date.fromisoformat(form.get("starts_on", ""))
    except ValueError:
        starts_on = None
    try:
        window = int(form.get("window_days", ""))
    except ValueError:
        window = 0
    given = PlanInput(checklist=form.get("checklist", ""), rrule="", starts_on=starts_on, window_days=window,
                      workshop=place.removeprefix("workshop:") if place.startswith("workshop:") else None,
                      plant=place.removeprefix("plant:") if place.startswith("plant:") else None,
                      inspectors=tuple(form.getlist("inspectors")), allow_late=form.get("allow_late") == "1")
    return given, choice


def _with_rule(given: PlanInput, choice: Choice) -> PlanInput:

    return replace(given, rrule=rule_of(choice))


@bp.route("/plans/new", methods=["GET", "POST"])
def new():
    if not is_manager(current_user):
        abort(403)
    session = db()
    if request.method == "GET":
        days = plant_days(session)
        form = {"place": request.args.get("place", ""), "starts_on": monday_of(days.latest()).isoformat(),
                "window_days": 3, "allow_late": False, "inspectors": [], "checklist": ""}
        return render_page("plans/edit.html", plan=None, form=form, choice=Choice("weekly"), errors={},
                           preview=_preview(Choice("weekly"), form["starts_on"], 3), **_editor_options())
    given, choice = _form_input()
    try:
        plan = create_plan(session=session, actor=current_user, given=_with_rule(given, choice),
                           days=plant_days(session))
    except PlanError as exc:
        return _editor_again(None, given, choice, exc)
    session.commit()
    flash(_("检查计划已保存"))
    return redirect(url_for(".board", code=session.get(Plant, plan.plant_id).code), code=303)


def _editor_again(plan, given: PlanInput, choice: Choice, exc: PlanError):
    place = f"workshop:{given.workshop}" if given.workshop else (f"plant:{given.plant}" if given.plant else "")
    form = {"place": place, "starts_on": given.starts_on.isoformat() if given.starts_on else "",
            "window_days": given.window_days, "allow_late": given.allow_late, "inspectors": list(given.inspectors),
            "checklist": given.checklist}
    field = "rrule" if exc.field in ("weekday", "nth", "monthday", "repeat") else exc.field
    errors = {field: plan_error_text(exc)}
    extra = {"row": _row(plan), "versions": versions_of(db(), plan.id)} if plan else {}
    return render_page("plans/edit.html", plan=plan, form=form, choice=choice, errors=errors,
                       preview=_preview(choice, form["starts_on"], given.window_days), status=422,
                       **extra, **_editor_options())


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
def edit(plan_id: int):
    session = db()
    plan = get_visible_plan(session, current_user, plan_id)
    if plan is None:
        abort(404)
    row = _row(plan)
    if request.method == "GET" or not row["may_change"]:
        if request.method == "POST":
            abort(403)
        version = row["version"]
        usernames = [u.username for u in session.exec(select(User).where(User.id.in_(version.inspector_ids)))] \
            if version.inspector_ids else []
        form = {"starts_on": version.starts_on.isoformat(), "window_days": version.window_days,
                "allow_late": version.allow_late, "inspectors": usernames, "checklist": row["checklist"].key}
        return render_page("plans/edit.html", plan=plan, row=row, form=form, choice=row["choice"], errors={},
                           versions=versions_of(session, plan.id),
                           preview=_preview(row["choice"], form["starts_on"], version.window_days),
                           **_editor_options())
    given, choice = _form_input()
    try:
        change_plan(session=session, actor=current_user, plan=plan, given=_with_rule(given, choice),
                    days=plant_days(session))
    except PlanError as exc:
        return _editor_again(plan, given, choice, exc)
    session.commit()
    flash(_("计划已修改：从明天起按新规则安排，已开始的检查窗口不变"))
    return redirect(url_for(".edit", plan_id=plan.id), code=303)


@bp.post("/plans/<int:plan_id>/pause")
def pause(plan_id: int):
    return _pause(plan_id, paused=True)


@bp.post("/plans/<int:plan_id>/resume")
def resume(plan_id: int):
    return _pause(plan_id, paused=False)


def _pause(plan_id: int, paused: bool):
    session = db()
    plan = get_visible_plan(session, current_user, plan_id)
    if plan is None:
        abort(404)
    try:
        set_paused(session=session, actor=current_user, plan=plan, paused=paused, days=plant_days(session))
    except PlanError:
        abort(403)
    session.commit()
    flash(_("计划已暂停：从明天起不再安排检查") if paused else _("计划已恢复"))
    return redirect(url_for(".edit", plan_id=plan.id), code=303)


def _preview(choice: Choice, starts_on: str, window_days) -> dict:
    """The next few windows of what the editor holds, or why it cannot be followed."""
    try:
        start = date.fromisoformat(starts_on)
        recurrence = parse_recurrence(rule_of(choice), start, int(window_days))
    except PlanError as exc:
        return {"error": plan_error_text(exc), "windows": []}
    except (ValueError, TypeError):
        return {"error": _("请填写开始日期和检查窗口"), "windows": []}
    first = max(start, plant_days(db()).latest())  # the next ones: an old plan's first windows are history
    shown = windows(recurrence, first, first + timedelta(days=800))[:6]
    return {"error": None, "windows": shown, "rule": recurrence.rule}


@bp.get("/plans/preview")
def preview():
    """The editor's preview, as the form changes (htmx)."""
    args = request.args
    choice = Choice(repeat=args.get("repeat", "weekly"), weekday=args.get("weekday", "MO"), nth=args.get("nth", "1"),
                    monthday=args.get("monthday", "1"), custom=args.get("custom", ""))
    return render_block("plans/edit.html", "preview", preview=_preview(choice, args.get("starts_on", ""),
                                                                       args.get("window_days", "")))


# ------------------------------------------------------------------ the board and one occurrence


@bp.get("/plants/<code>/plan-board")
def board(code: str):
    session = db()
    plant = session.exec(select(Plant).where(Plant.code == code)).first()
    workshops = [w for w in session.exec(visible_workshops(current_user)) if plant and w.plant_id == plant.id]
    if plant is None or not workshops:
        abort(404)
    at_plant(plant)
    days = plant_days(session)
    today = days.of(plant)
    try:
        first = monday_of(date.fromisoformat(request.args["from"])) if request.args.get("from") else \
            monday_of(today) - timedelta(weeks=BOARD_WEEKS_BACK)
    except ValueError:
        abort(400, _("日期格式应为 YYYY-MM-DD"))
    if not clock.FIRST_DAY <= first <= clock.LAST_DAY:  # the board's weeks must stay within the calendar
        abort(400, _("日期格式应为 YYYY-MM-DD"))
    mondays = [first + timedelta(weeks=i) for i in range(BOARD_WEEKS)]
    plans = [p for p in visible_plans(session, current_user) if p.plant_id == plant.id]
    found, extra = worked_out(session, plans, first, mondays[-1] + timedelta(days=6), days,
                              workshop_ids={w.id for w in workshops})
    cells = board_cells(found, monday_of)
    step = timedelta(weeks=BOARD_WEEKS // 2)
    return render_page("plans/board.html", plant=plant, workshops=workshops, mondays=mondays, cells=cells,
                       today=today, this_monday=monday_of(today),
                       by_workshop=figures_by(found, lambda o: o.workshop_id), total=figures_of(found),
                       plans=[_row(p) for p in plans], earlier=first - step, later=first + step, extra=extra,
                       may_create=is_manager(current_user))


def _occurrence_or_404(occurrence_id: str):
    session = db()
    found = find_occurrence(session, current_user, occurrence_id, plant_days(session))
    if found is None:
        abort(404)
    return found


@bp.get("/occurrences/<occurrence_id>")
def occurrence(occurrence_id: str):
    return _occurrence_page(_occurrence_or_404(occurrence_id), errors={})


def _occurrence_page(found, errors: dict, status: int = 200):
    session = db()
    plan = session.get(InspectionPlan, found.plan_id)
    workshop = session.get(Workshop, found.workshop_id)
    at_plant(workshop.plant)
    return render_page("plans/occurrence.html", o=found, plan=plan, row=_row(plan), workshop=workshop,
                       may_skip=may_plan(session, current_user, plan) and found.state != State.done,
                       may_start=found.state in (State.due, State.overdue) and found.for_user(current_user.id)
                       and can_inspect(session=session, user=current_user, workshop_id=workshop.id),
                       skipped_by=_names([found.skip.skipped_by_id]) if found.skip else [],
                       errors=errors, status=status)


@bp.post("/occurrences/<occurrence_id>/skip")
def skip(occurrence_id: str):
    session = db()
    found = _occurrence_or_404(occurrence_id)
    try:
        skip_occurrence(session=session, actor=current_user, occurrence=found, reason=request.form.get("reason", ""))
    except PlanError as exc:
        if exc.code == "not_allowed":
            abort(403)
        return _occurrence_page(found, errors={exc.field: plan_error_text(exc)}, status=422)
    session.commit()
    flash(_("已跳过这次检查"))
    return redirect(url_for(".occurrence", occurrence_id=occurrence_id), code=303)


# ------------------------------------------------------------------ the calendar feed


@bp.get("/plans/calendar")
def calendar():
    feed = calendar_feed_of(db(), current_user)
    return render_page("plans/calendar.html", feed=feed, address=None)


@bp.post("/plans/calendar")
def new_calendar():
    session = db()
    token = new_calendar_feed(session, current_user)
    session.commit()
    address = public_url(".calendar_feed", token=token)
    return render_page("plans/calendar.html", feed=calendar_feed_of(session, current_user), address=address)


@bp.post("/plans/calendar/revoke")
def revoke_calendar():
    session = db()
    if revoke_calendar_feed(session, current_user):
        session.commit()
        flash(_("日历订阅地址已停用"))
    return redirect(url_for(".calendar"), code=303)


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):

    session = db()
    user = feed_user(session, token)
    if user is None:
        abort(404)
    days = plant_days(session)
    found = feed_occurrences(session, user, days)
    names = {w.id: w.name for w in session.exec(select(Workshop).where(
        Workshop.id.in_({o.workshop_id for o in found})))} if found else {}
    body = calendar_of(found, name=_("6S 检查计划"), workshop_name=names.get,
                       link=lambda o: public_url(".occurrence", occurrence_id=o.id),
                       host=request.host.split(":")[0] or "6s-inspect", stamp=clock.now())
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, no-store"  # the address is the secret
    response.headers["Content-Disposition"] = 'inline; filename="6s-plans.ics"'
    return response
