"""The history side at a group's scale: `python -m bench.large` (part of `make bench`).

Builds (once, then cached in .bench-cache/) the synthetic group of issue 6 on SQLite: 20 plants × 30 workshops ×
260 weekly inspections = 156 000 inspections, ~15.6 million answers. Then measures the server time of the
workshop trend (5 years), the plant dashboard for a month and the plant's monthly league (API), each beside the
naive way: aggregating the answers in SQL at request time.
"""

from __future__ import annotations

import statistics
import sys
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlmodel import select  # noqa: E402

from app import create_app  # noqa: E402
from bench.__main__ import HEADER, timed  # noqa: E402
from database import upgrade_database, write_session  # noqa: E402
from demo.generate import DEMO_PASSWORD  # noqa: E402

CACHE = ROOT / ".bench-cache"
GENERATOR_VERSION = 5  # bump when demo_large changes what it writes
# The same output as the trend (a percent per inspection and category), computed from the answers.
NAIVE_TREND = """
SELECT i.id, i.submitted_at, it.category_id, 100.0 * SUM(a.score * it.weight) / SUM(4 * it.weight)
FROM answer a JOIN inspection i ON i.id = a.inspection_id JOIN checklist_item it ON it.id = a.item_id
JOIN workshop w ON w.id = i.workshop_id
WHERE w.code = :code AND i.status = 'submitted' AND NOT a.not_applicable
GROUP BY i.id, i.submitted_at, it.category_id ORDER BY i.submitted_at
"""
# The month's percent per workshop and category (the league's and heat map's numbers) from the answers.
NAIVE_LEAGUE = """
SELECT w.code, it.category_id, COUNT(DISTINCT i.id), 100.0 * SUM(a.score * it.weight) / SUM(4 * it.weight)
FROM answer a JOIN inspection i ON i.id = a.inspection_id JOIN checklist_item it ON it.id = a.item_id
JOIN workshop w ON w.id = i.workshop_id JOIN plant p ON p.id = w.plant_id
WHERE p.code = :plant AND i.status = 'submitted' AND NOT a.not_applicable
  AND i.submitted_at >= :since AND i.submitted_at < :until
GROUP BY w.code, it.category_id
"""


def large_database() -> str:
    from alembic.script import ScriptDirectory

    from database import alembic_config, make_engine

    CACHE.mkdir(exist_ok=True)
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    path = CACHE / f"large-{head}-g{GENERATOR_VERSION}.db"
    url = f"sqlite:///{path}"
    older = sorted(CACHE.glob(f"large-*-g{GENERATOR_VERSION}.db"), key=lambda p: p.stat().st_mtime)
    if not path.exists() and older:
        # the same generator under an older schema: migrate it (minutes saved; the migrations only add)
        print(f"migrating the large data set {older[-1].name} → {path.name}", flush=True)
        older[-1].rename(path)
        upgrade_database(url)
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        partial_url = f"sqlite:///{partial}"
        print(f"building the large data set once (a few minutes): {path.name}", flush=True)
        upgrade_database(partial_url)
        from demo.large import generate_large

        engine = make_engine(partial_url)
        with write_session(engine) as session:
            generate_large(session=session, progress=lambda m: print("  " + m, flush=True))
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        partial.rename(path)
    return url


def main() -> None:
    measure(large_database(), "SQLite")
    with throwaway_postgres() as url:
        if url:
            measure(url, "PostgreSQL")


