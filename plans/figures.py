"""What plans add to the dashboards and reports: 完成率 and 及时率 per workshop, plant and group over a period, the
missed occurrences (shown in the 评比 and, if the plant says so, counted as 0), and the trend with missed windows
marked instead of silently joined. The interleaving is pure; the rest reads occurrences through plans.service."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from accounts.days import PlantDays
from plans.models import InspectionPlan
from plans.occurrences import Occurrence, worked_out
from plans.recurrence import Completion, State, completion


@dataclass
class PlanFigures:
    """A period's plan figures for some workshops (by id), and for them all."""

    by_workshop: dict[int, Completion] = field(default_factory=dict)
    missed: dict[int, list[Occurrence]] = field(default_factory=dict)  # in order of opening
    total: Completion = field(default_factory=lambda: Completion(0, 0, 0))
    planned_workshops: set[int] = field(default_factory=set)  # those any plan covers
    extra: dict[int, int] = field(default_factory=dict)  # surprise inspections: in no plan's window

    def of(self, workshop_id: int) -> Completion | None:
        return self.by_workshop.get(workshop_id)

    def missed_count(self, workshop_id: int) -> int:
        return len(self.missed.get(workshop_id, []))


def plans_covering(session: Session, workshops) -> list[InspectionPlan]:
    ids = {w.id for w in workshops}
    plants = {w.plant_id for w in workshops}
    if not ids:
        return []
    return [p for p in session.exec(select(InspectionPlan).where(InspectionPlan.plant_id.in_(plants)))
            if p.workshop_id is None or p.workshop_id in ids]


def plan_figures(session: Session, workshops, start: date, end: date, days: PlantDays) -> PlanFigures:
    """Occurrences opening in [start, end] at these workshops, with their states today."""
    plans = plans_covering(session, workshops)
    found, extra = worked_out(session, plans, start, end, days, workshop_ids={w.id for w in workshops})
    grouped: dict[int, list[Occurrence]] = defaultdict(list)
    for each in found:
        grouped[each.workshop_id].append(each)
    return PlanFigures(
        by_workshop={k: completion((o.state, o.on_time) for o in v) for k, v in grouped.items()},
        missed={k: [o for o in v if o.state == State.missed] for k, v in grouped.items()},
        total=completion((o.state, o.on_time) for o in found),
        planned_workshops=set(grouped), extra=extra,
    )


def combine(figures: list[Completion]) -> Completion:
    return Completion(sum(f.planned for f in figures), sum(f.done for f in figures), sum(f.on_time for f in figures))


def interleave_missed(point_days: list[date], missed_days: list[date]) -> list[tuple[str, int]]:
    """The trend's x-axis with the missed windows in their places: ("point", index into the points) and
    ("missed", index into missed_days), in order of day (a missed window sorts before an inspection the same day,
    which cannot have fulfilled it)."""
    entries = [(day, 0, "missed", i) for i, day in enumerate(missed_days)] + \
        [(day, 1, "point", i) for i, day in enumerate(point_days)]
    return [(kind, index) for _day, _order, kind, index in sorted(entries)]


@dataclass(frozen=True)
class TrendAxis:
    labels: list[str]
    series: list[tuple[str, list[float | None]]]
    markers: list[int]  # the version changes, at their new places
    missed: list[int]  # where the missed windows stand


def trend_with_missed(labels: list[str], series: list[tuple[str, tuple]], markers: list[int],
                      point_days: list[date], missed_days: list[date], missed_label) -> TrendAxis:
    """The chart's inputs with a gap for each missed window (labelled by `missed_label(day)`), so the line breaks
    there rather than joining the inspections on either side."""
    order = interleave_missed(point_days, missed_days)
    place = {index: position for position, (kind, index) in enumerate(order) if kind == "point"}
    new_labels = [labels[i] if kind == "point" else missed_label(missed_days[i]) for kind, i in order]
    new_series = [(name, [values[i] if kind == "point" else None for kind, i in order]) for name, values in series]
    return TrendAxis(new_labels, new_series, [place[i] for i in markers if i in place],
                     [position for position, (kind, _i) in enumerate(order) if kind == "missed"])


@dataclass(frozen=True)
class BoardCell:
    """One workshop's week on the plan board: its most pressing state, the occurrence a tap opens (the first not
    done), and how many of its occurrences are done (a daily plan has several a week)."""

    state: str
    opens: str  # the occurrence id a tap opens
    opens_on: date
    done: int
    count: int


PRESSING = (State.missed, State.overdue, State.due, State.upcoming, State.skipped, State.done)


def board_cells(found: list[Occurrence], week_of) -> dict[tuple[int, date], BoardCell]:
    """(workshop id, the week's first day) → its cell, for occurrences in order of opening."""
    grouped: dict[tuple[int, date], list[Occurrence]] = defaultdict(list)
    for each in found:
        grouped[(each.workshop_id, week_of(each.window.opens_on))].append(each)
    cells = {}
    for key, here in grouped.items():
        states = {o.state for o in here}
        first = next((o for o in here if o.state != State.done), here[0])
        cells[key] = BoardCell(next(s.value for s in PRESSING if s in states), first.id, first.window.opens_on,
                               sum(1 for o in here if o.state == State.done), len(here))
    return cells
