"""Schema 2 score sheets as plants keep them (pure: files and scoring, no Flask, no database).

Deduction sheets with full marks per category and a deduction per occurrence per item, named grades with their
own points, per-item level texts, the overall rule; schema-1 files keep parsing and scoring as they always did.
"""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checklists.files import ChecklistFileError, dump_checklist, parse_checklist, schema_of
from checklists.schemes import DeductionScheme, LevelScheme
from inspections.scoring import NA, CategorySpec, ItemSpec, score_inspection

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def specs(data):
    return [CategorySpec(c.key, c.name, tuple(ItemSpec(i.key, i.weight, i.critical, i.deduct) for i in c.items),
                         c.weight, c.full_marks) for c in data.categories]


def load(name):
    return parse_checklist((EXAMPLES / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- deduction sheets as on paper

def test_deduction_sheet_adds_up_as_the_paper_does():
    sheet = load("deduction-sheet.yaml")
    counts = {"sort-aisle": 3, "sort-unneeded": 2, "shine-floor": 4, "shine-equipment": 3, "sustain-ppe": 6,
              "sustain-smoking": 0}
    result = score_inspection(specs(sheet), counts, sheet.scheme)
    sort, shine, sustain = result.categories
    assert (sort.points, sort.max_points) == (16.5, 20)      # 20 − 3 × 0.5 − 2 × 1
    assert (shine.points, shine.max_points) == (10, 15)      # 15 − 4 × 0.5 − 3 × 1
    assert (sustain.points, sustain.max_points) == (4, 10)   # 10 − 6 × 1
    assert (result.points, result.max_points) == (30.5, 45)
    # overall: sum — 30.5 of 45, what the paper gives; the mean of the percents would be 63.06
    assert result.overall_percent == pytest.approx(100 * 30.5 / 45)
    assert result.grade == "差" and result.passed is True


def test_the_mean_rule_on_the_same_sheet_gives_the_mean_of_percents():
    sheet = load("deduction-sheet.yaml")
    mean = DeductionScheme(category_points=20, points_per_finding=1, max_findings=99, overall="mean")
    counts = {"sort-aisle": 3, "sort-unneeded": 2, "shine-floor": 4, "shine-equipment": 3, "sustain-ppe": 6,
              "sustain-smoking": 0}
    result = score_inspection(specs(sheet), counts, mean)
    assert result.overall_percent == pytest.approx((82.5 + 200 / 3 + 40) / 3)


def test_counts_beyond_the_full_marks_stop_at_zero_and_na_takes_nothing_off():
    sheet = load("deduction-sheet.yaml")
    counts = {"sort-aisle": 99, "sort-unneeded": 99, "shine-floor": NA, "shine-equipment": NA, "sustain-ppe": 1,
              "sustain-smoking": NA}
    result = score_inspection(specs(sheet), counts, sheet.scheme)
    sort, shine, sustain = result.categories
    assert (sort.points, sort.percent) == (0, 0)
    assert shine.percent is None          # all N/A: out of the total, not 0 of 15
    assert sustain.points == 9
    assert (result.points, result.max_points) == (9, 30)


def test_one_occurrence_on_a_critical_item_fails_whatever_the_total():
    sheet = load("deduction-sheet.yaml")
    counts = dict.fromkeys(("sort-aisle", "sort-unneeded", "shine-floor", "shine-equipment", "sustain-ppe"), 0)
    result = score_inspection(specs(sheet), {**counts, "sustain-smoking": 1}, sheet.scheme)
    assert result.overall_percent == pytest.approx(100 * 43 / 45)
    assert result.passed is False and result.failed_critical == ("sustain-smoking",)


def test_schema_1_deduction_sheets_score_exactly_as_before():
    # no full_marks, no deduct: category_points and points_per_finding × weight, as schema 1 always did
    scheme = DeductionScheme(category_points=10, points_per_finding=2, max_findings=5)
    categories = [CategorySpec("a", "A", (ItemSpec("a1", weight=1.5), ItemSpec("a2"))),
                  CategorySpec("b", "B", (ItemSpec("b1"),))]
    result = score_inspection(categories, {"a1": 2, "a2": 1, "b1": 5}, scheme)
    assert [c.points for c in result.categories] == [10 - 2 * 2 * 1.5 - 2, 0]
    assert result.overall_percent == pytest.approx((20 + 0) / 2)  # the mean, as before


# ---------------------------------------------------------------- named grades

def test_named_grades_keep_their_order_labels_and_points():
    sheet = load("named-grades.yaml")
    scheme = sheet.scheme
    assert isinstance(scheme, LevelScheme) and scheme.named
    assert [(o.label, o.value) for o in scheme.options] == [("优", 10), ("良", 8), ("中", 6), ("低", 4), ("差", 2)]
    assert scheme.value_for_label("良") == 8 and scheme.label_of(6) == "中"
    assert [scheme.is_finding(v) for v in (10, 8, 6, 4, 2)] == [False, False, False, True, True]
    with pytest.raises(ValueError):
        scheme.validate(5)  # not a level's points
    result = score_inspection(specs(sheet), {"office-corridor": 10, "office-desk": 6, "office-cables": NA}, scheme)
    assert result.categories[0].points == 16 and result.categories[0].max_points == 20
    assert result.overall_percent == 80.0


def test_named_grades_in_any_order_and_the_worst_fails_a_critical_item():
    text = """schema: 2
key: s
name: S
scoring:
  type: levels
  levels:
  - {label: 差, points: 1, meaning: 很差}
  - {label: 优, points: 5, meaning: 很好}
  - {label: 中, points: 3, meaning: 一般}
categories:
- key: c
  name: C
  items:
  - {key: i1, text: 一, critical: true}
"""
    sheet = parse_checklist(text)
    assert [o.label for o in sheet.scheme.options] == ["差", "优", "中"]  # the sheet's own order on the buttons
    assert sheet.scheme.finding_at_or_below == 1  # default: the lowest level
    assert score_inspection(specs(sheet), {"i1": 1}, sheet.scheme).passed is False
    assert score_inspection(specs(sheet), {"i1": 3}, sheet.scheme).passed is True
    assert dump_checklist(parse_checklist(dump_checklist(sheet))) == dump_checklist(sheet)


def test_item_level_texts_are_kept_in_the_schemes_order():
    sheet = load("named-grades.yaml")
    corridor, _desk, cables = sheet.categories[0].items
    assert list(corridor.level_texts) == ["优", "良", "中", "低", "差"]
    assert corridor.level_texts["差"] == "堆满杂物，无法通行"
    assert cables.level_texts is None


# ---------------------------------------------------------------- files: round trip and schema

@pytest.mark.parametrize("name", ["deduction-sheet.yaml", "named-grades.yaml"])
def test_examples_round_trip_to_the_same_bytes(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert dump_checklist(parse_checklist(text)) == text
    assert text.startswith("schema: 2\n")


def test_a_schema_2_file_with_nothing_new_is_written_as_schema_1():
    text = "schema: 2\nkey: s\nname: S\ncategories:\n- key: c\n  name: C\n  items:\n  - {key: i, text: 一}\n"
    sheet = parse_checklist(text)
    assert schema_of(sheet) == 1 and dump_checklist(sheet).startswith("schema: 1\n")


def problems_of(text):
    with pytest.raises(ChecklistFileError) as caught:
        parse_checklist(text)
    return caught.value.problems


def test_misplaced_and_mismatched_fields_are_named_with_a_hint():
    problems = problems_of("""schema: 2
key: s
name: S
scoring:
  type: levels
  full_marks: 20
  category_points: 10
categories:
- key: c
  name: C
  full_marks: 10
  items:
  - key: i1
    text: 一
    deduct: 1
    levels: {'0': 零, '9': 九}
""")
    assert "line 6: scoring.full_marks: unknown field; it belongs to a category" in problems
    assert "line 7: scoring.category_points: unknown field; it belongs to a deduction sheet" in problems
    assert "line 11: categories[0].full_marks: only a deduction sheet (scoring.type: deduction) has it" in problems
    assert "line 15: categories[0].items[0].deduct: only a deduction sheet (scoring.type: deduction) has it" \
        in problems
    assert "line 16: categories[0].items[0].levels.9: not a level of this sheet (0, 1, 2, 3, 4)" in problems
    assert "line 16: categories[0].items[0].levels: give every level or none; missing 1, 2, 3, 4" in problems


def test_schema_2_fields_in_a_schema_1_file_say_what_they_need():
    problems = problems_of("""schema: 1
key: s
name: S
scoring:
  type: deduction
  overall: sum
categories:
- key: c
  name: C
  items: [{key: i1, text: 一, unit: 处}]
""")
    assert "line 5: scoring: overall need schema: 2" in problems
    assert "line 10: categories[0].items[0].unit: needs schema: 2" in problems


@pytest.mark.parametrize("levels, message", [
    ("[{label: 优, points: 10}]", "a sheet has 2 to 10 levels, not 1"),
    ("[{label: 优, points: 10}, {label: 良, points: 10}]", "levels[1].points: 10 is given twice"),
    ("[{label: 优, points: 10}, {label: 优, points: 8}]", "levels[1].label: '优' is given twice"),
    ("[{label: 优, points: -1}, {label: 良, points: 8}]", "levels[0].points: must be a whole number ≥ 0"),
    ("[{label: 优, points: 9.5}, {label: 良, points: 8}]", "levels[0].points: must be a whole number ≥ 0"),
    ("[{label: 优, points: 10, colour: red}, {label: 良, points: 8}]", "levels[0].colour: unknown field"),
])
def test_bad_named_levels_are_refused_by_name(levels, message):
    text = f"schema: 2\nkey: s\nname: S\nscoring:\n  type: levels\n  levels: {levels}\ncategories:\n" \
           "- key: c\n  name: C\n  items: [{key: i1, text: 一}]\n"
    assert any(message in p for p in problems_of(text))


def test_weights_that_would_do_nothing_are_refused():
    problems = problems_of("""schema: 2
key: s
name: S
scoring: {type: deduction, overall: sum}
categories:
- key: c
  name: C
  weight: 2
  full_marks: 0
  items: [{key: i1, text: 一, deduct: 1, weight: 2}]
""")
    assert any(p.startswith("line 8: categories[0].weight: has no effect when scoring.overall is sum")
               for p in problems)
    assert "line 9: categories[0].full_marks: must be greater than 0" in problems
    assert any(p.startswith("line 10: categories[0].items[0].weight: has no effect when the item sets deduct")
               for p in problems)


# ---------------------------------------------------------------- any shape scores as an independent sum says

@st.composite
def deduction_sheets(draw):
    categories, answers, expected = [], {}, []
    for ci in range(draw(st.integers(1, 12))):
        full = draw(st.sampled_from([5, 10, 15, 20, 12.5]))
        items = []
        taken, applicable = 0.0, False
        for ii in range(draw(st.integers(1, 12))):
            key = f"c{ci}-i{ii}"
            deduct = draw(st.sampled_from([0.5, 1, 2, 0.25, 3]))
            items.append(ItemSpec(key, deduct=deduct))
            value = draw(st.one_of(st.integers(0, 99), st.just(NA)))
            answers[key] = value
            if value != NA:
                applicable, taken = True, taken + value * deduct
        categories.append(CategorySpec(f"c{ci}", f"类{ci}", tuple(items), full_marks=full))
        if applicable:
            expected.append((max(0.0, full - taken), full))
    return categories, answers, expected


@settings(max_examples=200)
@given(deduction_sheets(), st.sampled_from(["sum", "mean"]))
def test_deduction_scores_equal_an_independent_recomputation(case, overall):
    categories, answers, expected = case
    scheme = DeductionScheme(max_findings=99, overall=overall)
    result = score_inspection(categories, answers, scheme)
    got = [value for c in result.categories if c.percent is not None for value in (c.points, c.max_points)]
    assert got == pytest.approx([value for pair in expected for value in pair])
    if not expected:
        assert result.overall_percent is None
    elif overall == "sum":
        assert result.overall_percent == pytest.approx(100 * sum(p for p, _ in expected) / sum(m for _, m in expected))
    else:
        assert result.overall_percent == pytest.approx(sum(100 * p / m for p, m in expected) / len(expected))


def test_control_characters_in_texts_are_refused_by_name():
    text = 'schema: 2\nkey: s\nname: "S\\0"\ncategories:\n- key: c\n  name: C\n  items:\n' \
           '  - {key: i, text: "一\\x07", guidance: "第一行\\n第二行"}\n'
    problems = problems_of(text)
    assert "line 3: name: must not contain control characters" in problems
    assert "line 8: categories[0].items[0].text: must not contain control characters" in problems
    assert len(problems) == 2  # a newline in guidance is text
