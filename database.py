"""Engine and session plumbing shared by every package.

SQLite is the default store, so it gets the care it needs to behave under a few concurrent tablets:
WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for transactions that will write (a deferred
transaction that reads first and then writes fails at once with SQLITE_BUSY instead of waiting).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        _configure_sqlite(engine)
        return engine
    # Stored instants are UTC in columns without a zone: the session must be UTC too, whatever zone the server
    # was initialised with (initdb takes the machine's TZ), or PostgreSQL shifts them on the way in.
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})


def _configure_sqlite(engine: Engine) -> None:
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
    from flask import current_app, g, request

    if "db_session" not in g:
        engine = current_app.extensions["engine"]
        mutating = request and request.method not in ("GET", "HEAD", "OPTIONS")
        g.db_session = Session(writing(engine) if mutating else engine, expire_on_commit=False)
    return g.db_session


def close_db(_exc=None) -> None:
    from flask import g

    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def alembic_config(url: str):
    from pathlib import Path

    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["database_url"] = url
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def _make_db_cli():
    import click
    from flask import current_app
    from flask.cli import AppGroup

    group = AppGroup("db", help="Database schema (Alembic migrations).")

    @group.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade_command(revision):
        """Apply migrations up to REVISION (default: head)."""
        upgrade_database(current_app.config["DATABASE_URL"], revision)
        click.echo(f"database at {revision}")

    return group


db_cli = _make_db_cli()
