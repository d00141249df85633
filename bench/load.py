"""Saves under load: 16 and 50 concurrent API clients saving answers on a real server, beside /healthz on the
same server at the same concurrency, on SQLite and on PostgreSQL.

The server is what `make serve` runs (gunicorn, 2 workers × 4 threads); the load is wrk (Debian's), two threads,
each connection a tablet working through its own draft. Every save carries a new note and change key, so each
200 is one stored change: after the run the applied changes in the database must equal the acknowledged saves.

    python -m bench.load            # both engines
    python -m bench.load sqlite     # one
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from database import make_engine, upgrade_database, write_session  # noqa: E402
from storage import LocalStorage  # noqa: E402

DURATION_S = int(os.environ.get("LOAD_SECONDS", "5"))
ROUNDS = int(os.environ.get("LOAD_ROUNDS", "3"))
TARGET_RATIO = {"SQLite": 0.25, "PostgreSQL": 0.4}
CLIENTS = (16, 50)
# as `make serve`; LOAD_GUNICORN to try others
GUNICORN = os.environ.get("LOAD_GUNICORN", "--workers 2 --threads 4").split() + ["--graceful-timeout", "3"]

# Each connection picks the next draft of its wrk thread and walks its items; the note makes every save a change.
LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  ok, other, n, acked = 0, 0, 0, {}
  run = args[1]
  targets = {}
  for i = 2, #args do table.insert(targets, args[i]) end
end
function request()
  n = n + 1
  local target = targets[(n % #targets) + 1]
  local key = "load-" .. run .. "-" .. tid .. "-" .. n
  local body = '{"score": 3, "note": "' .. key .. '", "change_key": "' .. key .. '"}'
  return wrk.format("PUT", target, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. TOKEN}, body)
end
function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    table.insert(acked, string.match(body, '"note":%s*"([^"]+)"'))
  else other = other + 1 end
end
function done(summary, latency, requests)
  local acked, failed = 0, 0
  local keys = io.open(os.getenv("LOAD_ACKED"), "w")
  for _, t in ipairs(threads) do
    acked = acked + t:get("ok"); failed = failed + t:get("other")
    for _, key in ipairs(t:get("acked")) do keys:write(key, "\n") end
  end
  keys:close()
  io.write(string.format("RESULT %d %d %.1f %.1f %.1f %d\n", acked, failed, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.requests))
end
"""

