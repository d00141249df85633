"""The XmR chart as SVG, pure (server-rendered on screen and vector in the PDF): the values with the centre line
and the natural process limits, signals marked in red, and the moving-range chart under it."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from charts import FONT, axis_labels, fmt
from quality.spc import XmR

INK, MUTED, GRID = "#0f172a", "#475569", "#e2e8f0"
VALUE, CENTRE, LIMIT, SIGNAL = "#1d4ed8", "#047857", "#b91c1c", "#b91c1c"


def control_chart(labels: Sequence[str], chart: XmR, *, width: int = 720, height: int = 380,
                  title: str = "", value_label: str = "X", range_label: str = "mR") -> Markup:
    """Both charts in one SVG; without limits (too few points) the values alone, and the caller says why."""
    count = len(chart.values)
    left, right, top, gap = 48, 84, 16, 34  # right: room for "mR 均值 12.3"
    x_h = int((height - top - gap - 40) * 0.68)
    mr_h = height - top - gap - 40 - x_h
    plot_w = width - left - right
    flagged = {s.index for s in chart.signals}

    def x_at(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'font-family="{FONT}" font-size="12" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    if count == 0:
        parts.append("</svg>")
        return Markup("".join(parts))  # noqa: S704  # nosec B704 - escaped above

    # the individuals chart: its scale fits the values and the limits, with a margin
    span = list(chart.values) + [v for v in (chart.lower, chart.upper) if v is not None]
    low, high = min(span), max(span)
    pad = max((high - low) * 0.08, 1.0)
    low, high = low - pad, high + pad

    def y_at(v: float) -> float:
        return top + x_h * (high - v) / (high - low)

    for tick in _ticks(low, high):
        parts.append(f'<line x1="{left}" y1="{fmt(y_at(tick))}" x2="{width - right}" y2="{fmt(y_at(tick))}" '
                     f'stroke="{GRID}"/><text x="{left - 6}" y="{fmt(y_at(tick) + 4)}" text-anchor="end" '
                     f'fill="{MUTED}">{fmt(tick)}</text>')
    if chart.has_limits:
        parts += _levels(((chart.upper, LIMIT, True, "UNPL"), (chart.centre, CENTRE, False, "x̄"),
                          (chart.lower, LIMIT, True, "LNPL")), y_at, left, width - right, 1.5)
        if chart.baseline < count:  # where the limits stop being computed and start being applied
            x = fmt((x_at(chart.baseline - 1) + x_at(chart.baseline)) / 2)
            parts.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{top + x_h}" stroke="{MUTED}" '
                         'stroke-dasharray="2 3"/>')
    path = " ".join(f"{fmt(x_at(i))},{fmt(y_at(v))}" for i, v in enumerate(chart.values))
    parts.append(f'<polyline points="{path}" fill="none" stroke="{VALUE}" stroke-width="2" stroke-linejoin="round"/>')
    for i, v in enumerate(chart.values):
        if i in flagged:
            parts.append(f'<circle class="signal" cx="{fmt(x_at(i))}" cy="{fmt(y_at(v))}" r="5.5" fill="{SIGNAL}"'
                         f'/>')
        else:
            parts.append(f'<circle cx="{fmt(x_at(i))}" cy="{fmt(y_at(v))}" r="3" fill="{VALUE}"/>')
    parts.append(f'<text x="{left}" y="{top - 4}" fill="{INK}" font-weight="700">{escape(value_label)}</text>')

    # the moving-range chart
    mr_top = top + x_h + gap
    ranges = [r for r in chart.moving_ranges if r is not None]
    mr_high = max(ranges + [chart.mr_upper or 0.0, 1.0]) * 1.1

    def y_mr(v: float) -> float:
        return mr_top + mr_h * (1 - v / mr_high)

    parts.append(f'<line x1="{left}" y1="{fmt(y_mr(0))}" x2="{width - right}" y2="{fmt(y_mr(0))}" stroke="{GRID}"/>'
                 f'<text x="{left}" y="{mr_top - 4}" fill="{INK}" font-weight="700">{escape(range_label)}</text>')
    if chart.mr_upper is not None:
        parts += _levels(((chart.mr_upper, LIMIT, True, "URL"), (chart.mr_centre, CENTRE, False, "mR 均值")),
                         y_mr, left, width - right, 1.2)
    points = [(x_at(i), y_mr(r)) for i, r in enumerate(chart.moving_ranges) if r is not None]
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)}" fill="none" '
                     f'stroke="{VALUE}" stroke-width="1.5"/>')
    for i, r in enumerate(chart.moving_ranges):
        if r is not None:
            over = chart.mr_upper is not None and r > chart.mr_upper
            parts.append(f'<circle cx="{fmt(x_at(i))}" cy="{fmt(y_mr(r))}" r="{4 if over else 2}" '
                         f'fill="{SIGNAL if over else VALUE}"/>')

    # dates under the moving-range chart, thinned so that no two overlap, the newest always shown
    for i, anchor in axis_labels([x_at(i) for i in range(count)], labels, 12, 4, width - 4):
        parts.append(f'<text class="x-label" x="{fmt(x_at(i))}" y="{height - 12}" text-anchor="{anchor}" '
                     f'fill="{MUTED}">{escape(labels[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # every text above is escaped  # noqa: S704  # nosec B704


def _levels(levels, y_of, x1: float, x2: float, stroke: float) -> list[str]:
    """Horizontal limit and centre lines across the plot, each named with its value at the right end."""
    parts = []
    for value, colour, dashed, name in levels:
        y = fmt(y_of(value))
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(f'<line class="limit" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}"{dash} '
                     f'stroke-width="{stroke}"/><text x="{x2 + 4}" y="{fmt(y_of(value) + 4)}" fill="{colour}">'
                     f"{escape(name)} {fmt(value)}</text>")
    return parts


def _ticks(low: float, high: float) -> list[float]:
    """About five round values between low and high."""
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


MAX_PARETO_BARS = 20  # the rest is the tail: a chart that cuts says so ("前 20 项（共 35 项）")
PARETO_LABEL_CHARS = 8
LABEL_FONT = 12


def _text_width(text: str, size: float = LABEL_FONT) -> float:
    """About how wide a label is drawn: a Chinese character a full em, anything else about 0.6 em."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def pareto_label(label: str) -> str:
    return label if len(label) <= PARETO_LABEL_CHARS else label[:PARETO_LABEL_CHARS - 1] + "…"


