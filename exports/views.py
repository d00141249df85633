"""CSV and Excel exports: /exports/inspections.csv|.xlsx and /exports/answers.csv|.xlsx.

Query parameters: plant, workshop (codes), from, to (YYYY-MM-DD, local days), checklist (key), version (number).
CSV streams as it is read (UTF-8 with BOM, so Excel shows the Chinese text); Excel is written row by row in
XlsxWriter's constant-memory mode to a temporary file, a new sheet every million rows.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, send_file, stream_with_context
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user, login_required
from sqlmodel import Session

from exports.service import (
    ExportError,
    action_export,
    answer_export,
    inspection_export,
    parse_filter,
    red_tag_export,
    safe_cell,
)

bp = Blueprint("exports", __name__, url_prefix="/exports")

DATASETS = {"inspections": inspection_export, "answers": answer_export, "actions": action_export,
            "red-tags": red_tag_export}
SHEET_ROWS = 1_000_000  # Excel's limit is 1,048,576 rows a sheet


@bp.before_request
@login_required
def _require_login():
    """Exports need a signed-in user; what they hold is limited to the user's scope."""


def _local(value: datetime | None) -> str:
    return "" if value is None else to_user_timezone(value).strftime("%Y-%m-%d %H:%M")


def _bounds(flt):
    since = until = None
    if flt.start:
        since = to_utc(datetime.combine(flt.start, time.min)).replace(tzinfo=UTC)
    if flt.end:
        until = to_utc(datetime.combine(flt.end + timedelta(days=1), time.min)).replace(tzinfo=UTC)
    return since, until


def _error_text(exc: ExportError) -> str:
    return {
        "bad_date": _("日期格式应为 年-月-日，例如 2026-11-01"),
        "bad_version": _("版本应为数字"),
        "not_found": _("没有这个工厂或车间，或您无权查看"),
    }[exc.code]


@bp.get("/<dataset>.<fmt>")
def export(dataset: str, fmt: str):
    from flask import request

    if dataset not in DATASETS or fmt not in ("csv", "xlsx"):
        abort(404)
    # The rows are read while the response streams, after the request's own session is closed: the export
    # has a session of its own, closed when the last row is written (or the client goes away).
    session = Session(current_app.extensions["engine"])
    try:
        flt = parse_filter(request.args)
        since, until = _bounds(flt)
        header, rows = DATASETS[dataset](session=session, user=current_user, flt=flt, since=since, until=until,
                                         local=_local)
    except ExportError as exc:
        session.close()
        abort(404 if exc.code == "not_found" else 422, _error_text(exc))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    filename = f"6S-{dataset}-{stamp}.{fmt}"
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    if fmt == "csv":
        response = Response(stream_with_context(_csv(header, rows, session)), mimetype="text/csv",
                            headers={"Content-Disposition": disposition})
        response.charset = "utf-8"
    else:
        try:
            path = _xlsx(header, rows, dataset)
        finally:
            session.close()
        response = send_file(path, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             as_attachment=True, download_name=filename)
        response.call_on_close(lambda: os.unlink(path))
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response




def _csv(header, rows, session):
    try:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # BOM: Excel then reads UTF-8 (Chinese) correctly
        writer.writerow(header)
        for n, row in enumerate(rows, 1):
            writer.writerow([safe_cell(value) for value in row])
            if n % 5000 == 0:  # ~600 KB a chunk
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()
    finally:
        session.close()


def _xlsx(header, rows, dataset: str) -> str:
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="6s-export-")
    os.close(handle)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False})
    bold = workbook.add_format({"bold": True})
    sheet, written, sheets = None, SHEET_ROWS, 0
    for row in rows:
        if written == SHEET_ROWS:
            sheets += 1
            sheet = workbook.add_worksheet(dataset if sheets == 1 else f"{dataset}-{sheets}")
            sheet.write_row(0, 0, header, bold)
            sheet.freeze_panes(1, 0)
            written = 0
        written += 1
        sheet.write_row(written, 0, [safe_cell(value) for value in row])
    if sheet is None:
        sheet = workbook.add_worksheet(dataset)
        sheet.write_row(0, 0, header, bold)
    workbook.close()
    return path
