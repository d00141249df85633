"""Action figures: open, overdue, waiting, closed in the period and the mean time to close (pure)."""

from datetime import UTC, date, datetime

from actions.stats import ActionRow, action_stats

T = lambda d, h=0: datetime(2026, 11, d, h, tzinfo=UTC)  # noqa: E731


def test_counts_and_mean_time_to_close_in_the_period():
    rows = [
        ActionRow("open", T(1), date(2026, 11, 3), None),  # overdue on the 10th
        ActionRow("returned", T(2), date(2026, 11, 20), None),
        ActionRow("done", T(2), date(2026, 11, 9), None),  # waiting: not counted as overdue
        ActionRow("verified", T(1), date(2026, 11, 8), T(4)),  # 3 days
        ActionRow("verified", T(1), date(2026, 11, 8), T(2, 12)),  # 1.5 days
        ActionRow("verified", T(1), date(2026, 11, 8), datetime(2026, 10, 31, tzinfo=UTC)),  # before the period
    ]
    stats = action_stats(rows, date(2026, 11, 10), T(1), T(30))
    assert (stats.open, stats.overdue, stats.waiting, stats.closed_in_period) == (2, 1, 1, 2)
    assert stats.mean_days_to_close == 2.2  # (3 + 1.5) / 2 = 2.25, shown to one decimal


def test_nothing_closed_has_no_mean():
    assert action_stats([], date(2026, 11, 10), None, None).mean_days_to_close is None
