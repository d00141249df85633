"""The maths of control charts and inspector agreement, against worked examples and properties (hypothesis)."""

import itertools
import random
from statistics import fmean

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quality.agreement import biases, fleiss_kappa, mean_absolute_difference, ratings_table, weighted_kappa
from quality.spc import E2, MIN_POINTS, Signal, signal_text, xmr

# Fleiss (1971), as reproduced in most textbooks: 10 subjects, 14 raters, 5 categories → κ = 0.210
FLEISS_TABLE = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_fleiss_kappa_reproduces_the_published_example():
    assert round(fleiss_kappa(FLEISS_TABLE), 3) == 0.210


def test_cohens_kappa_reproduces_the_textbook_two_by_two():
    # 50 proposals read by two readers: 20 both yes, 15 both no, 5 yes/no, 10 no/yes → κ = 0.4
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert round(weighted_kappa(first, second, ["yes", "no"], weights="none"), 3) == 0.400
    assert round(weighted_kappa(first, second, ["yes", "no"], weights="linear"), 3) == 0.400  # two levels: the same


def test_weighted_kappa_counts_a_near_miss_as_half_agreement():
    levels = [0, 1, 2, 3, 4]
    exact = weighted_kappa([0, 1, 2, 3, 4] * 4, [0, 1, 2, 3, 4] * 4, levels)
    near = weighted_kappa([0, 1, 2, 3, 4] * 4, [1, 2, 3, 4, 3] * 4, levels)
    far = weighted_kappa([0, 1, 2, 3, 4] * 4, [4, 3, 0, 1, 0] * 4, levels)
    assert exact == 1.0 and far < 0 < near < exact
    assert weighted_kappa([2] * 10, [2] * 10, levels) is None  # one category only: kappa is undefined


@given(st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=2, max_size=30), st.randoms())
def test_kappa_does_not_depend_on_the_order_of_raters(ratings, rnd):
    shuffled = [rnd.sample(row, len(row)) for row in ratings]
    levels = [0, 1, 2, 3, 4]
    a, b = fleiss_kappa(ratings_table(ratings, levels)), fleiss_kappa(ratings_table(shuffled, levels))
    assert (a is None and b is None) or a == pytest.approx(b)
    if a is not None:
        assert -1 <= a <= 1
    first, second = [r[0] for r in ratings], [r[1] for r in ratings]
    one, other = weighted_kappa(first, second, levels), weighted_kappa(second, first, levels)
    assert (one is None and other is None) or one == pytest.approx(other)


def test_bias_reads_who_is_lenient():
    scores = {"张班长": [3, 4, 4, 2, None], "李班长": [2, 3, 3, 2, 1], "王经理": [2, 3, 4, 1, 1]}
    found = biases(scores)
    assert round(found["张班长"], 2) == 0.75 and found["李班长"] < 0 and found["王经理"] < 0
    assert mean_absolute_difference([3, 4, 4, 2], [2, 3, 3, 2]) == 0.75


def test_xmr_limits_from_the_baseline_and_rule_one():
    values = [72, 75, 71, 74, 73, 76, 72, 74, 75, 73, 74, 72, 55, 74]
    chart = xmr(values)
    base = values[:12]
    ranges = [abs(b - a) for a, b in itertools.pairwise(base)]
    assert chart.centre == pytest.approx(fmean(base))
    assert chart.mr_centre == pytest.approx(fmean(ranges))
    assert chart.upper == pytest.approx(fmean(base) + 2.66 * fmean(ranges))
    assert chart.lower == pytest.approx(fmean(base) - 2.66 * fmean(ranges))
    assert chart.mr_upper == pytest.approx(3.268 * fmean(ranges))
    assert chart.signals == (Signal(1, 12, 12, "low"),)
    assert signal_text(chart.signals[0]) == "#13 超出下控制限"
    assert chart.moving_ranges[0] is None and chart.moving_ranges[13] == 19


def test_rule_one_names_a_point_above_the_upper_limit_high():
    values = [72, 75, 71, 74, 73, 76, 72, 74, 75, 73, 74, 72, 95, 74]
    chart = xmr(values)
    assert chart.signals == (Signal(1, 12, 12, "high"),)
    assert signal_text(chart.signals[0]) == "#13 超出上控制限"


def test_fewer_than_four_points_have_no_limits():
    chart = xmr([70, 80, 75])
    assert not chart.has_limits and chart.signals == () and MIN_POINTS == 4


def test_rules_two_three_four():
    high_run = [70, 71, 69, 70, 71, 69, 70, 70] + [75] * 9
    chart = xmr(high_run, baseline=8, rules=(2,))
    assert [(s.rule, s.index, s.first) for s in chart.signals] == [(2, 15, 8)]
    assert signal_text(chart.signals[0]) == "连续 8 次高于中心线（#9 起）"
    rising = [70, 72, 69, 71, 70, 71, 72, 73, 74, 75, 76]
    chart = xmr(rising, baseline=None, rules=(3,))
    assert [(s.rule, s.index, s.first, s.direction) for s in chart.signals] == [(3, 9, 4, "up")]  # 70 at #5 … 75
    zigzag = [70, 74] * 8
    chart = xmr(zigzag, baseline=None, rules=(4,))
    assert [(s.rule, s.index, s.first) for s in chart.signals] == [(4, 13, 0)]


@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=4, max_size=80),
       st.one_of(st.none(), st.integers(1, 100)))
