"""Checklists as Excel workbooks (plants keep their 评分表 in Excel): bytes ↔ ChecklistData, with openpyxl.

Five sheets, one row per item on 检查项. The workbook is read into the same structure as a YAML file and checked by
the same rules (checklists.files), so both formats accept and refuse exactly the same content; each problem is
then put where it is in the workbook (sheet, row, column). Writing is canonical, so workbook → version →
workbook gives the same cells. A sheet, column or setting the format does not know is an error naming it.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from checklists.files import ChecklistData, ChecklistFileError, parse_checklist
from checklists.schemes import DEFAULT_DUE_DAYS, DeductionScheme, LevelScheme, PassFailScheme

SETTINGS, LEVELS, GRADES, CATEGORIES, ITEMS = "检查表", "等级", "评级", "类别", "检查项"
MAX_ROWS = 5000
MAX_COLUMNS = 64  # a sheet's columns read at most (a forged <dimension> of 16 384 columns is not walked)
# A checklist workbook unpacks to some hundred KB; these bound what a hostile one may make us inflate or parse.
MAX_WORKBOOK_UNPACKED = 32 * 1024 * 1024
MAX_WORKBOOK_PART = 16 * 1024 * 1024  # one part (a sheet, the shared strings: a million of them at most)
MAX_WORKBOOK_PARTS = 500
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# 检查表: one setting per row — (field, what it is, where it goes in the file's structure)
SETTING_ROWS = (
    ("key", "编码（小写字母、数字、- 和 _）", ("key",)),
    ("name", "名称", ("name",)),
    ("description", "说明", ("description",)),
    ("change_note", "变更说明（发布时必填）", ("change_note",)),
    ("type", "评分方式：levels 分级 / pass_fail 合格不合格 / deduction 扣分制", ("scoring", "type")),
    ("overall", "总分算法：mean 各类得分率平均 / sum 各类得分相加", ("scoring", "overall")),
    ("pass_mark", "及格线（%）", ("scoring", "pass_mark")),
    ("finding_at_or_below", "分级：低于或等于此分为问题项", ("scoring", "finding_at_or_below")),
    ("ok_label", "合格不合格：合格的名称", ("scoring", "ok_label")),
    ("fail_label", "合格不合格：不合格的名称", ("scoring", "fail_label")),
    ("category_points", "扣分制：类别默认满分", ("scoring", "category_points")),
    ("points_per_finding", "扣分制：默认每处扣分（× 项目权重）", ("scoring", "points_per_finding")),
    ("max_findings", "扣分制：每项最多记录的数量", ("scoring", "max_findings")),
    ("due_days_critical", "整改期限（天）：关键项", ("scoring", "action_due_days", "critical")),
    ("due_days_normal", "整改期限（天）：其他问题项", ("scoring", "action_due_days", "normal")),
)
# the other sheets: (field, header)
LEVEL_COLUMNS = (("label", "等级"), ("points", "分数"), ("meaning", "含义"))
GRADE_COLUMNS = (("min", "最低得分率（%）"), ("label", "评级"))
CATEGORY_COLUMNS = (("key", "类别编码"), ("name", "类别名称"), ("name_en", "英文名"), ("weight", "权重"),
                    ("full_marks", "满分"))
ITEM_COLUMNS = (("category", "类别编码"), ("key", "编码"), ("text", "检查项"), ("text_en", "英文"),
                ("guidance", "检查要点"), ("weight", "权重"), ("critical", "关键项"),
                ("photo_required", "问题需拍照"), ("deduct", "每处扣分"), ("unit", "单位"))
LEVEL_TEXT_PREFIX = "等级说明："
YES, NO = "是", "否"
TRUE_WORDS, FALSE_WORDS = {"是", "yes", "true", "1", "y", "√"}, {"否", "no", "false", "0", "n", ""}
# Excel turns a typed 101 into a number and a pasted "0.5" may stay text: both are taken as the field needs them
TEXT_FIELDS = {"key", "name", "description", "change_note", "type", "overall", "ok_label", "fail_label", "label",
               "meaning", "name_en", "category", "text", "text_en", "guidance", "unit"}
NUMBER_FIELDS = {"pass_mark", "finding_at_or_below", "category_points", "points_per_finding", "max_findings",
                 "due_days_critical", "due_days_normal", "points", "min", "weight", "full_marks", "deduct"}
SHEET_COLUMNS = {LEVELS: LEVEL_COLUMNS, GRADES: GRADE_COLUMNS, CATEGORIES: CATEGORY_COLUMNS, ITEMS: ITEM_COLUMNS}


@dataclass(frozen=True)
class Place:
    sheet: str
    row: int
    column: str | None = None  # the column's header (or the setting's field on 检查表)


def english_place(place: Place) -> str:
    where = f"sheet {place.sheet}, row {place.row}"
    return f"{where}, column {place.column}: " if place.column else f"{where}: "


# ------------------------------------------------------------------ writing

def _compact(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _header(ws, headers: list[str]) -> None:
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DCE6F1")
    ws.freeze_panes = "A2"


def _widths(ws, widths: list[int]) -> None:
    for n, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(n)].width = width


def _setting_values(data: ChecklistData | None) -> dict[str, Any]:
    if data is None:  # the blank template: the defaults a new sheet starts from
        default = LevelScheme()
        return {"type": default.type, "overall": default.overall, "pass_mark": _compact(default.pass_mark),
                "finding_at_or_below": default.finding_at_or_below}
    scheme = data.scheme
    values: dict[str, Any] = {"key": data.key, "name": data.name, "description": data.description,
                              "change_note": data.change_note, "type": scheme.type, "overall": scheme.overall,
                              "pass_mark": _compact(scheme.pass_mark)}
    if isinstance(scheme, LevelScheme):
        values["finding_at_or_below"] = scheme.finding_at_or_below
    elif isinstance(scheme, PassFailScheme):
        values |= {"ok_label": scheme.ok_label, "fail_label": scheme.fail_label}
    elif isinstance(scheme, DeductionScheme):
        values |= {"category_points": _compact(scheme.category_points),
                   "points_per_finding": _compact(scheme.points_per_finding), "max_findings": scheme.max_findings}
    if scheme.action_due_days != DEFAULT_DUE_DAYS:
        values |= {"due_days_critical": scheme.action_due_days[0], "due_days_normal": scheme.action_due_days[1]}
    return values


def workbook_bytes(data: ChecklistData | None) -> bytes:
    """The workbook of a checklist version; None gives the blank template (headers, default settings)."""
    wb = Workbook()
    settings = wb.active
    settings.title = SETTINGS
    _header(settings, ["字段", "说明", "值"])
    values = _setting_values(data)
    for field, meaning, _path in SETTING_ROWS:
        value = values.get(field)
        settings.append([field, meaning, value if value not in ("",) else None])
    _widths(settings, [22, 52, 60])

    levels = wb.create_sheet(LEVELS)
    _header(levels, [h for _f, h in LEVEL_COLUMNS])
    option_labels: list[str] = []
    if data is not None and isinstance(data.scheme, LevelScheme):
        for option in data.scheme.options:
            levels.append([option.label, option.value, option.meaning])
            option_labels.append(option.label)
    elif data is None:
        for option in LevelScheme().options:
            levels.append([option.label, option.value, option.meaning])
            option_labels.append(option.label)
    _widths(levels, [10, 10, 60])

    grades = wb.create_sheet(GRADES)
    _header(grades, [h for _f, h in GRADE_COLUMNS])
    for minimum, label in (data.scheme if data is not None else LevelScheme()).grades:
        grades.append([_compact(minimum), label])
    _widths(grades, [18, 14])

    categories = wb.create_sheet(CATEGORIES)
    _header(categories, [h for _f, h in CATEGORY_COLUMNS])
    items = wb.create_sheet(ITEMS)
    level_columns = option_labels if data is None or not data.scheme.counted else []
    _header(items, [h for _f, h in ITEM_COLUMNS] + [LEVEL_TEXT_PREFIX + label for label in level_columns])
    for category in data.categories if data is not None else ():
        categories.append([category.key, category.name, category.name_en or None, _compact(category.weight),
                           _compact(category.full_marks)])
        for item in category.items:
            texts = item.level_texts or {}
            items.append([category.key, item.key, item.text, item.text_en or None, item.guidance or None,
                          _compact(item.weight), YES if item.critical else NO, YES if item.photo_required else NO,
                          _compact(item.deduct), item.unit or None] + [texts.get(label) for label in level_columns])
    _widths(categories, [14, 20, 20, 8, 8])
    _widths(items, [14, 16, 50, 30, 40, 8, 8, 10, 10, 8] + [30] * len(level_columns))
    for row in items.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ reading

class _Reader:
    def __init__(self, place_text: Callable[[Place], str]):
        self.place_text = place_text
        self.problems: list[str] = []
        self.places: dict[str, Place] = {}  # path in the file's structure → where it came from

    def problem(self, place: Place, message: str) -> None:
        self.problems.append(self.place_text(place) + message)

    def columns(self, ws, known: tuple[tuple[str, str], ...], extra_prefix: str | None = None
                ) -> dict[int, str]:
        """Header cells → field names; an unknown header is a problem naming it (so nothing is dropped)."""
        by_header = {h: f for f, h in known} | {f: f for f, _h in known}
        found: dict[int, str] = {}
        for n, cell in enumerate(next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS), ()), 1):
            header = str(cell.value).strip() if cell.value is not None else ""
            if not header:
                continue
            if header in by_header:
                found[n] = by_header[header]
            elif extra_prefix and header.startswith(extra_prefix):
                found[n] = header
            else:
                self.problem(Place(ws.title, 1, header), f"unknown column; {ws.title} has "
                             + ", ".join(h for _f, h in known) + (f", {extra_prefix}<level>" if extra_prefix else ""))
        return found

    def rows(self, ws, columns: dict[int, str]):
        """(row number, {field: value, '_headers': {field: header}}) for each row that has anything in it."""
        headers = {field: str(ws.cell(1, n).value).strip() for n, field in columns.items()}
        for r, row in enumerate(ws.iter_rows(min_row=2, max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True),
                                2):
            values = {columns[n]: _cell(columns[n], v.strip() if isinstance(v, str) else v)
                      for n, v in enumerate(row, 1) if n in columns}
            values = {f: v for f, v in values.items() if v not in (None, "")}
            if values:
                yield r, values, headers
        if ws.max_row > MAX_ROWS + 1:
            self.problem(Place(ws.title, MAX_ROWS + 2), f"at most {MAX_ROWS} rows")

    def where(self, path: str, place: Place) -> None:
        self.places[path] = place


def _cell(field: str, value: Any) -> Any:
    if field in TEXT_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
        return str(_compact(value))
    if field in NUMBER_FIELDS and isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return _compact(float(value))
    return value


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if value is not None else ""
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _put(target: dict, path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        target = target.setdefault(name, {})
    target[path[-1]] = value


def _read(wb, reader: _Reader) -> dict[str, Any]:
    data: dict[str, Any] = {"schema": 2}
    unknown = [name for name in wb.sheetnames if name not in (SETTINGS, *SHEET_COLUMNS)]
    for name in unknown:
        reader.problem(Place(name, 1), f"unknown sheet; a checklist workbook has {SETTINGS}, "
                       + ", ".join(SHEET_COLUMNS))
    missing = [name for name in (SETTINGS, CATEGORIES, ITEMS) if name not in wb.sheetnames]
    for name in missing:
        reader.problem(Place(name, 1), "sheet missing")
    if missing:
        return data

    settings = {field: path for field, _meaning, path in SETTING_ROWS}
    for r, row in enumerate(wb[SETTINGS].iter_rows(min_row=2, max_row=200, max_col=MAX_COLUMNS, values_only=True), 2):
        field = str(row[0]).strip() if row and row[0] is not None else ""
        value = row[2] if len(row) > 2 else None
        value = value.strip() if isinstance(value, str) else value
        if not field:
            continue
        if field not in settings:
            reader.problem(Place(SETTINGS, r, field), "unknown setting; " + ", ".join(settings))
            continue
        if value in (None, ""):
            continue
        value = _cell(field, value)
        path = settings[field]
        _put(data, path, value)
        reader.where(".".join(path), Place(SETTINGS, r, field))
    scoring = data.setdefault("scoring", {})
    kind = scoring.get("type", "levels")

    if LEVELS in wb.sheetnames:
        columns = reader.columns(wb[LEVELS], LEVEL_COLUMNS)
        levels = []
        for r, values, headers in reader.rows(wb[LEVELS], columns):
            n = len(levels)
            for field in values:
                reader.where(f"scoring.levels[{n}].{field}", Place(LEVELS, r, headers[field]))
            reader.where(f"scoring.levels[{n}]", Place(LEVELS, r))
            levels.append({"label": str(values.get("label", "")).strip(), "points": values.get("points"),
                           "meaning": str(values.get("meaning", ""))})
        if levels and kind == "levels":
            numbered = all(level["label"] == str(level["points"]) for level in levels) and \
                sorted(level["points"] for level in levels) == list(range(len(levels)))
            scoring["levels"] = {str(lv["points"]): lv["meaning"] for lv in levels} if numbered else levels
            reader.where("scoring.levels", Place(LEVELS, 2))
        elif levels:
            reader.problem(Place(LEVELS, 2), f"only a levels sheet (type: levels) has levels; this one is {kind}")
    if GRADES in wb.sheetnames:
        columns = reader.columns(wb[GRADES], GRADE_COLUMNS)
        grades = []
        for r, values, _headers in reader.rows(wb[GRADES], columns):
            reader.where(f"scoring.grades[{len(grades)}]", Place(GRADES, r))
            grades.append({"min": values.get("min"), "label": values.get("label")})
        if grades:
            scoring["grades"] = grades
            reader.where("scoring.grades", Place(GRADES, 2))

    categories: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}
    columns = reader.columns(wb[CATEGORIES], CATEGORY_COLUMNS)
    for r, values, headers in reader.rows(wb[CATEGORIES], columns):
        n = len(categories)
        category = {field: values[field] for field in values}
        category["items"] = []
        for field in values:
            reader.where(f"categories[{n}].{field}", Place(CATEGORIES, r, headers[field]))
        reader.where(f"categories[{n}]", Place(CATEGORIES, r))
        categories.append(category)
        by_key.setdefault(str(values.get("key", "")), category)
    data["categories"] = categories
    reader.where("categories", Place(CATEGORIES, 2))

    columns = reader.columns(wb[ITEMS], ITEM_COLUMNS, extra_prefix=LEVEL_TEXT_PREFIX)
    for r, values, headers in reader.rows(wb[ITEMS], columns):
        category_key = str(values.pop("category", "")).strip()
        category = by_key.get(category_key)
        if category is None:
            reader.problem(Place(ITEMS, r, headers.get("category", "类别编码")),
                           f"{category_key!r} is not a category on sheet {CATEGORIES}" if category_key
                           else "required")
            continue
        ci, ii = categories.index(category), len(category["items"])
        base = f"categories[{ci}].items[{ii}]"
        item: dict[str, Any] = {}
        texts: dict[str, Any] = {}
        for field, value in values.items():
            place = Place(ITEMS, r, headers[field])
            if field.startswith(LEVEL_TEXT_PREFIX):
                label = field[len(LEVEL_TEXT_PREFIX):]
                texts[label] = value
                reader.where(f"{base}.levels.{label}", place)
                continue
            reader.where(f"{base}.{field}", place)
            if field in ("critical", "photo_required"):
                flag = _boolean(value)
                if flag is None:
                    reader.problem(place, f"must be {YES} or {NO}")
                    continue
                if flag:
                    item[field] = True
            else:
                item[field] = value
        if texts:
            item["levels"] = texts
            reader.where(f"{base}.levels", Place(ITEMS, r))
        reader.where(base, Place(ITEMS, r))
        category["items"].append(item)
    return data


_PROBLEM = re.compile(r"^(?:line \d+: )?(?P<path>[^\s:]+): (?P<message>.*)$", re.S)


def _place_of(reader: _Reader, path: str, message: str) -> tuple[Place | None, str]:
    if path == "scoring":  # the scheme names its own field first: "levels[1].points: …"
        inner = re.match(r"^(?P<field>[a-z_]+(?:\[\d+\](?:\.[a-z_]+)?)?)[: ]", message)
        if inner:
            path = f"scoring.{inner.group('field')}"
    candidate = path
    while candidate:
        if candidate in reader.places:
            return reader.places[candidate], message
        candidate = candidate.rsplit(".", 1)[0] if "." in candidate else \
            (re.sub(r"\[\d+\]$", "", candidate) if candidate.endswith("]") else "")
    return None, f"{path}: {message}"


def _refuse_oversized(content: bytes) -> None:
    """A workbook is a zip: what its parts would unpack to is read from its directory before anything is
    inflated, and a workbook that would unpack past the limits is refused by name (19 million shared strings
    took 109 s and 1.7 GB; a checklist needs a few hundred KB)."""

    try:
        parts = zipfile.ZipFile(BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError):
        return  # not a zip: load_workbook names it as not a workbook
    largest = max(parts, key=lambda p: p.file_size, default=None)
    if (len(parts) > MAX_WORKBOOK_PARTS or sum(p.file_size for p in parts) > MAX_WORKBOOK_UNPACKED
            or (largest is not None and largest.file_size > MAX_WORKBOOK_PART)):
        where = largest.filename if largest is not None else "?"
        raise ChecklistFileError([f"the workbook is too large for a checklist ({where} would unpack to "
                                  f"{largest.file_size // (1024 * 1024) if largest else 0} MB; at most "
                                  f"{MAX_WORKBOOK_PART // (1024 * 1024)} MB a part, "
                                  f"{MAX_WORKBOOK_UNPACKED // (1024 * 1024)} MB in all)"])


def parse_workbook(content: bytes, place_text: Callable[[Place], str] = english_place) -> ChecklistData:
    """A checklist from an .xlsx file; every problem found at once, each with its sheet, row and column."""
    reader = _Reader(place_text)
    _refuse_oversized(content)
    try:
        wb = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ChecklistFileError([f"not an Excel workbook (.xlsx): {exc.__class__.__name__}"]) from exc
    try:
        data = _read(wb, reader)
    finally:
        wb.close()
    try:  # the content rules too, so every problem is named at once
        parsed = parse_checklist(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    except ChecklistFileError as exc:
        for problem in exc.problems:
            match = _PROBLEM.match(problem)
            if not match:
                reader.problems.append(problem)
                continue
            place, message = _place_of(reader, match.group("path"), match.group("message"))
            reader.problems.append(place_text(place) + message if place else message)
    if reader.problems:
        raise ChecklistFileError(reader.problems)
    return parsed
