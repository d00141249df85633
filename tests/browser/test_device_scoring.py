"""The score a tablet computes offline (static/js/scoring.js, in Chromium) is the server's (inspections/scoring.py)
for generated sheets of every scheme — numbered and named levels, pass/fail, deduction; mean and sum; weights,
critical items, N/A, own deductions and full marks — and for any part of them answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklists.schemes import scheme_from_dict
from inspections.scoring import NA, CategorySpec, ItemSpec, running_score

SCORING_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "scoring.js"

weights = st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, 3.0])
grades = st.lists(st.tuples(st.sampled_from([0, 35, 50, 60, 70, 80, 85, 90, 95]),
                            st.sampled_from(["优", "良", "中", "差", "不合格", "A", "B"])),
                  min_size=1, max_size=5, unique_by=lambda g: g[0])


@st.composite
def schemes(draw) -> dict:
    bands = {"grades": [{"min": m, "label": label} for m, label in draw(grades)],
             "pass_mark": draw(st.sampled_from([0, 60, 75, 80.5, 100])),
             "overall": draw(st.sampled_from(["mean", "sum"]))}
    kind = draw(st.sampled_from(["levels", "named", "pass_fail", "deduction"]))
    if kind == "levels":
        top = draw(st.integers(1, 5))
        return {"type": "levels", "levels": {str(n): f"第{n}级" for n in range(top + 1)},
                "finding_at_or_below": draw(st.integers(0, top)), **bands}
    if kind == "named":
        points = draw(st.lists(st.integers(0, 20), min_size=2, max_size=5, unique=True))
        return {"type": "levels", "levels": [{"label": f"L{p}", "points": p, "meaning": f"{p} 分"} for p in points],
                **bands}
    if kind == "pass_fail":
        return {"type": "pass_fail", **bands}
    return {"type": "deduction", "category_points": draw(st.sampled_from([5, 10, 20, 25.5])),
            "points_per_finding": draw(st.sampled_from([0.5, 1, 2, 3])),
            "max_findings": draw(st.sampled_from([3, 10, 999])), **bands}


@st.composite
def sheets(draw):
    scheme = scheme_from_dict(draw(schemes()))
    deduction = scheme.type == "deduction"
    categories = []
    for c in range(draw(st.integers(1, 4))):
        items = tuple(ItemSpec(key=f"c{c}-{i}", weight=draw(weights), critical=draw(st.booleans()),
                               deduct=draw(st.sampled_from([None, 0.5, 1.5, 4])) if deduction else None)
                      for i in range(draw(st.integers(1, 5))))
        categories.append(CategorySpec(key=f"c{c}", name=f"类别{c}", items=items, weight=draw(weights),
                                       full_marks=draw(st.sampled_from([None, 10, 15.5])) if deduction else None))
    values = [o.value for o in scheme.options][:12]
    answers = {}
    for category in categories:
        for item in category.items:
            given_value = draw(st.sampled_from(["missing", NA, *values]))
            if given_value != "missing":
                answers[item.key] = given_value
    return scheme, categories, answers


def _python(scheme, categories, answers) -> dict | None:
    result = running_score(categories, answers, scheme)
    if result is None:
        return None
    return {"categories": [{"key": c.key, "points": c.points, "max_points": c.max_points, "percent": c.percent}
                           for c in result.categories],
            "overall_percent": result.overall_percent, "points": result.points, "max_points": result.max_points,
            "grade": result.grade, "passed": result.passed, "failed_critical": list(result.failed_critical),
            "fail_reasons": [r.to_dict() for r in result.fail_reasons]}


def _as_js(categories) -> list[dict]:
    return [{"key": c.key, "name": c.name, "weight": c.weight, "full_marks": c.full_marks,
             "items": [{"key": i.key, "weight": i.weight, "critical": i.critical, "deduct": i.deduct}
                       for i in c.items]} for c in categories]


@pytest.fixture(scope="module")
def scoring_page(browser):
    page = browser.new_page()
    page.set_content("<!doctype html><html><head></head><body></body></html>")
    page.add_script_tag(path=str(SCORING_JS))
    yield page
    page.close()


def test_the_device_scores_every_scheme_as_the_server_does(scoring_page):
    @settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(sheet=sheets())
    def agrees(sheet):
        scheme, categories, answers = sheet
        expected = _python(scheme, categories, answers)
        on_device = scoring_page.evaluate("([c, a, s]) => window.Sixs.scoring.running(c, a, s)",
                                          [_as_js(categories), answers, scheme.to_dict()])
        # the same sums in the same order: equal to the last digit, not merely close
        assert on_device == expected

    agrees()


def test_a_sheet_answered_in_full_scores_the_same_on_both_and_a_missing_answer_is_refused(scoring_page):
    scheme = scheme_from_dict({"type": "levels"})
    categories = [CategorySpec("sort", "整理", (ItemSpec("a", critical=True), ItemSpec("b", weight=2.0)))]
    on_device = scoring_page.evaluate("([c, a, s]) => window.Sixs.scoring.score(c, a, s)",
                                      [_as_js(categories), {"a": 0, "b": 4}, scheme.to_dict()])
    assert on_device["failed_critical"] == ["a"] and on_device["passed"] is False
    assert on_device["overall_percent"] == pytest.approx(100 * 8 / 12)
    with pytest.raises(Exception, match="unanswered item: b"):
        scoring_page.evaluate("([c, a, s]) => window.Sixs.scoring.score(c, a, s)",
                              [_as_js(categories), {"a": 0}, scheme.to_dict()])


def test_a_percent_is_printed_to_one_decimal_as_the_server_prints_it(scoring_page):
    """Ties included (12.25 → 12.2 and 12.5 → 12 as Python's format rounds half to even; JavaScript's toFixed
    gives 12.3 and 13)."""
    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.floats(0, 100, allow_nan=False), st.integers(0, 400).map(lambda q: q / 4),
                     st.integers(0, 200).map(lambda h: h / 2),
                     st.integers(0, 1000).map(lambda n: n / 20)))
    def prints_alike(percent):
        assert scoring_page.evaluate("x => window.Sixs.scoring.oneDecimal(x)", percent) == f"{percent:.1f}"
        assert scoring_page.evaluate("x => window.Sixs.scoring.whole(x)", percent) == f"{percent:.0f}"

    prints_alike()
