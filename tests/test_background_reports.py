"""Reports issued in the background: at submit and at every change of the record a task issues the documents,
so a download serves stored bytes; until then the result page says so; a failed render is shown and retried; a
consumer killed mid-render loses nothing and duplicates nothing (a real consumer process, SIGKILLed)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

import tasks
from inspections.models import ReportDocument
from tasks import TaskRun
from tests.helpers import answer_all_in_one_go, published_items, start, submit


def documents(app, inspection_id):
    with Session(app.extensions["engine"]) as session:
        return [(d.kind, d.sequence) for d in session.exec(
            select(ReportDocument).where(ReportDocument.inspection_id == inspection_id)
            .order_by(ReportDocument.kind, ReportDocument.sequence))]


def run_state(app, inspection_id):
    with Session(app.extensions["engine"]) as session:
        run = session.exec(select(TaskRun).where(TaskRun.key == f"inspection:{inspection_id}")).first()
        return (run.state, run.attempts, run.error) if run else None


def submitted(client, auth, app):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    assert submit(client, inspection_id).status_code == 303
    return inspection_id


def test_submit_queues_the_reports_and_the_task_issues_them_once(app, client, auth, monkeypatch):
    inspection_id = submitted(client, auth, app)
    assert run_state(app, inspection_id)[0] == "queued" and documents(app, inspection_id) == []
    page = client.get(f"/inspections/{inspection_id}").text
    assert 'data-report-state="queued"' in page and "报告生成中" in page and 'hx-trigger="every 2s"' in page
    assert tasks.drain(app) == 1
    assert documents(app, inspection_id) == [("findings", 1), ("full", 1)]
    assert run_state(app, inspection_id)[0] == "done"
    assert 'data-report-state="ready"' in client.get(f"/inspections/{inspection_id}/report-state").text

    # the download is the stored document: no render happens in the request any more
    import reports.issuing as issuing

    monkeypatch.setattr(issuing, "render_pdf", lambda *a, **k: pytest.fail("rendered in the request"))
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert response.status_code == 200 and response.headers["X-Report-Document"] == f"6S-{inspection_id}-1"
    # the same work queued again (a retry, a sweep) changes nothing
    app.extensions["tasks"].enqueue("reports.issue", run_key=f"inspection:{inspection_id}",
                                    inspection_id=inspection_id, base_url=None)
    tasks.drain(app)
    assert documents(app, inspection_id) == [("findings", 1), ("full", 1)]


def test_a_change_of_the_record_issues_the_next_document(app, client, auth):
    inspection_id = submitted(client, auth, app)
    tasks.drain(app)
    auth.logout()
    auth.login("manager")
    response = client.post(f"/inspections/{inspection_id}/items/{published_items(app)[0].key}/correct",
                           data={"score": "1", "note": "复核", "reason": "复核时发现问题"})
    assert response.status_code == 303
    assert run_state(app, inspection_id)[0] == "queued"
    assert tasks.drain(app) == 1
    assert documents(app, inspection_id) == [("findings", 1), ("findings", 2), ("full", 1), ("full", 2)]


def test_a_failed_render_is_shown_and_retried(app, client, auth, monkeypatch):
    inspection_id = submitted(client, auth, app)
    import reports.issuing as issuing

    def broken(*_args, **_kwargs):
        raise OSError("fonts missing")

    monkeypatch.setattr(issuing, "render_pdf", broken)
    tasks.drain(app)
    state, attempts, error = run_state(app, inspection_id)
    assert state == "failed" and attempts >= 1 and "fonts missing" in error
    page = client.get(f"/inspections/{inspection_id}").text
    assert 'data-report-state="failed"' in page and "报告生成失败" in page
    monkeypatch.undo()
    app.config["TASK_STUCK_AFTER"] = 0
    from reports.issuing import sweep_task

    with app.app_context():
        sweep_task()  # the periodic sweep queues the failed run again
    tasks.drain(app)
    assert run_state(app, inspection_id)[0] == "done"
    assert documents(app, inspection_id) == [("findings", 1), ("full", 1)]


def consumer(env, cwd, log: Path):
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "tasks", "consume", "--workers",
                                 "1"], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def wait_for(condition, timeout=60.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := condition()):
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def test_a_consumer_killed_mid_render_loses_nothing_and_duplicates_nothing(sqlite_url, tmp_path):
    """SqliteHuey in a file, a real `flask tasks consume` process, SIGKILL while it renders, a new consumer."""
    from app import create_app

    queue = f"sqlite:///{tmp_path / 'tasks.db'}"
    data_dir = tmp_path / "data"
    config = {"TESTING": True, "SECRET_KEY": "x" * 32, "DATABASE_URL": sqlite_url, "DATA_DIR": str(data_dir),
              "WTF_CSRF_ENABLED": False, "TASK_QUEUE": queue}
    app = create_app(config)
    client = app.test_client()
    from tests.seed import PASSWORD

    client.post("/login", data={"username": "sup1", "password": PASSWORD})
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    assert submit(client, inspection_id).status_code == 303
    assert app.extensions["tasks"].pending == 1

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DATABASE_URL": sqlite_url, "DATA_DIR": str(data_dir), "TASK_QUEUE": queue,
           "SECRET_KEY": "x" * 32, "TASK_STUCK_AFTER": "0"}
    log = tmp_path / "consumer.log"
    first = consumer(env, root, log)
    try:
        wait_for(lambda: (run_state(app, inspection_id) or ("",))[0] == "running")
        first.send_signal(signal.SIGKILL)  # mid-render: the first render takes most of a second
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    # killed within a few milliseconds of starting a render of most of a second: nothing stored, run left running
    assert documents(app, inspection_id) == [] and run_state(app, inspection_id)[0] == "running"
    second = consumer(env, root, log)  # its start-up sweep finds the run left running
    try:
        wait_for(lambda: run_state(app, inspection_id)[0] == "done" and len(documents(app, inspection_id)) == 2,
                 timeout=120, step=0.2)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert documents(app, inspection_id) == [("findings", 1), ("full", 1)], log.read_text()[-2000:]
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert response.status_code == 200 and response.headers["X-Report-Document"] == f"6S-{inspection_id}-1"
    app.extensions["tasks"].close()
    app.extensions["engine"].dispose()


def test_healthz_reports_the_queue_and_the_consumer(app, client, auth):
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["tasks"]["consumer_alive"] is False
    inspection_id = submitted(client, auth, app)
    assert client.get("/healthz").get_json()["tasks"]["pending"] == 1
    from reports.issuing import sweep_task

    with app.app_context():
        sweep_task()  # what the consumer runs every minute: also its heartbeat
    tasks.drain(app)
    health = client.get("/healthz").get_json()["tasks"]
    assert health["pending"] == 0 and health["consumer_alive"] is True and health["consumer_seen"]
    assert documents(app, inspection_id) == [("findings", 1), ("full", 1)]


def test_healthz_never_shows_the_queues_address(sqlite_url, tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "DATA_DIR": str(tmp_path),
                      "TASK_QUEUE": "redis://:s3cret@127.0.0.1:9/0"})  # nothing listens on port 9
    response = app.test_client().get("/healthz")
    assert response.status_code == 200  # the app serves; the queue's trouble is reported
    assert response.json["tasks"]["queue"] == "redis" and response.json["tasks"]["pending"] is None
    assert "s3cret" not in response.text
    with pytest.raises(ValueError, match="unknown queue 'amqp'"):
        tasks.make_huey("amqp://guest:guest@mq/", tmp_path)
    app.extensions["engine"].dispose()


@pytest.fixture
def redis_url(tmp_path):
    """Debian's redis-server on a free port of 127.0.0.1, nothing kept on disk."""
    import shutil
    import socket

    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        pytest.skip("redis-server is not installed: apt-get install redis-server (make test does)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        wait_for(lambda: _pings(client), timeout=20, step=0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


@pytest.mark.parametrize("engine", ["sqlite", "postgresql", "redis"])
def test_each_queue_engine_carries_the_report_task(engine, sqlite_url, tmp_path, request):
    """The same code on a SQLite file, on PostgreSQL (the group's database) and on Redis, by TASK_QUEUE alone."""
    from app import create_app
    from tests.seed import PASSWORD

    if engine == "sqlite":
        queue = f"sqlite:///{tmp_path / 'tasks.db'}"
    elif engine == "postgresql":
        info = request.getfixturevalue("pg_database")
        queue = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
    else:
        queue = request.getfixturevalue("redis_url")
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "DATA_DIR": str(tmp_path / "data"),
                      "WTF_CSRF_ENABLED": False, "TASK_QUEUE": queue})
    client = app.test_client()
    client.post("/login", data={"username": "sup1", "password": PASSWORD})
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    assert submit(client, inspection_id).status_code == 303
    assert app.extensions["tasks"].pending == 1
    assert tasks.drain(app) == 1  # what a consumer does: take it off the queue and run it
    assert documents(app, inspection_id) == [("findings", 1), ("full", 1)]
    assert app.extensions["tasks"].pending == 0
    app.extensions["tasks"].close()
    app.extensions["engine"].dispose()


