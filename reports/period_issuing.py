"""Workshop reports and plant 评比 issued like inspection reports: one stored PDF per content, served as stored
bytes, issued again when what a period covers changes.

A period report has no record of its own to fingerprint: what it shows is gathered from many (inspections, actions,
red tags, the day it is read on). So the fingerprint is the report's own HTML with the print time left out
(rendering the template takes milliseconds; the PDF takes about a second): the same HTML is the same document.
After a change of an inspection (submit, signature, correction, an action's move) the background task issues again
the stored reports (issued in the last REFRESH_WITHIN) whose period covers its day, so the next download is
served at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Response, abort, current_app, render_template, request
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

import clock
from accounts.models import Plant, Workshop
from clock.periods import Period
from database import write_session
from inspections.models import Inspection, PeriodReport
from reports.archive import ArchiveCorrupt, read_report_file, store_report_file
from reports.context import plant_report_context, workshop_report_context
from reports.language import (
    DEFAULT_REPORT_LANGUAGE,
    ReportLanguage,
    UnknownReportLanguage,
    language_context,
    language_of_plant,
    report_language_of,
)
from reports.pdf import ReportUnavailable, render_pdf
from storage import storage
from web import at_plant

TEMPLATES = {"workshop": "print/workshop.html", "plant": "print/plant.html",
             "calibration": "print/calibration.html"}  # a joint inspection's report (quality.calibration_views)
# What the fingerprint's HTML says for the print time: a fixed instant, so only the content decides.
FINGERPRINT_NOW = datetime(2000, 1, 1, tzinfo=UTC)
REFRESH_WITHIN = timedelta(days=92)  # the stored reports refreshed in the background: those issued lately
# the screens' locale a report's context is gathered in (the charts' and signals' words): English for English
BABEL_LOCALE = {"zh": "zh_CN", "en": "en", "zh-en": "zh_CN"}


@dataclass(frozen=True)
class IssuedPeriodReport:
    report: PeriodReport
    pdf: bytes
    fresh: bool  # rendered by this call


def scope_of(workshops) -> str:
    return ",".join(str(w.id) for w in sorted(workshops, key=lambda w: w.id))


def issue_period_report(*, session: Session, kind: str, subject: str, period: Period, workshops,
                        context: dict, language: str = DEFAULT_REPORT_LANGUAGE) -> IssuedPeriodReport:
    """The stored document for this content in this language (zh, en, zh-en: the `locale` column), or a new one
    rendered, stored and recorded."""
    template = TEMPLATES[kind]
    workshops = list(workshops)
    if workshops:  # one plant's report: its times on the plant's clock, whoever renders it (a request, the consumer)
        at_plant(workshops[0].plant)
    context = {**context, **language_context(ReportLanguage(language))}
    html_sha256 = hashlib.sha256(render_template(template, **context, now=FINGERPRINT_NOW).encode()).hexdigest()
    key = {"kind": kind, "subject": subject, "period_start": period.start, "period_end": period.end,
           "locale": language, "scope": scope_of(workshops), "html_sha256": html_sha256}
    store = storage()
    stored = session.exec(select(PeriodReport).filter_by(**key)).first()
    if stored is not None:
        try:
            return IssuedPeriodReport(stored, read_report_file(store, stored.file_sha256), fresh=False)
        except ArchiveCorrupt:
            current_app.logger.error("stored period report %s is missing or altered: issued again", stored.id)
    pdf = render_pdf(render_template(template, **context, now=clock.now()), store)
    file_sha256 = hashlib.sha256(pdf).hexdigest()
    store_report_file(store, pdf, file_sha256)
    try:
        with write_session(current_app.extensions["engine"]) as writer:
            if stored is None:
                report = PeriodReport(**key, file_sha256=file_sha256, byte_size=len(pdf))
                writer.add(report)
            else:  # the same content, printed again: the row now names the new file
                report = writer.get(PeriodReport, stored.id)
                report.file_sha256, report.byte_size = file_sha256, len(pdf)
    except IntegrityError:  # issued by someone else meanwhile (a download beside the refresh): theirs stands
        session.rollback()
        report = session.exec(select(PeriodReport).filter_by(**key)).one()
        return IssuedPeriodReport(report, read_report_file(store, report.file_sha256), fresh=False)
    return IssuedPeriodReport(report, pdf, fresh=True)


def issued_or_500(issue: Callable[[], IssuedPeriodReport]) -> IssuedPeriodReport:
    try:
        return issue()
    except ReportUnavailable as exc:
        current_app.logger.error("report rendering unavailable: %s", exc)
        abort(500)


def pdf_response(issued: IssuedPeriodReport, filename: str) -> Response:
    """The stored document: the same bytes until what the report shows changes (then a new one, new ETag)."""
    response = Response(issued.pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"',
                                 "X-Report-SHA256": issued.report.file_sha256})
    response.set_etag(issued.report.file_sha256)
    response.cache_control.private = True
    response.cache_control.no_cache = True  # revalidate: the period may have changed since
    return response.make_conditional(request)


def issue_workshop_report(*, session: Session, workshop: Workshop, period: Period,
                          language: str | None = None) -> IssuedPeriodReport:
    """In `language` (the plant's by default); the context's own words (chart labels, names) in it too."""
    language = language or language_of_plant(workshop.plant)
    with force_locale(BABEL_LOCALE[language]):
        context = workshop_report_context(session=session, workshop=workshop, period=period,
                                          words=ReportLanguage(language))
        return issue_period_report(session=session, kind="workshop", subject=workshop.code, period=period,
                                   workshops=[workshop], context=context, language=language)


def issue_plant_report(*, session: Session, plant: Plant, workshops, month: Period,
                       language: str | None = None) -> IssuedPeriodReport:
    language = language or language_of_plant(plant)
    with force_locale(BABEL_LOCALE[language]):
        context = plant_report_context(session=session, plant=plant, workshops=workshops, month=month,
                                       words=ReportLanguage(language))
        return issue_period_report(session=session, kind="plant", subject=plant.code, period=month,
                                   workshops=workshops, context=context, language=language)


def refresh_covering(*, session: Session, inspection: Inspection) -> int:
    """Issue again the stored period reports (issued in the last REFRESH_WITHIN) whose period covers the
    inspection's day and whose scope holds its workshop, each in its own language. Returns how many were looked
    at (a report whose content did not change is served as it is)."""
    workshop = session.get(Workshop, inspection.workshop_id)
    day = clock.local_day(inspection.submitted_at or inspection.started_at, clock.zone_of(workshop.plant))
    since = clock.now() - REFRESH_WITHIN
    latest: dict[tuple, PeriodReport] = {}
    for report in session.exec(select(PeriodReport).where(
            PeriodReport.period_start <= day, PeriodReport.period_end >= day, PeriodReport.created_at >= since)
            .order_by(PeriodReport.id)):
        if str(workshop.id) in report.scope.split(","):
            latest[(report.kind, report.subject, report.period_start, report.period_end, report.locale,
                    report.scope)] = report
    for report in latest.values():
        if report.kind not in ("workshop", "plant"):
            continue  # a joint inspection's report shows its own copies only: issued again when downloaded
        ids = [int(i) for i in report.scope.split(",")]
        scoped = list(session.exec(select(Workshop).where(Workshop.id.in_(ids)).order_by(Workshop.id)))
        period = Period(report.period_start, report.period_end)
        try:
            language = report_language_of(report.locale)  # reports stored before #23 say zh_CN or en
        except UnknownReportLanguage:
            continue
        if report.kind == "workshop":
            issue_workshop_report(session=session, workshop=scoped[0], period=period, language=language)
        else:
            plant = session.get(Plant, scoped[0].plant_id)
            issue_plant_report(session=session, plant=plant, workshops=scoped, month=period, language=language)
        session.rollback()  # end the read snapshot: the next sees what was just stored
    return len(latest)
