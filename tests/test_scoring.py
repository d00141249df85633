"""Pure scoring: no Flask, no database."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checklists.schemes import DeductionScheme, LevelScheme, PassFailScheme, SchemeError, scheme_from_dict
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


@pytest.mark.parametrize("scheme", [LevelScheme(), PassFailScheme(), DeductionScheme(max_findings=3),
                                    LevelScheme(levels={0: "差", 1: "中", 2: "好"}, pass_mark=70),
                                    PassFailScheme(action_due_days=(0, 14))])
def test_schemes_round_trip_through_their_stored_form(scheme):
    assert scheme_from_dict(scheme.to_dict()) == scheme


@pytest.mark.parametrize("data", [
    {"type": "levels", "levels": {"0": "a", "2": "b"}},
    {"type": "levels", "levels": {"0": "only one"}},
    {"type": "stars"},
    {"type": "deduction", "category_points": 0},
    {"type": "deduction", "max_findings": 2.5},
    {"grades": []},
    {"grades": [{"label": "no min"}]},
    {"pass_mark": -1},
    {"action_due_days": {"critical": -1}},
    {"action_due_days": {"normal": 2.5}},
    {"action_due_days": {"normal": 366}},
    {"action_due_days": {"urgent": 1}},
    {"action_due_days": [1, 7]},
])
def test_malformed_schemes_are_refused(data):
    with pytest.raises(SchemeError):
        scheme_from_dict(data)


def test_due_days_are_stored_only_when_they_differ_from_the_defaults():
    """Versions published before the setting existed must keep their stored form (and content hash) exactly."""
    assert "action_due_days" not in LevelScheme().to_dict()
    assert scheme_from_dict({}).action_due_days == (1, 7)
    assert scheme_from_dict({"action_due_days": {"critical": 2}}).action_due_days == (2, 7)
    stored = scheme_from_dict({"action_due_days": {"critical": 3, "normal": 10.0}}).to_dict()
    assert stored["action_due_days"] == {"critical": 3, "normal": 10}
    with pytest.raises(SchemeError) as refused:
        scheme_from_dict({"action_due_days": {"critical": "soon"}})
    assert refused.value.code == "bad_due_days"


def test_pass_fail_scores_the_share_of_passed_items():
    result = score_inspection(two_categories(), {"a1": 1, "a2": 0, "b1": 1, "b2": 1, "b3": NA}, PassFailScheme())
    assert [c.percent for c in result.categories] == [50.0, 100.0]
    with pytest.raises(ValueError):
        score_inspection(two_categories(), {"a1": 2, "a2": 0, "b1": 1, "b2": 1, "b3": 1}, PassFailScheme())


def test_deduction_takes_points_off_per_finding_capped_at_the_floor():
    scheme = DeductionScheme(category_points=10, points_per_finding=2, max_findings=5)
    categories = [
        CategorySpec("a", "A", (ItemSpec("a1"), ItemSpec("a2", weight=2))),
        CategorySpec("b", "B", (ItemSpec("b1"), ItemSpec("b2"))),
    ]
    result = score_inspection(categories, {"a1": 1, "a2": 1, "b1": 5, "b2": 5}, scheme)
    a, b = result.categories
    assert (a.points, a.max_points, a.percent) == (4.0, 10.0, 40.0)  # 10 − 2 − 2×2
    assert (b.points, b.percent) == (0.0, 0.0)  # 20 off is capped at the category's 10
    assert result.overall_percent == 20.0


def test_deduction_critical_item_with_any_finding_fails():
    scheme = DeductionScheme(category_points=100, points_per_finding=1)
    categories = [CategorySpec("s", "安全", (ItemSpec("exit", critical=True), ItemSpec("other")))]
    assert score_inspection(categories, {"exit": 1, "other": 0}, scheme).passed is False
    assert score_inspection(categories, {"exit": 0, "other": 1}, scheme).passed is True


def test_findings_per_scheme():
    assert [LevelScheme().is_finding(v) for v in (0, 1, 2, None)] == [True, True, False, False]
    assert [PassFailScheme().is_finding(v) for v in (0, 1)] == [True, False]
    assert [DeductionScheme().is_finding(v) for v in (0, 1, 3)] == [False, True, True]


KEYS = ("a1", "a2", "b1", "b2", "b3")
SCHEMES = {
    "levels": (LevelScheme(), st.integers(0, 4), 1),
    "pass_fail": (PassFailScheme(), st.integers(0, 1), 1),
    # on deduction a better answer is one finding fewer
    "deduction": (DeductionScheme(category_points=6, points_per_finding=2, max_findings=5), st.integers(0, 5), -1),
}


def scheme_and_answers():
    return st.sampled_from(sorted(SCHEMES)).flatmap(lambda name: st.tuples(
        st.just(name), st.lists(st.one_of(SCHEMES[name][1], st.just(NA)), min_size=5, max_size=5)))


@given(scheme_and_answers())
def test_every_scheme_keeps_scores_within_0_and_100(case):
    name, values = case
    result = score_inspection(two_categories(), dict(zip(KEYS, values, strict=True)), SCHEMES[name][0])
    for category in result.categories:
        assert category.percent is None or 0 <= category.percent <= 100
        assert category.points >= 0  # deductions never go below the floor
    assert result.overall_percent is None or 0 <= result.overall_percent <= 100


@given(scheme_and_answers(), st.integers(0, 4))
def test_na_never_lowers_a_score(case, index):
    name, values = case
    scheme = SCHEMES[name][0]
    answers = dict(zip(KEYS, values, strict=True))
    worst = min(o.value for o in scheme.options) if SCHEMES[name][2] > 0 else max(o.value for o in scheme.options)
    answers[KEYS[index]] = worst
    with_worst = score_inspection(two_categories(), answers, scheme)
    answers[KEYS[index]] = NA
    with_na = score_inspection(two_categories(), answers, scheme)
    if with_na.overall_percent is not None and with_worst.overall_percent is not None:
        assert with_na.overall_percent >= with_worst.overall_percent - 1e-9


@given(scheme_and_answers(), st.integers(0, 4))
def test_a_better_answer_never_lowers_a_percent(case, index):
    name, values = case
    scheme, _values, direction = SCHEMES[name]
    answers = dict(zip(KEYS, values, strict=True))
    key = KEYS[index]
    allowed = {o.value for o in scheme.options}
    if answers[key] == NA or answers[key] + direction not in allowed:
        return
    before = score_inspection(two_categories(), answers, scheme)
    after = score_inspection(two_categories(), answers | {key: answers[key] + direction}, scheme)
    for b, a in zip(before.categories, after.categories, strict=True):
        assert (a.percent is None) == (b.percent is None)
        assert a.percent is None or a.percent >= b.percent - 1e-9
    assert after.overall_percent >= before.overall_percent - 1e-9


def test_running_score_counts_only_what_is_answered():
    from inspections.scoring import running_score

    assert running_score(two_categories(), {}, SCHEME) is None
    result = running_score(two_categories(), {"a1": 2, "b1": NA}, SCHEME)
    assert result.categories[0].percent == 50.0 and result.categories[1].percent is None
    assert result.overall_percent == 50.0


# --- why a result failed (#34) ---

def pass_fail_sheet_with_one_critical():
    """The sheet of the report: 25 items, one of them critical, pass mark 85 %."""
    return [CategorySpec("s", "安全", (ItemSpec("exit", critical=True),) + tuple(ItemSpec(f"k{i}") for i in range(24)))]


def test_a_failed_critical_item_is_the_reason_not_the_pass_mark():
    scheme = PassFailScheme(pass_mark=85)
    answers = {"exit": 0} | {f"k{i}": 1 for i in range(24)}
    result = score_inspection(pass_fail_sheet_with_one_critical(), answers, scheme)
    assert result.overall_percent == 96.0
    assert result.passed is False
    assert [r.to_dict() for r in result.fail_reasons] == [{"code": "critical_failed", "items": ["exit"]}]


def test_both_reasons_are_named_when_both_hold():
    scheme = PassFailScheme(pass_mark=85)
    answers = {"exit": 0} | {f"k{i}": int(i < 10) for i in range(24)}
    result = score_inspection(pass_fail_sheet_with_one_critical(), answers, scheme)
    assert [r.code for r in result.fail_reasons] == ["critical_failed", "below_pass_mark"]
    assert result.fail_reasons[1].to_dict() == {"code": "below_pass_mark", "pass_mark": 85}


def test_a_deduction_sheet_names_the_critical_item_counted_once():
    scheme = DeductionScheme(category_points=100, points_per_finding=1, pass_mark=85)
    categories = [CategorySpec("s", "安全", (ItemSpec("a"), ItemSpec("exit", critical=True)))]
    result = score_inspection(categories, {"a": 0, "exit": 1}, scheme)
    assert result.overall_percent == 99.0
    assert [(r.code, r.items) for r in result.fail_reasons] == [("critical_failed", ("exit",))]


def test_a_count_is_bounded_only_by_the_sheet_else_by_999():
    assert scheme_from_dict({"type": "deduction"}).max_findings == 999
    scheme = scheme_from_dict({"type": "deduction", "category_points": 25, "points_per_finding": 2})
    categories = [CategorySpec("s", "安全", (ItemSpec("shoes"),))]
    # 20 unmarked places at 2 points take all of a 25-point category's 25 points: 0 %, not 15/25
    assert score_inspection(categories, {"shoes": 20}, scheme).overall_percent == 0.0
    scheme.validate(999)
    with pytest.raises(ValueError, match="0 to 999"):
        scheme.validate(1000)
    capped = scheme_from_dict({"type": "deduction", "max_findings": 3})
    with pytest.raises(ValueError, match="0 to 3"):
        capped.validate(4)


@given(scheme_and_answers(), st.sets(st.sampled_from(KEYS)), st.floats(0, 100))
def test_failed_exactly_when_a_reason_holds(case, critical_keys, pass_mark):
    name, values = case
    scheme = dataclasses.replace(SCHEMES[name][0], pass_mark=pass_mark)
    categories = [CategorySpec(c.key, c.name, tuple(ItemSpec(i.key, critical=i.key in critical_keys)
                                                    for i in c.items)) for c in two_categories()]
    answers = dict(zip(KEYS, values, strict=True))
    result = score_inspection(categories, answers, scheme)
    if result.overall_percent is None:
        assert result.passed is None and result.fail_reasons == ()
        return
    codes = [r.code for r in result.fail_reasons]
    assert result.passed is (not codes)
    assert ("below_pass_mark" in codes) is (result.overall_percent < pass_mark)
    failed = [k for k in KEYS if k in critical_keys and answers[k] != NA and scheme.fails_critical(answers[k])]
    assert [r.items for r in result.fail_reasons if r.code == "critical_failed"] == ([tuple(failed)] if failed else [])
