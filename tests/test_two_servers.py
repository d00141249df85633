"""A group installation in one test: two app servers (gunicorn, different ports), one task consumer, one
PostgreSQL (records and the task queue), one S3-compatible object store, all on 127.0.0.1. Work started on one
server goes on on the other; the consumer's report is served by both; a tablet's replay reaches the other server
after the first one is gone."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests
from sqlmodel import Session, select

from inspections.models import AnswerChange, Photo, ReportDocument
from tests.conftest import _pg_url
from tests.helpers import published_items, token_headers
from tests.seed import PASSWORD
from tests.servers import ROOT, client, csrf, gunicorn, stop
from tests.test_background_reports import consumer, wait_for
from tests.test_storage import _bucket, _jpeg

pytestmark = pytest.mark.postgres


def test_two_servers_one_consumer_one_database_one_bucket(pg_database, s3_env, tmp_path):
    info = pg_database
    database = _pg_url(info.host, info.port, info.user, info.dbname)
    env = dict(os.environ, DATABASE_URL=database, TASK_QUEUE=database, SECRET_KEY="g" * 32,
               STORAGE_URL=f"s3://{_bucket(s3_env)}/group", STORAGE_ENDPOINT_URL=s3_env,
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    processes = []
    log = tmp_path / "servers.log"
    try:
        server_a, a = gunicorn({**env, "DATA_DIR": str(tmp_path / "a")}, log)
        processes.append(server_a)
        server_b, b = gunicorn({**env, "DATA_DIR": str(tmp_path / "b")}, log)
        processes.append(server_b)
        worker = consumer({**env, "DATA_DIR": str(tmp_path / "c")}, ROOT, tmp_path / "consumer.log")
        processes.append(worker)

        from tests.conftest import _make_app

        app = _make_app(database, tmp_path / "reader")  # reads the shared database for the assertions
        api = token_headers(app, "sup1")
        items = [item.key for item in published_items(app)]

        # start on A (the API), answer on B
        inspection_id = client().post(f"{a}/api/v1/workshops/W1/inspections", headers=api).json()["id"]
        tablet = client()
        for key in items:
            saved = tablet.put(f"{b}/api/v1/inspections/{inspection_id}/answers/{key}", headers=api,
                               json={"score": 3, "change_key": f"b-{key}"})
            assert saved.status_code == 200, saved.text
        # a photo on B, from the screens: a session signed in on A is good on B (sessions live in the database)
        supervisor = client()
        token = csrf(supervisor.get(f"{a}/login").text)
        assert supervisor.post(f"{a}/login", data={"csrf_token": token, "username": "sup1", "password": PASSWORD},
                               allow_redirects=False).status_code == 303
        form = supervisor.get(f"{b}/inspections/{inspection_id}").text
        uploaded = supervisor.post(f"{b}/inspections/{inspection_id}/photos/{items[0]}",
                                   data={"csrf_token": csrf(form)},
                                   files={"photo": ("p.jpg", _jpeg(), "image/jpeg")}, allow_redirects=False)
        assert uploaded.status_code in (200, 303), uploaded.text[:300]
        with Session(app.extensions["engine"]) as session:
            photo = session.exec(select(Photo).where(Photo.inspection_id == inspection_id)).one()
        shown = supervisor.get(f"{a}/photos/{photo.id}")  # taken on B, shown by A: the bucket is shared
        assert shown.status_code == 200 and hashlib.sha256(shown.content).hexdigest() == photo.sha256

        # submit on A; the consumer issues the report; B serves it, A verifies it
        assert client().post(f"{a}/api/v1/inspections/{inspection_id}/submit", headers=api).status_code == 200

        def issued():
            with Session(app.extensions["engine"]) as session:
                return session.exec(select(ReportDocument).where(ReportDocument.inspection_id == inspection_id,
                                                                 ReportDocument.kind == "full")).first()

        document = wait_for(issued, timeout=120, step=0.2)
        report = supervisor.get(f"{b}/inspections/{inspection_id}/report.pdf")
        assert report.status_code == 200 and report.headers["X-Report-Document"] == f"6S-{inspection_id}-1"
        assert hashlib.sha256(report.content).hexdigest() == document.file_sha256
        verified = client().get(f"{a}/verify/{document.file_sha256}")
        assert verified.status_code == 200 and f"6S-{inspection_id}-1" in verified.text

        # a tablet saves on A, the answer reaches A but the reply is lost; A goes away; the outbox replays on B
        draft = client().post(f"{a}/api/v1/workshops/W2/inspections",
                                headers=token_headers(app, "sup2")).json()["id"]
        sup2 = token_headers(app, "sup2")
        change = {"score": 1, "note": "地面油污", "revision": 0, "change_key": "tablet-7-0001"}
        assert client().put(f"{a}/api/v1/inspections/{draft}/answers/{items[0]}", headers=sup2,
                              json=change).status_code == 200
        server_a.terminate()
        server_a.wait(15)
        with pytest.raises(requests.ConnectionError):
            client().put(f"{a}/api/v1/inspections/{draft}/answers/{items[0]}", headers=sup2, json=change,
                           timeout=5)
        replay = client().put(f"{b}/api/v1/inspections/{draft}/answers/{items[0]}", headers=sup2, json=change)
        assert replay.status_code == 200 and replay.json()["revision"] == 1 and replay.json()["note"] == "地面油污"
        with Session(app.extensions["engine"]) as session:
            changes = session.exec(select(AnswerChange).where(AnswerChange.inspection_id == draft)).all()
        assert [(c.outcome, c.revision) for c in changes] == [("applied", 1)]  # once, not twice, no conflict
        app.extensions["engine"].dispose()
    finally:
        stop(processes)
