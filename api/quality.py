"""The API of quality analytics: a workshop's control chart. Routes join the API's blueprint."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user
from sqlmodel import select

from accounts.days import plant_days
from accounts.models import Plant
from accounts.service import get_visible_workshop_or_404, visible_workshops
from api.answers import ControlChart, Pareto
from api.openapi import operation
from api.schemas import ControlChartQuery, ParetoQuery
from api.views import bp
from clock.periods import PeriodError, parse_period
from database import db
from quality.service import OVERALL, ChartError, control_chart, pareto_of_findings
from quality.spc import signal_text


def _rules(raw: str | None) -> tuple[int, ...] | None:
    if not raw:
        return (1,)
    try:
        rules = tuple(sorted({int(part) for part in raw.split(",")}))
    except ValueError:
        return None
    return rules if all(1 <= r <= 4 for r in rules) else None


@bp.get("/workshops/<code>/control-chart")
@operation(summary="A workshop's control chart (XmR)",
           tags=["analytics"], ok={200: ControlChart}, query=ControlChartQuery)
def workshop_control_chart(code: str):
    workshop = get_visible_workshop_or_404(session=db(), user=current_user, code=code)
    rules = _rules(request.args.get("rules"))
    raw_baseline = request.args.get("baseline")
    if rules is None or (raw_baseline and not raw_baseline.isdigit()):
        field = "rules" if rules is None else "baseline"
        return jsonify(error=f"{field}: rules are 1–4 separated by commas, baseline a number of points",
                       code=f"bad_{field}", items=[field]), 422
    view = request.args.get("view") or "version"
    if view not in ("version", "like"):
        return jsonify(error="view: version (since the last checklist version change) or like (like-for-like "
                       "across versions)", code="bad_view", items=["view"]), 422
    try:
        found = control_chart(session=db(), workshop=workshop, series=request.args.get("series") or OVERALL,
                              baseline=int(raw_baseline) if raw_baseline else None, rules=rules,
                              like=view == "like")
    except ChartError as exc:
        return jsonify(error=str(exc), code=exc.code, items=[exc.field]), 422
    chart = found.chart
    label = lambda i: found.dates[i]  # noqa: E731 - the signal's words name the inspection's day
    return jsonify(
        workshop=workshop.code, series=found.series, view=view, since_version_change=found.since_version_change,
        baseline=chart.baseline, rules=list(rules),
        points=[{"inspection": p.inspection_id, "date": found.dates[i], "value": round(chart.values[i], 2),
                 "moving_range": None if chart.moving_ranges[i] is None else round(chart.moving_ranges[i], 2)}
                for i, p in enumerate(found.points)],
        centre=_round(chart.centre), lower=_round(chart.lower), upper=_round(chart.upper),
        mr_centre=_round(chart.mr_centre), mr_upper=_round(chart.mr_upper),
        signals=[{"rule": s.rule, "inspection": found.points[s.index].inspection_id, "text": signal_text(s, label)}
                 for s in chart.signals],
        note=None if chart.has_limits else ("fewer than 4 points: no limits" if view == "like" else
                                            "fewer than 4 points since the last checklist version change: no limits"),
    )


def _round(value):
    return None if value is None else round(value, 2)


@bp.get("/pareto")
@operation(summary="Pareto of findings", tags=["analytics"], ok={200: Pareto}, query=ParetoQuery)
def pareto_api():
    """?workshop= | plant= (or neither: every workshop the caller sees), from/to (plant days), by=item|category."""

    session = db()
    workshops = session.exec(visible_workshops(current_user)).all()
    if request.args.get("workshop"):
        workshops = [w for w in workshops if w.code == request.args["workshop"]]
    if request.args.get("plant"):
        plant = session.exec(select(Plant).where(Plant.code == request.args["plant"])).first()
        workshops = [w for w in workshops if plant is not None and w.plant_id == plant.id]
    if not workshops:
        return jsonify(error="no such workshop or plant", code="not_found"), 404
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), plant_days(session).latest())
    except PeriodError as exc:
        return jsonify(error=str(exc), code="bad_period", items=["from", "to"]), 422
    try:
        found = pareto_of_findings(session=session, workshops=workshops, period=period,
                                   by=request.args.get("by") or "item")
    except ChartError as exc:
        return jsonify(error=str(exc), code=exc.code, items=[exc.field]), 422
    return jsonify(by=found.by, **{"from": period.start.isoformat(), "to": period.end.isoformat()},
                   total=found.total,
                   rows=[{"key": r.key, "label": r.label, "count": r.count, "percent": round(r.percent, 2),
                          "cumulative_percent": round(r.cumulative_percent, 2), "vital": r.vital,
                          "inspections": found.inspections[r.key]} for r in found.rows])