def measure(url: str, label: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-large", "DATABASE_URL": url,
                      "DATA_DIR": str(CACHE / "data"), "WTF_CSRF_ENABLED": False})
    engine = app.extensions["engine"]
    client = app.test_client()
    client.post("/login", data={"username": "manager", "password": DEMO_PASSWORD})
    with engine.connect() as connection:
        counts = connection.execute(text("SELECT (SELECT COUNT(*) FROM inspection), (SELECT COUNT(*) FROM answer)"
                                         )).one()
        last = connection.execute(text("SELECT MAX(submitted_at) FROM inspection")).scalar()
    last = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
    last = last.replace(tzinfo=UTC) if last.tzinfo is None else last.astimezone(UTC)
    month = (last.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # the last complete month
    since = datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
    until = (since + timedelta(days=32)).replace(day=1)

    def naive(sql: str, **params):
        with engine.connect() as connection:
            return connection.execute(text(sql), params).all()

    rows = []
    trend = client.get("/api/v1/workshops/P07-W13/trend").get_json()
    assert len(trend["inspections"]) == 260
    trend_ms, trend_p95 = timed(lambda: client.get("/api/v1/workshops/P07-W13/trend"), 30)
    naive_trend_ms, _ = timed(lambda: naive(NAIVE_TREND, code="P07-W13"), 3)
    rows.append(("workshop trend, 5 years = 260 inspections (API)", f"{trend_ms:.1f} ms (p95 {trend_p95:.1f})",
                 f"{naive_trend_ms:.0f} ms (raw SQL over its answers)",
                 f"{trend_ms / naive_trend_ms:.3f}× · target < 20 ms"))
    page_ms, page_p95 = timed(lambda: client.get(f"/plants/P07?month={month}"), 20)
    league_ms, league_p95 = timed(lambda: client.get(f"/api/v1/plants/P07/league?month={month}"), 20)
    bounds = {"since": _sqlite(since), "until": _sqlite(until)} if label == "SQLite" else {"since": since,
                                                                                          "until": until}
    naive_ms, _ = timed(lambda: naive(NAIVE_LEAGUE, plant="P07", **bounds), 3)
    rows.append(("plant dashboard, a month, 30 workshops (page)", f"{page_ms:.1f} ms (p95 {page_p95:.1f})",
                 f"{naive_ms:.0f} ms (raw SQL over the month's answers)",
                 f"{page_ms / naive_ms:.3f}× · target < 50 ms"))
    rows.append(("plant monthly league (API)", f"{league_ms:.1f} ms (p95 {league_p95:.1f})",
                 f"{naive_ms:.0f} ms (same raw SQL)", f"{league_ms / naive_ms:.3f}× · target < 50 ms"))
    group_ms, group_p95 = timed(lambda: client.get(f"/plants?month={month}"), 5)
    rows.append(("group dashboard, a month, 20 plants × 30 workshops (page)",
                 f"{group_ms:.0f} ms (p95 {group_p95:.0f})", "—", "no target yet"))
    rows.extend(_plan_rows(app, client, month))
    rows.extend(_quality_rows(client, naive, label, last.date()))
    rows.extend(api_rows(client, naive))
    rows.extend(_export_rows(client, engine))
    print(f"\nlarge data set ({label}): {counts[0]} inspections, {counts[1]} answers; month {month}")
    widths = [max(len(str(r[i])) for r in rows + [HEADER]) for i in range(4)]
    for row in [HEADER, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)))
    print()
    engine.dispose()


def _plan_rows(app, client, month: str) -> list[tuple]:
    """The plan board of a plant (30 workshops × 26 weeks) and the group's completion figures for a month (600
    workshops), beside the bare endpoint (/healthz: the app's floor per request on this machine)."""
    from sqlmodel import Session

    from accounts.days import plant_days
    from accounts.models import Workshop
    from clock.periods import parse_month
    from plans.figures import plan_figures

    bare_ms, _ = timed(lambda: client.get("/healthz"), 50)
    page = client.get("/plants/P07/plan-board?from=2026-01-05")
    assert page.status_code == 200 and page.get_data(as_text=True).count("data-state=") >= 30 * 20, "board empty"
    board_ms, board_p95 = timed(lambda: client.get("/plants/P07/plan-board?from=2026-01-05"), 10)
    period = parse_month(month, date.fromisoformat(month + "-01"))  # the month is given: no "today" needed
    with Session(app.extensions["engine"]) as session:
        workshops = session.exec(select(Workshop)).all()
        for w in workshops:
            _ = w.plant
        days = plant_days(session)
        figures = plan_figures(session, workshops, period.start, period.end, days)
        assert figures.total.planned >= 500, figures.total
        group_ms, group_p95 = timed(lambda: plan_figures(session, workshops, period.start, period.end, days), 5)
    return [
        ("plan board, 30 workshops × 26 weeks (page)", f"{board_ms:.1f} ms (p95 {board_p95:.1f})",
         f"{bare_ms:.2f} ms (/healthz)", f"{board_ms / bare_ms:.0f}× · target < 250 ms"),
        (f"group completion figures, a month, {len(workshops)} workshops ({figures.total.planned} planned)",
         f"{group_ms:.1f} ms (p95 {group_p95:.1f})", f"{bare_ms:.2f} ms (/healthz)",
         f"{group_ms / bare_ms:.0f}× · target < 500 ms"),
    ]