def pareto_chart(rows, *, links=None, width: int = 720, height: int = 320, title: str = "",
                 count_label: str = "", share_label: str = "") -> Markup:
    """Bars of the counts, largest first, the cumulative share as a line on the right axis and the 80 % mark;
    a bar links to what is behind it when links(row) gives an address. At most MAX_PARETO_BARS bars (the rest are
    the tail: the caller says how many there are). The axis titles sit above the plot, clear of the tallest
    count; the left margin grows with the first slanted label so that it is never cut off."""
    rows = list(rows)[:MAX_PARETO_BARS]
    right, top, bottom = 48, 40, 96
    left = 44
    if rows:  # a slanted label reaches left of its bar by its width × cos 45°
        reach = (_text_width(pareto_label(rows[0].label)) + 1.5 * LABEL_FONT) * 0.7072  # its line box, slanted
        slot_guess = (width - left - right) / len(rows)
        left = max(left, math.ceil(reach - slot_guess / 2 + 6))
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'font-family="{FONT}" font-size="{LABEL_FONT}" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    if not rows:
        parts.append("</svg>")
        return Markup("".join(parts))  # noqa: S704  # nosec B704 - escaped above
    most = max(r.count for r in rows)
    slot = plot_w / len(rows)
    bar = min(slot * 0.7, 60)

    def y_count(n: float) -> float:
        return top + plot_h * (1 - n / most)

    def y_share(p: float) -> float:
        return top + plot_h * (1 - p / 100)

    for share in (0, 20, 40, 60, 80, 100):
        y = fmt(y_share(share))
        mark = share == 80  # the vital few end where the line crosses it
        dashed = ' stroke-dasharray="6 4"' if mark else ""
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="{LIMIT if mark else GRID}"'
                     f'{dashed}/><text class="axis-label" x="{width - right + 6}" y="{fmt(y_share(share) + 4)}" '
                     f'fill="{LIMIT if mark else MUTED}">{share}%</text>')
    for i, row in enumerate(rows):
        x = left + slot * i + (slot - bar) / 2
        y = y_count(row.count)
        rect = (f'<rect class="bar{" vital" if row.vital else ""}" x="{fmt(x)}" y="{fmt(y)}" width="{fmt(bar)}" '
                f'height="{fmt(top + plot_h - y)}" fill="{VALUE if row.vital else "#94a3b8"}">'
                f"<title>{escape(row.label)}: {row.count}</title></rect>"
                f'<text class="value-label" x="{fmt(x + bar / 2)}" y="{fmt(y - 4)}" text-anchor="middle" '
                f'fill="{INK}">{row.count}</text>')
        href = links(row) if links else None
        parts.append(f'<a href="{escape(href)}">{rect}</a>' if href else rect)
        cx, cy = x + bar / 2, top + plot_h + 10
        parts.append(f'<text class="x-label" x="{fmt(cx)}" y="{fmt(cy)}" text-anchor="end" fill="{MUTED}" '
                     f'transform="rotate(-45 {fmt(cx)} {fmt(cy)})">{escape(pareto_label(row.label))}</text>')
    line = " ".join(f"{fmt(left + slot * i + slot / 2)},{fmt(y_share(r.cumulative_percent))}"
                    for i, r in enumerate(rows))
    parts.append(f'<polyline class="cumulative" points="{line}" fill="none" stroke="{LIMIT}" stroke-width="2"/>')
    for i, r in enumerate(rows):
        parts.append(f'<circle cx="{fmt(left + slot * i + slot / 2)}" cy="{fmt(y_share(r.cumulative_percent))}" '
                     f'r="3" fill="{LIMIT}"/>')
    # the axis titles in a band of their own above the plot (the tallest bar's count is drawn just under it)
    parts.append(f'<text class="axis-label" x="{left}" y="14" fill="{INK}" font-weight="700">'
                 f'{escape(count_label)}</text>'
                 f'<text class="axis-label" x="{width - right}" y="14" text-anchor="end" fill="{LIMIT}">'
                 f"{escape(share_label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))  # every text above is escaped  # noqa: S704  # nosec B704
