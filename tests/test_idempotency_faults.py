"""An Idempotency-Key across a worker's death (#35): the key is released as soon as its worker is known dead when
nothing was done, and a request that was carried out is never done twice (its lost answer is said so).

The worker really dies: the app runs in a child process that exits (os._exit, no cleanup) at the chosen moment."""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from sqlmodel import Session, func, select

import clock
from accounts.models import User
from api.models import IdempotencyKey
from inspections.models import Inspection
from liveness import holder_mark
from tests.helpers import token_headers

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from werkzeug.serving import make_server
    from app import create_app
    import api.views

    app = create_app({{"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": {url!r}, "DATA_DIR": {data!r},
                       "WTF_CSRF_ENABLED": False}})
    if {dies!r} == "after_commit":  # the draft is committed, the answer never kept nor sent
        api.views.keep_answer = lambda response: os._exit(9)
    elif {dies!r} == "before_commit":  # the worker dies while starting the inspection
        api.views.start_inspection = lambda **kwargs: os._exit(9)
    server = make_server("127.0.0.1", {port}, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()
""")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(url: str, data: Path, dies: str | None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", WORKER.format(root=str(ROOT), url=url, data=str(data),
                                                                      dies=dies, port=port)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = process.stdout.readline().strip()
    process.stdout.close()  # nothing else is printed there
    assert ready == "ready"
    return process, f"http://127.0.0.1:{port}"


def _drafts(app) -> int:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(func.count()).select_from(Inspection)).one()


@pytest.mark.parametrize("dies", ["before_commit", "after_commit"])
def test_a_worker_killed_mid_request_neither_holds_the_key_nor_does_the_thing_twice(sqlite_app, tmp_path, dies):
    app = sqlite_app
    headers = token_headers(app, "sup1") | {"Idempotency-Key": "start-after-crash"}
    dying, base = _worker(app.config["DATABASE_URL"], tmp_path / "data", dies)
    try:
        with pytest.raises(requests.ConnectionError):
            requests.post(f"{base}/api/v1/workshops/W1/inspections", headers=headers, timeout=30)
        assert dying.wait(10) == 9
    finally:
        dying.kill()
    assert _drafts(app) == (1 if dies == "after_commit" else 0)
    survivor, base = _worker(app.config["DATABASE_URL"], tmp_path / "data", None)
    try:
        retry = requests.post(f"{base}/api/v1/workshops/W1/inspections", headers=headers, timeout=30)
        again = requests.post(f"{base}/api/v1/workshops/W1/inspections", headers=headers, timeout=30)
    finally:
        survivor.kill()
        survivor.wait(10)
    if dies == "before_commit":  # nothing was done: the retry runs now, not two minutes later
        assert retry.status_code == 201, retry.text
        assert again.status_code == 201 and again.json() == retry.json()
    else:  # done, answer lost: said so, and never done twice
        assert retry.status_code == 409 and retry.json()["code"] == "idempotency_answer_lost"
        assert again.status_code == 409 and again.headers.get("Idempotent-Replayed") == "true"
    assert _drafts(app) == 1


def test_a_claim_of_a_live_worker_waits_and_of_a_dead_one_is_released(app, client):
    """Without killing anything: a claim whose holder is this (live) process is being answered; a claim whose
    holder has exited is free at once; a claim of another host waits for the two minutes."""
    from api.idempotency import _fingerprint

    exited = subprocess.Popen(["true"])
    exited.wait()
    dead_holder = f"{socket.gethostname()}:{exited.pid}:1"
    with app.test_request_context("/api/v1/workshops/W1/inspections", method="POST"):
        same = _fingerprint()
    with Session(app.extensions["engine"]) as session:
        sup1 = session.exec(select(User).where(User.username == "sup1")).one()
        for key, holder in (("live", holder_mark()), ("dead", dead_holder), ("elsewhere", "other-host:1:1")):
            session.add(IdempotencyKey(user_id=sup1.id, key=key, request_sha256=same, created_at=clock.now(),
                                       holder=holder))
        session.commit()
    headers = token_headers(app, "sup1")
    for key, status in (("live", 409), ("elsewhere", 409), ("dead", 201)):
        answer = client.post("/api/v1/workshops/W1/inspections", headers=headers | {"Idempotency-Key": key})
        assert answer.status_code == status, (key, answer.get_json())
    assert os.getpid() != exited.pid