def test_api_answers_are_not_kept_by_caches(app, client, auth):
    from tests.helpers import token_headers

    response = client.get("/api/v1/workshops", headers=token_headers(app, "sup1"))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_a_process_dying_between_commit_and_queue_loses_no_report(app, client, auth, monkeypatch, travel):
    """#35: the report run is written in the submit's own transaction; the queue never hears of it (the worker
    died right after the commit), yet a minute later the sweep hands it to a consumer and the report is issued."""
    from datetime import UTC, datetime

    from reports.issuing import sweep_task

    travel(datetime(2026, 12, 7, 1, 0, tzinfo=UTC))
    monkeypatch.setattr(tasks.Tasks, "enqueue", lambda self, name, run_key=None, **kw: None)  # never reached
    inspection_id = submitted(client, auth, app)
    assert run_state(app, inspection_id) == ("queued", 0, "")  # committed with the inspection
    assert tasks.drain(app) == 0 and documents(app, inspection_id) == []
    monkeypatch.undo()
    with app.app_context():
        sweep_task()  # within the minute: it may still be on its way
    assert tasks.drain(app) == 0
    travel(datetime(2026, 12, 7, 1, 1, 30, tzinfo=UTC))
    with app.app_context():
        sweep_task()
    assert tasks.drain(app) == 1
    assert documents(app, inspection_id) == [("findings", 1), ("full", 1)]


