"""Pure scoring: answers + checklist structure + scheme -> category and overall scores.

Rules:
- levels / pass-fail: an item contributes value × weight points out of top value × weight; N/A leaves the
  denominator; a category's percent = points / applicable maximum;
- deduction (扣分制): a category starts at the scheme's category_points; each finding takes
  points_per_finding × item weight off, capped at the category's points (floor 0); N/A items take nothing off;
- a category whose items are all N/A has no percent and takes no part in the overall score;
- overall percent = weighted mean of the category percents (weights are equal by default);
- a critical item at its worst (0 on levels or pass-fail, any finding on deduction) fails the inspection
  whatever the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from checklists.schemes import DeductionScheme, Scheme

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


def validate_answer(value: AnswerValue, scheme: Scheme) -> None:
    if value == NA:
        return
    scheme.validate(value)


def _critical_failure(value: int, scheme: Scheme) -> bool:
    return value > 0 if isinstance(scheme, DeductionScheme) else value == 0


def _category_score(category: CategorySpec, answers: Mapping[str, AnswerValue], scheme: Scheme) -> CategoryScore:
    applicable = [(item, answers[item.key]) for item in category.items if answers[item.key] != NA]
    if not applicable:
        return CategoryScore(category.key, category.name, 0.0, 0.0, None)
    if isinstance(scheme, DeductionScheme):
        full = scheme.category_points
        deducted = sum(value * item.weight * scheme.points_per_finding for item, value in applicable)
        points = full - min(full, deducted)
        return CategoryScore(category.key, category.name, points, full, 100.0 * points / full)
    points = maximum = 0.0
    for item, value in applicable:
        item_points, item_max = scheme.points(value)
        points += item_points * item.weight
        maximum += item_max * item.weight
    percent = 100.0 * points / maximum if maximum > 0 else None
    return CategoryScore(category.key, category.name, points, maximum, percent)


def score_inspection(
    categories: Sequence[CategorySpec], answers: Mapping[str, AnswerValue], scheme: Scheme
) -> InspectionScore:
    missing = unanswered_keys(categories, answers)
    if missing:
        raise ValueError(f"unanswered items: {', '.join(missing)}")
    failed_critical = []
    for category in categories:
        for item in category.items:
            value = answers[item.key]
            validate_answer(value, scheme)
            if value != NA and item.critical and _critical_failure(value, scheme):
                failed_critical.append(item.key)
    category_scores = [_category_score(category, answers, scheme) for category in categories]

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


def running_score(
    categories: Sequence[CategorySpec], answers: Mapping[str, AnswerValue], scheme: Scheme
) -> InspectionScore | None:
    """The score so far, counting only the items answered yet (None before the first answer)."""
    answered = [
        CategorySpec(c.key, c.name, tuple(i for i in c.items if i.key in answers), c.weight) for c in categories
    ]
    if not any(c.items for c in answered):
        return None
    return score_inspection(answered, answers, scheme)
