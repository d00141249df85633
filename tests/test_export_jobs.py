"""Large exports in the background: asked for on a page, built by the task with its progress, downloaded by the
one who asked (the same bytes a direct download gives), kept for a day, failures shown (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select

import clock
import exports.jobs as jobs
import tasks
from exports.models import ExportJob
from tests.conftest import AuthActions
from tests.helpers import answer_all_in_one_go, start, submit


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def inspected(app, client):
    """Two submitted inspections of W1 (2 × 105 answers), the manager signed in; large means over 50 rows."""
    auth = AuthActions(client)
    auth.login("manager")
    for _ in range(2):
        inspection_id = start(client, "W1")
        answer_all_in_one_go(app, inspection_id)
        assert submit(client, inspection_id).status_code == 303
    app.extensions["tasks"].huey.flush()  # the submits queued their reports: not what these tests are about
    app.config["LARGE_EXPORT_ROWS"] = 50
    return auth


def ask(client, dataset="answers", fmt="csv", **filters):
    response = client.post("/exports/jobs", data={"dataset": dataset, "fmt": fmt, **filters})
    assert response.status_code == 303, response.text[:300]
    return int(response.location.rsplit("/", 1)[1])


def job_row(app, job_id) -> ExportJob:
    with Session(app.extensions["engine"]) as session:
        return session.get(ExportJob, job_id)


def test_a_large_export_is_asked_for_then_built_with_progress_and_downloaded(app, client, inspected, monkeypatch):
    page = client.get("/exports/answers.csv?workshop=W1")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "210" in html and "开始生成" in html and 'name="workshop" value="W1"' in html

    job_id = ask(client, workshop="W1")
    waiting = client.get(f"/exports/jobs/{job_id}").get_data(as_text=True)
    assert 'data-export-state="queued"' in waiting and 'hx-trigger="every 1s"' in waiting
    # the poll gets the progress block alone
    fragment = client.get(f"/exports/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div class="export-progress"') and "<html" not in fragment

    seen = []
    real_update = jobs._update

    def update(job_id_, **fields):
        if "rows_done" in fields:
            seen.append((fields["rows_done"], fields.get("rows_total")))
        real_update(job_id_, **fields)

    monkeypatch.setattr(jobs, "_update", update)
    monkeypatch.setattr("exports.writers.PROGRESS_EVERY", 40)
    assert tasks.drain(app) == 1
    # told as it went: every 40 rows, then the end (the first is the reset when the task starts)
    assert seen[0] == (0, None) and [done for done, _total in seen[1:]] == [40, 80, 120, 160, 200, 210]

    done = client.get(f"/exports/jobs/{job_id}").get_data(as_text=True)
    assert 'data-export-state="done"' in done and "hx-trigger" not in done and "210" in done
    download = client.get(f"/exports/jobs/{job_id}/file", buffered=True)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "no-store" in download.headers["Cache-Control"] and "private" in download.headers["Cache-Control"]
    assert download.headers["Content-Disposition"].startswith('attachment; filename=6S-answers-')
    # the same rows the direct download gives
    app.config["LARGE_EXPORT_ROWS"] = 10_000
    direct = client.get("/exports/answers.csv?workshop=W1")
    assert csv_rows(download.data) == csv_rows(direct.data) and len(csv_rows(download.data)) == 211
    listed = client.get("/exports/jobs").get_data(as_text=True)
    assert f'data-export-job="{job_id}"' in listed and f"/exports/jobs/{job_id}/file" in listed


def test_an_excel_export_in_the_background_opens_with_every_row(app, client, inspected):
    job_id = ask(client, fmt="xlsx")
    tasks.drain(app)
    download = client.get(f"/exports/jobs/{job_id}/file", buffered=True)
    assert download.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(download.data), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("检查编号", "提交时间（Asia/Shanghai）", "工厂") and len(rows) == 211
    workbook.close()


def test_asking_twice_is_one_job_and_other_filters_another(app, client, inspected):
    first = ask(client, workshop="W1")
    assert ask(client, workshop="W1") == first  # a double tap, or asking again while it is on its way
    other = ask(client, workshop="W1", **{"from": "2020-01-01"})
    assert other != first
    assert ask(client, fmt="xlsx", workshop="W1") not in (first, other)
    assert tasks.drain(app) == 3
    assert ask(client, workshop="W1") == first  # done and fresh: the same file


def test_only_the_one_who_asked_sees_the_job(app, client, inspected):
    job_id = ask(client)
    tasks.drain(app)
    client.post("/logout")
    AuthActions(client).login("sup1")
    assert client.get(f"/exports/jobs/{job_id}").status_code == 404
    assert client.get(f"/exports/jobs/{job_id}/file").status_code == 404
    assert f'data-export-job="{job_id}"' not in client.get("/exports/jobs").get_data(as_text=True)
    # and a job can only be asked within one's scope
    assert client.post("/exports/jobs", data={"dataset": "answers", "fmt": "csv", "workshop": "W2"}).status_code == 404


def test_bad_requests_are_named(app, client, inspected):
    response = client.post("/exports/jobs", data={"dataset": "passwords", "fmt": "csv"})
    assert response.status_code == 422 and "passwords.csv" in response.get_data(as_text=True)
    response = client.post("/exports/jobs", data={"dataset": "answers", "fmt": "csv", "from": "2026-13-01"})
    assert response.status_code == 422 and "年-月-日" in response.get_data(as_text=True)
    job_id = ask(client)
    response = client.get(f"/exports/jobs/{job_id}/file")
    assert response.status_code == 409 and "还没有完成" in response.get_data(as_text=True)


@pytest.mark.clock
def test_a_file_is_kept_for_a_day_then_removed(clock_at, app, client, inspected, travel):
    job_id = ask(client)
    tasks.drain(app)
    store, key = app.extensions["storage"], jobs.export_key(job_row(app, job_id))
    assert store.exists(key)
    travel(clock.now() + timedelta(hours=23))
    with app.app_context():
        jobs.sweep_task()
    assert store.exists(key) and client.get(f"/exports/jobs/{job_id}/file", buffered=True).status_code == 200
    travel(clock.now() + timedelta(hours=2))
    # past the day the download is refused at once, even before the sweep removed it
    assert client.get(f"/exports/jobs/{job_id}/file").status_code == 410
    with app.app_context():
        jobs.sweep_task()
    assert not store.exists(key) and job_row(app, job_id).state == "expired"
    response = client.get(f"/exports/jobs/{job_id}/file")
    assert response.status_code == 410 and "请重新导出" in response.get_data(as_text=True)
    assert ask(client) != job_id  # asking again makes a new one


def test_a_failed_build_is_shown_and_a_later_run_finishes_it(app, client, inspected, monkeypatch):
    job_id = ask(client)

    def broken(*_args, **_kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(jobs, "write_csv", broken)
    tasks.drain(app)
    job = job_row(app, job_id)
    assert job.state == "failed" and "No space left on device" in job.error
    page = client.get(f"/exports/jobs/{job_id}").get_data(as_text=True)
    assert 'data-export-state="failed"' in page and "No space left on device" in page
    work = Path(app.config["DATA_DIR"]) / "exports-work"
    assert not list(work.glob("*.part")) and not app.extensions["storage"].exists(jobs.export_key(job))
    monkeypatch.undo()
    with app.app_context():
        jobs.build_task(job_id=job_id)
        jobs.build_task(job_id=job_id)  # run again (a retry after all): nothing changes
    job = job_row(app, job_id)
    assert job.state == "done" and job.rows_done == 210
    assert list(app.extensions["storage"].keys("exports/")) == [jobs.export_key(job)] and not list(work.iterdir())


def test_a_job_its_consumer_left_running_is_queued_again(app, client, inspected, travel):
    job_id = ask(client)
    tasks.drain(app)
    with Session(app.extensions["engine"]) as session:
        job = session.get(ExportJob, job_id)
        job.state, job.rows_done = "running", 40  # as a consumer killed mid-file leaves it
        session.commit()
    with app.app_context():
        jobs.sweep_task()
    assert tasks.drain(app) == 0  # heard of recently: still someone's
    travel(clock.now() + timedelta(minutes=11))
    with app.app_context():
        jobs.sweep_task()
    assert tasks.drain(app) == 1
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(ExportJob.state).where(ExportJob.id == job_id)).one() == "done"
