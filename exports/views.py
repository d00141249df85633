"""CSV and Excel exports: /exports/inspections.csv|.xlsx and /exports/answers.csv|.xlsx.

Query parameters: plant, workshop (codes), from, to (YYYY-MM-DD, days at each plant), checklist (key), version
(number). CSV streams as it is read (UTF-8 with BOM, so Excel shows the Chinese text); Excel is written row by row
in XlsxWriter's constant-memory mode to a temporary file, a new sheet every million rows, with real date and
date-time cells (filters and pivots work on them) and column widths taken from the header and the first rows.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import date, datetime
from itertools import chain, islice
from unicodedata import east_asian_width
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, send_file, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import Session

import clock
from exports.service import (
    Export,
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


WIDTH_SAMPLE = 200  # rows looked at for the column widths
MAX_WIDTH = 60  # wider text wraps in its cell
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"


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
        export = DATASETS[dataset](session=session, user=current_user, flt=flt)
    except ExportError as exc:
        session.close()
        abort(404 if exc.code == "not_found" else 422, _error_text(exc))
    # named after the time at the plant (the default zone when the export spans plants in several zones)
    zone = clock.zone_named(export.zones[0] if len(export.zones) == 1 else None)
    filename = f"6S-{dataset}-{clock.local(clock.now(), zone):%Y%m%d-%H%M}.{fmt}"
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    if fmt == "csv":
        response = Response(stream_with_context(_csv(export, session)), mimetype="text/csv",
                            headers={"Content-Disposition": disposition})
        response.charset = "utf-8"
    else:
        try:
            path = _xlsx(export, dataset)
        finally:
            session.close()
        response = send_file(path, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             as_attachment=True, download_name=filename)
        response.call_on_close(lambda: os.unlink(path))
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response




def _csv_text(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else safe_cell(value)


def _csv(export: Export, session):
    try:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # BOM: Excel then reads UTF-8 (Chinese) correctly
        writer.writerow(export.header)
        for n, row in enumerate(export.rows, 1):
            writer.writerow([_csv_text(value) for value in row])
            if n % 5000 == 0:  # ~600 KB a chunk
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()
    finally:
        session.close()


def display_width(value) -> int:
    """How many character widths a cell needs: CJK characters are two, dates and times their printed length."""
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    text = "" if value is None else str(value)
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def column_widths(header: list[str], sample: list[list]) -> list[float]:
    """Widths for the columns from the header and the first rows, between 6 and MAX_WIDTH."""
    widths = []
    for index, title in enumerate(header):
        needed = max([display_width(title)] + [display_width(row[index]) for row in sample if index < len(row)])
        widths.append(min(MAX_WIDTH, max(6, needed + 2)))
    return widths


def _xlsx(export: Export, dataset: str) -> str:
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="6s-export-")
    os.close(handle)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "remove_timezone": True})
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {"date": workbook.add_format({"num_format": DATE_FORMAT, "valign": "top"}),
               "datetime": workbook.add_format({"num_format": DATETIME_FORMAT, "valign": "top"}),
               "text": workbook.add_format({"valign": "top"}),
               "wrap": workbook.add_format({"text_wrap": True, "valign": "top"})}
    rows = iter(export.rows)
    sample = list(islice(rows, WIDTH_SAMPLE))
    widths = column_widths(export.header, sample)
    sheet, written, sheets = None, SHEET_ROWS, 0

    def new_sheet():
        nonlocal sheet, sheets
        sheets += 1
        sheet = workbook.add_worksheet(dataset if sheets == 1 else f"{dataset}-{sheets}")
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        sheet.write_row(0, 0, export.header, bold)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, 0, len(export.header) - 1)

    for row in chain(sample, rows):
        if written == SHEET_ROWS:
            new_sheet()
            written = 0
        written += 1
        for column, value in enumerate(row):
            _write_cell(sheet, written, column, value, formats, widths[column] if column < len(widths) else 0)
    if sheet is None:
        new_sheet()
    workbook.close()
    return path


def _write_cell(sheet, row: int, column: int, value, formats: dict, width: float) -> None:
    if isinstance(value, datetime):
        sheet.write_datetime(row, column, value, formats["datetime"])
    elif isinstance(value, date):
        sheet.write_datetime(row, column, datetime(value.year, value.month, value.day), formats["date"])
    elif value is None or value == "":
        sheet.write_blank(row, column, None, formats["text"])
    elif isinstance(value, int | float) and not isinstance(value, bool):
        sheet.write_number(row, column, value, formats["text"])
    else:
        value = safe_cell(str(value))
        wide = width >= MAX_WIDTH and display_width(value) > MAX_WIDTH
        sheet.write_string(row, column, value, formats["wrap" if wide else "text"])