def test_a_starting_consumer_takes_back_the_runs_its_dead_predecessor_held(app, client, auth):
    """A consumer killed mid-render left its run "running": the next consumer takes it at once, not after the
    five-minute stuck limit, and so does the minute's sweep; a run a live consumer is rendering is left to it
    (#35)."""
    import socket
    import subprocess

    from sqlmodel import Session, select

    from liveness import holder_mark
    from reports.issuing import resume_task, sweep_task
    from tasks import TaskRun, _set_run

    exited = subprocess.Popen(["true"])
    exited.wait()
    inspection_id = submitted(client, auth, app)
    tasks.drain(app)
    key = f"inspection:{inspection_id}"

    def running(holder: str) -> None:
        with app.app_context():
            _set_run(key, "reports.issue", {"inspection_id": inspection_id, "base_url": None}, "running",
                     attempt=True)
        with Session(app.extensions["engine"]) as session:
            session.exec(select(TaskRun).where(TaskRun.key == key)).one().holder = holder
            session.commit()

    running(holder_mark())
    with app.app_context():
        resume_task()
        sweep_task()
    assert run_state(app, inspection_id)[0] == "running"  # its consumer (this process) is alive: left to it
    running(f"{socket.gethostname()}:{exited.pid}:1")  # killed mid-render
    with app.app_context():
        resume_task()  # what a consumer runs as it starts
    assert run_state(app, inspection_id)[0] == "queued"
    assert tasks.drain(app) == 1 and run_state(app, inspection_id)[0] == "done"
    running(f"{socket.gethostname()}:{exited.pid}:1")
    with app.app_context():
        sweep_task()  # a minute later without a restart (another consumer beside it)
    assert run_state(app, inspection_id)[0] == "queued"


def test_the_tests_consumer_runs_only_the_tasks_named_and_keeps_the_others_in_order(sqlite_app):
    from exports.jobs import SWEEP_TASK as EXPORTS_SWEEP
    from webhooks.tasks import SWEEP_TASK as WEBHOOKS_SWEEP

    queue = sqlite_app.extensions["tasks"]
    for name in (WEBHOOKS_SWEEP, EXPORTS_SWEEP, WEBHOOKS_SWEEP, EXPORTS_SWEEP):
        queue.enqueue(name)
    assert tasks.drain(sqlite_app, only={EXPORTS_SWEEP}) == 2
    assert queue.pending == 2
    assert [task.name for task in queue.huey.pending()] == [WEBHOOKS_SWEEP, WEBHOOKS_SWEEP]
    with pytest.raises(ValueError, match="no task is called reports.burn"):
        tasks.drain(sqlite_app, only={"reports.burn"})
    assert tasks.drain(sqlite_app) == 2 and queue.pending == 0
