"""Scoring schemes as stored with each checklist version (pure data, no database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LEVELS = {
    0: "完全不符合：问题普遍、严重，未采取任何措施",
    1: "大部分不符合：问题较多，仅有零星改善",
    2: "部分符合：有明显问题，需要整改",
    3: "基本符合：仅有个别轻微问题",
    4: "完全符合：持续保持，可作为样板",
}
DEFAULT_GRADES = ((90.0, "优"), (80.0, "良"), (70.0, "中"), (60.0, "差"), (0.0, "不合格"))
DEFAULT_PASS_MARK = 60.0


class SchemeError(ValueError):
    pass


@dataclass(frozen=True)
class LevelScheme:
    """Each item scored 0..max_level (or N/A), with a written meaning per level."""

    levels: Mapping[int, str] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    grades: tuple[tuple[float, str], ...] = DEFAULT_GRADES
    pass_mark: float = DEFAULT_PASS_MARK

    @property
    def max_level(self) -> int:
        return max(self.levels)

    def grade_for(self, percent: float | None) -> str | None:
        if percent is None:
            return None
        for minimum, label in self.grades:
            if percent >= minimum:
                return label
        return self.grades[-1][1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "levels",
            "levels": {str(level): meaning for level, meaning in sorted(self.levels.items())},
            "grades": [{"min": minimum, "label": label} for minimum, label in self.grades],
            "pass_mark": self.pass_mark,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LevelScheme:
        if data.get("type", "levels") != "levels":
            raise SchemeError(f"unknown scoring type {data.get('type')!r}")
        try:
            levels = {int(level): str(meaning) for level, meaning in data["levels"].items()}
            grades = tuple(
                sorted(((float(g["min"]), str(g["label"])) for g in data["grades"]), reverse=True)
            )
            pass_mark = float(data.get("pass_mark", DEFAULT_PASS_MARK))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SchemeError(f"malformed scoring scheme: {exc}") from exc
        if sorted(levels) != list(range(len(levels))) or len(levels) < 2:
            raise SchemeError("levels must be numbered 0, 1, 2, … without gaps")
        if not grades:
            raise SchemeError("at least one grade band is required")
        return cls(levels=levels, grades=grades, pass_mark=pass_mark)
