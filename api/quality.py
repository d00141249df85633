"""The API of quality analytics: a workshop's control chart. Routes join the API's blueprint."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from accounts.service import get_visible_workshop_or_404
from api.views import bp
from database import db
from quality.service import OVERALL, ChartError, control_chart
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
def workshop_control_chart(code: str):
    workshop = get_visible_workshop_or_404(session=db(), user=current_user, code=code)
    unknown = sorted(set(request.args) - {"series", "baseline", "rules"})
    if unknown:
        return jsonify(error=f"unknown parameters: {', '.join(unknown)}", code="unknown_field", items=unknown), 422
    rules = _rules(request.args.get("rules"))
    raw_baseline = request.args.get("baseline")
    if rules is None or (raw_baseline and not raw_baseline.isdigit()):
        field = "rules" if rules is None else "baseline"
        return jsonify(error=f"{field}: rules are 1–4 separated by commas, baseline a number of points",
                       code=f"bad_{field}", items=[field]), 422
    try:
        found = control_chart(session=db(), workshop=workshop, series=request.args.get("series") or OVERALL,
                              baseline=int(raw_baseline) if raw_baseline else None, rules=rules)
    except ChartError as exc:
        return jsonify(error=str(exc), code=exc.code, items=[exc.field]), 422
    chart = found.chart
    label = lambda i: found.dates[i]  # noqa: E731 - the signal's words name the inspection's day
    return jsonify(
        workshop=workshop.code, series=found.series, since_version_change=found.since_version_change,
        baseline=chart.baseline, rules=list(rules),
        points=[{"inspection": p.inspection_id, "date": found.dates[i], "value": round(chart.values[i], 2),
                 "moving_range": None if chart.moving_ranges[i] is None else round(chart.moving_ranges[i], 2)}
                for i, p in enumerate(found.points)],
        centre=_round(chart.centre), lower=_round(chart.lower), upper=_round(chart.upper),
        mr_centre=_round(chart.mr_centre), mr_upper=_round(chart.mr_upper),
        signals=[{"rule": s.rule, "inspection": found.points[s.index].inspection_id, "text": signal_text(s, label)}
                 for s in chart.signals],
        note=None if chart.has_limits else "fewer than 4 points since the last checklist version change: no limits",
    )


def _round(value):
    return None if value is None else round(value, 2)
