"""Exports of submitted inspections and of their answers, as rows for CSV or Excel.

Rows are produced lazily from one streaming query (plus one small query per chunk for category percents), so an
export of millions of answers runs in bounded memory. Every query is limited to the workshops the user may see.

Rows carry typed values: a date is a `date`, an instant a naive `datetime` on the wall clock of the row's plant
(spreadsheets know no zones: the header names the zone, or a 时区 column does when the plants keep several). The
filter's from/to are days at each plant, so an export over a Shanghai and a Budapest plant takes each one's days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, false, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

import clock
from accounts.models import Plant, User, Workshop
from accounts.service import visible_workshops
from actions.models import CorrectiveAction, Finding
from checklists.models import Checklist, ChecklistCategory, ChecklistItem, ChecklistVersion
from checklists.schemes import Scheme, scheme_from_dict
from inspections.models import Answer, CategoryResult, Inspection, InspectionStatus
from inspections.scoring import ItemSpec, item_deduction
from redtags.models import OUTCOME_NAMES_ZH, REASON_NAMES_ZH, RedTag

CHUNK = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """code: bad_date | bad_version | not_found (a plant or workshop outside the user's scope)"""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ExportFilter:
    plant: str | None = None
    workshop: str | None = None
    start: date | None = None  # local calendar days, inclusive
    end: date | None = None
    checklist: str | None = None
    version: int | None = None


def parse_filter(args: Mapping[str, str]) -> ExportFilter:
    def day(name: str) -> date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise ExportError("bad_date", f"{name} must be YYYY-MM-DD") from exc

    raw_version = (args.get("version") or "").strip()
    if raw_version and not raw_version.isdigit():
        raise ExportError("bad_version", "version must be a whole number")
    return ExportFilter(
        plant=(args.get("plant") or "").strip() or None, workshop=(args.get("workshop") or "").strip() or None,
        start=day("from"), end=day("to"), checklist=(args.get("checklist") or "").strip() or None,
        version=int(raw_version) if raw_version else None,
    )


@dataclass(frozen=True)
class Export:
    """What a writer needs: the header, the rows (lazily), and the zones of the plants the rows may come from
    (one zone: the headers name it, and the file is named after the time there)."""

    header: list[str]
    rows: Iterator[list]
    zones: tuple[str, ...]
    count: Callable[[], int]  # how many rows there will be (one COUNT query, asked only when needed)


def wall_time(moment: datetime | None, zone_name: str) -> datetime | None:
    """A stored instant as the plant's wall clock, without a zone (a spreadsheet cell holds no zone)."""
    if moment is None:
        return None
    return clock.local(moment, clock.zone_named(zone_name)).replace(tzinfo=None, microsecond=0)


def time_header(name: str, zones: tuple[str, ...]) -> str:
    """'提交时间（Asia/Shanghai）', or '（工厂当地时间）' when the plants keep several zones (a 时区 column then)."""
    return f"{name}（{zones[0]}）" if len(zones) == 1 else f"{name}（工厂当地时间）"


def _scope_zones(session: Session, user: User, flt: ExportFilter) -> dict[str, list[int]]:
    """Zone name → the plants in the user's scope (and the plant/workshop filter) that keep it."""
    scope = visible_workshops(user).with_only_columns(Workshop.id).order_by(None).scalar_subquery()
    query = (select(Workshop.plant_id, Plant.timezone).join(Plant, Workshop.plant_id == Plant.id)
             .where(Workshop.id.in_(scope)).distinct())
    if flt.plant:
        query = query.where(Plant.code == flt.plant)
    if flt.workshop:
        query = query.where(Workshop.code == flt.workshop)
    zones: dict[str, list[int]] = {}
    for plant_id, zone_name in session.exec(query):
        zones.setdefault(zone_name, []).append(plant_id)
    return zones


def _within_days(column, plant_column, flt: ExportFilter, zones: dict[str, list[int]]):
    """`column` (an instant) falls on flt.start..flt.end at its row's plant; None when the filter has no days."""
    if flt.start is None and flt.end is None:
        return None
    if not zones:
        return false()
    parts = []
    for zone_name, plant_ids in zones.items():
        since, until = clock.day_bounds(flt.start or date(1970, 1, 1), flt.end or date(9998, 12, 30),
                                        clock.zone_named(zone_name))
        condition = [column >= since] if flt.start else []
        condition += [column < until] if flt.end else []
        parts.append(and_(plant_column.in_(plant_ids), *condition) if len(zones) > 1 else and_(*condition))
    return parts[0] if len(parts) == 1 else or_(*parts)


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR) is kept as text with a leading quote;
    numbers written as text ("-5") stay as they are. The writers apply it to every cell, so rows carry raw values."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _scoped_inspections(session: Session, user: User, flt: ExportFilter, zones: dict[str, list[int]]):
    """The WHERE of every export: submitted, in the user's scope, matching the filter (days at each plant)."""
    scope = visible_workshops(user).subquery()
    conditions = [Inspection.status == InspectionStatus.submitted, Inspection.workshop_id.in_(select(scope.c.id))]
    if flt.plant:
        plant = session.exec(select(Plant).where(Plant.code == flt.plant)).first()
        if plant is None or not session.exec(select(scope.c.id).where(scope.c.plant_id == plant.id)).first():
            raise ExportError("not_found", "no such plant in your scope")
        conditions.append(Workshop.plant_id == plant.id)
    if flt.workshop:
        found = session.exec(select(scope.c.id).where(scope.c.code == flt.workshop)).first()
        if found is None:
            raise ExportError("not_found", "no such workshop in your scope")
        conditions.append(Inspection.workshop_id == found)
    days = _within_days(Inspection.submitted_at, Workshop.plant_id, flt, zones)
    if days is not None:
        conditions.append(days)
    if flt.checklist:
        conditions.append(Checklist.key == flt.checklist)
    if flt.version is not None:
        conditions.append(ChecklistVersion.number == flt.version)
    return conditions


