"""Pages that gather from everywhere: the home page, the workshop page, the plant dashboard and the group page.
Views parse, call the domain, render."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    request,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import func, select

import clock
from accounts.days import plant_days
from accounts.service import can_inspect, get_visible_workshop_or_404, is_manager, visible_workshops
from accounts.service import may_inspect as user_may_inspect
from actions.service import counts_by_plant, counts_for, stats_for
from charts import line_chart
from clock.periods import PeriodError, months_back, parse_period, previous_month
from database import db
from inspections.models import Inspection, InspectionStatus
from inspections.service import latest_submitted
from inspections.trends import (
    category_names_in_order,
    like_for_like_points,
    overall_by_workshop,
    series_from_points,
    version_changes,
    workshop_trend,
)
from plans.figures import combine, plan_figures, trend_with_missed
from plans.service import agenda, checklist_keys
from quality.service import inspector_leniency
from redtags.service import tag_counts
from reports.context import month_plan_figures, monthly_league, plant_report_context
from reports.periods import finding_rows, group_table, heat_level, monthly_average, top_findings
from reports.views import period_error_text, plant_month, requested_month
from web import (
    at_plant,
    render_page,
)

bp = Blueprint("pages", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a signed-in user."""


@bp.get("/")
def home():
    session = db()
    workshops = session.exec(visible_workshops(current_user)).all()
    latest = latest_submitted(session=session, workshop_ids=[w.id for w in workshops])
    drafts = session.exec(
        select(Inspection)
        .where(Inspection.inspector_id == current_user.id, Inspection.status == InspectionStatus.draft)
        .order_by(Inspection.started_at.desc())
    ).all()
    # the workshops listed are the visible ones: whoever may inspect at all may inspect each of them
    may_inspect = {w.id for w in workshops} if user_may_inspect(current_user) else set()
    plants = list({w.plant.id: w.plant for w in workshops}.values())

    days = plant_days(session)
    mine = counts_for(session=session, user=current_user, days=days)
    overseen = counts_by_plant(session=session, user=current_user, days=days) if may_inspect else {}
    if len(plants) == 1:
        at_plant(plants[0])

    planned = agenda(session, current_user, days, may_inspect)
    return render_page("pages/home.html", workshops=workshops, latest=latest, drafts=drafts,
                       may_inspect=may_inspect, plants=plants, agenda=planned,
                       checklist_keys=checklist_keys(session, {o.plan_id for o in planned}),
                       workshop_by_id={w.id: w for w in workshops},
                       this_month=f"{days.of(plants[0]) if plants else days.latest():%Y-%m}",
                       my_actions=mine, all_actions=overseen)


@bp.get("/workshops/<code>")
def workshop(code: str):
    """A workshop's history: trend of the overall and the chosen categories over a chosen period (12 weeks by
    default), small multiples per category, repeat findings, the inspections of the period."""
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    zone = at_plant(workshop.plant)
    today = clock.today(zone)
    period_error, status = None, 200
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), today)
    except PeriodError as exc:
        period_error, status = period_error_text(exc), 422
        period = parse_period(None, None, today)
    since, until = period.bounds(zone)
    points = workshop_trend(session=session, workshop_id=workshop.id, since=since, until=until)
    names = category_names_in_order(session=session, inspection_ids=[p.inspection_id for p in points])
    chosen = [key for key in request.args.getlist("category") if key in names]
    like = request.args.get("view") == "like"
    common_keys: set[str] = set()
    if like and points:
        points, common_keys = like_for_like_points(session=session, points=points)
    view_note = (_("同口径：只按各版共有的 %(n)d 个检查项计分，版本之间逐项可比", n=len(common_keys)) if like
                 else _("各版完整评分：每次检查按其所用版本的全部检查项计分（得分率可直接比较）"))
    chart, multiples = None, []
    planned = plan_figures(session, [workshop], period.start, period.end, plant_days(session))
    missed = planned.missed.get(workshop.id, [])
    if points or missed:
        label_format = "%Y-%m" if period.days > 366 else "%m-%d"
        labels = [clock.local(p.submitted_at, zone).strftime(label_format) for p in points]
        series = series_from_points(points, names, _("总分"))
        shown = [series[0]] + [s for s in series[1:] if s.key in chosen]
        axis = trend_with_missed(labels, [(s.name, s.values) for s in shown], version_changes(points),
                                 [clock.local_day(p.submitted_at, zone) for p in points],
                                 [o.window.opens_on for o in missed],
                                 lambda day: day.strftime(label_format) + " " + _("漏检"))
        chart = line_chart(axis.labels, axis.series, markers=axis.markers, marker_label=_("检查表换版"),
                           missed=axis.missed, missed_label=_("计划内漏检"),
                           title=_("%(name)s 6S 得分趋势", name=workshop.name) + " · " + view_note)
        multiples = [(s, line_chart(labels, [(s.name, s.values)], markers=version_changes(points), width=360,
                                    height=190, title=s.name)) for s in series[1:]] if points else []
    drafts = session.exec(
        select(Inspection)
        .where(Inspection.workshop_id == workshop.id, Inspection.status == InspectionStatus.draft,
               Inspection.calibration_id.is_(None))  # a joint inspection's copies are listed on its own page
        .order_by(Inspection.started_at.desc())
    ).all()
    recent = [p.inspection_id for p in points[-12:]]
    first_ever = session.exec(select(func.min(Inspection.submitted_at)).where(
        Inspection.workshop_id == workshop.id, Inspection.status == InspectionStatus.submitted)).one()
    presets = [(_("12 周"), today - timedelta(days=83)), (_("半年"), today - timedelta(days=182)),
               (_("1 年"), today - timedelta(days=364))]
    if first_ever is not None:
        presets.append((_("全部"), clock.local_day(first_ever, zone)))
    return render_page(
        "pages/workshop.html", status=status, workshop=workshop, points=list(reversed(points)),
        category_names=names, chosen=chosen, chart=chart, multiples=multiples, period=period,
        period_error=period_error, presets=presets, today=today, like=like, view_note=view_note,
        top_findings=top_findings(recent_findings := finding_rows(session=session, inspection_ids=recent), 5),
        open_findings=[f for f in recent_findings if recent and f.inspection_id == recent[-1]],
        recent_count=len(recent), latest_id=recent[-1] if recent else None, drafts=drafts,
        may_inspect=can_inspect(session=session, user=current_user, workshop_id=workshop.id),
        action_stats=stats_for(session=session, workshop_ids=[workshop.id], today=today, since=since, until=until),
        tag_counts=tag_counts(session=session, workshop_ids=[workshop.id], today=today),
        plan=planned.of(workshop.id), missed=missed,
    )


