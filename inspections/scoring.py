"""Pure scoring: answers + checklist structure + scheme -> category and overall scores.

Rules:
- levels / pass-fail: an item contributes value × weight points out of top value × weight; N/A leaves the
  denominator; a category's percent = points / applicable maximum;
- deduction (扣分制): a category starts at its full marks (its own, else the scheme's category_points); each
  occurrence takes the item's deduction off (its own, else points_per_finding × item weight), never below 0;
  N/A items take nothing off;
- a category whose items are all N/A has no percent and takes no part in the overall score;
- overall percent = weighted mean of the category percents (weights are equal by default), or with
  ``overall: sum`` the category points added up out of their maxima added up, as a paper sheet does;
- a critical item at its worst (the lowest level, 不合格, any occurrence on deduction) fails the inspection
  whatever the total;
- a failed inspection says why (``fail_reasons``): below the pass mark, critical items failed (which), or both.
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
    deduct: float | None = None  # deduction sheets: points per occurrence, when the item sets its own


@dataclass(frozen=True)
class CategorySpec:
    key: str
    name: str
    items: Sequence[ItemSpec]
    weight: float = 1.0
    full_marks: float | None = None  # deduction sheets: the category's own full marks


@dataclass(frozen=True)
class CategoryScore:
    key: str
    name: str
    points: float
    max_points: float
    percent: float | None


BELOW_PASS_MARK = "below_pass_mark"  # noqa: S105  # nosec B105 - a reason code, not a password
CRITICAL_FAILED = "critical_failed"


@dataclass(frozen=True)
class FailReason:
    """Why an inspection failed: its percent is below the pass mark, or these critical items were failed."""

    code: Literal["below_pass_mark", "critical_failed"]
    items: tuple[str, ...] = ()  # the critical items' keys, in checklist order
    pass_mark: float | None = None  # below_pass_mark: the mark it missed

    def to_dict(self) -> dict:
        if self.code == CRITICAL_FAILED:
            return {"code": self.code, "items": list(self.items)}
        return {"code": self.code, "pass_mark": self.pass_mark}

    @classmethod
    def from_dict(cls, data: Mapping) -> FailReason:
        return cls(code=data["code"], items=tuple(data.get("items") or ()), pass_mark=data.get("pass_mark"))


def fail_reasons_of(overall: float | None, pass_mark: float,
                    failed_critical: Sequence[str]) -> tuple[FailReason, ...]:
    """The reasons an inspection with this percent and these failed critical items fails (empty: it passes or
    has no result)."""
    if overall is None:
        return ()
    reasons = []
    if failed_critical:
        reasons.append(FailReason(CRITICAL_FAILED, items=tuple(failed_critical)))
    if overall < pass_mark:
        reasons.append(FailReason(BELOW_PASS_MARK, pass_mark=pass_mark))
    return tuple(reasons)


@dataclass(frozen=True)
class InspectionScore:
    categories: tuple[CategoryScore, ...]
    overall_percent: float | None
    # the applicable categories' points added up, out of their maxima added up (what a paper sheet totals)
    points: float
    max_points: float
    grade: str | None
    passed: bool | None
    failed_critical: tuple[str, ...]
    fail_reasons: tuple[FailReason, ...] = ()


def unanswered_keys(categories: Iterable[CategorySpec], answers: Mapping[str, AnswerValue]) -> list[str]:
    return [item.key for category in categories for item in category.items if item.key not in answers]


def validate_answer(value: AnswerValue, scheme: Scheme) -> None:
    if value == NA:
        return
    scheme.validate(value)


def item_deduction(item: ItemSpec, scheme: DeductionScheme) -> float:
    """Points one occurrence takes off on a deduction sheet."""
    return item.deduct if item.deduct is not None else scheme.points_per_finding * item.weight


def category_full_marks(category: CategorySpec, scheme: DeductionScheme) -> float:
    return category.full_marks if category.full_marks is not None else scheme.category_points


def _category_score(category: CategorySpec, answers: Mapping[str, AnswerValue], scheme: Scheme) -> CategoryScore:
    applicable = [(item, answers[item.key]) for item in category.items if answers[item.key] != NA]
    if not applicable:
        return CategoryScore(category.key, category.name, 0.0, 0.0, None)
    if isinstance(scheme, DeductionScheme):
        full = category_full_marks(category, scheme)
        deducted = sum(value * item_deduction(item, scheme) for item, value in applicable)
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
            if value != NA and item.critical and scheme.fails_critical(value):
                failed_critical.append(item.key)
    category_scores = [_category_score(category, answers, scheme) for category in categories]

    weighted = [
        (score.percent, category.weight)
        for score, category in zip(category_scores, categories, strict=True)
        if score.percent is not None and category.weight > 0
    ]
    total_weight = sum(weight for _, weight in weighted)
    overall = sum(p * w for p, w in weighted) / total_weight if total_weight > 0 else None
    counted = [score for score in category_scores if score.percent is not None]
    points, max_points = sum(s.points for s in counted), sum(s.max_points for s in counted)
    if scheme.overall == "sum":
        overall = 100.0 * points / max_points if max_points > 0 else None
    reasons = fail_reasons_of(overall, scheme.pass_mark, failed_critical)
    passed = None if overall is None else not reasons
    return InspectionScore(
        categories=tuple(category_scores),
        overall_percent=overall,
        points=points,
        max_points=max_points,
        grade=scheme.grade_for(overall),
        passed=passed,
        failed_critical=tuple(failed_critical),
        fail_reasons=reasons,
    )


def running_score(
    categories: Sequence[CategorySpec], answers: Mapping[str, AnswerValue], scheme: Scheme
) -> InspectionScore | None:
    """The score so far, counting only the items answered yet (None before the first answer)."""
    answered = [
        CategorySpec(c.key, c.name, tuple(i for i in c.items if i.key in answers), c.weight, c.full_marks)
        for c in categories
    ]
    if not any(c.items for c in answered):
        return None
    return score_inspection(answered, answers, scheme)
