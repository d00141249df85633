"""Engine and session plumbing shared by every package.

SQLite is the default store, so it gets the care it needs to behave under a few concurrent tablets:
WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for transactions that will write (a deferred
transaction that reads first and then writes fails at once with SQLITE_BUSY instead of waiting), and a writers'
queue in front of that (see WriterGate).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app, g, has_request_context, request
from flask.cli import AppGroup
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
MAX_ID = 2**31 - 1  # ids are INTEGER (SERIAL) columns on PostgreSQL: a larger number names no record


class WriterGate:
    """Writers of one SQLite file wait their turn here, not in SQLite's busy handler.

    SQLite lets one writer in at a time; the others' BEGIN IMMEDIATE gets SQLITE_BUSY and its busy handler
    *sleeps* (1, 2, 5 … 100 ms) before trying again, whether or not the lock was freed meanwhile. Under 16 tablets
    saving at once most of a save's time went into those sleeps (p95 380 ms for a 5 ms save). Here a writer first
    takes a thread lock (threads of this process) and then an flock on ``<database>.writers`` (other processes:
    gunicorn workers, the task consumer, the CLI): both wake the next writer the moment the lock is released, and
    the kernel drops the flock of a process that dies. SQLite's own lock and busy timeout stay underneath for
    anything that writes without the gate (sqlite3 shell, an old process).
    """

    _gates: dict[str, WriterGate] = {}
    _gates_lock = threading.Lock()

    def __init__(self, path: Path):
        self.path = path
        self.thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = os.getpid()
        self.holder: object | None = None  # the DBAPI connection whose transaction holds the gate

    @classmethod
    def for_database(cls, database: str) -> WriterGate:
        path = Path(database).resolve().with_name(Path(database).name + ".writers")
        with cls._gates_lock:
            gate = cls._gates.get(str(path))
            if gate is None:
                gate = cls._gates[str(path)] = cls(path)
            return gate

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def _forked(self) -> None:
        """A forked child (a gunicorn worker) needs its own open file description, since an flock belongs to
        that and the parent's would be shared, and a fresh thread lock."""
        if self._pid != os.getpid():
            self._pid, self._fd, self.holder, self.thread_lock = os.getpid(), None, None, threading.Lock()

    def enter(self, connection: object) -> None:
        self._forked()
        if not self.thread_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (waited for the other writers of this process)")
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self.thread_lock.release()
            raise
        self.holder = connection

    def leave(self, connection: object) -> None:
        if self.holder is not connection:
            return  # this connection's transaction never held the gate (a reader's), or it was released already
        self.holder = None
        fcntl.flock(self._file(), fcntl.LOCK_UN)
        self.thread_lock.release()


def _gated_connection_class(gate: WriterGate):
    class GatedConnection(sqlite3.Connection):
        """Leaves the writers' gate once its transaction is over, whichever way it ends."""

        def commit(self):
            try:
                super().commit()
            finally:
                gate.leave(self)

        def rollback(self):
            try:
                super().rollback()
            finally:
                gate.leave(self)

        def close(self):
            try:
                super().close()
            finally:
                gate.leave(self)

    return GatedConnection


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        gate = WriterGate.for_database(database) if database and database != ":memory:" else None
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if gate is not None:
            connect_args["factory"] = _gated_connection_class(gate)
        engine = create_engine(url, connect_args=connect_args)
        _configure_sqlite(engine, gate)
        return engine
    # Stored instants are UTC in columns without a zone: the session must be UTC too, whatever zone the server
    # was initialised with (initdb takes the machine's TZ), or PostgreSQL shifts them on the way in.
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})


def _configure_sqlite(engine: Engine, gate: WriterGate | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        if immediate and gate is not None:
            dbapi_connection = connection.connection.dbapi_connection
            gate.enter(dbapi_connection)
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                gate.leave(dbapi_connection)
                raise
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writing(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take the write lock up front on SQLite."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True)
    return engine


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session for one write use case outside a request (CLI, demo data): commit or roll back."""
    with Session(writing(engine), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def db() -> Session:
    """The request's session (one per request, closed at teardown). Writes take the lock up front."""

    if "db_session" not in g:
        engine = current_app.extensions["engine"]
        mutating = request and request.method not in ("GET", "HEAD", "OPTIONS")
        first_reads = mutating and _view_reads_first()
        g.db_session = Session(writing(engine) if mutating and not first_reads else engine, expire_on_commit=False)
        if first_reads:
            g.db_session.info["reads_first"] = True
            event.listen(g.db_session, "before_flush", _refuse_writes_before_begin_writing)
    return g.db_session


def reads_first(view):
    """Mark a view whose writes are few and late (an answer save): its request session starts without the write
    lock, so working out who is asking and what they may change happens outside the writers' gate, and the view's
    service calls begin_writing() before its first write. On SQLite, where writers go one at a time, only the
    writing part then holds the gate (the whole request did before, rendering included)."""
    view.reads_first = True
    return view


def _view_reads_first() -> bool:

    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "reads_first", False))


def request_holds_write_lock() -> bool:
    """Whether this request's session took (or will take) the write lock from its start (non-GET requests that
    do not read first)."""

    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS") and not _view_reads_first()


def begin_writing(session: Session) -> None:
    """From here on this session writes. In a request that reads first (see reads_first) on SQLite: end the read
    transaction (nothing was written; the objects read stay loaded, and the caller reads again, under the lock,
    whatever may have changed meanwhile) and begin a new one with the write lock (BEGIN IMMEDIATE, behind the
    writers' gate). Anywhere else nothing: other sessions write from their start, PostgreSQL locks rows."""
    if not session.info.get("reads_first") or session.info.get("writing"):
        return
    session.info["writing"] = True
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_writing() after a change: the change would be written without the lock")
        session.commit()
    # this transaction and any after it in the request (an Idempotency-Key's answer kept, a retry) take the lock
    session.bind = writing(session.get_bind())
    session.connection()


def _refuse_writes_before_begin_writing(session, _flush_context, _instances) -> None:
    if not session.info.get("writing") and (session.new or session.dirty or session.deleted):
        raise RuntimeError("this request reads first: its service must call begin_writing() before it writes")


def close_db(_exc=None) -> None:

    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def alembic_config(url: str):

    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    config.attributes["database_url"] = url
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def _make_db_cli():

    group = AppGroup("db", help="Database schema (Alembic migrations).")

    @group.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade_command(revision):
        """Apply migrations up to REVISION (default: head)."""
        upgrade_database(current_app.config["DATABASE_URL"], revision)
        click.echo(f"database at {revision}")

    return group


db_cli = _make_db_cli()
