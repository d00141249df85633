"""Background work (Huey), at the bottom of the house beside database.py and clock.py.

Packages declare their tasks with ``@background("name")`` (plain functions taking keyword arguments of plain
values); ``init_app`` binds them to the app's queue, each run inside an app context. ``TASK_QUEUE`` picks the
engine by URL: a SQLite file in the instance folder by default (nothing else to install), ``postgresql://…`` for
the database a group already runs, ``redis://…`` for Debian's redis-server; ``memory`` keeps tasks in the process
(the tests), ``immediate`` runs each at once where it is enqueued.

A consumer can die mid-task (SIGKILL, power cut) after Huey has taken the task off the queue: Huey does not give
it back. So every task is idempotent, and work whose result the app needs (issued reports) is also found again by
a periodic sweep from the database's own state, never from the queue's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import JSON, Column, event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select

import clock
from database import db, write_session
from liveness import holder_mark

log = logging.getLogger(__name__)
MAX_ERROR = 2000


class TaskRun(SQLModel, table=True):
    """Where a piece of background work stands, in the app's own database (a queue forgets a task once taken):
    queued → running → done, or failed (with the error) while retries last. One row per thing worked on."""

    __tablename__ = "task_run"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True, index=True)
    name: str = Field(max_length=64)
    state: str = Field(default="queued", max_length=16)
    attempts: int = 0
    error: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=clock.now)
    holder: str | None = Field(default=None, max_length=160)  # the consumer running it (liveness.holder_mark)


def _set_run(key: str, name: str, arguments: dict, state: str, error: str = "", attempt: bool = False) -> None:
    engine = current_app.extensions["engine"]
    for _try in range(2):
        try:
            with write_session(engine) as session:
                run = session.exec(select(TaskRun).where(TaskRun.key == key)).first()
                if run is None:
                    run = TaskRun(key=key, name=name, arguments=arguments)
                    session.add(run)
                run.state, run.error, run.updated_at = state, error[:MAX_ERROR], clock.now()
                run.arguments = arguments
                run.holder = holder_mark() if state == "running" else None
                if attempt:
                    run.attempts += 1
                elif state == "queued":
                    run.attempts = 0
            return
        except IntegrityError:  # another process inserted the same key meanwhile: update theirs
            continue


def run_of(session, key: str) -> TaskRun | None:
    return session.exec(select(TaskRun).where(TaskRun.key == key)).first()


@contextmanager
def run_state(key: str, name: str, **arguments) -> Iterator[None]:
    """Mark the run running, then done, or failed with the error (re-raised, so the queue retries it)."""
    _set_run(key, name, arguments, "running", attempt=True)
    try:
        yield
    except Exception as exc:
        _set_run(key, name, arguments, "failed", error=f"{exc.__class__.__name__}: {exc}")
        raise
    _set_run(key, name, arguments, "done")


@dataclass(frozen=True)
class Background:
    name: str
    function: Callable[..., object]
    retries: int
    retry_delay: int


REGISTRY: dict[str, Background] = {}
PERIODIC: list[tuple[str, dict, str | None, str | None]] = []  # (name, crontab, config key, default "HH:MM")
AT_START: list[str] = []  # queued each time a consumer starts (it may follow one that died mid-task)


def background(name: str, retries: int = 3, retry_delay: int = 10):
    """Declare a background task. Registering is all that happens at import time."""
    def register(function):
        REGISTRY[name] = Background(name, function, retries, retry_delay)
        return function
    return register


def every(name: str, config_key: str | None = None, default: str | None = None, **crontab_arguments) -> None:
    """Run a declared task on the consumer on a schedule: crontab fields, or once a day at the UTC time "HH:MM"
    in the app's config_key (else default)."""
    PERIODIC.append((name, crontab_arguments, config_key, default))


def daily_at(text: str) -> dict:
    hour, _, minute = str(text).partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"a time of day must be HH:MM (UTC), not {text!r}")
    return {"hour": str(int(hour)), "minute": str(int(minute))}


def at_start(name: str) -> None:
    """Queue a declared task whenever a consumer starts."""
    AT_START.append(name)