def test_limits_hold_the_centre_and_are_symmetric(values, baseline):
    chart = xmr(values, baseline=baseline, rules=(1, 2, 3, 4))
    if not chart.has_limits:
        assert baseline is not None and baseline < MIN_POINTS
        return
    assert chart.lower <= chart.centre <= chart.upper
    assert chart.upper - chart.centre == pytest.approx(chart.centre - chart.lower)
    assert chart.upper - chart.lower == pytest.approx(2 * E2 * chart.mr_centre)
    for signal in chart.signals:
        if signal.rule == 1:
            value = chart.values[signal.index]
            assert value > chart.upper or value < chart.lower


def test_a_shifted_process_is_found_by_rule_two_not_by_noise():
    rnd = random.Random(7)
    steady = [75 + rnd.gauss(0, 2) for _ in range(12)]
    shifted = steady + [82 + rnd.gauss(0, 1) for _ in range(10)]
    assert any(s.rule == 2 and s.direction == "high" for s in xmr(shifted, rules=(2,)).signals)
    assert not [s for s in xmr(steady, rules=(1, 2, 3, 4)).signals if s.rule in (2, 4)]


def test_pareto_sorts_sums_and_marks_the_vital_few():
    from quality.pareto import pareto

    rows = pareto({"a": ("通道堆物", 10), "b": ("标识脱落", 50), "c": ("油污", 25), "d": ("工具未归位", 15),
                   "e": ("无", 0)})
    assert [(r.key, r.count, round(r.percent), round(r.cumulative_percent), r.vital) for r in rows] == [
        ("b", 50, 50, 50, True), ("c", 25, 25, 75, True), ("d", 15, 15, 90, True), ("a", 10, 10, 100, False)]
    assert pareto({}) == []


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 50), max_size=20))
def test_pareto_is_ordered_and_ends_at_one_hundred(counts):
    from quality.pareto import pareto

    rows = pareto({k: (k, n) for k, n in counts.items()})
    assert [r.count for r in rows] == sorted((r.count for r in rows), reverse=True)
    if rows:
        assert rows[-1].cumulative_percent == pytest.approx(100.0) and rows[0].vital
        assert sum(r.percent for r in rows) == pytest.approx(100.0)


def test_leniency_compares_inspectors_on_the_same_floors_and_months():
    from quality.agreement import leniency

    rows = [("张", ("W1", "2026-11"), 80), ("李", ("W1", "2026-11"), 70), ("张", ("W2", "2026-11"), 90),
            ("王", ("W2", "2026-11"), 86), ("李", ("W2", "2026-11"), 84), ("李", ("W3", "2026-11"), 50)]
    found = leniency(rows)
    # W1: 张 +10, 李 −10; W2: 张 90 − 85 = +5, 王 86 − 87 = −1, 李 84 − 88 = −4; W3 had one inspector only
    assert found == {"张": (pytest.approx(7.5), 2), "李": (pytest.approx(-7.0), 2), "王": (pytest.approx(-1.0), 1)}


def test_panel_agreement_of_a_calibration():
    from quality.agreement import NOT_APPLICABLE, panel_agreement, spread

    na = NOT_APPLICABLE
    # two raters, five items: four agree, one a level apart; an item one left unanswered takes no part
    found = panel_agreement([[4, 4], [3, 3], [2, 3], [1, 1], [0, 0], [2, None]], levels=range(5))
    assert found.items == 5 and found.mean_absolute_difference == pytest.approx(0.2)
    assert found.fleiss == pytest.approx(fleiss_kappa(ratings_table([[4, 4], [3, 3], [2, 3], [1, 1], [0, 0]],
                                                                    [0, 1, 2, 3, 4, na])))
    assert found.weighted == pytest.approx(weighted_kappa([4, 3, 2, 1, 0], [4, 3, 3, 1, 0], range(5)))
    assert 0.7 < found.weighted < 1 and found.fleiss < found.weighted  # a near miss is half an agreement
    # N/A against a score is a disagreement for Fleiss, left out of the distances and the weighted kappa
    with_na = panel_agreement([[4, na], [3, 3], [1, 1]], levels=range(5))
    assert with_na.mean_absolute_difference == 0.0 and with_na.weighted == 1.0 and with_na.fleiss < 1
    three = panel_agreement([[4, 4, 2], [3, 3, 3]], levels=range(5))
    assert three.weighted is None and three.mean_absolute_difference == pytest.approx((0 + 2 + 2) / 6)
    assert panel_agreement([], levels=range(5)).fleiss is None
    assert spread([4, na, 1, None]) == 3 and spread([2, na]) is None


@pytest.mark.parametrize(("kappa", "band"), [(None, None), (-0.1, "poor"), (0.0, "slight"), (0.2, "slight"),
                                             (0.21, "fair"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial"),
                                             (0.81, "almost_perfect"), (1.0, "almost_perfect")])
def test_kappa_reads_in_landis_and_koch_bands(kappa, band):
    from quality.agreement import kappa_reading

    assert kappa_reading(kappa) == band


@given(st.lists(st.lists(st.sampled_from([0, 1, 2, 3, 4, "na"]), min_size=3, max_size=3), min_size=1,
                max_size=30), st.randoms())
def test_the_panel_figures_do_not_depend_on_who_is_listed_first(rows, rnd):
    from quality.agreement import panel_agreement

    order = [0, 1, 2]
    rnd.shuffle(order)
    before = panel_agreement(rows, levels=range(5))
    after = panel_agreement([[row[i] for i in order] for row in rows], levels=range(5))
    assert before.items == after.items
    for a, b in ((before.fleiss, after.fleiss), (before.mean_absolute_difference, after.mean_absolute_difference)):
        assert (a is None and b is None) or a == pytest.approx(b)
    if before.mean_absolute_difference is not None:
        assert 0 <= before.mean_absolute_difference <= 4
