"""Operations: /metrics in Prometheus' format, JSON log lines that carry the request's id.

Two kinds of figures:
- per process, counted as things happen (request latency per endpoint, answer saves, outbox replays, render
  times). Under gunicorn each worker counts its own; with ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py and
  ``make serve`` set it) prometheus-client adds the workers and the consumer up at every scrape.
- read from the database at every scrape (reports issued, task runs failed, the queue's depth, the consumer's
  heartbeat): the same answer from any server of a group, and nothing lost when a process restarts.

prometheus-client decides at import whether it writes to the shared folder, so the environment is set before it is
first imported (gunicorn.conf.py), and the metric objects are made on first use, once per process.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import cache

from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import func
from sqlmodel import Session, select

import clock
from tasks import HEARTBEAT, TaskRun

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
OUTBOX_WAIT_BUCKETS = (1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
# A change that waited in the tablet's outbox this long did not go out when it was made: the tablet was offline
# or the server out of reach, and the outbox replayed it later.
REPLAY_AFTER_SECONDS = 5


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


@cache
def process_metrics() -> dict:
    """This process's metric objects, made once (several apps in one process, as in the tests, share them)."""
    registry = None if _multiprocess() else CollectorRegistry()
    return {
        "registry": registry,
        "latency": Histogram("sixs_http_request_duration_seconds", "Time to answer a request, per endpoint",
                             ["endpoint", "method", "status"], buckets=LATENCY_BUCKETS, registry=registry),
        "saves": Counter("sixs_answer_saves_total", "Answer saves, by outcome", ["outcome"], registry=registry),
        "outbox": Counter("sixs_outbox_replays_total",
                          "Changes a tablet's outbox sent later than they were made (offline, server out of reach)",
                          ["kind"], registry=registry),
        "outbox_wait": Histogram("sixs_outbox_wait_seconds", "How long changes waited in a tablet's outbox",
                                 buckets=OUTBOX_WAIT_BUCKETS, registry=registry),
        "render": Histogram("sixs_report_render_seconds", "Time to render one report PDF", ["kind"],
                            buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32), registry=registry),
    }


def answer_saved(outcome: str) -> None:
    """An answer save ended: applied, unchanged (a repeat), duplicate (a change key seen before) or conflict."""
    process_metrics()["saves"].labels(outcome).inc()


def report_rendered(kind: str, seconds: float) -> None:
    process_metrics()["render"].labels(kind).observe(seconds)


# Figures read from the database at scrape time: (session) -> metric families. The packages above add theirs
# (the reports issued are the reports package's); registering is all that happens at import time.
DATABASE_FIGURES: list[Callable[[Session], Iterable]] = []


def database_figure(function: Callable[[Session], Iterable]) -> Callable[[Session], Iterable]:
    DATABASE_FIGURES.append(function)
    return function


@database_figure
def task_figures(session: Session) -> Iterator:
    runs = GaugeMetricFamily("sixs_task_runs", "Background task runs by task and state", labels=["task", "state"])
    for name, state, count in session.exec(select(TaskRun.name, TaskRun.state, func.count())
                                           .where(TaskRun.name != HEARTBEAT).group_by(TaskRun.name, TaskRun.state)):
        runs.add_metric([name, state], count)
    yield runs
    failures = CounterMetricFamily("sixs_task_failed_attempts", "Attempts of the task runs failing now",
                                   labels=["task"])
    for name, attempts in session.exec(select(TaskRun.name, func.sum(TaskRun.attempts))
                                       .where(TaskRun.state == "failed").group_by(TaskRun.name)):
        failures.add_metric([name], attempts or 0)
    yield failures
    beat = session.exec(select(TaskRun.updated_at).where(TaskRun.key == HEARTBEAT)).first()
    if beat is not None:
        yield GaugeMetricFamily("sixs_consumer_heartbeat_age_seconds", "Seconds since the task consumer last beat",
                                value=(clock.now() - clock.as_utc(beat)).total_seconds())


class DatabaseCollector:
    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        try:
            families = []
            with Session(self.app.extensions["engine"]) as session:
                for figure in DATABASE_FIGURES:
                    families.extend(figure(session))
        except Exception:  # the database is down: say so, and still give the process figures
            self.app.logger.exception("metrics: the database figures could not be read")
            yield GaugeMetricFamily("sixs_database_up", "Whether the database answered the scrape", value=0)
        else:
            yield GaugeMetricFamily("sixs_database_up", "Whether the database answered the scrape", value=1)
            yield from families
        try:
            pending = self.app.extensions["tasks"].pending
        except Exception:  # the queue's store is down: no figure rather than a failed scrape
            pending = None
        if pending is not None:
            yield GaugeMetricFamily("sixs_task_queue_depth", "Tasks waiting in the queue", value=pending)


def metrics_response(app: Flask) -> Response:
    if _multiprocess():
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = process_metrics()["registry"]
    database = CollectorRegistry()
    database.register(DatabaseCollector(app))
    return Response(generate_latest(processes) + generate_latest(database), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def metrics_allowed(app: Flask) -> bool:
    """/metrics tells how busy the plant is: with METRICS_TOKEN set only a scraper sending it may read them;
    without one, only a scraper on the same machine (the usual Prometheus beside the app), not through a proxy."""
    token = app.config.get("METRICS_TOKEN")
    if token:
        return hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}")
    # nginx on the same machine connects from 127.0.0.1 too: a forwarded request came from somewhere else
    forwarded = any(name in request.headers for name in ("X-Forwarded-For", "Forwarded", "X-Real-IP"))
    return request.remote_addr in ("127.0.0.1", "::1") and not forwarded


# ------------------------------------------------------------------ logs


class RequestIdFilter(logging.Filter):
    """Puts the request's id (and path) on every log record made while answering it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            record.path = request.path
        return True


def json_handler(stream) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{process}{message}", style="{",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr (LOG_FORMAT=json, the default outside debug and tests), one object per line, each
    with the request id where there is one; plain text otherwise. Set once per process."""
    if app.config.get("LOG_FORMAT", "json") != "json" or app.debug or app.testing:
        return
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    root.handlers[:] = [json_handler(sys.stderr)]
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.logger.handlers.clear()  # Flask's default handler would print each line a second time
    app.logger.propagate = True


access_log = logging.getLogger("sixs.access")


def init_app(app: Flask) -> None:
    configure_logging(app)
    app.logger.addFilter(RequestIdFilter())

    @app.before_request
    def _start():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None:
            seconds = time.perf_counter() - started
            endpoint = request.endpoint or "unmatched"
            process_metrics()["latency"].labels(endpoint, request.method, str(response.status_code)).observe(
                seconds)
            _outbox(response)
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "status": response.status_code, "endpoint": endpoint,
                "duration_ms": round(seconds * 1000, 1), "remote_addr": request.remote_addr})
        return response

    @app.get("/metrics")
    def metrics():
        if not metrics_allowed(current_app):
            return Response("forbidden\n", status=403, mimetype="text/plain")
        return metrics_response(current_app)


def _outbox(response) -> None:
    """The tablet's outbox says how long a change waited (X-Outbox-Waited, ms on the tablet's own clock)."""
    waited = request.headers.get("X-Outbox-Waited", "")
    if not waited.isdigit() or response.status_code >= 500:
        return
    seconds = int(waited) / 1000
    metrics = process_metrics()
    metrics["outbox_wait"].observe(seconds)
    if seconds >= REPLAY_AFTER_SECONDS:
        kind = "photo" if any(name.startswith("photo-") for name in request.files) else "answer"
        metrics["outbox"].labels(kind).inc()
