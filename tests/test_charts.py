import re

import pytest

from charts import FONT, axis_labels, bar_chart, category_chart, line_chart, radar_chart, text_width


def polygon(svg, cls):
    match = re.search(rf'<polygon class="{cls}" points="([^"]+)"', svg)
    return [tuple(map(float, p.split(","))) for p in match.group(1).split()]


def test_radar_puts_100_percent_on_the_outer_ring_and_0_at_the_centre():
    svg = str(radar_chart(["a", "b", "c", "d"], [100, 0, 100, 50], size=200))
    points = polygon(svg, "current")
    centre = 100
    radius = 200 / 2 - 58
    assert points[0] == pytest.approx((centre, centre - radius))  # first axis points up
    assert points[1] == pytest.approx((centre, centre))
    assert points[3] == pytest.approx((centre - radius / 2, centre))


def test_radar_escapes_labels_sets_a_cjk_font_and_draws_the_previous_outline():
    svg = str(radar_chart(["<script>", "整顿", "清扫"], [50, None, 70], [40, 40, 40]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert f'font-family="{FONT}"' in svg
    assert 'class="previous"' in svg
    assert "N/A" in svg  # an all-N/A category is labelled, not shown as 0 %


def test_radar_needs_three_axes():
    with pytest.raises(ValueError):
        radar_chart(["a", "b"], [1, 2])


def test_bars_stand_for_sheets_with_one_or_two_categories():
    svg = str(bar_chart(["整理", "<b>办公区</b>"], [100, None], [50, 80], width=320))
    widths = [float(w) for w in re.findall(r'<rect class="current" x="8" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths == [pytest.approx(320 - 8 - 52), 0]  # 100 % fills the track, N/A is empty and labelled
    assert "N/A" in svg and "100%" in svg and "&lt;b&gt;" in svg and "<b>" not in svg
    assert svg.count('class="previous"') == 2 and f'font-family="{FONT}"' in svg
    assert 'class="previous"' not in str(bar_chart(["a"], [40]))
    with pytest.raises(ValueError):
        bar_chart([], [])


@pytest.mark.parametrize(("count", "kind"), [(1, "bars"), (2, "bars"), (3, "radar"), (7, "radar")])
def test_the_category_chart_is_a_radar_from_three_categories(count, kind):
    svg = str(category_chart([f"c{i}" for i in range(count)], [50.0] * count))
    assert ("<polygon" in svg) == (kind == "radar") and ("<rect" in svg) == (kind == "bars")


def test_line_chart_breaks_lines_at_gaps_and_marks_version_changes():
    svg = str(line_chart(["1", "2", "3", "4"], [("总分", [50, None, 70, 80]), ("整理", [10, 20, 30, 40])],
                         markers=[2], marker_label="换版"))
    overall = re.findall(r'<polyline data-series="总分" points="([^"]+)"', svg)
    assert len(overall) == 1 and len(overall[0].split()) == 2  # only the 70 → 80 run can be a line
    assert len(re.findall(r'data-series="整理"', svg)) == 1
    assert svg.count('class="marker"') == 1 and "换版" in svg


def test_line_chart_y_axis_maps_percent_linearly():
    svg = str(line_chart(["a", "b"], [("s", [0, 100])], width=200, height=200))
    (points,) = re.findall(r'points="([^"]+)"', svg)
    (x0, y0), (x1, y1) = (tuple(map(float, p.split(","))) for p in points.split())
    assert y0 > y1 and x0 < x1
    assert y0 - y1 == pytest.approx(200 - 16 - 26 - 22 - 6)


def test_line_chart_legend_sits_below_the_axis_labels():
    svg = str(line_chart(["09-01", "09-08"], [(f"s{i}", [50, 60]) for i in range(8)], height=300))
    axis_label_y = max(float(y) for y in re.findall(r'<text class="x-label" x="[\d.]+" y="([\d.]+)"', svg))
    legend_ys = [float(y) for y in re.findall(r'<rect x="[\d.]+" y="([\d.]+)"', svg)]
    assert len(legend_ys) == 8 and min(legend_ys) > axis_label_y and max(legend_ys) < 300


def test_axis_labels_keep_the_newest_and_never_overlap():
    assert axis_labels([], [], 11, 0, 600) == []
    xs = [40 + 50 * i for i in range(11)]
    labels = [f"2026-{m:02d}" for m in range(1, 12)]  # each ~50 px wide at 11 px: every other one fits
    chosen = axis_labels(xs, labels, 11, 0, 600)
    assert chosen[0][0] == 0 and chosen[-1][0] == 10  # the first and the newest
    boxes = [(xs[i] - w / 2, xs[i] + w / 2) for i, _anchor in chosen for w in [text_width(labels[i], 11)]]
    assert all(b[0] - a[1] >= 8 for a, b in zip(boxes, boxes[1:], strict=False))
    # twelve points where a step leaves the newest out and it would touch the label before it: that one gives way
    xs12 = [40 + 50 * i for i in range(12)]
    chosen12 = [i for i, _anchor in axis_labels(xs12, [*labels, "2026-12"], 11, 0, 700)]
    assert chosen12[-1] == 11 and 10 not in chosen12
    # no room for two labels at all: only the newest
    assert [i for i, _anchor in axis_labels([10, 12], ["2026-11-30", "2026-12-01"], 11, 0, 400)] == [1]
