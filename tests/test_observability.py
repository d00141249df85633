"""Operations: /metrics (who may read it, what it counts, added up over gunicorn workers), request ids and JSON
log lines."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

import tasks
from inspections.models import ReportDocument
from observability import RequestIdFilter, json_handler
from tests.helpers import answer_all, published_items, start, submit, token_headers

ROOT = Path(__file__).resolve().parents[1]


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample of the exposition (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain" and response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_metrics_are_for_the_machine_itself_or_a_scraper_with_the_token(app, client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    assert "sixs_task_queue_depth" in scrape(client)  # from 127.0.0.1, as the test client is
    # through nginx on the same machine the connection is from 127.0.0.1 as well: not the machine itself
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        assert client.get("/metrics", headers={header: "203.0.113.9"}).status_code == 403
    app.config["METRICS_TOKEN"] = "scrape-secret-123"
    assert client.get("/metrics").status_code == 403  # with a token set, the address alone is not enough
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert "sixs_task_queue_depth" in scrape(client, headers={"Authorization": "Bearer scrape-secret-123"},
                                             environ_base={"REMOTE_ADDR": "10.1.2.3"})


def test_metrics_still_answer_when_the_database_does_not(app, client):
    assert sample(scrape(client), "sixs_database_up") == 1
    with app.extensions["engine"].begin() as connection:
        connection.exec_driver_sql("DROP TABLE task_run")  # as a database that fails under the scrape
    text = scrape(client)
    assert sample(text, "sixs_database_up") == 0
    assert "sixs_http_request_duration_seconds" in text  # the process figures are still there


def test_answer_saves_are_counted_by_outcome_and_latency_by_endpoint(app, client):
    headers = token_headers(app, "sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    url = f"/api/v1/inspections/{inspection_id}/answers/sort-01"
    before = scrape(client)
    assert client.put(url, headers=headers, json={"score": 3, "change_key": "m-1"}).status_code == 200
    assert client.put(url, headers=headers, json={"score": 3, "change_key": "m-1"}).status_code == 200  # replayed
    assert client.put(url, headers=headers, json={"score": 3}).status_code == 200  # nothing new
    assert client.put(url, headers=headers, json={"score": 2, "revision": 0}).status_code == 409  # stale
    after = scrape(client)
    for outcome, added in (("applied", 1), ("duplicate", 1), ("unchanged", 1), ("conflict", 1)):
        assert sample(after, "sixs_answer_saves_total", outcome=outcome) - sample(
            before, "sixs_answer_saves_total", outcome=outcome) == added, outcome
    count = "sixs_http_request_duration_seconds_count"
    assert sample(after, count, endpoint="api.put_answer", method="PUT", status="200") - sample(
        before, count, endpoint="api.put_answer", method="PUT", status="200") == 3
    assert sample(after, count, endpoint="api.put_answer", method="PUT", status="409") - sample(
        before, count, endpoint="api.put_answer", method="PUT", status="409") == 1


def test_outbox_changes_that_waited_are_counted_as_replays(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    before = scrape(client)
    for key, waited in (("sort-01", "120"), ("sort-02", "90000"), ("sort-03", "not-a-number")):
        response = client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": "3"},
                               headers={"HX-Request": "true", "X-Change-Key": f"wait-{key}",
                                        "X-Outbox-Waited": waited})
        assert response.status_code == 200
    after = scrape(client)
    assert sample(after, "sixs_outbox_replays_total", kind="answer") - sample(
        before, "sixs_outbox_replays_total", kind="answer") == 1  # only the one that waited 90 s
    assert sample(after, "sixs_outbox_wait_seconds_count") - sample(before, "sixs_outbox_wait_seconds_count") == 2


def test_reports_issued_and_task_runs_come_from_the_database(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all(client, inspection_id, published_items(app))
    assert submit(client, inspection_id).status_code == 303
    queued = scrape(client)
    assert sample(queued, "sixs_task_runs", task="reports.issue", state="queued") == 1
    assert sample(queued, "sixs_task_queue_depth") >= 1
    tasks.drain(app)
    text = scrape(client)
    with Session(app.extensions["engine"]) as session:
        stored = {kind: len(session.exec(select(ReportDocument).where(ReportDocument.kind == kind)).all())
                  for kind in ("full", "findings")}
    assert stored["full"] >= 1
    for kind, count in stored.items():
        assert sample(text, "sixs_reports_issued_total", kind=kind) == count
    assert sample(text, "sixs_task_runs", task="reports.issue", state="done") == 1
    assert sample(text, "sixs_report_render_seconds_count", kind="full") >= 1


def test_every_answer_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first.headers["X-Request-ID"]) == 32 and first.headers["X-Request-ID"] != second.headers[
        "X-Request-ID"]
    # a proxy's id is kept, so one request can be followed through nginx and the app
    assert client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a.1"}).headers["X-Request-ID"] == "nginx-4f2a.1"
    # but not a header that would forge log lines
    for forged in ('x", "level": "ERROR', "a" * 65, ""):
        given = client.get("/healthz", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
        assert len(given) == 32 and given != forged


def test_log_lines_are_json_with_the_request_id(app):
    out = io.StringIO()
    handler = json_handler(out)
    logger = logging.getLogger("sixs.test-json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with app.test_request_context("/inspections/7", headers={"X-Request-ID": "abc-123"}):
            app.preprocess_request()
            logger.info("saved %s", "sort-01", extra={"inspection": 7})
        logger.warning("outside a request")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["message"] == "saved sort-01" and lines[0]["request_id"] == "abc-123"
    assert lines[0]["path"] == "/inspections/7" and lines[0]["inspection"] == 7 and lines[0]["level"] == "INFO"
    assert lines[1]["message"] == "outside a request" and "request_id" not in lines[1]
    assert isinstance(RequestIdFilter(), logging.Filter)


@pytest.fixture
def served(sqlite_url, tmp_path):
    """The app under gunicorn with gunicorn.conf.py and two one-threaded workers (so that concurrent requests
surely reach both), metrics in tmp_path."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = dict(os.environ, DATABASE_URL=sqlite_url, DATA_DIR=str(tmp_path / "data"), SECRET_KEY="m" * 32,
               TASK_QUEUE=f"sqlite:///{tmp_path / 'tasks.db'}", PROMETHEUS_MULTIPROC_DIR=str(metrics))
    process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--threads", "1",
                                "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "3", "app:create_app()"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            # a long timeout: a request that timed out would still be answered later, and counted
            urllib.request.urlopen(base + "/healthz", timeout=60).read()  # noqa: S310 (our own loopback)
            break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("gunicorn did not start: " + process.stderr.read())
    yield base, process, metrics
    if process.poll() is None:
        process.terminate()
        process.communicate(timeout=15)
    process.stderr.close()