def make_huey(url: str, instance_path: str | Path):
    from huey import MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey

    if url in ("memory", "immediate"):
        return MemoryHuey("sixs", immediate=url == "immediate")
    if url.startswith("sqlite:///"):
        return SqliteHuey("sixs", filename=url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return PostgresHuey("sixs", dsn=url.replace("postgresql+psycopg://", "postgresql://"))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("sixs", url=url)
    scheme = urlsplit(url).scheme or url
    raise ValueError(f"TASK_QUEUE: unknown queue {scheme!r}; use sqlite:///file, postgresql://…, redis://…, "
                     "memory or immediate")


class Tasks:
    """The app's queue: enqueue by name, with the task's own retries."""

    def __init__(self, app: Flask, huey):
        self.app = app
        self.huey = huey
        self.tasks = {}
        for entry in REGISTRY.values():
            self.tasks[entry.name] = huey.task(name=entry.name, retries=entry.retries,
                                               retry_delay=entry.retry_delay)(self._runner(entry))
        if PERIODIC:
            from huey import crontab

            for name, schedule, config_key, default in PERIODIC:
                entry = REGISTRY[name]
                if config_key:
                    schedule = daily_at(app.config.get(config_key) or default)
                huey.periodic_task(crontab(**schedule), name=f"{name}:periodic")(self._runner(entry))

    def _runner(self, entry: Background):
        app = self.app

        def run(**kwargs):
            with app.app_context():
                return entry.function(**kwargs)
        run.__name__ = entry.name.replace(".", "_")
        return run

    def enqueue(self, name: str, run_key: str | None = None, **kwargs) -> None:
        """Queue the task (marking its run queued when it has one); a queue that cannot be reached is logged,
        never a failed request (the sweep and the on-demand paths still produce what the task would have)."""
        try:
            if run_key is not None:
                with self.app.app_context():
                    _set_run(run_key, name, kwargs, "queued")
            self.tasks[name](**kwargs)
        except Exception:  # the user's save is done; the work will be found again
            log.exception("could not enqueue %s", name)

    @property
    def pending(self) -> int:
        return self.huey.pending_count()

    def close(self) -> None:
        """Close the queue's connections (a test's app, a consumer that stops)."""
        self.huey.storage.close()


HEARTBEAT = "consumer:heartbeat"
HEARTBEAT_EVERY_SECONDS = 60


def beat() -> None:
    """The consumer is alive: its periodic heartbeat (every minute) says so in the database all servers share."""
    _set_run(HEARTBEAT, HEARTBEAT, {}, "done")


def queue_health(app: Flask) -> dict:
    """For /healthz: how many tasks wait, and whether a consumer has beaten in the last three minutes."""

    url = app.config.get("TASK_QUEUE") or "sqlite:"
    # the kind of queue only: a URL may carry a password, and /healthz answers anyone
    health: dict[str, Any] = {"queue": urlsplit(url).scheme or url}
    try:
        health["pending"] = app.extensions["tasks"].pending
    except Exception:  # the queue's store is down: say so, the app itself still serves
        health["pending"] = None
    run = run_of(db(), HEARTBEAT)
    if run is None:
        health |= {"consumer_alive": False, "consumer_seen": None}
    else:
        age = (clock.now() - clock.as_utc(run.updated_at)).total_seconds()
        health |= {"consumer_alive": age < 3 * HEARTBEAT_EVERY_SECONDS,
                   "consumer_seen": clock.as_utc(run.updated_at).isoformat()}
    return health


def init_app(app: Flask) -> None:
    url = app.config.get("TASK_QUEUE") or f"sqlite:///{Path(app.instance_path) / 'tasks.db'}"
    app.extensions["tasks"] = Tasks(app, make_huey(url, app.instance_path))


def enqueue(name: str, **kwargs) -> None:
    current_app.extensions["tasks"].enqueue(name, **kwargs)


def after_commit(session, name: str, run_key: str | None = None, **kwargs) -> None:
    """Queue the task once the session's transaction has committed (the task must see what it is about), once
    per session however often the same change is announced. Outside an app with a queue (scripts), nothing."""

    if not has_app_context() or "tasks" not in current_app.extensions:
        return
    queued = session.info.setdefault("tasks_after_commit", set())
    key = (name, tuple(sorted(kwargs.items())))
    if key in queued:
        return
    queued.add(key)
    if run_key is not None:
        # the run is written in the change's own transaction (an outbox): if the process dies between the commit
        # and the queue, the run is there, queued, and the sweep hands it to a consumer
        _record_queued(session, run_key, name, kwargs)
    tasks = current_app.extensions["tasks"]
    settled = []

    # SQLAlchemy also fires after_commit / after_rollback when a savepoint inside the change is released or rolled
    # back: only the change's own (outermost) commit sends the task, only its rollback forgets it
    def send(_session):
        if settled or _session.in_nested_transaction():
            return
        settled.append(True)
        queued.discard(key)
        tasks.enqueue(name, run_key=run_key, **kwargs)

    def forget(_session):
        if settled or _session.in_nested_transaction():
            return
        settled.append(True)
        queued.discard(key)

    event.listen(session, "after_commit", send)
    event.listen(session, "after_rollback", forget)


def _record_queued(session, key: str, name: str, arguments: dict) -> None:
    for _try in range(2):
        try:
            with session.begin_nested():  # a savepoint: a key another transaction inserted meanwhile is retried
                run = session.exec(select(TaskRun).where(TaskRun.key == key)).first()
                if run is None:
                    session.add(TaskRun(key=key, name=name, arguments=arguments, state="queued"))
                else:
                    run.state, run.error, run.updated_at = "queued", "", clock.now()
                    run.arguments, run.attempts = arguments, 0
                session.flush()
            return
        except IntegrityError:
            continue


def drain(app: Flask, limit: int = 1000, only: Collection[str] | None = None) -> int:
    """Run what waits in an in-process (memory) queue, here and now; the tests' consumer. Returns how many ran.
    only: run just the tasks of these names and leave the others queued, in their order (a test of deliveries
    need not render the reports its submit queued)."""
    huey = app.extensions["tasks"].huey
    if only is not None:
        unknown = set(only) - set(REGISTRY)
        if unknown:
            raise ValueError(f"no task is called {', '.join(sorted(unknown))}")
    ran, left = 0, []
    while ran < limit and (task := huey.dequeue()) is not None:
        if only is not None and task.name not in only:
            left.append(task)
            continue
        huey.execute(task)
        ran += 1
    for task in left:
        huey.enqueue(task)
    return ran


tasks_cli = AppGroup("tasks", help="The background task consumer.")


@tasks_cli.command("consume")
@click.option("--workers", default=2, show_default=True, help="Threads running tasks.")
@with_appcontext
def consume_command(workers: int):
    """Run the task consumer (beside gunicorn): issued reports, the daily run, large exports."""
    from huey.consumer import Consumer

    tasks: Tasks = current_app.extensions["tasks"]
    for name in AT_START:
        tasks.enqueue(name)
    # flush_locks: a lock held by a consumer that was killed would otherwise block its task for good
    consumer = Consumer(tasks.huey, workers=workers, worker_type="thread", periodic=True, check_worker_health=True,
                        flush_locks=True)
    consumer.run()


@tasks_cli.command("status")
@with_appcontext
def status_command():
    """How many tasks wait in the queue."""
    click.echo(f"pending {current_app.extensions['tasks'].pending}")
