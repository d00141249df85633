"""Chart labels never collide: Chromium draws the charts (with the Noto CJK fonts the PDF uses) and measures every
label's box. Line charts of 1–60 points with dates, months and Chinese labels; radars of 3–12 axes with any scores,
Chinese, English and bilingual names: no two labels overlap, none leaves the drawing, and no radar label touches
the plotted area."""

import itertools
import json

import pytest

from charts import line_chart, radar_chart
from quality.charts import control_chart, pareto_chart
from quality.pareto import pareto
from quality.spc import xmr

pytestmark = pytest.mark.browser

BOXES = """() => [...document.querySelectorAll('figure')].map(figure => {
  const svg = figure.querySelector('svg');
  const view = svg.viewBox.baseVal;
  const toSvg = svg.getScreenCTM().inverse();
  const texts = [...svg.querySelectorAll('text.x-label, text.legend, text.axis-label, text.value-label')].map(t => {
    // the box as drawn, in the drawing's units: a slanted label's corners through its own transform
    const b = t.getBBox(), m = toSvg.multiply(t.getScreenCTM());
    const corners = [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]]
      .map(([x, y]) => new DOMPoint(x, y).matrixTransform(m));
    const xs = corners.map(p => p.x), ys = corners.map(p => p.y);
    const x = Math.min(...xs), y = Math.min(...ys);
    return {cls: t.getAttribute('class'), text: t.textContent, x, y, w: Math.max(...xs) - x, h: Math.max(...ys) - y,
            local: {x: b.x, y: b.y, w: b.width, h: b.height}, m: [m.a, m.b, m.c, m.d, m.e, m.f]};
  });
  const rings = [...svg.querySelectorAll('polygon')].map(p => [...p.points].map(q => [q.x, q.y]));
  return {id: figure.id, view: [view.x, view.y, view.width, view.height], texts, rings};
})"""


def _boxes_overlap(a: dict, b: dict, slack: float) -> bool:
    return (a["x"] + slack < b["x"] + b["w"] and b["x"] + slack < a["x"] + a["w"]
            and a["y"] + slack < b["y"] + b["h"] and b["y"] + slack < a["y"] + a["h"])


def overlaps(a: dict, b: dict, slack: float = 0.5) -> bool:
    """Whether two labels' boxes meet. Two labels slanted alike (a Pareto's item names) are compared in their
    own slanted frame, where their boxes are exact; an axis-aligned box around a slanted one would be far larger
    than the glyphs."""
    if "m" in a and "m" in b and abs(a["m"][1]) > 1e-6 and all(
            abs(x - y) < 1e-6 for x, y in zip(a["m"][:4], b["m"][:4], strict=True)):
        ma, mb = a["m"], b["m"]
        det = ma[0] * ma[3] - ma[1] * ma[2]

        def to_a(x: float, y: float) -> tuple[float, float]:  # b's local point → the drawing → a's local frame
            sx, sy = mb[0] * x + mb[2] * y + mb[4] - ma[4], mb[1] * x + mb[3] * y + mb[5] - ma[5]
            return (ma[3] * sx - ma[2] * sy) / det, (-ma[1] * sx + ma[0] * sy) / det

        lb = b["local"]
        corners = [to_a(lb["x"] + dx, lb["y"] + dy) for dx in (0, lb["w"]) for dy in (0, lb["h"])]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        moved = {"x": min(xs), "y": min(ys), "w": max(xs) - min(xs), "h": max(ys) - min(ys)}
        return _boxes_overlap(a["local"], moved, slack)
    return _boxes_overlap(a, b, slack)


def inside(box: dict, view: list[float], slack: float = 0.5) -> bool:
    x, y, w, h = view
    return (box["x"] >= x - slack and box["y"] >= y - slack and box["x"] + box["w"] <= x + w + slack
            and box["y"] + box["h"] <= y + h + slack)


def point_in_box(point, box) -> bool:
    return box["x"] <= point[0] <= box["x"] + box["w"] and box["y"] <= point[1] <= box["y"] + box["h"]


def segment_hits_box(a, b, box, steps: int = 40) -> bool:
    return any(point_in_box((a[0] + (b[0] - a[0]) * k / steps, a[1] + (b[1] - a[1]) * k / steps), box)
               for k in range(steps + 1))


def line_charts():
    months = [f"{2021 + m // 12}-{m % 12 + 1:02d}" for m in range(60)]
    days = [f"{(m // 28) + 1:02d}-{m % 28 + 1:02d}" for m in range(60)]
    chinese = [f"第{m + 1}周" for m in range(60)]
    for count in (1, 2, 3, 5, 8, 12, 13, 20, 31, 45, 60):
        for name, labels in (("months", months), ("days", days), ("weeks", chinese)):
            values = [50 + (i * 7) % 50 for i in range(count)]
            for width in (360, 420, 720):
                yield (f"line-{name}-{count}-{width}",
                       line_chart(labels[:count], [("总分 / Overall", values), ("整顿 / Set in order", values),
                                                   ("清洁 / Standardize", values), ("安全 / Safety", values),
                                                   ("办公区 / Office area", values)], width=width, height=300))
    for count in (2, 9, 30, 60):
        chart = xmr([60 + (i * 13) % 30 for i in range(count)])
        yield f"control-{count}", control_chart(days[:count], chart)


