"""Pure SVG charts (server-rendered, vector in the PDF, no JavaScript on screen).

Every chart sets its own font-family: WeasyPrint's stylesheets do not reach inline SVG text, and without
it fontconfig picks the Japanese and serif CJK faces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
SERIES_COLOURS = ("#1d4ed8", "#b91c1c", "#047857", "#b45309", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f")


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def radar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    previous: Sequence[float | None] | None = None,
    *,
    size: int = 320,
    title: str = "",
) -> Markup:
    """Radar of percents (0–100) per category; None (all N/A) is drawn at the centre and marked."""
    n = len(labels)
    if n < 3:
        raise ValueError("a radar chart needs at least 3 axes")
    centre = size / 2
    radius = size / 2 - 58

    def point(index: int, percent: float | None) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        r = radius * max(0.0, min(100.0, percent or 0.0)) / 100
        return centre + r * math.cos(angle), centre + r * math.sin(angle)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
        f'font-family="{FONT}" font-size="13" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for ring in (20, 40, 60, 80, 100):
        ring_points = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{ring_points}" fill="none" stroke="#cbd5e1" stroke-width="1"/>')
    for i, label in enumerate(labels):
        x, y = point(i, 100)
        parts.append(f'<line x1="{_fmt(centre)}" y1="{_fmt(centre)}" x2="{_fmt(x)}" y2="{_fmt(y)}" '
                     'stroke="#cbd5e1" stroke-width="1"/>')
        lx, ly = point(i, 122)
        anchor = "middle" if abs(lx - centre) < 8 else ("start" if lx > centre else "end")
        value = values[i]
        shown = "N/A" if value is None else f"{value:.0f}%"
        parts.append(f'<text x="{_fmt(lx)}" y="{_fmt(ly)}" text-anchor="{anchor}" fill="#0f172a">'
                     f'{escape(label)}<tspan x="{_fmt(lx)}" dy="15" fill="#475569">{shown}</tspan></text>')
    if previous is not None:
        prev_points = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(i, v) for i, v in enumerate(previous)))
        parts.append(f'<polygon class="previous" points="{prev_points}" fill="none" stroke="#64748b" '
                     'stroke-width="1.5" stroke-dasharray="4 3"/>')
    now_points = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(i, v) for i, v in enumerate(values)))
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
        parts.append(f'<text x="{left}" y="{_fmt(y + 12)}" fill="#0f172a">{escape(label)}</text>'
                     f'<rect x="{left}" y="{_fmt(y + 18)}" width="{_fmt(bar_w)}" height="16" fill="#e2e8f0"/>'
                     f'<rect class="current" x="{left}" y="{_fmt(y + 18)}" width="{_fmt(filled)}" height="16" '
                     f'fill="#1d4ed8" fill-opacity="0.8"/>'
                     f'<text x="{_fmt(left + bar_w + 6)}" y="{_fmt(y + 31)}" fill="#475569">{shown}</text>')
        if previous is not None and previous[i] is not None:
            x = left + bar_w * max(0.0, min(100.0, previous[i])) / 100
            parts.append(f'<line class="previous" x1="{_fmt(x)}" y1="{_fmt(y + 15)}" x2="{_fmt(x)}" '
                         f'y2="{_fmt(y + 37)}" stroke="#0f172a" stroke-width="2" stroke-dasharray="3 2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # every text and attribute above is escaped  # noqa: S704  # nosec B704


def category_chart(labels: Sequence[str], values: Sequence[float | None],
                   previous: Sequence[float | None] | None = None, *, size: int = 320, title: str = "") -> Markup:
    """The per-category picture of an inspection: a radar from three categories up, bars below that."""
    if len(labels) >= 3:
        return radar_chart(labels, values, previous, size=size, title=title)
    return bar_chart(labels, values, previous, width=size, title=title)


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
    legend_rows = math.ceil(len(series) / 4)
    left, right, top = 44, 16, 16
    axis_labels, legend_row = 26, 22
    plot_w = width - left - right
    plot_h = height - top - axis_labels - legend_row * legend_rows - 6
    legend_top = top + plot_h + axis_labels + 14
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
        parts.append(f'<line x1="{left}" y1="{_fmt(y)}" x2="{width - right}" y2="{_fmt(y)}" stroke="#e2e8f0"/>'
                     f'<text x="{left - 6}" y="{_fmt(y + 4)}" text-anchor="end" fill="#475569">{tick}</text>')
    step = max(1, math.ceil(count / 8))
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == count - 1:
            # the last label ends at the edge instead of spilling over it
            anchor = "end" if i == count - 1 and count > 1 else "middle"
            parts.append(f'<text x="{_fmt(x_at(i))}" y="{top + plot_h + 18}" text-anchor="{anchor}" '
                         f'fill="#475569">{escape(label)}</text>')
    for i in markers:
        if 0 <= i < count:
            x = x_at(i) - (x_at(i) - x_at(i - 1)) / 2 if i > 0 else x_at(i)
            parts.append(f'<line class="marker" x1="{_fmt(x)}" y1="{top}" x2="{_fmt(x)}" y2="{top + plot_h}" '
                         'stroke="#92400e" stroke-dasharray="5 4" stroke-width="1.5"/>'
                         f'<text x="{_fmt(x + 4)}" y="{top + 12}" fill="#92400e">{escape(marker_label)}</text>')
    for i in missed:
        if 0 <= i < count:
            x = x_at(i)
            parts.append(f'<g class="missed"><line x1="{_fmt(x)}" y1="{top}" x2="{_fmt(x)}" y2="{top + plot_h}" '
                         'stroke="#b91c1c" stroke-dasharray="2 3" stroke-width="1.5"/>'
                         f'<text x="{_fmt(x)}" y="{_fmt(top + plot_h - 4)}" text-anchor="middle" fill="#b91c1c" '
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
                path = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in run)
                parts.append(f'<polyline data-series="{escape(name)}" points="{path}" fill="none" '
                             f'stroke="{colour}" stroke-width="{stroke}" stroke-opacity="{1 if s == 0 else 0.75}" '
                             'stroke-linejoin="round"/>')
            for x, y in run:
                parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{3 if s == 0 else 2}" fill="{colour}"/>')
        lx = left + (s % 4) * (plot_w / 4)
        ly = legend_top + legend_row * (s // 4)
        parts.append(f'<rect x="{_fmt(lx)}" y="{_fmt(ly - 9)}" width="14" height="{4 if s else 6}" '
                     f'fill="{colour}"/><text x="{_fmt(lx + 20)}" y="{_fmt(ly)}" fill="#0f172a">'
                     f"{escape(name)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))  # every text and attribute above is escaped  # noqa: S704  # nosec B704
