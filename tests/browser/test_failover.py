"""A supervisor's tablet behind nginx with two app servers: answers wait in the outbox while the network is gone,
the server the tablet was using stops meanwhile, and when the network is back the outbox replays against the
other one. Nothing is lost, nothing is applied twice. PostgreSQL and an S3 bucket are shared; all on loopback."""

from __future__ import annotations

import os

import pytest
from sqlmodel import Session, select

from inspections.models import Answer, AnswerChange
from tests.browser.actions import new_inspection
from tests.conftest import _free_port, _make_app, _pg_url
from tests.helpers import published_items
from tests.servers import gunicorn, has_nginx, nginx, stop
from tests.test_storage import _bucket

pytestmark = [pytest.mark.browser, pytest.mark.postgres,
              pytest.mark.skipif(not has_nginx(), reason="nginx not installed (apt-get install nginx-light)")]

HTTP_BLOCK = """
    access_log {{dir}}/access.log;
    upstream sixs {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{b} backup;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 16m;
        location / {{
            proxy_pass http://sixs;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
        }}
    }}
"""


def radio(page, key, value):
    return page.locator(f'[data-item-code="{key}"] input[type=radio][value="{value}"]')


def test_the_outbox_replays_against_the_other_server_when_its_own_is_gone(pg_database, s3_env, browser,
                                                                        tmp_path, artifacts):
    info = pg_database
    database = _pg_url(info.host, info.port, info.user, info.dbname)
    env = dict(os.environ, DATABASE_URL=database, TASK_QUEUE="memory", SECRET_KEY="f" * 32, TRUSTED_PROXIES="1",
               STORAGE_URL=f"s3://{_bucket(s3_env)}/group", STORAGE_ENDPOINT_URL=s3_env,
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    processes = []
    try:
        server_a, a = gunicorn({**env, "DATA_DIR": str(tmp_path / "a")}, tmp_path / "a.log")
        processes.append(server_a)
        server_b, b = gunicorn({**env, "DATA_DIR": str(tmp_path / "b")}, tmp_path / "b.log")
        processes.append(server_b)
        conf = tmp_path / "nginx"
        conf.mkdir()
        port = _free_port()
        processes.append(nginx(conf, HTTP_BLOCK.format(a=a.rsplit(":", 1)[1], b=b.rsplit(":", 1)[1], port=port)))
        base = f"http://127.0.0.1:{port}"
        app = _make_app(database, tmp_path / "reader")

        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
        page = context.new_page()
        try:
            inspection_id = new_inspection(page, base)  # served by A
            page.evaluate("navigator.serviceWorker.ready")
            items = [item for item in published_items(app) if item.category_key == "sort"][:6]
            radio(page, items[0].key, "4").check()
            page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
            context.set_offline(True)  # the Wi-Fi goes
            chosen = {items[0].key: 4}
            for n, item in enumerate(items[1:], start=1):
                radio(page, item.key, str(n % 5)).check()
                chosen[item.key] = n % 5
            page.wait_for_selector(f'[data-outbox-count="{len(items) - 1}"]')
            server_a.terminate()  # meanwhile the server the tablet used is stopped (a deploy, a crash)
            server_a.wait(15)
            context.set_offline(False)
            page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=60_000)
            page.screenshot(path=str(artifacts / "failover-synced-1024x768.png"))
            page.reload()  # the page now comes from B, with the answers B stored
            for key, value in chosen.items():
                assert radio(page, key, str(value)).is_checked(), key
        finally:
            context.close()
        with Session(app.extensions["engine"]) as session:
            stored = {a.item.key: a.score for a in session.exec(
                select(Answer).where(Answer.inspection_id == inspection_id))}
            changes = session.exec(select(AnswerChange).where(AnswerChange.inspection_id == inspection_id)).all()
        assert stored == chosen
        assert sorted(c.outcome for c in changes) == ["applied"] * len(items)  # each once, no conflict
        replayed = (tmp_path / "b.log").read_text()  # B's own access lines: the replays went there
        assert all(f"POST /inspections/{inspection_id}/answers/{item.key} 200" in replayed for item in items[1:])
        assert f"/answers/{items[0].key} 200" not in replayed  # saved on A before it stopped
        app.extensions["engine"].dispose()
    finally:
        stop(processes)