def _joined(query):
    return (query.join(Workshop, Inspection.workshop_id == Workshop.id)
            .join(Plant, Workshop.plant_id == Plant.id)
            .join(ChecklistVersion, Inspection.version_id == ChecklistVersion.id)
            .join(Checklist, ChecklistVersion.checklist_id == Checklist.id)
            .join(User, Inspection.inspector_id == User.id))


def _counter(session: Session, query) -> Callable[[], int]:
    return lambda: session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()


def _stream(session: Session, query):
    """Rows as they come: a server-side cursor on PostgreSQL, SQLite's own cursor otherwise."""
    return session.exec(query.execution_options(stream_results=True, yield_per=CHUNK))


def inspection_export(*, session: Session, user: User, flt: ExportFilter) -> Export:
    """One row per submitted inspection with its category percents (from the stored rollups)."""
    zones = _scope_zones(session, user, flt)
    names = tuple(zones)
    conditions = _scoped_inspections(session, user, flt, zones)
    matched = _joined(select(Inspection.id)).where(*conditions).subquery()
    categories = session.exec(
        select(CategoryResult.category_key, func.min(CategoryResult.category_name), func.min(CategoryResult.position))
        .where(CategoryResult.inspection_id.in_(select(matched.c.id)))
        .group_by(CategoryResult.category_key)
        .order_by(func.min(CategoryResult.position), CategoryResult.category_key)
    ).all()
    keys = [key for key, _name, _position in categories]
    header = ["检查编号", "工厂", *_zone_column(names), "车间代码", "车间", "检查表", "版本", "检查员", "检查日期",
              time_header("开始时间", names), time_header("提交时间", names), "总分%", "等级", "是否合格",
              "不合格原因", *[f"{name}%" for _key, name, _position in categories]]
    query = _joined(select(
        Inspection.id, Plant.name, Plant.timezone, Workshop.code, Workshop.name, Checklist.key, ChecklistVersion.number,
        User.display_name, Inspection.started_at, Inspection.submitted_at, Inspection.overall_percent,
        Inspection.grade, Inspection.passed, Inspection.fail_reasons,
    )).where(*conditions).order_by(Inspection.submitted_at, Inspection.id)

    def rows() -> Iterator[list]:
        chunk: list = []
        for row in _stream(session, query):
            chunk.append(row)
            if len(chunk) == CHUNK:
                yield from _with_percents(session, chunk, keys, names)
                chunk = []
        if chunk:
            yield from _with_percents(session, chunk, keys, names)

    return Export(header, rows(), names, _counter(session, query))


def _zone_column(names: tuple[str, ...]) -> list[str]:
    return ["时区"] if len(names) > 1 else []


def _zone_cell(zone_name: str, names: tuple[str, ...]) -> list[str]:
    return [zone_name] if len(names) > 1 else []


def _with_percents(session: Session, chunk: list, keys: list[str], names: tuple[str, ...]) -> Iterator[list]:
    percents: dict[int, dict[str, float | None]] = {}
    for inspection_id, key, percent in session.exec(
        select(CategoryResult.inspection_id, CategoryResult.category_key, CategoryResult.percent)
        .where(CategoryResult.inspection_id.in_([row[0] for row in chunk]))
    ):
        percents.setdefault(inspection_id, {})[key] = percent
    for (inspection_id, plant, zone, code, name, checklist, version, inspector, started, submitted, overall, grade,
         passed, reasons) in chunk:
        mine = percents.get(inspection_id, {})
        submitted_local = wall_time(submitted, zone)
        yield [inspection_id, plant, *_zone_cell(zone, names), code, name, checklist, version, inspector,
               submitted_local.date(), wall_time(started, zone), submitted_local,
               _round(overall), grade, "是" if passed else "否", fail_reasons_text(reasons)] + \
            [_round(mine.get(key)) for key in keys]


