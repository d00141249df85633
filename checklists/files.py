"""The checklist file format (YAML, schema 1 or 2): parse with errors that name the field, dump canonically.

Schema 2 adds what plants' own score sheets need: a category's full marks, an item's deduction per occurrence
and its unit, named levels with their own points, what each level means for one item, and the overall rule.
Dumping is canonical (fixed key order, defaults left out, the lowest schema that holds the content) so that
export → import → export gives the same bytes, and a schema-1 sheet keeps the content hash it always had.
See docs/checklist-format.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml

from checklists.schemes import SCHEME_FIELDS, DeductionScheme, LevelScheme, Scheme, SchemeError, scheme_from_dict

SCHEMA_VERSIONS = (1, 2)
# The language a sheet's own texts (names, items, grade labels) are written in: reports print them as they are in
# that language, and look for name_en / text_en / label_en only when it is not English.
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
MAX_UNIT = 16
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# The fields each level knows: anything else is named as an error, never dropped without a word (a cap or a
# deduction typed into the wrong place would silently change how a sheet scores).
FIELDS = {
    "the checklist": ("schema", "key", "name", "language", "description", "change_note", "scoring", "categories"),
    "a category": ("key", "name", "name_en", "weight", "full_marks", "items"),
    "an item": ("key", "text", "text_en", "guidance", "weight", "critical", "photo_required", "deduct", "unit",
                "levels"),
}
# Fields only schema 2 knows, and what they need
SCHEMA_2_FIELDS = {"a category": ("full_marks",), "an item": ("deduct", "unit", "levels")}


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
    deduct: float | None = None
    unit: str = ""
    level_texts: dict[str, str] | None = None  # {level label: what it means for this item}


@dataclass
class CategoryData:
    key: str
    name: str
    items: list[ItemData]
    name_en: str = ""
    weight: float = 1.0
    full_marks: float | None = None


@dataclass
class ChecklistData:
    key: str
    name: str
    categories: list[CategoryData]
    scheme: Scheme = field(default_factory=LevelScheme)
    description: str = ""
    change_note: str = ""
    language: str = DEFAULT_LANGUAGE


def _line_of(node: yaml.Node | None) -> str:
    return f"line {node.start_mark.line + 1}: " if node is not None else ""


def _mapping_nodes(node: yaml.Node) -> dict[str, yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    return {}


class _NoAliasLoader(yaml.SafeLoader):
    """A checklist file has no use for anchors and aliases (&a, *a); refusing them refuses the "billion laughs",
    where nine aliases nine deep make a few hundred bytes stand for a structure of 400 million strings."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (*name) are not used in a checklist",
                                              event.start_mark)
        return super().compose_node(parent, index)


MAX_PROBLEMS = 100  # a file wrong everywhere is named by its first hundred problems, not a million


