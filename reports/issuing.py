"""Issuing inspection reports: the PDF of the record as it stands, stored once per state of the record.

At submit and at every change of the record (a signature, an approval, a correction, a corrective action's move)
the background task issues the new documents, so a download serves stored bytes. A download that comes first
(the consumer busy or down) issues the document itself: the same idempotent step, so the two never store two.
A consumer killed mid-render leaves its run marked running; the sweep queues it again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, render_template, request
from flask_login import current_user
from prometheus_client.core import CounterMetricFamily
from sqlalchemy import func, or_
from sqlmodel import Session, select

import clock
import events
from accounts.site import site_base_url
from database import db
from inspections.models import Inspection, InspectionStatus, ReportDocument
from inspections.representation import inspection_json
from liveness import holder_known_dead
from observability import database_figure, report_rendered
from reports.archive import (
    RECORD_FILE,
    REPORT_KINDS,
    fingerprint,
    issue_report,
    latest_document,
    number_of,
    record_statement,
)
from reports.context import inspection_report_context
from reports.language import DEFAULT_REPORT_LANGUAGE, ReportLanguage, language_context, language_of_plant
from reports.pdf import Embedded, render_pdf
from reports.period_issuing import refresh_covering
from storage import storage
from tasks import TaskRun, after_commit, at_start, background, beat, every, run_of, run_state
from web import at_plant, public_url, qr_svg

ISSUE_TASK = "reports.issue"
SWEEP_TASK = "reports.sweep"
STUCK_AFTER = timedelta(minutes=5)
QUEUED_GRACE = timedelta(minutes=1)  # a queued run is taken within seconds; one older than this never reached it
RESUME_TASK = "reports.resume"


def render_inspection_pdf(inspection: Inspection, kind: str, issue, context: dict | None = None,
                          language: str = DEFAULT_REPORT_LANGUAGE, archival: bool = True) -> bytes:
    """The report HTML for this issue in its language, printed by WeasyPrint (a request context is needed for its
    URLs)."""
    words = ReportLanguage(language, source=inspection.version.language)
    at_plant(inspection.workshop.plant)  # the plant's clock, whoever renders it (a request or the task consumer)
    context = context or inspection_report_context(session=db(), inspection=inspection, words=words)
    images = {f"/signatures/{s.image_sha256}.png": s.image_png for s in context["signatures"] if s.image_png}
    # the document's number with the fingerprint: the full report and its summary print the same record
    verify_url = public_url("verify.document", sha256=issue.record_sha256, document=issue.number)
    now = clock.now()
    html = render_template(
        "print/inspection.html", **context, issue=issue, kind=kind, now=now, verify_url=verify_url,
        verify_qr=qr_svg(verify_url), previous_number=number_of(issue.previous) if issue.previous else None,
        **language_context(words),
    )
    started = time.perf_counter()
    embedded = embedded_record(inspection, issue, now) if archival else ()
    pdf = render_pdf(html, storage(), images, embedded=embedded, archival=archival)
    report_rendered(kind, time.perf_counter() - started)
    return pdf


INSPECTION_FILE = "inspection.json"


def embedded_record(inspection: Inspection, issue, at) -> list[Embedded]:
    """What the PDF carries beside its pages (PDF/A-3 associated files): the record statement, whose SHA-256 is
    the fingerprint printed on every page (/verify accepts a PDF by it even when the file itself was re-saved),
    and the inspection as the API answers it, for a program reading the archive."""
    answer = json.dumps(inspection_json(db(), inspection), ensure_ascii=False, sort_keys=True, indent=1)
    return [
        Embedded(RECORD_FILE, issue.record_json.encode(), f"记录声明 record statement · SHA-256 {issue.record_sha256}",
                 at),
        Embedded(INSPECTION_FILE, answer.encode(), "检查记录 the inspection (GET /api/v1/inspections/"
                 f"{inspection.id})", at),
    ]


def plant_language(inspection: Inspection) -> str:
    return language_of_plant(inspection.workshop.plant)


def issued_inspection_report(inspection: Inspection, kind: str, user=None, language: str | None = None):
    """The stored report in `language` (the plant's by default); the report context (charts, history) is gathered
    only when a render is needed."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    language = language or plant_language(inspection)
    return issue_report(engine=current_app.extensions["engine"], session=db(), inspection=inspection, kind=kind,
                        store=storage(), user=user, language=language,
                        render=lambda issue: render_inspection_pdf(inspection, kind, issue, language=language))


def languages_to_issue(inspection: Inspection) -> list[str]:
    """The plant's language, and every other one a report of this inspection was already issued in (a record
    that changes changes all of them)."""
    issued = db().exec(select(ReportDocument.language).where(ReportDocument.inspection_id == inspection.id)
                       .distinct()).all()
    first = plant_language(inspection)
    return [first, *sorted(set(issued) - {first})]


def report_is_current(inspection: Inspection, kind: str = "full") -> bool:
    latest = latest_document(db(), inspection.id, kind, plant_language(inspection))
    return latest is not None and latest.record_sha256 == fingerprint(record_statement(session=db(),
                                                                                        inspection=inspection))


@dataclass(frozen=True)
class ReportState:
    """What the result page says about the report: ready, being issued (queued or running), or failed (and
    retried), with the error and how many attempts were made."""

    state: str
    attempts: int = 0
    error: str = ""

    @property
    def ready(self) -> bool:
        return self.state == "ready"


def report_state(inspection: Inspection) -> ReportState:
    if report_is_current(inspection):
        return ReportState("ready")
    run = run_of(db(), run_key(inspection.id))
    if run is None or run.state == "done":
        return ReportState("queued")  # a record changed before the queue knew (or a run pending): being issued
    return ReportState(run.state, run.attempts, run.error)


def run_key(inspection_id: int) -> str:
    return f"inspection:{inspection_id}"


def init_app(app) -> None:
    events.record_changed.connect(request_reports)
    events.inspection_record_shown.connect(record_on_screen)


def record_on_screen(session, inspection: Inspection) -> dict:
    """The result page shows the record as its report prints it, and the state of its issued report."""
    return {**inspection_report_context(session=session, inspection=inspection),
            "report": report_state(inspection) if inspection.status == InspectionStatus.submitted else None}


def request_reports(session, inspection: Inspection) -> None:
    """The record changed: issue its reports in the background once this transaction has committed."""
    if inspection.status != InspectionStatus.submitted:
        return
    base_url = request.host_url if has_request_context() else None
    after_commit(session, ISSUE_TASK, run_key=run_key(inspection.id), inspection_id=inspection.id, base_url=base_url)


def _remembered_address(app) -> str:
    """Where people reach the app (see accounts.site): the report's QR code and links must open on their tablets."""

    with Session(app.extensions["engine"]) as session:
        base = site_base_url(session, None)
    return base + "/" if base else ""


@background(ISSUE_TASK, retries=3, retry_delay=15)
def issue_reports_task(inspection_id: int, base_url: str | None = None) -> None:
    """Issue every kind of report of the inspection as its record stands (nothing when they are current)."""
    app = current_app
    base = base_url or app.config.get("PUBLIC_BASE_URL") or _remembered_address(app) or "http://localhost/"
    with app.test_request_context("/", base_url=base):
        with run_state(run_key(inspection_id), ISSUE_TASK, inspection_id=inspection_id, base_url=base_url):
            inspection = db().get(Inspection, inspection_id)
            if inspection is None or inspection.status != InspectionStatus.submitted:
                return
            for language in languages_to_issue(inspection):
                for kind in REPORT_KINDS:
                    issued_inspection_report(inspection, kind, language=language)
                    db().rollback()  # end the read snapshot: the next kind sees the document just stored
        # the stored workshop reports and plant 评比 whose period covers this inspection, outside the run: the
        # inspection's reports are done whatever happens here, and a report not refreshed is issued at download
        try:
            refresh_covering(session=db(), inspection=inspection)
        except Exception:
            app.logger.exception("period reports covering inspection %s were not issued again", inspection_id)


@background(SWEEP_TASK, retries=0)
def sweep_task() -> None:
    """Queue again the report runs nobody is working on: queued but never taken (the process that committed the
    change died before it reached the queue) after QUEUED_GRACE, running or failed after TASK_STUCK_AFTER."""
    beat()  # the sweep runs every minute on the consumer: it is also the consumer's heartbeat
    now = clock.now()
    stuck = now - timedelta(seconds=current_app.config.get("TASK_STUCK_AFTER", STUCK_AFTER.total_seconds()))
    untaken = now - QUEUED_GRACE
    stale = db().exec(select(TaskRun).where(TaskRun.name == ISSUE_TASK, or_(
        (TaskRun.state == "queued") & (TaskRun.updated_at < untaken),
        TaskRun.state.in_(("running", "failed")) & (TaskRun.updated_at < stuck)))).all()
    for run in stale + _held_by_the_dead():
        current_app.extensions["tasks"].enqueue(ISSUE_TASK, run_key=run.key, **run.arguments)


def _held_by_the_dead() -> list[TaskRun]:
    """Runs left running by a consumer of this host that is gone (killed mid-render): no need to wait for
    TASK_STUCK_AFTER. A run held on another host waits for it (we cannot see that process)."""
    running = db().exec(select(TaskRun).where(TaskRun.name == ISSUE_TASK, TaskRun.state == "running")).all()
    return [run for run in running if run.holder is None or holder_known_dead(run.holder)]


@background(RESUME_TASK, retries=0)
def resume_task() -> None:
    """A consumer starting takes back at once the report runs its dead predecessor left running (their holder is
    gone); a run another live consumer is rendering is left to it."""
    for run in _held_by_the_dead():
        current_app.extensions["tasks"].enqueue(ISSUE_TASK, run_key=run.key, **run.arguments)


@database_figure
def reports_issued(session):
    issued = CounterMetricFamily("sixs_reports_issued", "Report documents issued and stored", labels=["kind"])
    for kind, count in session.exec(select(ReportDocument.kind, func.count()).group_by(ReportDocument.kind)):
        issued.add_metric([kind], count)
    yield issued


every(SWEEP_TASK, minute="*")
at_start(SWEEP_TASK)
at_start(RESUME_TASK)
