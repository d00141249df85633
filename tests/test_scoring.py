"""Pure scoring: no Flask, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checklists.schemes import LevelScheme, SchemeError
from inspections.scoring import NA, CategorySpec, ItemSpec, score_inspection, unanswered_keys

SCHEME = LevelScheme()


def two_categories():
    return [
        CategorySpec("sort", "整理", (ItemSpec("a1"), ItemSpec("a2"))),
        CategorySpec("shine", "清扫", (ItemSpec("b1"), ItemSpec("b2"), ItemSpec("b3"))),
    ]


def test_category_percent_is_points_over_applicable_maximum():
    result = score_inspection(two_categories(), {"a1": 4, "a2": 2, "b1": 4, "b2": NA, "b3": 0}, SCHEME)
    sort, shine = result.categories
    assert (sort.points, sort.max_points, sort.percent) == (6, 8, 75.0)
    # N/A leaves the denominator: 4 of 8, not 4 of 12
    assert (shine.points, shine.max_points, shine.percent) == (4, 8, 50.0)


def test_overall_is_the_mean_of_category_percents_not_of_points():
    categories = [
        CategorySpec("big", "大", tuple(ItemSpec(f"x{i}") for i in range(10))),
        CategorySpec("small", "小", (ItemSpec("y"),)),
    ]
    answers = {f"x{i}": 4 for i in range(10)} | {"y": 0}
    result = score_inspection(categories, answers, SCHEME)
    assert result.overall_percent == pytest.approx(50.0)  # (100 + 0) / 2, not 40/44


def test_category_weights_and_item_weights():
    categories = [
        CategorySpec("a", "A", (ItemSpec("a1", weight=3), ItemSpec("a2", weight=1)), weight=3),
        CategorySpec("b", "B", (ItemSpec("b1"),), weight=1),
    ]
    result = score_inspection(categories, {"a1": 4, "a2": 0, "b1": 0}, SCHEME)
    assert result.categories[0].percent == pytest.approx(75.0)
    assert result.overall_percent == pytest.approx((75 * 3 + 0) / 4)


def test_all_na_category_takes_no_part_in_overall():
    result = score_inspection(two_categories(), {"a1": 4, "a2": 4, "b1": NA, "b2": NA, "b3": NA}, SCHEME)
    assert result.categories[1].percent is None
    assert result.overall_percent == 100.0
    assert result.grade == "优"


def test_everything_na_has_no_score_and_no_verdict():
    answers = dict.fromkeys(("a1", "a2", "b1", "b2", "b3"), NA)
    result = score_inspection(two_categories(), answers, SCHEME)
    assert (result.overall_percent, result.grade, result.passed) == (None, None, None)


@pytest.mark.parametrize(("percent", "grade"), [(100, "优"), (90, "优"), (89.99, "良"), (80, "良"), (70, "中"),
                                                 (60, "差"), (59.9, "不合格"), (0, "不合格")])
def test_grade_bands(percent, grade):
    assert SCHEME.grade_for(percent) == grade


def test_critical_item_at_zero_fails_whatever_the_total():
    categories = [CategorySpec("s", "安全", (ItemSpec("exit", critical=True),) + tuple(
        ItemSpec(f"k{i}") for i in range(20)))]
    answers = {"exit": 0} | {f"k{i}": 4 for i in range(20)}
    result = score_inspection(categories, answers, SCHEME)
    assert result.overall_percent > 90
    assert result.passed is False
    assert result.failed_critical == ("exit",)


def test_missing_and_invalid_answers_are_refused():
    with pytest.raises(ValueError, match="unanswered items: b3"):
        score_inspection(two_categories(), {"a1": 4, "a2": 4, "b1": 4, "b2": 4}, SCHEME)
    for bad in (5, -1, True, "3", 2.5):
        with pytest.raises(ValueError):
            score_inspection(two_categories(), {"a1": bad, "a2": 4, "b1": 4, "b2": 4, "b3": 4}, SCHEME)
    assert unanswered_keys(two_categories(), {"a1": 1}) == ["a2", "b1", "b2", "b3"]


def test_scheme_round_trips_and_rejects_gaps():
    assert LevelScheme.from_dict(SCHEME.to_dict()) == SCHEME
    with pytest.raises(SchemeError):
        LevelScheme.from_dict({"levels": {"0": "a", "2": "b"}, "grades": [{"min": 0, "label": "x"}]})


answers_strategy = st.lists(st.one_of(st.integers(0, 4), st.just(NA)), min_size=5, max_size=5)


@given(answers_strategy)
def test_scores_stay_within_0_and_100(values):
    answers = dict(zip(("a1", "a2", "b1", "b2", "b3"), values, strict=True))
    result = score_inspection(two_categories(), answers, SCHEME)
    for category in result.categories:
        assert category.percent is None or 0 <= category.percent <= 100
    assert result.overall_percent is None or 0 <= result.overall_percent <= 100


@given(answers_strategy, st.integers(0, 4))
def test_raising_one_score_never_lowers_a_percent(values, index):
    keys = ("a1", "a2", "b1", "b2", "b3")
    answers = dict(zip(keys, values, strict=True))
    key = keys[index]
    if answers[key] == NA or answers[key] == 4:
        return
    before = score_inspection(two_categories(), answers, SCHEME)
    after = score_inspection(two_categories(), answers | {key: answers[key] + 1}, SCHEME)
    assert after.overall_percent >= before.overall_percent
