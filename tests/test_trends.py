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