def paretos():
    """Pareto charts as the reports draw them: 1 to 35 items (cut at 20), the tallest count in the hundreds, short
    and long labels first, in Chinese and English."""
    labels = {
        "zh": ["安全出口、疏散通道应畅通无阻", "灭火器", "通道畅通", "物品定置定位摆放", "地面无油污"],
        "en": ["Fire exits and escape routes are clear", "Extinguisher", "Aisles", "Tools in place", "Floor"],
    }
    for count, (language, names), tallest in itertools.product((1, 2, 5, 20, 35), labels.items(), (3, 35, 250)):
        counts = {f"k{i:02d}": (f"{names[i % len(names)]} {i}" if i >= len(names) else names[i],
                                max(1, tallest - i * 7)) for i in range(count)}
        yield (f"pareto-{language}-{count}-{tallest}",
               pareto_chart(pareto(counts), title="问题排列图", count_label="问题次数 / Findings",
                            share_label="累计占比 / Cumulative"))


def radars():
    names = {
        "zh": ["整理", "整顿", "清扫", "清洁", "素养", "安全", "办公区", "仓库", "设备", "通道", "消防", "化学品"],
        "en": ["Sort", "Set in order", "Shine", "Standardize", "Sustain", "Safety", "Office area", "Warehouse",
               "Machines", "Walkways", "Fire safety", "Chemicals"],
    }
    names["zh-en"] = [f"{zh} / {en}" for zh, en in zip(names["zh"], names["en"], strict=True)]
    for axes, (language, labels), scores in itertools.product((3, 5, 7, 12), names.items(), (100, 0, "mixed")):
        values = [(37 * i) % 101 if scores == "mixed" else scores for i in range(axes)]
        yield (f"radar-{language}-{axes}-{scores}",
               radar_chart(labels[:axes], values, [100] * axes, size=300))


@pytest.fixture(scope="module")
def measured(browser):
    charts = [*line_charts(), *radars(), *paretos()]
    html = "".join(f'<figure id="{name}" style="margin:0">{svg}</figure>' for name, svg in charts)
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        page.set_content(f"<!doctype html><meta charset=utf-8><body style='margin:0'>{html}</body>")
        found = page.evaluate(BOXES)
    finally:
        page.close()
    assert len(found) == len(charts)
    return found


def test_no_two_labels_of_a_chart_overlap_and_none_leaves_it(measured):
    problems = []
    for chart in measured:
        texts = chart["texts"]
        assert texts, chart["id"]
        for a, b in itertools.combinations(texts, 2):
            if overlaps(a, b):
                problems.append(f'{chart["id"]}: "{a["text"]}" overlaps "{b["text"]}"')
        for box in texts:
            if not inside(box, chart["view"]):
                problems.append(f'{chart["id"]}: "{box["text"]}" leaves the drawing {json.dumps(box)}')
    assert not problems, "\n".join(problems[:20])


def test_the_newest_point_of_a_line_chart_is_always_labelled(measured):
    for chart in measured:
        if chart["id"].startswith(("line-", "control-")):
            shown = [t["text"] for t in chart["texts"] if t["cls"] == "x-label"]
            assert shown, chart["id"]
            count = int(chart["id"].split("-")[-2 if chart["id"].startswith("line-") else -1])
            if chart["id"].startswith("line-"):
                name = chart["id"].split("-")[1]
                last = {"months": f"{2021 + (count - 1) // 12}-{(count - 1) % 12 + 1:02d}",
                        "days": f"{((count - 1) // 28) + 1:02d}-{(count - 1) % 28 + 1:02d}",
                        "weeks": f"第{count}周"}[name]
                assert shown[-1] == last, (chart["id"], shown)


def test_no_radar_label_touches_the_plotted_area_whatever_the_scores(measured):
    problems = []
    for chart in measured:
        if not chart["id"].startswith("radar-"):
            continue
        outer = chart["rings"][4]  # the 100 % ring: every score (and the previous, drawn at 100) lies within it
        edges = list(zip(outer, outer[1:] + outer[:1], strict=True))
        for box in chart["texts"]:
            if any(segment_hits_box(a, b, box) for a, b in edges):
                problems.append(f'{chart["id"]}: "{box["text"]}" touches the outer ring')
    assert not problems, "\n".join(problems[:20])
