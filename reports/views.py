"""Report downloads and the result page's report line: an inspection's issued report, a workshop's period
report and a plant's monthly 评比, each in the language asked for. Views parse, call the domain, render."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    request,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlmodel import select

import clock
from accounts.models import Plant
from accounts.service import get_visible_workshop_or_404, visible_workshops
from clock.periods import Period, PeriodError, parse_month, parse_period
from database import db
from inspections.models import InspectionStatus
from inspections.views import get_inspection_or_404
from quality.calibration_views import calibration_or_404, calibration_report_context
from reports.archive import ArchiveCorrupt, number_of
from reports.issuing import issued_inspection_report, report_state
from reports.language import UnknownReportLanguage, document_suffix, report_language_of
from reports.pdf import ReportUnavailable
from reports.period_issuing import (
    issue_period_report,
    issue_plant_report,
    issue_workshop_report,
    issued_or_500,
    pdf_response,
)
from web import (
    at_plant,
)

bp = Blueprint("reports", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every download here needs a signed-in user."""


@bp.get("/inspections/<int:inspection_id>/report-state")
def report_state_fragment(inspection_id: int):
    """The result page's line about its report, polled while the report is being issued."""
    inspection = get_inspection_or_404(inspection_id)
    if inspection.status != InspectionStatus.submitted:
        abort(409, _("检查提交后才能生成报告"))
    return render_block("inspections/result.html", "report_state", inspection=inspection,
                        report=report_state(inspection))


@bp.get("/inspections/<int:inspection_id>/report.pdf")
def report_pdf(inspection_id: int):
    """The issued report: rendered once per state of the record, then the same stored bytes every time."""
    inspection = get_inspection_or_404(inspection_id)
    if inspection.status != InspectionStatus.submitted:
        abort(409, _("检查提交后才能生成报告"))
    kind = "findings" if request.args.get("detail") == "findings" else "full"
    language = _asked_report_language(inspection.workshop.plant)
    try:
        issued = issued_inspection_report(inspection, kind, language=language)
    except ReportUnavailable as exc:
        current_app.logger.error("report rendering unavailable: %s", exc)
        abort(500)
    except ArchiveCorrupt as exc:
        current_app.logger.error("report archive: %s", exc)
        abort(500)
    document = issued.document
    filename = f"{number_of(document)}-{inspection.workshop.code}-" \
               f"{clock.local_day(inspection.submitted_at, clock.zone_of(inspection.workshop.plant)):%Y%m%d}.pdf"
    response = Response(issued.pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"',
                                 "X-Report-Document": number_of(document), "X-Report-Language": document.language,
                                 "X-Report-SHA256": document.file_sha256})
    response.set_etag(document.file_sha256)
    response.cache_control.private = True
    response.cache_control.no_cache = True  # revalidate: a countersign makes a newer document
    return response.make_conditional(request)


def period_error_text(exc: PeriodError) -> str:
    return {
        "bad_date": _("日期格式应为 年-月-日，例如 2026-11-01"),
        "reversed": _("开始日期晚于结束日期"),
        "too_long": _("一次最多查看五年"),
        "bad_month": _("月份格式应为 年-月，例如 2026-11"),
    }[exc.code]


@bp.get("/workshops/<code>/report.pdf")
def workshop_report_pdf(code: str):
    """The workshop's trend history on paper: ?from=YYYY-MM-DD&to=YYYY-MM-DD (the last twelve weeks by default)."""
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    zone = at_plant(workshop.plant)
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), clock.today(zone))
    except PeriodError as exc:
        abort(422, period_error_text(exc))
    language = _asked_report_language(workshop.plant)
    issued = issued_or_500(lambda: issue_workshop_report(session=session, workshop=workshop, period=period,
                                                         language=language))
    return pdf_response(issued, f"6S-{workshop.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
                                f"{document_suffix(language)}.pdf")


def plant_month(code: str):
    """The plant, only the workshops the reader may see there, and the month asked for (404, 422)."""
    session = db()
    plant = session.exec(select(Plant).where(Plant.code == code)).first()
    workshops = [w for w in session.exec(visible_workshops(current_user)).all()
                 if plant is not None and w.plant_id == plant.id]
    if not workshops:
        abort(404)
    return plant, workshops, requested_month(clock.today(at_plant(plant)))


def requested_month(today):
    """?month=YYYY-MM (the month of `today` by default); 422 if bad. Each plant's month is its own days."""
    try:
        return parse_month(request.args.get("month"), today)
    except PeriodError as exc:
        abort(422, period_error_text(exc))


@bp.get("/plants/<code>/report.pdf")
def plant_report_pdf(code: str):
    """The monthly 6S 评比 of a plant: ?month=YYYY-MM. Only the workshops the reader may see take part."""
    plant, workshops, month = plant_month(code)
    language = _asked_report_language(plant)
    issued = issued_or_500(lambda: issue_plant_report(session=db(), plant=plant, workshops=workshops, month=month,
                                                      language=language))
    return pdf_response(issued, f"6S-{plant.code}-{month.start:%Y-%m}{document_suffix(language)}.pdf")


def _asked_report_language(plant) -> str:
    """?lang= of a download (zh, en, zh-en; the pages' forms say report_lang=, as their lang= would switch the
    screens), else the plant's report language; anything else is a 400 naming it."""
    try:
        asked = request.args.get("lang") or request.args.get("report_lang")
        return report_language_of(asked, plant.report_language)
    except UnknownReportLanguage as exc:
        abort(400, _("没有这种报告语言：%(lang)s（可选 zh 中文、en 英文、zh-en 中英双语）", lang=str(exc)))


@bp.get("/calibrations/<int:calibration_id>/report.pdf")
def calibration_report_pdf(calibration_id: int):
    """The calibration report on paper, issued and stored like the period reports (the same bytes until the
    decision changes what it says); not before every copy is submitted."""
    state = calibration_or_404(calibration_id)
    if not state.complete:
        abort(409, _("全部检查员提交后才有报告"))
    calibration = state.calibration
    day = clock.local_day(calibration.started_at, clock.zone_of(calibration.workshop.plant))
    issued = issued_or_500(lambda: issue_period_report(
        session=db(), kind="calibration", subject=f"calibration-{calibration.id}", period=Period(day, day),
        workshops=[calibration.workshop], context=calibration_report_context(state)))
    return pdf_response(issued, f"6S-{calibration.workshop.code}-calibration-{calibration.id}-{day:%Y%m%d}.pdf")
