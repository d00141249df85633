"""Fixtures: the app on a real SQLite file and on a real PostgreSQL, a client, and AuthActions.

PostgreSQL: Debian's binaries, started once per session as the unprivileged `postgres` user (PostgreSQL
refuses to run as root); each test then gets a fresh database made from a migrated, seeded template
(pytest-postgresql's janitor makes the template), so each test starts from the same state.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import psycopg
import pytest
import time_machine
from psycopg import sql
from pytest_postgresql.executors.noop import NoopExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from werkzeug.routing import Rule

from app import create_app
from database import make_engine, upgrade_database, write_session
from tests.seed import PASSWORD, seed

# ------------------------------------------------------------------ the clock
# Every test that touches days runs at instants chosen to break naive date code: the app's days are the plant's
# (Asia/Shanghai by default, UTC+8) while these machines run on UTC, so the two calendars disagree from 16:00 UTC.
# The seeded world is made at SEEDED_AT, before all of them, so "today" never falls before the data.
SEEDED_AT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
CLOCK_INSTANTS = {
    "0030Z": datetime(2026, 12, 2, 0, 30, tzinfo=UTC),  # 08:30 in Shanghai: both calendars on the 2nd
    "1559Z": datetime(2026, 12, 2, 15, 59, tzinfo=UTC),  # 23:59 in Shanghai, the last minute of its day
    "1601Z": datetime(2026, 12, 2, 16, 1, tzinfo=UTC),  # 00:01 on the 3rd in Shanghai, still the 2nd in UTC
    "monthend-2359Z": datetime(2026, 11, 30, 23, 59, tzinfo=UTC),  # UTC on Nov 30, Shanghai in December
}


# On PostgreSQL the two instants where the calendars disagree (the day and the month change at the plant, not in
# UTC); the two where they agree run on SQLite. Each instant × engine pair was a full test; the days are
# counted in Python and in SQL alike, and both engines meet both kinds of instant.
POSTGRESQL_INSTANTS = {"1601Z", "monthend-2359Z"}


# The machine's own zone must not move the app's days either: every test marked `clock` runs again as a machine in
# Shanghai and one in Los Angeles would run it (TZ and time.tzset() in this process; PGTZ makes PostgreSQL's sessions
# speak that zone, as a server abroad would). On PostgreSQL only the two-zone group (test_plant_timezones) does,
# the engine's other clock tests stay in UTC. Until #36 these were two more pytest runs after the main one.
MACHINE_ZONES = ("UTC", "Asia/Shanghai", "America/Los_Angeles")


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("clock") is not None:
        metafunc.fixturenames.insert(0, "machine_zone")  # before the app and the clock are set up
        metafunc.parametrize("machine_zone", MACHINE_ZONES, indirect=True, ids=lambda zone: f"TZ={zone}")


@pytest.fixture
def machine_zone(request, monkeypatch):
    """The machine's time zone for one test (the parametrised zone; UTC for a test not marked `clock`)."""
    zone = getattr(request, "param", "UTC")
    monkeypatch.setenv("TZ", zone)
    monkeypatch.setenv("PGTZ", zone)
    time.tzset()
    yield zone
    monkeypatch.undo()
    time.tzset()


def _dropped(item) -> bool:
    params = getattr(item, "callspec", None) and item.callspec.params
    if not params or params.get("app") != "postgresql":
        return False
    if "clock_at" in params and params["clock_at"] not in POSTGRESQL_INSTANTS:
        return True
    return params.get("machine_zone", "UTC") != "UTC" and "test_plant_timezones" not in item.nodeid


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        (dropped if _dropped(item) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=list(CLOCK_INSTANTS))
def clock_at(request):
    """The test runs at each of CLOCK_INSTANTS in turn (the clock ticks on from there). Yields the instant."""
    with time_machine.travel(CLOCK_INSTANTS[request.param], tick=True):
        yield CLOCK_INSTANTS[request.param]


@pytest.fixture
def travel():
    """Move the clock in a test: travel(instant) starts (or restarts) there and ticks on."""
    travellers = []

    def to(instant: datetime):
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(instant, tick=True)
        traveller.start()
        travellers.append(traveller)

    yield to
    for traveller in travellers:
        traveller.stop()


# ------------------------------------------------------------------ PostgreSQL

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def _pg_bin() -> Path | None:
    candidates = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name))
    for directory in reversed(candidates):
        if (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: drop to the `postgres` user the Debian package creates.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def pg_cluster():
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL binaries not found ({PG_BIN_GLOB}/pg_ctl): apt-get install postgresql")
    data_dir = Path(tempfile.mkdtemp(prefix="sixs-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
    port = _free_port()
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data_dir / "data"), "-U", "postgres",
                                 "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir / "data"), "-w", "-l",
                                 str(data_dir / "log"), "-o",
                                 f"-p {port} -k {data_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                                 "-c synchronous_commit=off -c full_page_writes=off",
                                 "start"]), check=True, capture_output=True)
    try:
        yield NoopExecutor(host="127.0.0.1", port=port, user="postgres", password=None, dbname="sixs",
                           options="")
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir / "data"), "-m", "fast",
                                     "stop"]), check=False, capture_output=True)
        shutil.rmtree(data_dir, ignore_errors=True)


