"""Lint a checklist before it is published (pure). Warnings, not errors: the manager acknowledges them."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from checklists.files import ChecklistData

NEAR_DUPLICATE_RATIO = 0.88


@dataclass(frozen=True)
class LintWarning:
    code: str  # duplicate | near_duplicate | empty_category | no_guidance
    message: str
    keys: tuple[str, ...] = ()


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\W_]+", "", text).lower()


def lint_checklist(data: ChecklistData) -> list[LintWarning]:
    warnings: list[LintWarning] = []
    items = [(category, item, _normalise(item.text)) for category in data.categories for item in category.items]
    for category in data.categories:
        if not category.items:
            warnings.append(LintWarning("empty_category", f"类别「{category.name}」没有检查项", (category.key,)))
    for i, j in _alike_pairs([norm for _, _, norm in items]):
        (cat_a, item_a, norm_a), (cat_b, item_b, norm_b) = items[i], items[j]
        where = (f"「{cat_a.name}」{item_a.key} 与「{cat_b.name}」{item_b.key}" if cat_a.key != cat_b.key
                 else f"「{cat_a.name}」中 {item_a.key} 与 {item_b.key}")
        if norm_a == norm_b:
            warnings.append(LintWarning("duplicate", f"{where} 文字相同：{item_a.text}", (item_a.key, item_b.key)))
        else:
            warnings.append(LintWarning("near_duplicate", f"{where} 文字几乎相同：{item_a.text} / {item_b.text}",
                                        (item_a.key, item_b.key)))
    for category in data.categories:
        missing = tuple(item.key for item in category.items if not item.guidance)
        if missing:
            warnings.append(LintWarning("no_guidance", f"「{category.name}」有 {len(missing)} 项没有检查要点", missing))
    return warnings


def _alike_pairs(texts: list[str]) -> list[tuple[int, int]]:
    """Pairs (i < j) of the same or nearly the same text, in order. Every pair is compared, so the cheap upper
    bounds of the ratio (length, then letters in common) rule out most before the full comparison; the matcher
    keeps its second text's index across the inner loop (difflib caches seq2)."""
    alike = []
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    for j, text_b in enumerate(texts):
        matcher.set_seq2(text_b)
        for i in range(j):
            if texts[i] == text_b:
                alike.append((i, j))
                continue
            matcher.set_seq1(texts[i])
            if (matcher.real_quick_ratio() >= NEAR_DUPLICATE_RATIO and matcher.quick_ratio() >= NEAR_DUPLICATE_RATIO
                    and matcher.ratio() >= NEAR_DUPLICATE_RATIO):
                alike.append((i, j))
    return sorted(alike)