def parse_checklist(text: str) -> ChecklistData:
    try:
        root_node = yaml.compose(text, Loader=_NoAliasLoader)
        # a SafeLoader (no Python objects), without aliases
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  # nosec B506
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
        if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in value):
            # an escaped NUL or lone surrogate passes YAML but no database or PDF takes it
            problems.append(f"{_line_of(nodes.get(name))}{where}{name}: must not contain control characters")
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
    schema = data.get("schema")
    if schema not in SCHEMA_VERSIONS or isinstance(schema, bool):
        problems.append(f"{_line_of(nodes.get('schema'))}schema: must be 1 or 2")
        schema = 2  # report the rest as schema 2 would
    key = need_key(data, nodes, "", set())
    name = need_text(data, nodes, "name", "")
    language = data.get("language", DEFAULT_LANGUAGE)
    if language not in LANGUAGES:
        problems.append(f"{_line_of(nodes.get('language'))}language: must be one of {', '.join(LANGUAGES)} (the "
                        f"language of the sheet's own texts), not {language!r}")
        language = DEFAULT_LANGUAGE
    scheme: Scheme = LevelScheme()
    if "scoring" in data:
        scoring, snodes = data["scoring"], _mapping_nodes(nodes.get("scoring"))
        kind = scoring.get("type", "levels") if isinstance(scoring, dict) else None
        for field_name in scoring if kind in SCHEME_FIELDS else ():
            if field_name not in SCHEME_FIELDS[kind]:
                home = next((f"a {other} sheet" for other, names in SCHEME_FIELDS.items() if field_name in names),
                            None) or next((level for level, names in FIELDS.items() if field_name in names), None)
                hint = f"; it belongs to {home}" if home else f"; scoring has {', '.join(SCHEME_FIELDS[kind])}"
                problems.append(f"{_line_of(snodes.get(str(field_name)))}scoring.{field_name}: unknown field{hint}")
        try:
            scheme = scheme_from_dict(scoring)
        except SchemeError as exc:
            problems.append(f"{_line_of(nodes.get('scoring'))}scoring: {exc}")
        else:
            if schema == 1 and scheme_needs_schema_2(scheme):
                what = "named levels" if isinstance(scheme, LevelScheme) and scheme.named else "overall"
                problems.append(f"{_line_of(nodes.get('scoring'))}scoring: {what} need schema: 2")
    deduction = isinstance(scheme, DeductionScheme)
    option_labels = [o.label for o in scheme.options] if not scheme.counted else []

    def schema_2_only(mapping: dict, nodes: dict, where: str, level: str) -> bool:
        """False (and a problem named) when a schema-2 field is used in a schema-1 file."""
        used = [name for name in SCHEMA_2_FIELDS[level] if name in mapping]
        for name in used if schema == 1 else ():
            problems.append(f"{_line_of(nodes.get(name))}{where}{name}: needs schema: 2")
        return schema == 2 or not used

    def deduction_only(mapping: dict, nodes: dict, where: str, name: str) -> bool:
        if name in mapping and not deduction:
            problems.append(f"{_line_of(nodes.get(name))}{where}{name}: only a deduction sheet "
                            "(scoring.type: deduction) has it")
            return False
        return name in mapping

    def item_levels(raw: object, inodes: dict, where: str) -> dict[str, str] | None:
        line = _line_of(inodes.get("levels"))
        if deduction or not option_labels:
            problems.append(f"{line}{where}levels: a deduction sheet has no levels; the item counts occurrences")
            return None
        if not isinstance(raw, dict):
            problems.append(f"{line}{where}levels: must map each level ({', '.join(option_labels)}) to its text")
            return None
        texts: dict[str, str] = {}
        for level, text in raw.items():
            label = str(level).strip()
            if label not in option_labels:
                problems.append(f"{line}{where}levels.{label}: not a level of this sheet "
                                f"({', '.join(option_labels)})")
            elif not isinstance(text, str) or not text.strip():
                problems.append(f"{line}{where}levels.{label}: must be text")
            else:
                texts[label] = text.strip()
        missing = [label for label in option_labels if label not in texts]
        if texts and missing:
            problems.append(f"{line}{where}levels: give every level or none; missing {', '.join(missing)}")
        return {label: texts[label] for label in option_labels if label in texts} or None

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
        full_marks = None
        if schema_2_only(raw_category, cnodes, where, "a category") and deduction_only(
                raw_category, cnodes, where, "full_marks"):
            full_marks = number(raw_category, cnodes, "full_marks", where, 0.0)
            if full_marks <= 0:
                problems.append(f"{_line_of(cnodes.get('full_marks'))}{where}full_marks: must be greater than 0")
        if scheme.overall == "sum" and raw_category.get("weight", 1) != 1:
            problems.append(f"{_line_of(cnodes.get('weight'))}{where}weight: has no effect when scoring.overall "
                            "is sum (the points add up); leave it out" + ("" if not deduction else
                                                                          " or set full_marks"))
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
            deduct, unit, level_texts = None, "", None
            if schema_2_only(raw_item, inodes, iwhere, "an item"):
                if deduction_only(raw_item, inodes, iwhere, "deduct"):
                    deduct = number(raw_item, inodes, "deduct", iwhere, 0.0)
                    if raw_item.get("weight", 1) != 1:
                        problems.append(f"{_line_of(inodes.get('weight'))}{iwhere}weight: has no effect when the "
                                        "item sets deduct; leave it out")
                if deduction_only(raw_item, inodes, iwhere, "unit"):
                    unit = need_text(raw_item, inodes, "unit", iwhere, required=False)
                    if len(unit) > MAX_UNIT:
                        problems.append(f"{_line_of(inodes.get('unit'))}{iwhere}unit: at most {MAX_UNIT} characters")
                if "levels" in raw_item:
                    level_texts = item_levels(raw_item["levels"], inodes, iwhere)
            items.append(ItemData(
                key=need_key(raw_item, inodes, iwhere, item_keys),
                text=need_text(raw_item, inodes, "text", iwhere),
                text_en=need_text(raw_item, inodes, "text_en", iwhere, required=False),
                guidance=need_text(raw_item, inodes, "guidance", iwhere, required=False),
                weight=number(raw_item, inodes, "weight", iwhere, 1.0),
                critical=flags["critical"] is True,
                photo_required=flags["photo_required"] is True,
                deduct=deduct, unit=unit, level_texts=level_texts,
            ))
        categories.append(CategoryData(
            key=need_key(raw_category, cnodes, where, category_keys),
            name=need_text(raw_category, cnodes, "name", where),
            name_en=need_text(raw_category, cnodes, "name_en", where, required=False),
            weight=number(raw_category, cnodes, "weight", where, 1.0),
            full_marks=full_marks,
            items=items,
        ))
    if problems:
        more = len(problems) - MAX_PROBLEMS
        raise ChecklistFileError(problems[:MAX_PROBLEMS] + ([f"… and {more} more problems"] if more > 0 else []))
    return ChecklistData(
        key=key, name=name, categories=categories, scheme=scheme,
        description=need_text(data, nodes, "description", "", required=False),
        change_note=need_text(data, nodes, "change_note", "", required=False),
        language=language,
    )


