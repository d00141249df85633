"""Pure SVG charts (server-rendered, vector in the PDF, no JavaScript on screen).

Every chart sets its own font-family: WeasyPrint's stylesheets do not reach inline SVG text, and without
it fontconfig picks the Japanese and serif CJK faces.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
MUTED_FILL = ' fill="#475569"'
SERIES_COLOURS = ("#1d4ed8", "#b91c1c", "#047857", "#b45309", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f")


def fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def text_width(text: str, size: float) -> float:
    """How wide `text` is drawn at `size` px in Noto Sans CJK, rounded up: a Chinese character is one em, a Latin
    letter or digit at most 0.62 em (the widest capitals; most are narrower). Charts lay labels out by it, so an
    estimate on the wide side means a gap, never an overlap (tests/browser/test_chart_labels.py measures)."""
    width = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            width += 1.0
        elif char in " .,:;·|!'ilI()[]":
            width += 0.34
        else:
            width += 0.62
    return width * size


def _box(x: float, width: float, anchor: str) -> tuple[float, float]:
    return {"start": (x, x + width), "end": (x - width, x)}.get(anchor, (x - width / 2, x + width / 2))


def axis_labels(xs: Sequence[float], labels: Sequence[str], size: float, low: float, high: float,
                gap: float = 8) -> list[tuple[int, str]]:
    """Which x-axis labels to draw, and anchored how, so that no two overlap and none leaves [low, high]: every
    step-th from the first, the smallest step that fits, and always the last (the newest point is the one a
    reader looks for; the label before it gives way when the two would touch)."""
    count = len(labels)
    if count == 0:
        return []
    widths = [text_width(label, size) for label in labels]

    def anchor_of(i: int) -> str:
        left, right = _box(xs[i], widths[i], "middle")
        return "start" if left < low else ("end" if right > high else "middle")

    def fits(chosen: list[int]) -> bool:
        boxes = [_box(xs[i], widths[i], anchor_of(i)) for i in chosen]
        return all(b[0] - a[1] >= gap for a, b in zip(boxes, boxes[1:], strict=False))

    for step in range(1, count + 1):
        chosen = list(range(0, count, step))
        if chosen[-1] != count - 1:
            chosen.append(count - 1)
            if not fits(chosen[-2:]):
                chosen.pop(-2)
        if fits(chosen):
            return [(i, anchor_of(i)) for i in chosen]
    return [(count - 1, anchor_of(count - 1))]


def radar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    previous: Sequence[float | None] | None = None,
    *,
    size: int = 320,
    title: str = "",
) -> Markup:
    """Radar of percents (0–100) per category; None (all N/A) is drawn at the centre and marked.

    Each label (its name, a bilingual name split at " / " onto two lines, and its percent) is a block placed
    wholly outside the outer ring, whatever the scores: the plotted area never covers a label. The drawing grows
    (its viewBox) to hold the longest labels instead of cutting them off."""
    n = len(labels)
    if n < 3:
        raise ValueError("a radar chart needs at least 3 axes")
    font, line, pad = 13, 15, 10
    centre = size / 2
    radius = size / 2 - 58

    def point(index: int, percent: float | None) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        r = radius * max(0.0, min(100.0, percent or 0.0)) / 100
        return centre + r * math.cos(angle), centre + r * math.sin(angle)

    def place(lines: list[str], width: float, index: int, distance: float):
        """The block of `lines` on axis `index`, `distance` from the centre: (x, top, left, right, anchor)."""
        angle = -math.pi / 2 + 2 * math.pi * index / n
        dx, dy = math.cos(angle), math.sin(angle)
        anchor = "middle" if abs(dx) < 0.3 else ("start" if dx > 0 else "end")
        height = line * len(lines)
        x, y = centre + distance * dx, centre + distance * dy
        top = y - height if dy < -0.3 else (y if dy > 0.3 else y - height / 2)
        left, right = _box(x, width, anchor)
        return x, top, left, right, anchor

    def extent(top: float, count: int) -> tuple[float, float]:
        """The block's ink from its first line's ascent to its last line's descent (Noto CJK: 1.16 and 0.29 em
        about a baseline 0.88 em below each line's top)."""
        return top + font * (0.88 - 1.16), top + line * (count - 1) + font * (0.88 + 0.29)

    def clear_of_ring(block, count: int) -> bool:
        _x, top, left, right, _anchor = block
        high, low = extent(top, count)
        nearest_x, nearest_y = min(max(centre, left), right), min(max(centre, high), low)
        return math.hypot(nearest_x - centre, nearest_y - centre) >= radius + pad

    def apart(one, other, one_count: int, other_count: int) -> bool:
        (one_high, one_low), (other_high, other_low) = extent(one[1], one_count), extent(other[1], other_count)
        return (one[3] + 4 <= other[2] or other[3] + 4 <= one[2] or one_low + 2 <= other_high
                or other_low + 2 <= one_high)

    blocks = []  # (lines, anchor, x, top, left, right): each label's lines, drawn from `top` down
    for i, label in enumerate(labels):
        value = values[i]
        lines = [*[part for part in str(label).split(" / ") if part], "N/A" if value is None else f"{value:.0f}%"]
        width = max(text_width(text, font) for text in lines)
        distance = radius + pad
        block = place(lines, width, i, distance)
        # out along its own axis until it is clear of the ring and of the labels placed before it (the last
        # is checked against the first too: they are neighbours)
        while distance < size * 4 and not (clear_of_ring(block, len(lines)) and all(
                apart(block, (other[2], other[3], other[4], other[5]), len(lines), len(other[0]))
                for other in blocks)):
            distance += 2
            block = place(lines, width, i, distance)
        x, top, left, right, anchor = block
        blocks.append((lines, anchor, x, top, left, right))
    # the drawing holds the ring and every label block
    min_x = min(centre - radius, *(b[4] for b in blocks)) - 4
    max_x = max(centre + radius, *(b[5] for b in blocks)) + 4
    min_y = min(centre - radius, *(extent(b[3], len(b[0]))[0] for b in blocks)) - 4
    max_y = max(centre + radius, *(extent(b[3], len(b[0]))[1] for b in blocks)) + 4
    view_w, view_h = max_x - min_x, max_y - min_y
    scale = size / max(view_w, view_h)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{fmt(min_x)} {fmt(min_y)} {fmt(view_w)} '
        f'{fmt(view_h)}" width="{fmt(view_w * scale)}" height="{fmt(view_h * scale)}" '
        f'font-family="{FONT}" font-size="{font}" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for ring in (20, 40, 60, 80, 100):
        ring_points = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{ring_points}" fill="none" stroke="#cbd5e1" stroke-width="1"/>')
    for i in range(n):
        x, y = point(i, 100)
        parts.append(f'<line x1="{fmt(centre)}" y1="{fmt(centre)}" x2="{fmt(x)}" y2="{fmt(y)}" '
                     'stroke="#cbd5e1" stroke-width="1"/>')
    for lines, anchor, x, top, _left, _right in blocks:
        # a line's baseline sits 0.8 em below its top (the font's ascent), so the block starts at `top`
        spans = "".join(
            f'<tspan x="{fmt(x)}" y="{fmt(top + line * k + font * 0.88)}"'
            f'{MUTED_FILL if k == len(lines) - 1 else ""}>{escape(text)}</tspan>'  # the percent, muted
            for k, text in enumerate(lines))
        parts.append(f'<text class="axis-label" text-anchor="{anchor}" fill="#0f172a">{spans}</text>')
    if previous is not None:
        prev_points = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in (point(i, v) for i, v in enumerate(previous)))
        parts.append(f'<polygon class="previous" points="{prev_points}" fill="none" stroke="#64748b" '
                     'stroke-width="1.5" stroke-dasharray="4 3"/>')
    now_points = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in (point(i, v) for i, v in enumerate(values)))
    parts.append(f'<polygon class="current" points="{now_points}" fill="#1d4ed8" fill-opacity="0.18" '
                 'stroke="#1d4ed8" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # every text and attribute above is escaped  # noqa: S704  # nosec B704


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    previous: Sequence[float | None] | None = None,
    *,
    width: int = 320,
    title: str = "",
) -> Markup:
    """Horizontal percent bars (0–100) per category, the previous inspection as a dashed tick: for sheets with one
    or two categories (an office-only sheet), where a radar has no shape. None (all N/A) is labelled, not 0 %."""
    if not labels:
        raise ValueError("a bar chart needs at least one category")
    left, right, top, row = 8, 52, 8, 46
    bar_w = width - left - right
    height = top + row * len(labels) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="{FONT}" font-size="13" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for i, label in enumerate(labels):
        y = top + i * row
        value = values[i]
        shown = "N/A" if value is None else f"{value:.0f}%"
        filled = bar_w * max(0.0, min(100.0, value or 0.0)) / 100
        parts.append(f'<text x="{left}" y="{fmt(y + 12)}" fill="#0f172a">{escape(label)}</text>'
                     f'<rect x="{left}" y="{fmt(y + 18)}" width="{fmt(bar_w)}" height="16" fill="#e2e8f0"/>'
                     f'<rect class="current" x="{left}" y="{fmt(y + 18)}" width="{fmt(filled)}" height="16" '
                     f'fill="#1d4ed8" fill-opacity="0.8"/>'
                     f'<text x="{fmt(left + bar_w + 6)}" y="{fmt(y + 31)}" fill="#475569">{shown}</text>')
        if previous is not None and previous[i] is not None:
            x = left + bar_w * max(0.0, min(100.0, previous[i])) / 100
            parts.append(f'<line class="previous" x1="{fmt(x)}" y1="{fmt(y + 15)}" x2="{fmt(x)}" '
                         f'y2="{fmt(y + 37)}" stroke="#0f172a" stroke-width="2" stroke-dasharray="3 2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # every text and attribute above is escaped  # noqa: S704  # nosec B704


def category_chart(labels: Sequence[str], values: Sequence[float | None],
                   previous: Sequence[float | None] | None = None, *, size: int = 320, title: str = "") -> Markup:
    """The per-category picture of an inspection: a radar from three categories up, bars below that."""
    if len(labels) >= 3:
        return radar_chart(labels, values, previous, size=size, title=title)
    return bar_chart(labels, values, previous, width=size, title=title)


def _legend_flow(names: Sequence[str], low: float, high: float, size: float) -> list[tuple[float, int]]:
    """Where each legend entry (a swatch and its name) goes: left to right, a new row when the next would pass
    the right edge — long (bilingual) names never run into the next entry."""
    placed, x, row = [], low, 0
    for name in names:
        width = 20 + text_width(name, size) + 14
        if x > low and x + width > high:
            x, row = low, row + 1
        placed.append((x, row))
        x += width
    return placed


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    markers: Sequence[int] = (),
    marker_label: str = "",
    missed: Sequence[int] = (),
    missed_label: str = "",
    width: int = 720,
    height: int = 300,
    title: str = "",
) -> Markup:
    """Percent lines (0–100) over time. The first series is drawn heavy (the overall score).

    markers: indexes where a vertical dashed line marks an event (a checklist version change).
    missed: indexes of planned inspections that did not happen: a red ✕ on the axis and a red line up the plot
    (the series have None there, so the line breaks instead of joining across the missing week).
    Gaps (None) break a line instead of dropping to zero.
    """
    left, right, top = 44, 16, 16
    legend = _legend_flow([name for name, _values in series], left, width - right, 12)
    legend_rows = 1 + max((row for _x, row in legend), default=0)
    axis_band, legend_row = 26, 22
    plot_w = width - left - right
    plot_h = height - top - axis_band - legend_row * legend_rows - 6
    legend_top = top + plot_h + axis_band + 14
    count = len(x_labels)

    def x_at(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(100.0, v)) / 100)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'font-family="{FONT}" font-size="12" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for tick in (0, 20, 40, 60, 80, 100):
        y = y_at(tick)
        parts.append(f'<line x1="{left}" y1="{fmt(y)}" x2="{width - right}" y2="{fmt(y)}" stroke="#e2e8f0"/>'
                     f'<text x="{left - 6}" y="{fmt(y + 4)}" text-anchor="end" fill="#475569">{tick}</text>')
    for i, anchor in axis_labels([x_at(i) for i in range(count)], x_labels, 12, 4, width - 4):
        parts.append(f'<text class="x-label" x="{fmt(x_at(i))}" y="{top + plot_h + 18}" text-anchor="{anchor}" '
                     f'fill="#475569">{escape(x_labels[i])}</text>')
    for i in markers:
        if 0 <= i < count:
            x = x_at(i) - (x_at(i) - x_at(i - 1)) / 2 if i > 0 else x_at(i)
            parts.append(f'<line class="marker" x1="{fmt(x)}" y1="{top}" x2="{fmt(x)}" y2="{top + plot_h}" '
                         'stroke="#92400e" stroke-dasharray="5 4" stroke-width="1.5"/>'
                         f'<text x="{fmt(x + 4)}" y="{top + 12}" fill="#92400e">{escape(marker_label)}</text>')
    for i in missed:
        if 0 <= i < count:
            x = x_at(i)
            parts.append(f'<g class="missed"><line x1="{fmt(x)}" y1="{top}" x2="{fmt(x)}" y2="{top + plot_h}" '
                         'stroke="#b91c1c" stroke-dasharray="2 3" stroke-width="1.5"/>'
                         f'<text x="{fmt(x)}" y="{fmt(top + plot_h - 4)}" text-anchor="middle" fill="#b91c1c" '
                         f'font-size="14" font-weight="700">✕</text>'
                         f'<title>{escape(missed_label)} {escape(x_labels[i])}</title></g>')
    for s, (name, values) in enumerate(series):
        colour = SERIES_COLOURS[s % len(SERIES_COLOURS)]
        stroke = 3.5 if s == 0 else 1.8
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x_at(i), y_at(v)))
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in run)
                parts.append(f'<polyline data-series="{escape(name)}" points="{path}" fill="none" '
                             f'stroke="{colour}" stroke-width="{stroke}" stroke-opacity="{1 if s == 0 else 0.75}" '
                             'stroke-linejoin="round"/>')
            for x, y in run:
                parts.append(f'<circle cx="{fmt(x)}" cy="{fmt(y)}" r="{3 if s == 0 else 2}" fill="{colour}"/>')
        lx, row = legend[s]
        ly = legend_top + legend_row * row
        parts.append(f'<rect x="{fmt(lx)}" y="{fmt(ly - 9)}" width="14" height="{4 if s else 6}" '
                     f'fill="{colour}"/><text class="legend" x="{fmt(lx + 20)}" y="{fmt(ly)}" fill="#0f172a">'
                     f"{escape(name)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))  # every text and attribute above is escaped  # noqa: S704  # nosec B704