def plant_month_context(code: str) -> dict:
    """The plant's month for the dashboard (the same context its PDF is printed from)."""
    plant, workshops, month = plant_month(code)
    return plant_report_context(session=db(), plant=plant, workshops=workshops, month=month, for_print=False)


@bp.get("/plants")
def group_dashboard():
    """Every plant the reader may see, side by side for a month (for managers who have several)."""

    session = db()
    workshops = session.exec(visible_workshops(current_user)).all()
    if not workshops:
        abort(404)
    month = requested_month(plant_days(session).latest())

    planned = month_plan_figures(session=session, workshops=workshops, month=month)
    league, names, grades, count = monthly_league(session=session, workshops=workshops, month=month,
                                                  planned=planned)
    plants = list({w.plant.code: w.plant for w in workshops}.values())
    rows = group_table([(p.code, p.name) for p in plants], league, {w.code: w.plant.code for w in workshops},
                       list(names))
    plan_by_plant = {p.code: combine([planned.by_workshop[w.id] for w in workshops
                                      if w.plant_id == p.id and w.id in planned.by_workshop]) for p in plants}
    return render_page(
        "pages/group.html", rows=rows, category_names=names, month=month, inspection_count=count,
        plan_total=planned.total, plan_by_plant=plan_by_plant,
        heat=lambda v: heat_level(v, grades), grades=grades,
        month_value=f"{month.start:%Y-%m}", previous_value=f"{previous_month(month).start:%Y-%m}",
        next_value=f"{(month.end + timedelta(days=1)):%Y-%m}",
    )


@bp.get("/plants/<code>")
def plant_dashboard(code: str):
    """The plant's month at a glance: league table and heat map, each number linking to what is behind it."""

    context = plant_month_context(code)
    month = context["month"]
    months = months_back(month, 12)
    zone = clock.zone_of(context["plant"])
    points = overall_by_workshop(session=db(), workshop_ids=[w.id for w in context["workshops"]],
                                 since=months[0].bounds(zone)[0], until=month.bounds(zone)[1])
    averages = monthly_average(points, months, lambda t: clock.local_day(t, zone))
    labels = [f"{m.start:%Y-%m}" for m in months]
    trend = line_chart(labels, [(_("全厂平均"), averages)], width=720, height=260,
                       title=_("%(plant)s 近 12 个月平均分", plant=context["plant"].name))
    month_since, month_until = month.bounds(zone)
    actions = stats_for(session=db(), workshop_ids=[w.id for w in context["workshops"]], today=clock.today(zone),
                        since=month_since, until=month_until)
    leniency = []
    if is_manager(current_user):  # who scores high or low is for the quality managers

        leniency = inspector_leniency(session=db(), workshops=context["workshops"],
                                      since=months_back(month, 6)[0].bounds(zone)[0], until=month.bounds(zone)[1])
    return render_page("pages/plant.html", **context, month_value=f"{month.start:%Y-%m}", leniency=leniency,
                       leniency_months=[f"{m.start:%Y-%m}" for m in months_back(month, 6)],
                       action_stats=actions, trend=trend, trend_rows=list(zip(labels, averages, strict=True)),
                       previous_value=f"{previous_month(month).start:%Y-%m}",
                       next_value=f"{(month.end + timedelta(days=1)):%Y-%m}")

