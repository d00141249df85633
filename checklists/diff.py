"""What changed between two checklist versions (pure): items by their stable key, categories, scheme."""

from __future__ import annotations

from dataclasses import dataclass

from checklists.files import ChecklistData


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | reworded | moved | weight | critical | guidance | category_* | scheme | name
    key: str
    before: str = ""
    after: str = ""
    category: str = ""


KIND_LABELS = {
    "added": "新增", "removed": "删除", "reworded": "措辞修改", "moved": "移动", "weight": "权重",
    "critical": "关键项", "guidance": "检查要点", "photo_required": "需拍照",
    "category_added": "新增类别", "category_removed": "删除类别", "category_renamed": "类别改名",
    "category_weight": "类别权重", "scheme": "评分方案", "name": "名称",
}


def diff_checklists(old: ChecklistData, new: ChecklistData) -> list[Change]:
    changes: list[Change] = []
    if old.name != new.name:
        changes.append(Change("name", "", old.name, new.name))
    if old.scheme.to_dict() != new.scheme.to_dict():
        changes.append(Change("scheme", "", _scheme_summary(old), _scheme_summary(new)))
    old_categories = {c.key: c for c in old.categories}
    new_categories = {c.key: c for c in new.categories}
    for key, category in new_categories.items():
        if key not in old_categories:
            changes.append(Change("category_added", key, "", category.name, category.name))
        else:
            before = old_categories[key]
            if before.name != category.name:
                changes.append(Change("category_renamed", key, before.name, category.name, category.name))
            if before.weight != category.weight:
                changes.append(Change("category_weight", key, f"{before.weight:g}", f"{category.weight:g}",
                                      category.name))
    for key, category in old_categories.items():
        if key not in new_categories:
            changes.append(Change("category_removed", key, category.name, "", category.name))

    def placed(data: ChecklistData):
        return {item.key: (category, position, item) for category in data.categories
                for position, item in enumerate(category.items, 1)}

    old_items, new_items = placed(old), placed(new)
    for key, (category, position, item) in new_items.items():
        if key not in old_items:
            changes.append(Change("added", key, "", item.text, category.name))
            continue
        old_category, old_position, before = old_items[key]
        if before.text != item.text:
            changes.append(Change("reworded", key, before.text, item.text, category.name))
        if old_category.key != category.key or old_position != position:
            changes.append(Change("moved", key, f"{old_category.name} {old_position}", f"{category.name} {position}",
                                  category.name))
        for field, kind in (("weight", "weight"), ("critical", "critical"), ("guidance", "guidance"),
                            ("photo_required", "photo_required")):
            if getattr(before, field) != getattr(item, field):
                changes.append(Change(kind, key, _show(getattr(before, field)), _show(getattr(item, field)),
                                      category.name))
    for key, (category, _position, item) in old_items.items():
        if key not in new_items:
            changes.append(Change("removed", key, item.text, "", category.name))
    return changes


def _show(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _scheme_summary(data: ChecklistData) -> str:
    scheme = data.scheme.to_dict()
    grades = "，".join(f"{g['label']}≥{g['min']:g}" for g in scheme["grades"])
    options = (f"0–{data.scheme.max_findings}" if data.scheme.counted
               else " / ".join(o.label for o in data.scheme.options))
    critical, normal = data.scheme.action_due_days
    return (f"{scheme['type']}（{options}）；等级 {grades}；及格线 {scheme['pass_mark']:g}；"
            f"整改期限 关键项 {critical} 天 / 其他 {normal} 天")


def moved_only(changes: list[Change]) -> bool:
    return all(c.kind == "moved" for c in changes)


def diff_as_text(old_label: str, new_label: str, changes: list[Change]) -> str:
    if not changes:
        return f"{old_label} → {new_label}: 没有变化\n"
    lines = [f"{old_label} → {new_label}: {len(changes)} 处变化"]
    for change in changes:
        label = KIND_LABELS.get(change.kind, change.kind)
        target = f" {change.key}" if change.key else ""
        where = f"［{change.category}］" if change.category else ""
        if change.before and change.after:
            lines.append(f"  {label}{target}{where}: {change.before} → {change.after}")
        else:
            lines.append(f"  {label}{target}{where}: {change.after or change.before}")
    return "\n".join(lines) + "\n"
