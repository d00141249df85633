"""Screens of quality analytics: a workshop's control chart. Views parse, call quality.service, render."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from accounts.days import plant_days
from accounts.models import Plant
from accounts.service import get_visible_workshop_or_404, visible_workshops
from clock.periods import PeriodError, parse_period
from database import db
from quality.charts import MAX_PARETO_BARS, pareto_chart
from quality.charts import control_chart as control_chart_svg
from quality.service import OVERALL, ChartError, control_chart, pareto_of_findings, signal_words
from web import at_plant, render_page

bp = Blueprint("quality", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every screen here needs a signed-in user."""


@bp.get("/workshops/<code>/control-chart")
def workshop_control_chart(code: str):
    workshop = get_visible_workshop_or_404(session=db(), user=current_user, code=code)
    at_plant(workshop.plant)
    rules = tuple(sorted({int(r) for r in request.args.getlist("rule") if r in ("1", "2", "3", "4")})) or (1,)
    raw = request.args.get("baseline", "")
    errors, status = {}, 200
    baseline = int(raw) if raw.isdigit() and 1 <= int(raw) <= 10_000 else None
    if raw and baseline is None:
        errors["baseline"], status = _("基准点数为 1 到 10000 的整数"), 422
    series = request.args.get("series") or OVERALL
    like = request.args.get("view") == "like"
    try:
        found = control_chart(session=db(), workshop=workshop, series=series, baseline=baseline, rules=rules,
                              like=like)
    except ChartError:
        errors["series"], status = _("没有这个类别"), 422
        found = control_chart(session=db(), workshop=workshop, baseline=baseline, rules=rules, like=like)
    label = lambda i: found.dates[i][5:]  # noqa: E731 - MM-DD on the chart and in the words
    svg = control_chart_svg([found.dates[i][5:] for i in range(len(found.points))], found.chart,
                            title=_("%(name)s 过程控制图（XmR）· %(series)s", name=workshop.name,
                                    series=_("总分") if found.series == OVERALL else found.series_name),
                            value_label=_("得分率 %"), range_label=_("移动极差"))
    return render_page("quality/control_chart.html", status=status, workshop=workshop, found=found, svg=svg,
                       rules=rules, baseline=baseline or "", errors=errors,
                       words=[(s, signal_words(s, label)) for s in found.chart.signals])


@bp.get("/pareto")
def pareto_page():
    """问题排列图: ?workshop= or ?plant= (else every workshop the reader sees), from/to, by=item|category."""
    session = db()
    workshops = session.exec(visible_workshops(current_user)).all()
    workshop_code, plant_code = request.args.get("workshop"), request.args.get("plant")
    where = _("全部车间")
    if workshop_code:
        workshops = [w for w in workshops if w.code == workshop_code]
        where = workshops[0].name if workshops else where
    elif plant_code:
        plant = session.exec(select(Plant).where(Plant.code == plant_code)).first()
        workshops = [w for w in workshops if plant is not None and w.plant_id == plant.id]
        where = plant.name if plant else where
    if not workshops:
        abort(404)
    at_plant(workshops[0].plant)
    errors, status = {}, 200
    today = plant_days(session).latest()
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), today)
    except PeriodError:
        errors["period"], status = _("日期格式应为 YYYY-MM-DD，且开始不晚于结束（最长五年）"), 422
        period = parse_period(None, None, today)
    by = request.args.get("by") if request.args.get("by") in ("item", "category") else "item"
    found = pareto_of_findings(session=session, workshops=workshops, period=period, by=by)
    svg = pareto_chart(found.rows, links=lambda r: f"#behind-{r.key}",
                       title=_("%(where)s 问题排列图 %(start)s – %(end)s", where=where, start=period.start.isoformat(),
                               end=period.end.isoformat()),
                       count_label=_("问题次数"), share_label=_("累计占比"))
    return render_page("quality/pareto.html", status=status, errors=errors, found=found, svg=svg, period=period,
                       pareto_bars=MAX_PARETO_BARS,
                       by=by, where=where, workshop_code=workshop_code or "", plant_code=plant_code or "")
