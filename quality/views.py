"""Screens of quality analytics: a workshop's control chart. Views parse, call quality.service, render."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.service import get_visible_workshop_or_404
from database import db
from quality.charts import control_chart as control_chart_svg
from quality.service import OVERALL, ChartError, control_chart
from quality.spc import ALTERNATING_LENGTH, RUN_LENGTH, TREND_LENGTH, Signal
from web import at_plant, render_page

bp = Blueprint("quality", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every screen here needs a signed-in user."""


def signal_words(signal: Signal, label) -> str:
    """The signal in the reader's language."""
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
    try:
        found = control_chart(session=db(), workshop=workshop, series=series, baseline=baseline, rules=rules)
    except ChartError:
        errors["series"], status = _("没有这个类别"), 422
        found = control_chart(session=db(), workshop=workshop, baseline=baseline, rules=rules)
    label = lambda i: found.dates[i][5:]  # noqa: E731 - MM-DD on the chart and in the words
    svg = control_chart_svg([found.dates[i][5:] for i in range(len(found.points))], found.chart,
                            title=_("%(name)s 过程控制图（XmR）· %(series)s", name=workshop.name,
                                    series=_("总分") if found.series == OVERALL else found.series_name),
                            value_label=_("得分率 %"), range_label=_("移动极差"))
    return render_page("quality/control_chart.html", status=status, workshop=workshop, found=found, svg=svg,
                       rules=rules, baseline=baseline or "", errors=errors,
                       words=[(s, signal_words(s, label)) for s in found.chart.signals])
