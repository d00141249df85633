"""Pure scoring: answers + checklist structure + scheme -> category and overall scores.

Rules (default 0–4 level scheme):
- an item contributes score × weight points out of max_level × weight; N/A leaves the denominator;
- a category's percent = points / applicable maximum; a category whose items are all N/A has no percent
  and takes no part in the overall score;
- overall percent = weighted mean of the category percents (weights are equal by default);
- a critical item scored 0 fails the inspection whatever the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from checklists.schemes import LevelScheme

NA: Literal["na"] = "na"
AnswerValue = int | Literal["na"]


@dataclass(frozen=True)
class ItemSpec:
    key: str
    weight: float = 1.0
    critical: bool = False


@dataclass(frozen=True)
class CategorySpec:
    key: str
    name: str
    items: Sequence[ItemSpec]
    weight: float = 1.0


@dataclass(frozen=True)
class CategoryScore:
    key: str
    name: str
    points: float
    max_points: float
    percent: float | None


@dataclass(frozen=True)
class InspectionScore:
    categories: tuple[CategoryScore, ...]
    overall_percent: float | None
    grade: str | None
    passed: bool | None
    failed_critical: tuple[str, ...]


def unanswered_keys(categories: Iterable[CategorySpec], answers: Mapping[str, AnswerValue]) -> list[str]:
    return [item.key for category in categories for item in category.items if item.key not in answers]


def validate_answer(value: AnswerValue, scheme: LevelScheme) -> None:
    if value == NA:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= scheme.max_level:
        raise ValueError(f"score must be 0…{scheme.max_level} or 'na', got {value!r}")


def score_inspection(
    categories: Sequence[CategorySpec], answers: Mapping[str, AnswerValue], scheme: LevelScheme
) -> InspectionScore:
    missing = unanswered_keys(categories, answers)
    if missing:
        raise ValueError(f"unanswered items: {', '.join(missing)}")
    max_level = scheme.max_level
    category_scores = []
    failed_critical = []
    for category in categories:
        points = maximum = 0.0
        for item in category.items:
            value = answers[item.key]
            validate_answer(value, scheme)
            if value == NA:
                continue
            points += value * item.weight
            maximum += max_level * item.weight
            if item.critical and value == 0:
                failed_critical.append(item.key)
        percent = 100.0 * points / maximum if maximum > 0 else None
        category_scores.append(CategoryScore(category.key, category.name, points, maximum, percent))

    weighted = [
        (score.percent, category.weight)
        for score, category in zip(category_scores, categories, strict=True)
        if score.percent is not None and category.weight > 0
    ]
    total_weight = sum(weight for _, weight in weighted)
    overall = sum(p * w for p, w in weighted) / total_weight if total_weight > 0 else None
    passed = None if overall is None else (overall >= scheme.pass_mark and not failed_critical)
    return InspectionScore(
        categories=tuple(category_scores),
        overall_percent=overall,
        grade=scheme.grade_for(overall),
        passed=passed,
        failed_critical=tuple(failed_critical),
    )
