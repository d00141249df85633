"""CSV and Excel exports: /exports/inspections.csv|.xlsx, answers, actions and red-tags.

Query parameters: plant, workshop (codes), from, to (YYYY-MM-DD, days at each plant), checklist (key), version
(number). An export of up to LARGE_EXPORT_ROWS rows is the download itself (CSV streams as it is read, Excel is
written to a temporary file first); a larger one is made in the background (exports/jobs.py): the link leads to a
page that asks for it, then shows its progress and the download when it is ready.
"""

from __future__ import annotations

import io
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, redirect, request, send_file, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import Session

import clock
from database import db
from exports.jobs import (
    DATASETS,
    FORMATS,
    build_export,
    export_key,
    filename_for,
    filters_of,
    jobs_of,
    request_export,
)
from exports.models import ExportJob, ExportState
from exports.service import ExportError
from exports.writers import XLSX_MIMETYPE, csv_chunks, xlsx_bytes
from storage import StoredFileError, storage
from web import render_page

bp = Blueprint("exports", __name__, url_prefix="/exports")



@bp.before_request
@login_required
def _require_login():
    """Exports need a signed-in user; what they hold is limited to the user's scope."""


def _error_text(exc: ExportError) -> str:
    return {
        "bad_date": _("日期格式应为 年-月-日，例如 2026-11-01"),
        "bad_version": _("版本应为数字"),
        "not_found": _("没有这个工厂或车间，或您无权查看"),
    }[exc.code]


def _dataset_names() -> dict[str, str]:
    return {"inspections": _("各次检查"), "answers": _("全部评分明细"), "actions": _("整改措施"),
            "red-tags": _("红牌登记")}


def _filter_names() -> dict[str, str]:
    return {"plant": _("工厂"), "workshop": _("车间"), "from": _("从"), "to": _("到"), "checklist": _("检查表"),
            "version": _("版本")}


def file_size(size: int) -> str:
    """1.2 MB, 340 KB: what a supervisor reads before downloading over the plant's Wi-Fi."""
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(1, round(size / 1024))} KB"


@bp.context_processor
def _export_helpers():
    return {"filter_names": _filter_names(), "file_size": file_size}


def _attachment(filename: str) -> str:
    return f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"


def _private(response):
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@bp.get("/<dataset>.<fmt>")
def export(dataset: str, fmt: str):
    if dataset not in DATASETS or fmt not in FORMATS:
        abort(404)
    # The rows are read while the response streams, after the request's own session is closed: the export
    # has a session of its own, closed when the last row is written (or the client goes away).
    session = Session(current_app.extensions["engine"])
    filters = filters_of(request.args)
    try:
        export = build_export(session=session, user=current_user, dataset=dataset, filters=filters)
        rows = export.count()
    except ExportError as exc:
        session.close()
        abort(404 if exc.code == "not_found" else 422, _error_text(exc))
    if rows > current_app.config["LARGE_EXPORT_ROWS"]:
        session.close()
        return render_page("exports/large.html", dataset=dataset, fmt=fmt, rows=rows, filters=filters,
                           dataset_name=_dataset_names()[dataset])
    filename = filename_for(export, dataset, fmt)
    if fmt == "csv":
        def stream():
            try:
                yield from csv_chunks(export)
            finally:
                session.close()

        response = Response(stream_with_context(stream()), mimetype="text/csv",
                            headers={"Content-Disposition": _attachment(filename)})
        response.charset = "utf-8"
    else:
        try:
            workbook = xlsx_bytes(export, dataset)
        finally:
            session.close()
        response = send_file(io.BytesIO(workbook), mimetype=XLSX_MIMETYPE, as_attachment=True,
                             download_name=filename)
    return _private(response)


@bp.post("/jobs")
def ask():
    """Make this export in the background (the same one asked again is the same job)."""
    dataset, fmt = request.form.get("dataset", ""), request.form.get("fmt", "")
    if dataset not in DATASETS or fmt not in FORMATS:
        abort(422, _("没有这种导出：%(what)s", what=dataset + "." + fmt))
    filters = filters_of(request.form)
    session = db()
    try:
        rows = build_export(session=session, user=current_user, dataset=dataset, filters=filters).count()
    except ExportError as exc:
        abort(404 if exc.code == "not_found" else 422, _error_text(exc))
    job = request_export(session=session, user=current_user, dataset=dataset, fmt=fmt, filters=filters,
                         rows_total=rows)
    session.commit()
    return redirect(url_for("exports.job", job_id=job.id), 303)


def _own_job_or_404(job_id: int) -> ExportJob:
    job = db().get(ExportJob, job_id)
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


@bp.get("/jobs")
def jobs():
    return render_page("exports/jobs.html", jobs=jobs_of(session=db(), user=current_user),
                       dataset_names=_dataset_names())


@bp.get("/jobs/<int:job_id>")
def job(job_id: int):
    job = _own_job_or_404(job_id)
    return render_page("exports/job.html", "progress", job=job, dataset_name=_dataset_names()[job.dataset])


@bp.get("/jobs/<int:job_id>/file")
def download(job_id: int):
    job = _own_job_or_404(job_id)
    if job.state == ExportState.expired or (job.state == ExportState.done and
                                            clock.as_utc(job.expires_at) <= clock.now()):
        abort(410, _("这份导出已超过一天，文件已删除。请重新导出。"))
    if job.state != ExportState.done:
        abort(409, _("这份导出还没有完成。"))
    try:
        # streamed from storage and hashed on the way: an altered file breaks off at the end rather than arrive
        stream = storage().open(export_key(job))
    except StoredFileError as exc:
        current_app.logger.error("export %s not served: %s", job.id, exc)
        abort(410, _("这份导出的文件已不在服务器上（%(file)s）。请重新导出。", file=exc.key))
    response = send_file(stream, mimetype=XLSX_MIMETYPE if job.fmt == "xlsx" else "text/csv", as_attachment=True,
                         download_name=job.filename, conditional=False)
    response.content_length = job.byte_size
    return _private(response)
