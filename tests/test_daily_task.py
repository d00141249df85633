"""The daily run as the consumer's periodic task: when it is due, that one consumer at a time runs it, and that a
run which could not deliver everything fails (so the queue retries it)."""

from datetime import datetime

import pytest

from app import create_app


def periodic_names(app, at: datetime) -> set[str]:
    return {task.name for task in app.extensions["tasks"].huey.read_periodic(at)}


def test_the_daily_run_is_due_once_a_day_at_its_utc_time(sqlite_url, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "DATA_DIR": str(tmp_path),
                      "DAILY_RUN_AT": "23:30"})
    assert "actions.daily_run:periodic" in periodic_names(app, datetime(2026, 12, 31, 23, 30))  # 07:30 Shanghai
    assert "actions.daily_run:periodic" not in periodic_names(app, datetime(2026, 12, 31, 23, 31))
    assert "actions.daily_run:periodic" not in periodic_names(app, datetime(2027, 1, 1, 7, 30))
    assert "reports.sweep:periodic" in periodic_names(app, datetime(2027, 1, 1, 7, 31))  # every minute
    with pytest.raises(ValueError, match="HH:MM"):
        create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "DATA_DIR": str(tmp_path), "DAILY_RUN_AT": "7.30"})
    app.extensions["engine"].dispose()


def test_one_consumer_at_a_time_and_an_undelivered_run_fails(app, caplog, monkeypatch):
    import daily.tasks
    from daily.tasks import Undelivered, daily_run_task

    calls = []
    monkeypatch.setattr(daily.tasks, "daily_run", lambda say: calls.append(say) or True)  # something undelivered
    with app.app_context():
        with pytest.raises(Undelivered):
            daily_run_task()
        assert len(calls) == 1
        with app.extensions["tasks"].huey.lock_task("daily-run"):  # another consumer is running it
            caplog.set_level("INFO")
            daily_run_task()
        assert len(calls) == 1 and "another consumer is running it" in caplog.text