def _compact_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def scheme_needs_schema_2(scheme: Scheme) -> bool:
    return scheme.overall != "mean" or (isinstance(scheme, LevelScheme) and scheme.named)


def schema_of(checklist: ChecklistData) -> int:
    """The lowest schema that holds this content: a sheet without schema-2 fields is written as schema 1, so its
    canonical bytes (and content hash) are what they always were."""
    if scheme_needs_schema_2(checklist.scheme) or any(
            c.full_marks is not None or any(i.deduct is not None or i.unit or i.level_texts for i in c.items)
            for c in checklist.categories):
        return 2
    return 1


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
        if item.deduct is not None:
            out["deduct"] = _compact_number(item.deduct)
        if item.unit:
            out["unit"] = item.unit
        if item.level_texts:
            out["levels"] = dict(item.level_texts)
        return out

    def category_dict(category: CategoryData) -> dict[str, Any]:
        out: dict[str, Any] = {"key": category.key, "name": category.name}
        if category.name_en:
            out["name_en"] = category.name_en
        if category.weight != 1.0:
            out["weight"] = _compact_number(category.weight)
        if category.full_marks is not None:
            out["full_marks"] = _compact_number(category.full_marks)
        out["items"] = [item_dict(item) for item in category.items]
        return out

    scheme = {key: _compact_number(value) if isinstance(value, float) else value
              for key, value in checklist.scheme.to_dict().items()}
    scheme["grades"] = [{"min": _compact_number(g["min"]), "label": g["label"],
                         **({"label_en": g["label_en"]} if g.get("label_en") else {})} for g in scheme["grades"]]
    out: dict[str, Any] = {"schema": schema_of(checklist), "key": checklist.key, "name": checklist.name}
    if checklist.language != DEFAULT_LANGUAGE:  # only when set: Chinese sheets keep their content hash
        out["language"] = checklist.language
    if checklist.description:
        out["description"] = checklist.description
    if checklist.change_note:
        out["change_note"] = checklist.change_note
    out["scoring"] = scheme
    out["categories"] = [category_dict(c) for c in checklist.categories]
    return out


def dump_checklist(checklist: ChecklistData) -> str:
    return yaml.safe_dump(checklist_to_dict(checklist), allow_unicode=True, sort_keys=False, width=1000)
