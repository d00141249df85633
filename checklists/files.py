"""The checklist file format (YAML, schema 1): parse with errors that name the field, dump canonically.

Dumping is canonical (fixed key order, defaults left out) so that export → import → export gives the same
bytes. See docs/checklist-format.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from checklists.schemes import LevelScheme, Scheme, SchemeError, scheme_from_dict

SCHEMA_VERSION = 1
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# The fields each level knows: anything else is named as an error, never dropped without a word (a cap or a
# deduction typed into the wrong place would silently change how a sheet scores).
FIELDS = {
    "the checklist": ("schema", "key", "name", "description", "change_note", "scoring", "categories"),
    "a category": ("key", "name", "name_en", "weight", "items"),
    "an item": ("key", "text", "text_en", "guidance", "weight", "critical", "photo_required"),
}


class ChecklistFileError(ValueError):
    """Every problem found in a checklist file, each naming its field (and line when known)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ItemData:
    key: str
    text: str
    text_en: str = ""
    guidance: str = ""
    weight: float = 1.0
    critical: bool = False
    photo_required: bool = False


@dataclass
class CategoryData:
    key: str
    name: str
    items: list[ItemData]
    name_en: str = ""
    weight: float = 1.0


@dataclass
class ChecklistData:
    key: str
    name: str
    categories: list[CategoryData]
    scheme: Scheme = field(default_factory=LevelScheme)
    description: str = ""
    change_note: str = ""


def _line_of(node: yaml.Node | None) -> str:
    return f"line {node.start_mark.line + 1}: " if node is not None else ""


def _mapping_nodes(node: yaml.Node) -> dict[str, yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    return {}


def parse_checklist(text: str) -> ChecklistData:
    try:
        root_node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ChecklistFileError([f"not valid YAML: {exc}"]) from exc
    problems: list[str] = []

    def need_text(mapping: dict, nodes: dict, name: str, where: str, required: bool = True) -> str:
        value = mapping.get(name)
        if value is None:
            if required:
                problems.append(f"{_line_of(nodes.get(name) or nodes.get('__self__'))}{where}{name}: required")
            return ""
        if not isinstance(value, str):
            problems.append(f"{_line_of(nodes.get(name))}{where}{name}: must be text")
            return ""
        return value.strip()

    def need_key(mapping: dict, nodes: dict, where: str, seen: set[str]) -> str:
        key = need_text(mapping, nodes, "key", where)
        if key and not KEY_PATTERN.match(key):
            problems.append(f"{_line_of(nodes.get('key'))}{where}key: {key!r} must be lower-case letters, "
                            "digits, '-' or '_'")
        elif key in seen:
            problems.append(f"{_line_of(nodes.get('key'))}{where}key: {key!r} is used twice")
        seen.add(key)
        return key

    def known_fields(mapping: dict, nodes: dict, where: str, level: str) -> None:
        for name in mapping:
            if name in FIELDS[level]:
                continue
            home = next((other for other, fields in FIELDS.items() if name in fields and other != level), None)
            hint = f"; it belongs to {home}" if home else f"; {level} has {', '.join(FIELDS[level])}"
            problems.append(f"{_line_of(nodes.get(str(name)))}{where}{name}: unknown field{hint}")

    def number(mapping: dict, nodes: dict, name: str, where: str, default: float) -> float:
        value = mapping.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"{_line_of(nodes.get(name))}{where}{name}: must be a number ≥ 0")
            return default
        return float(value)

    if not isinstance(data, dict):
        raise ChecklistFileError(["the file must be a mapping with key, name and categories"])
    nodes = {**_mapping_nodes(root_node), "__self__": root_node}
    known_fields(data, nodes, "", "the checklist")
    if data.get("schema") != SCHEMA_VERSION:
        problems.append(f"{_line_of(nodes.get('schema'))}schema: must be {SCHEMA_VERSION}")
    key = need_key(data, nodes, "", set())
    name = need_text(data, nodes, "name", "")
    scheme = LevelScheme()
    if "scoring" in data:
        try:
            scheme = scheme_from_dict(data["scoring"])
        except SchemeError as exc:
            problems.append(f"{_line_of(nodes.get('scoring'))}scoring: {exc}")

    categories: list[CategoryData] = []
    raw_categories = data.get("categories")
    category_nodes = nodes.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        problems.append(f"{_line_of(category_nodes)}categories: at least one category is required")
        raw_categories = []
    category_keys: set[str] = set()
    item_keys: set[str] = set()
    for ci, raw_category in enumerate(raw_categories):
        where = f"categories[{ci}]."
        cnode = category_nodes.value[ci] if isinstance(category_nodes, yaml.SequenceNode) else None
        if not isinstance(raw_category, dict):
            problems.append(f"{_line_of(cnode)}{where[:-1]}: must be a mapping")
            continue
        cnodes = {**_mapping_nodes(cnode), "__self__": cnode} if cnode is not None else {}
        known_fields(raw_category, cnodes, where, "a category")
        items: list[ItemData] = []
        raw_items = raw_category.get("items")
        item_nodes = cnodes.get("items")
        if not isinstance(raw_items, list):
            problems.append(f"{_line_of(item_nodes or cnode)}{where}items: must be a list")
            raw_items = []
        for ii, raw_item in enumerate(raw_items):
            iwhere = f"{where}items[{ii}]."
            inode = item_nodes.value[ii] if isinstance(item_nodes, yaml.SequenceNode) else None
            if not isinstance(raw_item, dict):
                problems.append(f"{_line_of(inode)}{iwhere[:-1]}: must be a mapping")
                continue
            inodes = {**_mapping_nodes(inode), "__self__": inode} if inode is not None else {}
            known_fields(raw_item, inodes, iwhere, "an item")
            flags = {}
            for flag in ("critical", "photo_required"):
                flags[flag] = raw_item.get(flag, False)
                if not isinstance(flags[flag], bool):
                    problems.append(f"{_line_of(inodes.get(flag))}{iwhere}{flag}: must be true or false")
            items.append(ItemData(
                key=need_key(raw_item, inodes, iwhere, item_keys),
                text=need_text(raw_item, inodes, "text", iwhere),
                text_en=need_text(raw_item, inodes, "text_en", iwhere, required=False),
                guidance=need_text(raw_item, inodes, "guidance", iwhere, required=False),
                weight=number(raw_item, inodes, "weight", iwhere, 1.0),
                critical=flags["critical"] is True,
                photo_required=flags["photo_required"] is True,
            ))
        categories.append(CategoryData(
            key=need_key(raw_category, cnodes, where, category_keys),
            name=need_text(raw_category, cnodes, "name", where),
            name_en=need_text(raw_category, cnodes, "name_en", where, required=False),
            weight=number(raw_category, cnodes, "weight", where, 1.0),
            items=items,
        ))
    if problems:
        raise ChecklistFileError(problems)
    return ChecklistData(
        key=key, name=name, categories=categories, scheme=scheme,
        description=need_text(data, nodes, "description", "", required=False),
        change_note=need_text(data, nodes, "change_note", "", required=False),
    )