HEALTH_LUA = r"""
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.1f %.1f %.1f %d\n", summary.requests - summary.errors.status,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.requests))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(url: str, data_dir: Path, drafts: int) -> tuple[str, list[str]]:
    """Demo data, an API token for an inspector and `drafts` drafts of theirs: (token, target paths)."""
    from sqlmodel import select

    from accounts.models import User
    from accounts.sessions import create_api_token
    from app import create_app
    from demo.generate import generate_demo
    from inspections.models import Workshop
    from inspections.starting import start_inspection

    upgrade_database(url)
    # the app connects the packages' events (findings announce themselves) before the demo records any
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-load-" + "x" * 32, "DATABASE_URL": url,
                      "DATA_DIR": str(data_dir)})
    engine = app.extensions["engine"]
    with write_session(engine) as session:
        generate_demo(session=session, store=LocalStorage(data_dir))
    targets = []
    with write_session(engine) as session:
        user = session.exec(select(User).where(User.username == "zhang")).one()
        token = create_api_token(session=session, user=user, label="load")
        workshop = session.exec(select(Workshop).where(Workshop.code == "SZ-CNC")).one()
        for _ in range(drafts):
            inspection = start_inspection(session=session, user=user, workshop=workshop)
            session.flush()
            items = [i.key for c in inspection.version.categories for i in c.items]
            targets.extend(f"/api/v1/inspections/{inspection.id}/answers/{key}" for key in items[:8])
    engine.dispose()
    return token, targets


@contextmanager
def server(url: str, data_dir: Path):
    port = free_port()
    metrics = data_dir / "metrics"
    metrics.mkdir(exist_ok=True)
    env = dict(os.environ, DATABASE_URL=url, DATA_DIR=str(data_dir), SECRET_KEY="load-" + os.urandom(16).hex(),
               TASK_QUEUE="memory", PROMETHEUS_MULTIPROC_DIR=str(metrics))
    # the log (a JSON line a request) goes to a file: a pipe nobody reads would fill and stop the server
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), *GUNICORN, "--bind",
                                f"127.0.0.1:{port}", "app:create_app()"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()  # noqa: S310 (our own loopback)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the server did not start: " + (data_dir / "server.log").read_text()[-2000:])
        yield base
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def wrk(base: str, path: str, clients: int, script: str, args: list[str] = (), acked_file: Path | None = None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    env = dict(os.environ, LOAD_ACKED=str(acked_file or os.devnull))
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{DURATION_S}s", "-s", lua.name, base + path,
                              *(["--", *args] if args else [])], capture_output=True, text=True, check=True,
                             env=env).stdout
    finally:
        os.unlink(lua.name)
    acked, failed, p50, p95, p99, total = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)",
                                                     out).groups()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"acked": int(acked), "failed": int(failed), "p50": float(p50), "p95": float(p95), "p99": float(p99),
            "rate": rate, "total": int(total)}


def stored_notes(url: str, run: str) -> set[str]:
    """The notes of the applied changes of this run (each save's note is its change key)."""
    from sqlalchemy import text

    engine = make_engine(url)
    with engine.connect() as connection:
        notes = connection.execute(text(
            "SELECT new_note FROM answer_change WHERE outcome = 'applied' AND change_key LIKE :run"),
            {"run": f"load-{run}-%"}).scalars().all()
    engine.dispose()
    return set(notes)


def run_engine(name: str, url: str, data_dir: Path) -> list[tuple]:
    """Per client count, ROUNDS rounds of (saves, then /healthz): medians of the rates and of the per-round
    ratios, so one noisy moment of the machine does not decide the figure."""
    rows = []
    token, targets = prepare(url, data_dir, drafts=max(CLIENTS))
    with server(url, data_dir) as base:
        for clients in CLIENTS:
            saves_rounds, health_rounds, acked, lost, refused = [], [], set(), set(), 0
            for round_ in range(ROUNDS):
                run = f"c{clients}r{round_}"
                acked_file = data_dir / f"acked-{run}.txt"
                saves = wrk(base, "/", clients, LUA.replace("TOKEN", json.dumps(token)), [run, *targets],
                            acked_file)
                health_rounds.append(wrk(base, "/healthz", clients, HEALTH_LUA))
                saves_rounds.append(saves)
                round_acked = set(acked_file.read_text().split())
                acked |= round_acked
                lost |= round_acked - stored_notes(url, run)
                refused += saves["failed"]
            med = {key: statistics.median(r[key] for r in saves_rounds) for key in ("rate", "p50", "p95")}
            health = {key: statistics.median(r[key] for r in health_rounds) for key in ("rate", "p50")}
            ratio = statistics.median(s["rate"] / h["rate"] for s, h in zip(saves_rounds, health_rounds, strict=True))
            target = TARGET_RATIO[name]
            rows.append((f"answer saves, {clients} clients, {name}",
                         f"{med['rate']:.0f}/s, p50 {med['p50']:.0f} ms, p95 {med['p95']:.0f} ms",
                         f"/healthz {health['rate']:.0f}/s, p50 {health['p50']:.0f} ms",
                         f"{ratio:.2f}× (target ≥ {target}×, p95 ≤ 100 ms at 16) · "
                         + (f"{len(acked)} acked, all stored" if not lost else f"{len(lost)} acked LOST")
                         + (f" · {refused} refused" if refused else "")))
    return rows


@contextmanager
def sqlite_url():
    workdir = Path(tempfile.mkdtemp(prefix="sixs-load-"))
    try:
        yield f"sqlite:///{workdir}/load.db", workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_url():
    from bench.large import throwaway_postgres_empty

    workdir = Path(tempfile.mkdtemp(prefix="sixs-load-"))
    try:
        with throwaway_postgres_empty() as url:
            yield url, workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(engines: list[str]) -> list[tuple]:
    if not shutil.which("wrk"):
        print("wrk not found: the load rows are skipped (apt-get install wrk)")
        return []
    rows = []
    for name in engines:
        with (sqlite_url() if name == "sqlite" else postgres_url()) as (url, workdir):
            if url is None:
                continue
            rows.extend(run_engine("SQLite" if name == "sqlite" else "PostgreSQL", url, workdir))
    return rows


if __name__ == "__main__":
    from bench.__main__ import print_rows

    print_rows(main(sys.argv[1:] or ["sqlite", "postgresql"]))