NAIVE_PARETO = """
SELECT ci.key, COUNT(*) FROM answer a JOIN checklist_item ci ON ci.id = a.item_id
JOIN inspection i ON i.id = a.inspection_id JOIN workshop w ON w.id = i.workshop_id
WHERE a.score <= 1 AND i.submitted_at >= :since AND {where} GROUP BY ci.key ORDER BY COUNT(*) DESC
"""


def _quality_rows(client, naive, label: str, last: date) -> list[tuple]:
    """The control chart and the Pareto of a workshop over its five years, a plant's Pareto for a year, beside
    the naive scan of the answers for the same counts."""
    chart = client.get("/api/v1/workshops/P07-W13/control-chart?rules=1,2,3,4").get_json()
    assert len(chart["points"]) >= 100, "the control chart has no points"
    chart_ms, chart_p95 = timed(lambda: client.get("/api/v1/workshops/P07-W13/control-chart?rules=1,2,3,4"), 20)
    naive_trend_ms, _ = timed(lambda: naive(NAIVE_TREND, code="P07-W13"), 3)
    start = last - relativedelta(years=5) + timedelta(days=1)  # five years, the longest period asked for
    five_years = f"from={start}&to={last}"
    pareto = client.get(f"/api/v1/pareto?workshop=P07-W13&{five_years}").get_json()
    assert pareto.get("total", 0) > 0, f"the large data set has no findings: {pareto}"
    pareto_ms, pareto_p95 = timed(lambda: client.get(f"/api/v1/pareto?workshop=P07-W13&{five_years}"), 10)
    old = str(start) if label == "SQLite" else datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    naive_ms, _ = timed(lambda: naive(NAIVE_PARETO.format(where="w.code = :code"), code="P07-W13", since=old), 3)
    year_start = last - relativedelta(years=1) + timedelta(days=1)
    year = f"from={year_start}&to={last}"
    plant_ms, plant_p95 = timed(lambda: client.get(f"/api/v1/pareto?plant=P07&{year}"), 5)
    since = str(year_start) if label == "SQLite" else datetime.combine(year_start, datetime.min.time(), tzinfo=UTC)
    naive_plant_ms, _ = timed(lambda: naive(NAIVE_PARETO.format(
        where="w.plant_id = (SELECT id FROM plant WHERE code = :code)"), code="P07", since=since), 3)
    return [
        ("control chart, a workshop since its version change (API)", f"{chart_ms:.1f} ms (p95 {chart_p95:.1f})",
         f"{naive_trend_ms:.0f} ms (raw SQL over its answers)", f"{chart_ms / naive_trend_ms:.2f}× · target < 50 ms"),
        (f"Pareto of a workshop, 5 years ({pareto['total']} findings, API)",
         f"{pareto_ms:.1f} ms (p95 {pareto_p95:.1f})", f"{naive_ms:.0f} ms (raw SQL over its answers)",
         f"{pareto_ms / naive_ms:.2f}× · target < 100 ms"),
        ("Pareto of a plant, a year (30 workshops, API)", f"{plant_ms:.1f} ms (p95 {plant_p95:.1f})",
         f"{naive_plant_ms:.0f} ms (raw SQL over its answers)", f"{plant_ms / naive_plant_ms:.2f}× · target < 500 ms"),
    ]