def fail_reasons_text(reasons: list | None) -> str:
    """Why an inspection failed, as a spreadsheet cell: 关键项不合格：exit, aisle；未达及格线（85%）."""
    parts = []
    for reason in reasons or ():
        if reason["code"] == "critical_failed":
            parts.append("关键项不合格：" + ", ".join(reason["items"]))
        else:
            parts.append(f"未达及格线（{reason['pass_mark']:g}%）")
    return "；".join(parts)


def answer_export(*, session: Session, user: User, flt: ExportFilter) -> Export:
    """One row per answer of the submitted inspections, in checklist order."""
    zones = _scope_zones(session, user, flt)
    names = tuple(zones)
    conditions = _scoped_inspections(session, user, flt, zones)
    header = ["检查编号", time_header("提交时间", names), "工厂", *_zone_column(names), "车间代码", "检查表", "版本",
              "类别", "检查项代码", "检查项", "评分", "不适用", "备注", "等级", "扣分"]
    query = (
        _joined(select(Inspection.id, Inspection.submitted_at, Plant.name, Plant.timezone, Workshop.code, Checklist.key,
                       ChecklistVersion.number, ChecklistCategory.name, ChecklistItem.key, ChecklistItem.text,
                       Answer.score, Answer.not_applicable, Answer.note, ChecklistVersion.id, ChecklistItem.weight,
                       ChecklistItem.deduct))
        .join(Answer, Answer.inspection_id == Inspection.id)
        .join(ChecklistItem, Answer.item_id == ChecklistItem.id)
        .join(ChecklistCategory, ChecklistItem.category_id == ChecklistCategory.id)
        .where(*conditions)
        .order_by(Inspection.submitted_at, Inspection.id, ChecklistCategory.position, ChecklistItem.position)
    )

    schemes: dict[int, Scheme] = {}  # each version's scheme parsed once, not per row

    def meaning(version_id: int, score: int | None, weight: float, deduct: float | None) -> tuple:
        """(等级, 扣分): a named grade's label, or the points a count takes off on a counting sheet."""
        if score is None:
            return "", ""
        if version_id not in schemes:
            schemes[version_id] = scheme_from_dict(session.get(ChecklistVersion, version_id).scheme)
        scheme = schemes[version_id]
        if scheme.counted:
            return "", _round(score * item_deduction(ItemSpec("", weight, deduct=deduct), scheme))
        return (scheme.label_of(score) if scheme.labelled else ""), ""  # 优, 合格 / 不合格 beside the number

    def rows() -> Iterator[list]:
        for (inspection_id, submitted, plant, zone, code, checklist, version, category, item_key, text, score, na,
             note, version_id, weight, deduct) in _stream(session, query):
            label, deducted = meaning(version_id, None if na else score, weight, deduct)
            yield [inspection_id, wall_time(submitted, zone), plant, *_zone_cell(zone, names), code, checklist,
                   version, category, item_key, text, "" if na else score, "是" if na else "", note or "", label,
                   deducted]  # 等级 and 扣分 last: columns read by position keep theirs

    return Export(header, rows(), names, _counter(session, query))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


ACTION_STATUS_NAMES = {"open": "待整改", "in_progress": "整改中", "done": "待核实", "verified": "已关闭",
                       "returned": "已退回"}


