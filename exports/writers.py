"""Writing an export to a file: CSV (UTF-8 with BOM, so Excel shows the Chinese text) or Excel, written row by row
in XlsxWriter's constant-memory mode, a new sheet every million rows, with real date and date-time cells (filters
and pivots work on them) and column widths taken from the header and the first rows. Used by the download in a
request (small exports) and by the background task (large ones, with progress)."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path
from unicodedata import east_asian_width

import xlsxwriter

from exports.service import Export, safe_cell

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SHEET_ROWS = 1_000_000  # Excel's limit is 1,048,576 rows a sheet
WIDTH_SAMPLE = 200  # rows looked at for the column widths
MAX_WIDTH = 60  # wider text wraps in its cell
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
PROGRESS_EVERY = 5000  # rows


def counted(rows: Iterable[list], progress: Callable[[int], None] | None) -> Iterator[list]:
    """The rows, telling progress(n) every PROGRESS_EVERY rows and once at the end."""
    n = 0
    for n, row in enumerate(rows, 1):
        yield row
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
    if progress:
        progress(n)


def _csv_text(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else safe_cell(value)


def csv_chunks(export: Export, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The CSV file in chunks of about 600 KB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # BOM: Excel then reads UTF-8 (Chinese) correctly
    writer.writerow(export.header)
    for n, row in enumerate(counted(export.rows, progress), 1):
        writer.writerow([_csv_text(value) for value in row])
        if n % PROGRESS_EVERY == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def write_csv(export: Export, path: str, progress: Callable[[int], None] | None = None) -> None:
    with open(path, "wb") as out:
        for chunk in csv_chunks(export, progress):
            out.write(chunk)


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


def xlsx_bytes(export: Export, dataset: str) -> bytes:
    """The workbook of a direct download (at most LARGE_EXPORT_ROWS rows; larger ones are jobs). xlsxwriter
    writes to a file; it is read back and removed here, so nothing is left behind whoever closes the response."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="6s-export-")
    os.close(handle)
    try:
        write_xlsx(export, dataset, path)
        return Path(path).read_bytes()
    finally:
        os.unlink(path)


def write_xlsx(export: Export, dataset: str, path: str, progress: Callable[[int], None] | None = None) -> None:
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "remove_timezone": True})
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {"date": workbook.add_format({"num_format": DATE_FORMAT, "valign": "top"}),
               "datetime": workbook.add_format({"num_format": DATETIME_FORMAT, "valign": "top"}),
               "text": workbook.add_format({"valign": "top"}),
               "wrap": workbook.add_format({"text_wrap": True, "valign": "top"})}
    rows = counted(export.rows, progress)
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