ONE_OF_105 = """
SELECT i.id FROM inspection i WHERE i.status = 'submitted' AND i.version_id = (
  SELECT c.version_id FROM checklist_category c JOIN checklist_item it ON it.category_id = c.id
  GROUP BY c.version_id HAVING COUNT(*) = 105 ORDER BY c.version_id DESC LIMIT 1)
ORDER BY i.id DESC LIMIT 1
"""


def api_rows(client, naive) -> list[tuple]:
    """What an integrator's client costs: the group's inspections walked 1 000 a page (ten pages, each timed),
    and one 105-item inspection, beside the bare endpoint (/healthz: one round trip to the database) and the raw
    SQL of the same page."""
    def page(cursor):
        answer = client.get("/api/v1/inspections", query_string={"limit": 1000, **({"cursor": cursor} if cursor
                                                                                    else {})})
        assert answer.status_code == 200, answer.data[:200]
        return answer.get_json()
    first = page(None)
    assert len(first["inspections"]) == 1000, "the large data set has fewer than 1 000 inspections"
    samples, cursor = [], None
    for _ in range(10):
        started = time.perf_counter()
        cursor = page(cursor)["next_cursor"]
        samples.append((time.perf_counter() - started) * 1000)
    page_ms = statistics.median(samples)
    raw_ms, _ = timed(lambda: naive("SELECT * FROM inspection WHERE status = 'submitted' ORDER BY id LIMIT 1001"), 5)
    bare_ms, _ = timed(lambda: client.get("/healthz"), 30)
    one = naive(ONE_OF_105)[0][0]  # the newest inspection on a 105-item version
    assert len(client.get(f"/api/v1/inspections/{one}").get_json()["items"]) == 105
    one_ms, one_p95 = timed(lambda: client.get(f"/api/v1/inspections/{one}"), 30)
    return [
        ("inspections listed, 1 000 a page, 10 pages walked (API)", f"{page_ms:.0f} ms a page (max {max(samples):.0f})",
         f"{raw_ms:.0f} ms (raw SQL of a page) · bare endpoint {bare_ms:.1f} ms",
         f"{page_ms / raw_ms:.1f}× raw SQL · target < 500 ms"),
        ("one inspection, 105 items (API)", f"{one_ms:.1f} ms (p95 {one_p95:.1f})", f"bare endpoint {bare_ms:.1f} ms",
         f"{one_ms / bare_ms:.1f}× bare · target < 50 ms"),
    ]


def _peak_kib() -> int:
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:  # Linux: VmHWM starts again from the current RSS
        refs.write("5")