def test_metrics_add_up_every_worker_and_logs_are_json_lines(served):
    base, process, metrics_dir = served
    with urllib.request.urlopen(base + "/metrics", timeout=5) as response:  # noqa: S310
        before = response.read().decode()

    def probe(i: int) -> str:
        request = urllib.request.Request(base + "/healthz", headers={"X-Request-ID": f"probe-{i}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own loopback)
            return response.headers["X-Request-ID"]

    # sixteen at a time, in rounds until both one-threaded workers have answered some (each has its own file)
    sent = 0
    while sent == 0 or (len(list(metrics_dir.glob("histogram_*.db"))) < 2 and sent < 400):
        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(probe, range(sent, sent + 40)))
        assert ids == [f"probe-{i}" for i in range(sent, sent + 40)]
        sent += 40
    with urllib.request.urlopen(base + "/metrics", timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    # every probe, whichever worker answered it and whichever answers the scrape
    labels = {"endpoint": "healthz", "method": "GET", "status": "200"}
    assert sample(text, "sixs_http_request_duration_seconds_count", **labels) - sample(
        before, "sixs_http_request_duration_seconds_count", **labels) == sent
    process.terminate()
    _out, err = process.communicate(timeout=15)
    access = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    probes = [line for line in access
              if line.get("logger") == "sixs.access" and line.get("request_id", "").startswith("probe-")]
    assert len(probes) == sent
    assert {p["status"] for p in probes} == {200} and all(p["path"] == "/healthz" for p in probes)
    assert all(isinstance(p["duration_ms"], float) for p in probes)
    assert len({p["process"] for p in probes}) == 2  # both workers answered some