def action_export(*, session: Session, user: User, flt: ExportFilter) -> Export:
    """One row per corrective action of the inspections matched (by when they were found)."""

    zones = _scope_zones(session, user, flt)
    names = tuple(zones)
    conditions = _scoped_inspections(session, user, flt, zones)
    owner, closer = aliased(User), aliased(User)
    header = ["整改编号", "工厂", *_zone_column(names), "车间代码", "车间", "检查编号", time_header("发现时间", names),
              "检查项代码", "检查项", "得分", "关键项", "责任人", "完成期限", "优先级", "措施", "状态",
              time_header("完成时间", names), "完成说明", time_header("关闭时间", names), "关闭人"]
    query = (
        _joined(select(CorrectiveAction.id, Plant.name, Plant.timezone, Workshop.code, Workshop.name, Inspection.id,
                       Inspection.submitted_at, Finding.item_key, ChecklistItem.text, Finding.score,
                       Finding.severity, owner.display_name, CorrectiveAction.due_on, CorrectiveAction.priority,
                       CorrectiveAction.action_text, CorrectiveAction.status, CorrectiveAction.done_at,
                       CorrectiveAction.done_comment, CorrectiveAction.closed_at, closer.display_name))
        .join(Finding, Finding.inspection_id == Inspection.id)
        .join(CorrectiveAction, CorrectiveAction.finding_id == Finding.id)
        .join(ChecklistItem, Finding.item_id == ChecklistItem.id)
        .outerjoin(owner, CorrectiveAction.owner_id == owner.id)
        .outerjoin(closer, CorrectiveAction.closed_by_id == closer.id)
        .where(*conditions)
        .order_by(Inspection.submitted_at, CorrectiveAction.id)
    )

    def rows() -> Iterator[list]:
        for (action_id, plant, zone, code, workshop, inspection_id, found, item_key, text, score, severity,
             owner_name, due_on, priority, action_text, status, done_at, done_comment, closed_at, closer_name) in \
                _stream(session, query):
            yield [action_id, plant, *_zone_cell(zone, names), code, workshop, inspection_id, wall_time(found, zone),
                   item_key, text, score, "是" if str(severity) == "critical" else "", owner_name or "", due_on,
                   {"high": "高", "medium": "中", "low": "低"}[str(priority)], action_text or "",
                   ACTION_STATUS_NAMES[str(status)], wall_time(done_at, zone), done_comment or "",
                   wall_time(closed_at, zone), closer_name or ""]

    return Export(header, rows(), names, _counter(session, query))


TAG_STATUS_NAMES = {"held": "留置中", "escalated": "已过留置期（已转整改）", "decided": "已处置"}


def red_tag_export(*, session: Session, user: User, flt: ExportFilter) -> Export:
    """The red-tag register: one row per tag raised in the period (by when it was raised), in the user's scope.
    The checklist filters do not apply to tags."""

    scope = visible_workshops(user).subquery()
    conditions = [RedTag.workshop_id.in_(select(scope.c.id))]
    if flt.plant:
        plant = session.exec(select(Plant).where(Plant.code == flt.plant)).first()
        if plant is None or not session.exec(select(scope.c.id).where(scope.c.plant_id == plant.id)).first():
            raise ExportError("not_found", "no such plant in your scope")
        conditions.append(Workshop.plant_id == plant.id)
    if flt.workshop:
        found = session.exec(select(scope.c.id).where(scope.c.code == flt.workshop)).first()
        if found is None:
            raise ExportError("not_found", "no such workshop in your scope")
        conditions.append(RedTag.workshop_id == found)
    zones = _scope_zones(session, user, flt)
    names = tuple(zones)
    days = _within_days(RedTag.created_at, Workshop.plant_id, flt, zones)
    if days is not None:
        conditions.append(days)
    raiser, decider = aliased(User), aliased(User)
    header = ["红牌编号", "工厂", *_zone_column(names), "车间代码", "车间", "物品", "数量", "位置", "原因", "说明",
              "挂牌日期", "留置到", "挂牌人", "状态", "处置", "处置说明", time_header("处置时间", names), "处置人",
              "整改编号"]
    query = (
        select(RedTag.number, Plant.name, Plant.timezone, Workshop.code, Workshop.name, RedTag.what, RedTag.quantity,
               RedTag.location, RedTag.reason, RedTag.note, RedTag.tagged_on, RedTag.hold_until,
               raiser.display_name, RedTag.status, RedTag.outcome, RedTag.outcome_note, RedTag.decided_at,
               decider.display_name, CorrectiveAction.id)
        .join(Workshop, RedTag.workshop_id == Workshop.id)
        .join(Plant, Workshop.plant_id == Plant.id)
        .join(raiser, RedTag.raised_by_id == raiser.id)
        .outerjoin(decider, RedTag.decided_by_id == decider.id)
        .outerjoin(CorrectiveAction, CorrectiveAction.red_tag_id == RedTag.id)
        .where(*conditions)
        .order_by(RedTag.created_at, RedTag.id)
    )

    def rows() -> Iterator[list]:
        for (number, plant, zone, code, workshop, what, quantity, location, reason, note, tagged_on, hold_until,
             raiser_name, status, outcome, outcome_note, decided_at, decider_name, action_id) in \
                _stream(session, query):
            yield [number, plant, *_zone_cell(zone, names), code, workshop, what, quantity or "", location,
                   REASON_NAMES_ZH[reason], note or "", tagged_on, hold_until, raiser_name,
                   TAG_STATUS_NAMES[str(status)], OUTCOME_NAMES_ZH.get(outcome, "") if outcome else "",
                   outcome_note or "", wall_time(decided_at, zone), decider_name or "", action_id or ""]

    return Export(header, rows(), names, _counter(session, query))
