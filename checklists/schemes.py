"""Scoring schemes stored with each checklist version (pure data and rules, no database).

Three kinds, as Chinese plants use them:
- ``levels``: each item 0..N with a written meaning per level (default 0–4);
- ``pass_fail``: each item 合格 (1) or 不合格 (0);
- ``deduction`` (扣分制): each item records how many findings were seen; every finding takes
  ``points_per_finding × item weight`` off the category's ``category_points``, capped there (floor 0).
Every kind has N/A (leaves the denominator), grade bands, a pass mark, and the days a finding's corrective action
gets by severity (``action_due_days``: critical 1, normal 7 unless the version says otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

DEFAULT_LEVELS = {
    0: "完全不符合：问题普遍、严重，未采取任何措施",
    1: "大部分不符合：问题较多，仅有零星改善",
    2: "部分符合：有明显问题，需要整改",
    3: "基本符合：仅有个别轻微问题",
    4: "完全符合：持续保持，可作为样板",
}
DEFAULT_GRADES = ((90.0, "优"), (80.0, "良"), (70.0, "中"), (60.0, "差"), (0.0, "不合格"))
DEFAULT_PASS_MARK = 60.0
DEFAULT_DUE_DAYS = (1, 7)  # (critical, normal): a critical item the next day, any other within a week
MAX_DUE_DAYS = 365


class SchemeError(ValueError):
    def __init__(self, message: str, code: str = "bad_scheme"):
        super().__init__(message)
        self.code = code  # screens name what is wrong in the user's language by it


@dataclass(frozen=True)
class Option:
    """One answer button: the stored value, its short label and what it means."""

    value: int
    label: str
    meaning: str


@dataclass(frozen=True)
class _Banded:
    grades: tuple[tuple[float, str], ...] = DEFAULT_GRADES
    pass_mark: float = DEFAULT_PASS_MARK
    action_due_days: tuple[int, int] = DEFAULT_DUE_DAYS  # (critical, normal)

    def grade_for(self, percent: float | None) -> str | None:
        if percent is None:
            return None
        for minimum, label in self.grades:
            if percent >= minimum:
                return label
        return self.grades[-1][1]

    def _bands_dict(self) -> dict[str, Any]:
        out = {"grades": [{"min": m, "label": label} for m, label in self.grades], "pass_mark": self.pass_mark}
        if self.action_due_days != DEFAULT_DUE_DAYS:
            # only when set: versions published before the setting existed keep their exact content hash
            out["action_due_days"] = dict(zip(("critical", "normal"), self.action_due_days, strict=True))
        return out

    def validate(self, value: object) -> None:
        allowed = [o.value for o in self.options]  # each scheme lists its answer options
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise ValueError(f"answer must be one of {allowed} or 'na', got {value!r}")


@dataclass(frozen=True)
class LevelScheme(_Banded):
    type: ClassVar[str] = "levels"
    levels: Mapping[int, str] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    finding_at_or_below: int = 1

    @property
    def max_level(self) -> int:
        return max(self.levels)

    @property
    def options(self) -> list[Option]:
        return [Option(level, str(level), meaning) for level, meaning in sorted(self.levels.items())]

    def points(self, value: int) -> tuple[float, float]:
        """(points, maximum) for one answer of weight 1."""
        return float(value), float(self.max_level)

    def is_finding(self, value: int | None) -> bool:
        return value is not None and value <= self.finding_at_or_below

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type,
                "levels": {str(level): meaning for level, meaning in sorted(self.levels.items())},
                "finding_at_or_below": self.finding_at_or_below, **self._bands_dict()}


@dataclass(frozen=True)
class PassFailScheme(_Banded):
    type: ClassVar[str] = "pass_fail"
    ok_label: str = "合格"
    fail_label: str = "不合格"

    @property
    def options(self) -> list[Option]:
        return [Option(1, self.ok_label, "符合要求"), Option(0, self.fail_label, "不符合要求")]

    def points(self, value: int) -> tuple[float, float]:
        return float(value), 1.0

    def is_finding(self, value: int | None) -> bool:
        return value == 0

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "ok_label": self.ok_label, "fail_label": self.fail_label,
                **self._bands_dict()}


@dataclass(frozen=True)
class DeductionScheme(_Banded):
    type: ClassVar[str] = "deduction"
    category_points: float = 20.0
    points_per_finding: float = 2.0
    max_findings: int = 5

    @property
    def options(self) -> list[Option]:
        return [Option(n, str(n), "无问题" if n == 0 else f"{n} 处问题，扣 {n * self.points_per_finding:g} 分")
                for n in range(self.max_findings + 1)]

    def is_finding(self, value: int | None) -> bool:
        return value is not None and value > 0

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "category_points": self.category_points,
                "points_per_finding": self.points_per_finding, "max_findings": self.max_findings,
                **self._bands_dict()}


Scheme = LevelScheme | PassFailScheme | DeductionScheme
SCHEME_TYPES = {"levels": LevelScheme, "pass_fail": PassFailScheme, "deduction": DeductionScheme}


def _number(data: Mapping[str, Any], name: str, default: float, minimum: float = 0.0) -> float:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise SchemeError(f"{name} must be a number ≥ {minimum:g}")
    return float(value)


def _due_days(data: object) -> tuple[int, int]:
    if data is None:
        return DEFAULT_DUE_DAYS
    if not isinstance(data, Mapping) or set(data) - {"critical", "normal"}:
        raise SchemeError("action_due_days must be {critical: days, normal: days}", "bad_due_days")
    days = []
    for name, default in zip(("critical", "normal"), DEFAULT_DUE_DAYS, strict=True):
        value = data.get(name, default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DUE_DAYS:
            raise SchemeError(f"action_due_days.{name} must be a whole number of days, 0–{MAX_DUE_DAYS}",
                              "bad_due_days")
        days.append(value)
    return days[0], days[1]


def scheme_from_dict(data: Mapping[str, Any] | None) -> Scheme:
    data = data or {}
    if not isinstance(data, Mapping):
        raise SchemeError("scoring must be a mapping")
    kind = data.get("type", "levels")
    if kind not in SCHEME_TYPES:
        raise SchemeError(f"type must be one of {', '.join(SCHEME_TYPES)}, not {kind!r}")
    try:
        grades = tuple(sorted(((float(g["min"]), str(g["label"])) for g in data.get("grades", [
            {"min": m, "label": label} for m, label in DEFAULT_GRADES])), reverse=True))
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemeError("grades must be a list of {min, label}") from exc
    if not grades:
        raise SchemeError("at least one grade band is required")
    bands = {"grades": grades, "pass_mark": _number(data, "pass_mark", DEFAULT_PASS_MARK),
             "action_due_days": _due_days(data.get("action_due_days"))}
    if kind == "levels":
        try:
            levels = {int(level): str(meaning) for level, meaning in (data.get("levels") or DEFAULT_LEVELS).items()}
        except (TypeError, ValueError, AttributeError) as exc:
            raise SchemeError("levels must map 0, 1, 2, … to their meanings") from exc
        if sorted(levels) != list(range(len(levels))) or len(levels) < 2:
            raise SchemeError("levels must be numbered 0, 1, 2, … without gaps")
        threshold = int(_number(data, "finding_at_or_below", 1))
        return LevelScheme(levels=levels, finding_at_or_below=threshold, **bands)
    if kind == "pass_fail":
        return PassFailScheme(ok_label=str(data.get("ok_label", "合格")),
                              fail_label=str(data.get("fail_label", "不合格")), **bands)
    max_findings = _number(data, "max_findings", 5, minimum=1)
    if not float(max_findings).is_integer():
        raise SchemeError("max_findings must be a whole number")
    category_points = _number(data, "category_points", 20.0)
    if category_points <= 0:
        raise SchemeError("category_points must be greater than 0")
    return DeductionScheme(category_points=category_points,
                           points_per_finding=_number(data, "points_per_finding", 2.0),
                           max_findings=int(max_findings), **bands)
