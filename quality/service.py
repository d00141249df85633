"""Quality analytics read from the stored results: a workshop's control chart. Views and the API call these; the
maths is quality.spc (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

import clock
from inspections.trends import TrendPoint, category_names_in_order, version_changes, workshop_trend
from quality.spc import DEFAULT_BASELINE, XmR, xmr

OVERALL = "overall"


class ChartError(ValueError):
    def __init__(self, field: str, message: str, code: str):
        super().__init__(message)
        self.field, self.code = field, code


@dataclass(frozen=True)
class ControlChart:
    series: str  # "overall" or a category key
    series_name: str
    points: list[TrendPoint]  # those with a value in the series, since the chart's start
    dates: list[str]  # each point's day at the plant, YYYY-MM-DD
    chart: XmR
    since_version_change: bool  # the points start at the last checklist version change
    category_names: dict[str, str]


def control_chart(*, session: Session, workshop, series: str = OVERALL, baseline: int | None = None,
                  rules=(1,)) -> ControlChart:
    """The workshop's XmR chart of its overall score or one category's, from the last checklist version change
    on (scores of different versions are not one process); limits from the first `baseline` points of it (12 by
    default)."""
    points = workshop_trend(session=session, workshop_id=workshop.id)
    names = category_names_in_order(session=session, inspection_ids=[p.inspection_id for p in points])
    if series != OVERALL and series not in names:
        raise ChartError("series", f"no series {series!r}: overall or one of {', '.join(names)}", "unknown_series")
    if baseline is not None and not 1 <= baseline <= 10_000:
        raise ChartError("baseline", "the baseline is 1 to 10000 points", "bad_baseline")
    changes = version_changes(points)
    start = changes[-1] if changes else 0
    shown = [p for p in points[start:] if _value(p, series) is not None]
    zone = clock.zone_of(workshop.plant)
    chart = xmr([_value(p, series) for p in shown], baseline=baseline or DEFAULT_BASELINE, rules=rules)
    return ControlChart(series, "总分" if series == OVERALL else names[series], shown,
                        [clock.local_day(p.submitted_at, zone).isoformat() for p in shown], chart, bool(changes),
                        names)


def _value(point: TrendPoint, series: str) -> float | None:
    return point.overall_percent if series == OVERALL else point.category_percents.get(series)
