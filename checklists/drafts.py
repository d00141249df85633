"""Editing a draft version: its name and description, its scoring scheme, its categories and items (added,
changed, moved, removed). A published version is frozen (the database refuses changes to it); these functions
refuse first, with a reason. Every function takes the session and flushes; the caller commits once."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import Session

from checklists.files import (
    ChecklistFileError,
    dump_checklist,
    parse_checklist,
)
from checklists.models import (
    Checklist,
    ChecklistCategory,
    ChecklistItem,
    ChecklistVersion,
    VersionStatus,
)
from checklists.schemes import SchemeError, scheme_from_dict
from checklists.service import MAX_NAME, MAX_TEXT, ChecklistError, require_draft, version_to_data


def _clean_text(value: str | None, field: str, required: bool, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ChecklistError("required", f"{field} is required", field=field)
    if len(value) > limit:
        raise ChecklistError("too_long", f"{field} is longer than {limit} characters", field=field)
    return value


def _clean_weight(value, field: str = "weight") -> float:
    try:
        weight = float(value)
    except (TypeError, ValueError):
        raise ChecklistError("bad_weight", f"{field} must be a number", field=field) from None
    if not 0 <= weight <= 100:
        raise ChecklistError("bad_weight", f"{field} must be between 0 and 100", field=field)
    return weight


def _clean_optional_points(value, field: str, positive: bool = False) -> float | None:
    """A category's full marks or an item's deduction typed on the screen: empty means the sheet's default."""
    if value is None or str(value).strip() == "":
        return None
    try:
        points = float(value)
    except (TypeError, ValueError):
        raise ChecklistError("bad_points", f"{field} must be a number", field=field) from None
    if not 0 <= points <= 10000 or (positive and points == 0):
        raise ChecklistError("bad_points", f"{field} must be {'greater than 0' if positive else '≥ 0'} and at "
                             "most 10000", field=field)
    return points


def _require_counting(version: ChecklistVersion, field: str) -> None:
    if scheme_from_dict(version.scheme).type != "deduction":
        raise ChecklistError("not_deduction", f"{field} belongs to a deduction sheet", field=field)


def update_draft(*, session: Session, version: ChecklistVersion, name: str, description: str,
                 change_note: str) -> None:
    require_draft(version)
    version.name = _clean_text(name, "name", True, 200)
    version.description = _clean_text(description, "description", False, 2000)
    version.change_note = _clean_text(change_note, "change_note", False, 2000)
    session.flush()


def set_scheme(*, session: Session, version: ChecklistVersion, scheme: dict) -> None:
    require_draft(version)
    try:
        new_scheme = scheme_from_dict(scheme)
    except SchemeError as exc:
        raise ChecklistError(exc.code, str(exc), field="scheme") from exc
    # The content must still make sense under the new scheme (an item's deduction on a sheet that no longer
    # deducts, level texts for levels that are gone): the file format's own checks say what no longer fits.
    data = version_to_data(version)
    data.scheme = new_scheme
    try:
        parse_checklist(dump_checklist(data))
    except ChecklistFileError as exc:
        raise ChecklistError("scheme_conflict", exc.problems[0], field="scheme") from exc
    version.scheme = new_scheme.to_dict()
    session.flush()


def _used_keys(checklist: Checklist) -> set[str]:
    return {item.key for version in checklist.versions for category in version.categories
            for item in category.items} | {c.key for v in checklist.versions for c in v.categories}


def _next_key(prefix: str, used: Iterable[str]) -> str:
    numbers = [int(m.group(1)) for key in used if (m := re.fullmatch(re.escape(prefix) + r"-(\d+)", key))]
    return f"{prefix}-{max(numbers, default=0) + 1:02d}"


def add_category(*, session: Session, version: ChecklistVersion, name: str, name_en: str = "",
                 weight=1.0) -> ChecklistCategory:
    require_draft(version)
    category = ChecklistCategory(
        version_id=version.id, key=_next_key("cat", _used_keys(version.checklist)),
        position=len(version.categories) + 1, name=_clean_text(name, "name", True, MAX_NAME),
        name_en=_clean_text(name_en, "name_en", False, MAX_NAME), weight=_clean_weight(weight))
    session.add(category)
    session.flush()
    session.refresh(version)
    return category