def _pg_url(host, port, user, dbname, password=None) -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgresql+psycopg://{auth}@{host}:{port}/{dbname}"


def _load_pg_template(host, port, user, dbname, password=None, **_):
    url = _pg_url(host, port, user, dbname, password)
    upgrade_database(url)
    engine = make_engine(url)
    with time_machine.travel(SEEDED_AT, tick=False), write_session(engine) as session:
        seed(session)
    engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_cluster):
    """A migrated, seeded template database; pg_database clones it for every test."""
    executor = NoopExecutor(host=pg_cluster.host, port=pg_cluster.port, user=pg_cluster.user, password=None,
                            dbname="sixs", options="")
    janitor = DatabaseJanitor(user=executor.user, host=executor.host, port=executor.port,
                              dbname=executor.template_dbname, as_template=True)
    with janitor:
        janitor.load(_load_pg_template)
        yield executor


@dataclass(frozen=True)
class PgDatabase:
    host: str
    port: int
    user: str
    dbname: str

    @property
    def url(self) -> str:
        return _pg_url(self.host, self.port, self.user, self.dbname)


@pytest.fixture(scope="session")
def pg_admin(pg_template):
    """One connection to the cluster's maintenance database for the worker's whole session."""
    connection = psycopg.connect(host=pg_template.host, port=pg_template.port, user=pg_template.user,
                                 dbname="postgres", autocommit=True)
    yield connection
    connection.close()


_PG_DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture
def pg_database(pg_template, pg_admin) -> PgDatabase:
    """A fresh database made from the template for one test: two statements on the session's connection
    (pytest-postgresql's client fixture opened four connections per test for the same, a third of a second)."""
    name = f"sixs_test_{next(_PG_DATABASE_NUMBERS)}"
    pg_admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(name), sql.Identifier(pg_template.template_dbname)))
    yield PgDatabase(pg_template.host, pg_template.port, pg_template.user, name)
    pg_admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

# ------------------------------------------------------------------ SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrated and seeded once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    with time_machine.travel(SEEDED_AT, tick=False), write_session(engine) as session:
        seed(session)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "sixs.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


# ------------------------------------------------------------------ app

# the tests' own receivers (webhooks, robots, SMTP) listen on loopback: allowed here as an administrator would list
# a plant's own systems (outbound.py); tests/security/test_outbound.py runs without it
TEST_OUTBOUND_ALLOW = "127.0.0.0/8,::1,localhost"
os.environ.setdefault("OUTBOUND_ALLOW", TEST_OUTBOUND_ALLOW)  # code outside an app (robots, consumers) reads it here
# a sign-in checks the password at this cost instead of scrypt's default (0.1 s and 32 MB each, thousands of times);
# tests/test_passwords.py checks the default and the move between costs
TEST_PASSWORD_HASH = "scrypt:1024:8:1"
os.environ.setdefault("PASSWORD_HASH", TEST_PASSWORD_HASH)  # the seed and servers started by tests read it here


class SharedTemplateCode(jinja2.BytecodeCache):
    """Each test's app would compile every template it renders again (a fifth of a page test's time): the apps of
    a worker share Jinja's compiled code, which Jinja keys by template name and checks against its source."""

    def __init__(self):
        self.kept: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.kept:
            bucket.bytecode_from_string(self.kept[bucket.key])

    def dump_bytecode(self, bucket):
        self.kept[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()


def _share_url_builders() -> None:
    """Werkzeug writes and compiles a URL builder for each of the ~180 routes of every app (a tenth of a second
    each app; the tests make thousands). The builder's code follows from the rule alone and reads the rule's
    converters through its `self` at call time, so the apps of a worker share it."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return
    built = {}

    def shared(self, append_unknown=True):
        key = (self.rule, self.subdomain, self.host, self.merge_slashes, tuple(self._trace),
               repr(sorted((self.defaults or {}).items(), key=repr)), append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    shared.shared = True
    Rule._compile_builder = shared


_share_url_builders()


def _make_app(url: str, tmp_path: Path, **extra):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url,
                      "DATA_DIR": str(tmp_path / "data"), "WTF_CSRF_ENABLED": False,
                      "OUTBOUND_ALLOW": TEST_OUTBOUND_ALLOW, **extra})
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    return app


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    """The app on a real SQLite file, then on a real PostgreSQL (each test runs on both)."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("pg_database").url
    app = _make_app(url, tmp_path)
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture
def sqlite_app(sqlite_url, tmp_path):
    """SQLite only, for tests about the default store or too slow to double."""
    app = _make_app(sqlite_url, tmp_path)
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str = "sup1", password: str = PASSWORD):
        response = self._client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 303, f"login as {username} failed"
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def db_session(app):
    from sqlmodel import Session

    with Session(app.extensions["engine"]) as session:
        yield session


def wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# ------------------------------------------------------------------ S3-compatible object storage

@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server on a loopback port: its endpoint URL."""
    pytest.importorskip("moto")
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).read()  # noqa: S310 (loopback)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("moto server did not start")
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return s3_server