def _compact_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def checklist_to_dict(checklist: ChecklistData) -> dict[str, Any]:
    def item_dict(item: ItemData) -> dict[str, Any]:
        out: dict[str, Any] = {"key": item.key, "text": item.text}
        if item.text_en:
            out["text_en"] = item.text_en
        if item.guidance:
            out["guidance"] = item.guidance
        if item.weight != 1.0:
            out["weight"] = _compact_number(item.weight)
        if item.critical:
            out["critical"] = True
        if item.photo_required:
            out["photo_required"] = True
        return out

    def category_dict(category: CategoryData) -> dict[str, Any]:
        out: dict[str, Any] = {"key": category.key, "name": category.name}
        if category.name_en:
            out["name_en"] = category.name_en
        if category.weight != 1.0:
            out["weight"] = _compact_number(category.weight)
        out["items"] = [item_dict(item) for item in category.items]
        return out

    scheme = {key: _compact_number(value) if isinstance(value, float) else value
              for key, value in checklist.scheme.to_dict().items()}
    scheme["grades"] = [{"min": _compact_number(g["min"]), "label": g["label"]} for g in scheme["grades"]]
    out: dict[str, Any] = {"schema": SCHEMA_VERSION, "key": checklist.key, "name": checklist.name}
    if checklist.description:
        out["description"] = checklist.description
    if checklist.change_note:
        out["change_note"] = checklist.change_note
    out["scoring"] = scheme
    out["categories"] = [category_dict(c) for c in checklist.categories]
    return out


def dump_checklist(checklist: ChecklistData) -> str:
    return yaml.safe_dump(checklist_to_dict(checklist), allow_unicode=True, sort_keys=False, width=1000)