def update_category(*, session: Session, category: ChecklistCategory, name: str, name_en: str = "",
                    weight=1.0, full_marks=None) -> None:
    require_draft(category.version)
    full = _clean_optional_points(full_marks, "full_marks", positive=True)
    if full is not None:
        _require_counting(category.version, "full_marks")
    category.name = _clean_text(name, "name", True, MAX_NAME)
    category.name_en = _clean_text(name_en, "name_en", False, MAX_NAME)
    category.weight = _clean_weight(weight)
    category.full_marks = full
    session.flush()


def remove_category(*, session: Session, category: ChecklistCategory) -> None:
    version = category.version
    require_draft(version)
    session.delete(category)
    session.flush()
    session.refresh(version)
    _renumber(version.categories)
    session.flush()


def _renumber(rows) -> None:
    for position, row in enumerate(sorted(rows, key=lambda r: r.position), 1):
        row.position = position


def _move(rows, row, direction: int) -> None:
    ordered = sorted(rows, key=lambda r: r.position)
    index = ordered.index(row)
    target = index + direction
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, each in enumerate(ordered, 1):
        each.position = position


def move_category(*, session: Session, category: ChecklistCategory, direction: int) -> None:
    require_draft(category.version)
    _move(category.version.categories, category, direction)
    session.flush()


def _counting_fields(version: ChecklistVersion, deduct, unit) -> tuple[float | None, str]:
    deduct = _clean_optional_points(deduct, "deduct")
    unit = _clean_text(unit, "unit", False, 16)
    if deduct is not None or unit:
        _require_counting(version, "deduct" if deduct is not None else "unit")
    return deduct, unit


def add_item(*, session: Session, category: ChecklistCategory, text: str, text_en: str = "", guidance: str = "",
             weight=1.0, critical: bool = False, photo_required: bool = False, deduct=None,
             unit: str = "") -> ChecklistItem:
    version = category.version
    require_draft(version)
    deduct, unit = _counting_fields(version, deduct, unit)
    item = ChecklistItem(
        version_id=version.id, category_id=category.id, key=_next_key(category.key, _used_keys(version.checklist)),
        position=len(category.items) + 1, text=_clean_text(text, "text", True),
        text_en=_clean_text(text_en, "text_en", False), guidance=_clean_text(guidance, "guidance", False),
        weight=_clean_weight(weight), critical=bool(critical), photo_required=bool(photo_required),
        deduct=deduct, unit=unit)
    session.add(item)
    session.flush()
    session.refresh(category)
    return item


def update_item(*, session: Session, item: ChecklistItem, text: str, text_en: str = "", guidance: str = "",
                weight=1.0, critical: bool = False, photo_required: bool = False, deduct=None, unit: str = "",
                meaning_unchanged: bool = False) -> ChecklistItem:
    """A reworded item keeps its key only when the manager says its meaning is unchanged.

    Otherwise it gets a new key, so history never joins two different questions under one key.
    """
    version = item.category.version
    require_draft(version)
    deduct, unit = _counting_fields(version, deduct, unit)
    text = _clean_text(text, "text", True)
    if text != item.text and not meaning_unchanged and _key_published(version.checklist, item.key):
        item.key = _next_key(item.category.key, _used_keys(version.checklist))
    item.text = text
    item.text_en = _clean_text(text_en, "text_en", False)
    item.guidance = _clean_text(guidance, "guidance", False)
    item.weight = _clean_weight(weight)
    item.critical = bool(critical)
    item.photo_required = bool(photo_required)
    item.deduct, item.unit = deduct, unit
    session.flush()
    return item


def _key_published(checklist: Checklist, key: str) -> bool:
    return any(item.key == key for version in checklist.versions if version.status != VersionStatus.draft
               for category in version.categories for item in category.items)


def move_item(*, session: Session, item: ChecklistItem, direction: int) -> None:
    require_draft(item.category.version)
    _move(item.category.items, item, direction)
    session.flush()


def remove_item(*, session: Session, item: ChecklistItem) -> None:
    category = item.category
    require_draft(category.version)
    session.delete(item)
    session.flush()
    session.refresh(category)
    _renumber(category.items)
    session.flush()
