"""Workshop reports and plant 评比 are issued and stored: later downloads are the stored bytes (no render), a
change inside the period issues a new document in the background, each reader's scope and language is its own
document, and a stored file that was altered is never served."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

import clock
import reports.period_issuing as period_issuing
import tasks
from inspections.models import PeriodReport
from reports.archive import report_key
from tasks import TaskRun
from tests.conftest import AuthActions
from tests.helpers import answer_all_in_one_go, plant_today, published_items, scores_by, start, submit
from tests.test_period_reports import pdf_text


def inspect(app, client, workshop="W1", score=3):
    inspection_id = start(client, workshop)
    answer_all_in_one_go(app, inspection_id, scores=scores_by(published_items(app), lambda i, item: score))
    assert submit(client, inspection_id).status_code == 303
    return inspection_id


def stored(app) -> list[PeriodReport]:
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(PeriodReport).order_by(PeriodReport.id)))


def no_render(monkeypatch):
    monkeypatch.setattr(period_issuing, "render_pdf", lambda *a, **k: pytest.fail("rendered in the request"))


def test_a_workshop_report_is_rendered_once_then_served_as_stored(app, client, monkeypatch):
    AuthActions(client).login("sup1")
    inspect(app, client)
    tasks.drain(app)
    first = client.get("/workshops/W1/report.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert [(r.kind, r.subject, r.locale, r.scope) for r in stored(app)] == [("workshop", "W1", "zh", "1")]
    no_render(monkeypatch)
    again = client.get("/workshops/W1/report.pdf")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert "private" in again.headers["Cache-Control"] and "no-cache" in again.headers["Cache-Control"]
    assert client.get("/workshops/W1/report.pdf", headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    # another period is another document
    monkeypatch.undo()
    other = client.get("/workshops/W1/report.pdf?from=2026-01-01&to=2026-01-31")
    assert other.data != first.data and len(stored(app)) == 2


def test_an_inspection_in_the_period_issues_the_report_again_in_the_background(app, client, monkeypatch, tmp_path):
    AuthActions(client).login("sup1")
    inspect(app, client, score=4)
    tasks.drain(app)
    before = client.get("/workshops/W1/report.pdf")
    assert "检查次数1" in pdf_text(before.data, tmp_path)
    outside = client.get("/workshops/W1/report.pdf?from=2026-01-01&to=2026-01-31")  # not covering today
    assert len(stored(app)) == 2
    inspect(app, client, score=2)
    tasks.drain(app)  # the new inspection's reports, and the period reports that cover it
    reports = stored(app)
    assert len(reports) == 3 and reports[-1].period_end == reports[0].period_end
    no_render(monkeypatch)
    after = client.get("/workshops/W1/report.pdf")
    assert after.data != before.data and after.headers["ETag"] != before.headers["ETag"]
    assert "检查次数2" in pdf_text(after.data, tmp_path)
    assert client.get("/workshops/W1/report.pdf?from=2026-01-01&to=2026-01-31").data == outside.data


@pytest.mark.clock
def test_the_plant_document_of_this_month_is_the_plants_month(clock_at, app, client, tmp_path):
    """At each instant and machine zone: this month is the plant's, and its document holds what was done today."""
    AuthActions(client).login("manager")
    inspect(app, client, "W1")
    inspect(app, client, "W2")
    month = plant_today().strftime("%Y-%m")
    response = client.get(f"/plants/P1/report.pdf?month={month}")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    assert "2个车间·2次检查" in text  # both of today's inspections fall in the plant's month
    (document,) = [r for r in stored(app) if r.kind == "plant"]
    assert document.period_start.strftime("%Y-%m") == month


def test_each_readers_scope_and_language_is_its_own_plant_document(app, client, monkeypatch, tmp_path):
    auth = AuthActions(client)
    auth.login("manager")
    inspect(app, client, "W1")
    inspect(app, client, "W2")
    # the inspections' own reports are not drained: the plant's document is the subject
    month = plant_today().strftime("%Y-%m")
    manager = client.get(f"/plants/P1/report.pdf?month={month}")
    english = client.get(f"/plants/P1/report.pdf?month={month}&lang=en")  # the language sticks (a cookie)
    auth.logout()
    auth.login("sup1")
    supervisor = client.get(f"/plants/P1/report.pdf?month={month}&lang=zh_CN")
    assert "二号车间" in pdf_text(manager.data, tmp_path) and "二号车间" not in pdf_text(supervisor.data, tmp_path)
    assert manager.data != supervisor.data
    # the English one is a document of its own, in English; the locale column holds the report language
    assert sorted((r.locale, r.scope) for r in stored(app) if r.kind == "plant") == [
        ("en", "1,2"), ("zh", "1"), ("zh", "1,2")]
    english_text = pdf_text(english.data, tmp_path)
    assert "6Sranking" in english_text and "Topthree" in english_text and "月" not in english_text.split("一厂")[0]
    no_render(monkeypatch)
    assert client.get(f"/plants/P1/report.pdf?month={month}").data == supervisor.data
    auth.logout()
    auth.login("manager")
    assert client.get(f"/plants/P1/report.pdf?month={month}&lang=en").data == english.data


def test_an_altered_stored_file_is_never_served(app, client, travel):
    AuthActions(client).login("sup1")
    inspect(app, client)
    tasks.drain(app)
    first = client.get("/workshops/W1/report.pdf")
    path = (Path(app.config["DATA_DIR"]) / report_key(stored(app)[0].file_sha256))
    path.write_bytes(first.data.replace(b"%%EOF", b"%%EOF tampered"))
    travel(clock.now() + timedelta(minutes=5))  # printed later: other bytes than the first
    again = client.get("/workshops/W1/report.pdf")
    assert again.status_code == 200 and b"tampered" not in again.data and again.data != first.data
    # the row names the file just printed, so the next download is served from it, not printed again
    assert len(stored(app)) == 1
    assert again.headers["X-Report-SHA256"] == stored(app)[0].file_sha256 == hashlib.sha256(again.data).hexdigest()
    assert client.get("/workshops/W1/report.pdf").data == again.data
    (Path(app.config["DATA_DIR"]) / report_key(stored(app)[0].file_sha256)).unlink()
    assert client.get("/workshops/W1/report.pdf").status_code == 200
    assert (Path(app.config["DATA_DIR"]) / report_key(stored(app)[0].file_sha256)).exists()


def test_a_failing_refresh_leaves_the_inspections_reports_done(app, client, monkeypatch):
    AuthActions(client).login("sup1")
    inspect(app, client)
    tasks.drain(app)
    client.get("/workshops/W1/report.pdf")
    monkeypatch.setattr(period_issuing, "render_pdf", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    inspection_id = inspect(app, client)
    tasks.drain(app)
    assert 'data-report-state="ready"' in client.get(f"/inspections/{inspection_id}/report-state").text
    with Session(app.extensions["engine"]) as session:  # not failed, so not retried: the run is done
        run = session.exec(select(TaskRun).where(TaskRun.key == f"inspection:{inspection_id}")).one()
        assert (run.state, run.attempts) == ("done", 1)
    monkeypatch.undo()
    assert client.get("/workshops/W1/report.pdf").status_code == 200  # issued at its download instead