def _export_rows(client, engine) -> list[tuple]:
    """A plant's whole answer history as CSV (~780 000 rows), streamed, beside building it in memory."""
    import csv
    import io

    from sqlmodel import Session

    from accounts.models import User
    from exports.service import ExportFilter, answer_export

    # A plant's five years are far past LARGE_EXPORT_ROWS, where the screen hands the export to the task consumer;
    # its writer streams the rows the same way, so the streamed download stands for both here.
    client.application.config["LARGE_EXPORT_ROWS"] = 10**12
    _reset_peak()
    before = _peak_kib()
    started = time.perf_counter()
    response = client.get("/exports/answers.csv?plant=P03", buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    stream_s = time.perf_counter() - started
    stream_peak = (_peak_kib() - before) / 1024
    _reset_peak()
    before = _peak_kib()
    started = time.perf_counter()
    with Session(engine) as session:
        manager = session.exec(select(User).where(User.username == "manager")).one()
        export = answer_export(session=session, user=manager, flt=ExportFilter(plant="P03"))
        # the naive way: all rows in memory, then the file in memory
        header, everything = export.header, list(export.rows)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(everything)
        naive_size = len(out.getvalue().encode())
    naive_s = time.perf_counter() - started
    naive_peak = (_peak_kib() - before) / 1024
    del everything, out
    return [
        (f"answers CSV of a plant, 5 years ({lines - 1} rows, {size / 2**20:.0f} MiB), streamed",
         f"{stream_s:.1f} s, +{stream_peak:.0f} MiB peak", f"{naive_s:.1f} s, +{naive_peak:.0f} MiB peak (all in "
         f"memory, {naive_size / 2**20:.0f} MiB)", "bounded memory"),
    ]


@contextmanager
def throwaway_postgres():
    """Debian's PostgreSQL as the `postgres` user, its cluster kept between runs (building the large data set
    takes minutes). Yields the database URL, or None without the binaries."""
    import os

    from alembic.script import ScriptDirectory

    from database import alembic_config, make_engine

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    name = f"sixs-bench-{head}-g{GENERATOR_VERSION}"
    base = Path("/var/lib/postgresql") if os.geteuid() == 0 else CACHE
    older = sorted((p for p in base.glob(f"sixs-bench-*-g{GENERATOR_VERSION}") if (p / "data" / "PG_VERSION").exists()),
                   key=lambda p: p.stat().st_mtime)
    migrate = not (base / name / "data" / "PG_VERSION").exists() and bool(older)
    if migrate:
        print(f"migrating the PostgreSQL large data set {older[-1].name} → {name}", flush=True)
        older[-1].rename(base / name)
    with postgres_cluster(name, keep=True) as (url, fresh):
        if url and migrate:
            upgrade_database(url)
        if url and fresh:
            print("building the large data set on PostgreSQL once (a few minutes)", flush=True)
            upgrade_database(url)
            from demo.large import generate_large

            engine = make_engine(url)
            with write_session(engine) as session:
                generate_large(session=session, progress=lambda m: print("  " + m, flush=True))
            engine.dispose()
        yield url


@contextmanager
def throwaway_postgres_empty():
    """A new, empty cluster for this run only (removed afterwards): the database URL, or None."""
    import uuid

    with postgres_cluster(f"sixs-load-{uuid.uuid4().hex[:8]}", keep=False) as (url, _fresh):
        yield url


@contextmanager
def postgres_cluster(name: str, keep: bool):
    """(URL, whether the cluster was just created) of a cluster `name` started on a free loopback port, run as
    the `postgres` user when we are root (PostgreSQL refuses root); (None, False) without the binaries."""
    import glob
    import os
    import shutil
    import socket
    import subprocess

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        print("PostgreSQL binaries not found: the PostgreSQL rows are skipped (apt-get install postgresql)")
        yield None, False
        return
    bin_dir = Path(bins[-1]).parent
    # As root the cluster must live where the `postgres` user can reach it: its home directory.
    base = Path("/var/lib/postgresql") if os.geteuid() == 0 else CACHE
    home = base / name
    as_postgres = (lambda args: ["runuser", "-u", "postgres", "--", *args]) if os.geteuid() == 0 else (lambda a: a)
    fresh = not (home / "data" / "PG_VERSION").exists()
    if fresh:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(home, "postgres", "postgres")
        subprocess.run(as_postgres([str(bin_dir / "initdb"), "-D", str(home / "data"), "-U", "postgres",
                                    "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]), check=True,
                       capture_output=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run(as_postgres([str(bin_dir / "pg_ctl"), "-D", str(home / "data"), "-w", "-l", str(home / "log"),
                                "-o", f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off "
                                      "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB",
                                "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", fresh
    finally:
        subprocess.run(as_postgres([str(bin_dir / "pg_ctl"), "-D", str(home / "data"), "-m", "fast", "stop"]),
                       check=False, capture_output=True)
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def _sqlite(value: datetime) -> str:
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


if __name__ == "__main__":
    main()
