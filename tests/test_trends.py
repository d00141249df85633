from datetime import UTC, datetime, timedelta

from inspections.trends import TrendPoint, change, mean, series_from_points, version_changes


def point(i, overall, version=1, **categories):
    return TrendPoint(inspection_id=i, submitted_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(weeks=i),
                      overall_percent=overall, grade=None, checklist_key="std", version_number=version,
                      category_percents=categories)


def test_series_keep_checklist_order_and_gaps():
    points = [point(1, 70.0, sort=60.0, shine=None), point(2, 80.0, sort=90.0)]
    series = series_from_points(points, {"sort": "整理", "shine": "清扫"})
    assert [s.key for s in series] == ["overall", "sort", "shine"]
    assert series[0].values == (70.0, 80.0)
    assert series[2].values == (None, None)  # N/A and missing stay gaps, never zero


def test_version_changes_are_marked_where_the_version_differs():
    points = [point(1, 1, 1), point(2, 1, 1), point(3, 1, 2), point(4, 1, 2), point(5, 1, 3)]
    assert version_changes(points) == [2, 4]
    assert version_changes(points[:2]) == []


def test_change_and_mean_ignore_missing_values():
    assert change(80.0, 75.5) == 4.5
    assert change(None, 70.0) is None
    assert mean([None, 60.0, 80.0]) == 70.0
    assert mean([None]) is None


# ---- like-for-like ----

def _spec(*categories):
    from inspections.scoring import CategorySpec, ItemSpec

    return [CategorySpec(key, key, tuple(ItemSpec(k) for k in keys)) for key, keys in categories]


def test_common_keys_and_restrict():
    from inspections.trends import common_item_keys, restrict

    v1 = _spec(("sort", ["a", "b"]), ("safety", ["s1", "s2"]))
    v2 = _spec(("sort", ["a", "b", "c"]), ("safety", ["x1"]))
    keys = common_item_keys({1: v1, 2: v2})
    assert keys == {"a", "b"}
    assert [(c.key, [i.key for i in c.items]) for c in restrict(v2, keys)] == [("sort", ["a", "b"])]


def test_like_for_like_rescores_on_the_common_items_only():
    from datetime import UTC, datetime

    from checklists.schemes import LevelScheme
    from inspections.trends import TrendPoint, like_for_like

    v1 = _spec(("sort", ["a", "b"]), ("safety", ["s1"]))
    v2 = _spec(("sort", ["a", "b", "c"]), ("safety", ["x1"]))
    points = [TrendPoint(1, datetime(2026, 1, 1, tzinfo=UTC), 50.0, None, "std", 1),
              TrendPoint(2, datetime(2026, 2, 1, tzinfo=UTC), 90.0, None, "std", 2)]
    answers = {1: {"a": 4, "b": 2, "s1": 0}, 2: {"a": 4, "b": 2, "c": 0, "x1": 4}}
    scheme = LevelScheme()
    rescored, keys = like_for_like(points, {1: 1, 2: 2}, {1: v1, 2: v2}, {1: scheme, 2: scheme}, answers)
    assert keys == {"a", "b"}
    # both now score only a and b: (4 + 2) / 8 = 75 %, item for item the same
    assert [p.overall_percent for p in rescored] == [75.0, 75.0]
    assert [p.category_percents for p in rescored] == [{"sort": 75.0}, {"sort": 75.0}]
    assert [p.version_number for p in rescored] == [1, 2]
