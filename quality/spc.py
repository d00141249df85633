"""Process behaviour (XmR, individuals and moving range) charts of a workshop's scores, pure.

Natural process limits from a baseline (Wheeler): centre x̄ of the baseline values, average moving range MR̄ of the
baseline's moving ranges, limits x̄ ± 2.66·MR̄ (2.66 = 3 / d2, d2 = 1.128 for ranges of two), the moving-range
chart's upper limit 3.268·MR̄ (D4 for ranges of two). With fewer than MIN_POINTS values there are no limits: the
chart says so rather than drawing limits from noise.

Signals (Nelson's tests, as the chart sees them, σ estimated as MR̄ / 1.128):
1. a point beyond a limit;
2. RUN_LENGTH points in a row on the same side of the centre line (8 here, as Western Electric and the 6S trade
   literature count; Nelson's paper uses 9);
3. 6 points in a row steadily rising or falling;
4. 14 points in a row alternating up and down.
Rule 1 alone by default; the others are switched on by the reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

E2 = 2.66  # 3 / d2(2)
D4 = 3.268  # the moving range's upper limit factor for ranges of two
MIN_POINTS = 4
DEFAULT_BASELINE = 12
RUN_LENGTH = 8
TREND_LENGTH = 6
ALTERNATING_LENGTH = 14


@dataclass(frozen=True)
class Signal:
    rule: int
    index: int  # the point where the signal is complete (the last of a run)
    first: int  # the first point of the run (== index for rule 1)
    direction: str  # "high" | "low" | "up" | "down" | "alternating"


@dataclass(frozen=True)
class XmR:
    values: tuple[float, ...]
    moving_ranges: tuple[float | None, ...]  # None for the first point
    baseline: int  # how many points the limits were computed from
    centre: float | None
    lower: float | None
    upper: float | None
    mr_centre: float | None
    mr_upper: float | None
    signals: tuple[Signal, ...]

    @property
    def has_limits(self) -> bool:
        return self.centre is not None


def moving_ranges(values: Sequence[float]) -> list[float | None]:
    return [None] + [abs(b - a) for a, b in zip(values, values[1:], strict=False)]


def xmr(values: Sequence[float], baseline: int | None = DEFAULT_BASELINE, rules: Sequence[int] = (1,)) -> XmR:
    """The chart of `values` (oldest first) with limits from the first `baseline` of them (None or more than there
    are: all of them), and the signals of the chosen rules."""
    values = tuple(float(v) for v in values)
    ranges = moving_ranges(values)
    count = len(values) if baseline is None else max(0, min(baseline, len(values)))
    if count < MIN_POINTS:
        return XmR(values, tuple(ranges), count, None, None, None, None, None, ())
    centre = fmean(values[:count])
    mr_centre = fmean(r for r in ranges[1:count] if r is not None)
    chart = XmR(values, tuple(ranges), count, centre, centre - E2 * mr_centre, centre + E2 * mr_centre, mr_centre,
                D4 * mr_centre, ())
    return XmR(**{**chart.__dict__, "signals": tuple(signals(chart, rules))})


def signals(chart: XmR, rules: Sequence[int] = (1,)) -> list[Signal]:
    """The signals of the chosen rules, in order of the point that completes them."""
    if not chart.has_limits:
        return []
    found: list[Signal] = []
    values = chart.values
    if 1 in rules:
        for i, v in enumerate(values):
            if v > chart.upper:
                found.append(Signal(1, i, i, "high"))
            elif v < chart.lower:
                found.append(Signal(1, i, i, "low"))
    if 2 in rules:
        found += _runs(values, lambda v: (v > chart.centre) - (v < chart.centre), RUN_LENGTH, 2,
                       {1: "high", -1: "low"})
    if 3 in rules:
        steps = [None] + [(b > a) - (b < a) for a, b in zip(values, values[1:], strict=False)]
        # TREND_LENGTH points rising = TREND_LENGTH - 1 steps up in a row
        found += _runs(steps, lambda s: s or 0, TREND_LENGTH - 1, 3, {1: "up", -1: "down"}, shift=1)
    if 4 in rules:
        found += _alternating(values)
    return sorted(found, key=lambda s: (s.index, s.rule))


def _runs(items, side, length: int, rule: int, names: dict[int, str], shift: int = 0) -> list[Signal]:
    """A signal each time a run of `length` items on one side is completed (and once per run: a run of 10 is one
    signal, at its 8th point)."""
    found, run, current = [], 0, 0
    for i, item in enumerate(items):
        s = side(item) if item is not None else 0
        if s != 0 and s == current:
            run += 1
        else:
            current, run = s, (1 if s != 0 else 0)
        if run == length and current != 0:
            found.append(Signal(rule, i, i - length + 1 - shift, names[current]))
    return found


def _alternating(values: Sequence[float]) -> list[Signal]:
    """ALTERNATING_LENGTH points in a row, each step the other way from the one before."""
    found, run = [], 1  # points in the current alternating stretch
    previous_step = 0
    for i in range(1, len(values)):
        step = (values[i] > values[i - 1]) - (values[i] < values[i - 1])
        if step != 0 and previous_step != 0 and step == -previous_step:
            run += 1
        else:
            run = 2 if step != 0 else 1
        previous_step = step
        if run == ALTERNATING_LENGTH:
            found.append(Signal(4, i, i - ALTERNATING_LENGTH + 1, "alternating"))
    return found


def signal_text(signal: Signal, label=lambda i: f"#{i + 1}") -> str:
    """The signal in words (Chinese: what the printed report and the screen say; the screen translates)."""
    if signal.rule == 1:
        return f"{label(signal.index)} 超出{'上' if signal.direction == 'high' else '下'}控制限"
    if signal.rule == 2:
        return f"连续 {RUN_LENGTH} 次{'高' if signal.direction == 'high' else '低'}于中心线（{label(signal.first)} 起）"
    if signal.rule == 3:
        return f"连续 {TREND_LENGTH} 次{'上升' if signal.direction == 'up' else '下降'}（{label(signal.first)} 起）"
    return f"连续 {ALTERNATING_LENGTH} 次交替升降（{label(signal.first)} 起）"
