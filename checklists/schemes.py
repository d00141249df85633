"""Scoring schemes stored with each checklist version (pure data and rules, no database).

Three kinds, as Chinese plants use them:
- ``levels``: each item 0..N with a written meaning per level (default 0–4), or named grades with their own
  points (优 10, 良 8, … in any order; the stored answer is the points);
- ``pass_fail``: each item 合格 (1) or 不合格 (0);
- ``deduction`` (扣分制): each item records how many times a problem was seen; each occurrence takes the item's
  ``deduct`` (by default ``points_per_finding × item weight``) off the category's full marks (its own
  ``full_marks``, by default ``category_points``), never below 0.
Every kind has N/A (leaves the denominator), grade bands, a pass mark, the days a finding's corrective action
gets by severity (``action_due_days``: critical 1, normal 7 unless the version says otherwise), and how the
overall percent is made (``overall``: ``mean`` of the category percents, or ``sum`` of category points out of
the sum of their maxima, as a paper sheet adds up).
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
# English reports: the defaults' own English (a sheet's own labels and meanings carry theirs: label_en, meanings_en)
DEFAULT_GRADES_EN = {"优": "Excellent", "良": "Good", "中": "Fair", "差": "Poor", "不合格": "Failed"}
DEFAULT_LEVELS_EN = {
    0: "Not met at all: problems everywhere, nothing done",
    1: "Mostly not met: many problems, little improvement",
    2: "Partly met: clear problems, action needed",
    3: "Largely met: a few minor problems",
    4: "Fully met: sustained, a model for others",
}
DEFAULT_PASS_FAIL_MEANINGS_EN = {"符合要求": "Meets the requirement", "不符合要求": "Does not meet the requirement"}
DEFAULT_PASS_MARK = 60.0
DEFAULT_DUE_DAYS = (1, 7)  # (critical, normal): a critical item the next day, any other within a week
MAX_DUE_DAYS = 365
OVERALL_RULES = ("mean", "sum")
MAX_NAMED_LEVELS = 10
MAX_COUNT = 999  # the most occurrences one item may record on a deduction sheet
# The fields each kind of scheme knows: anything else is named as an error (a cap typed into the wrong place
# would silently change how a sheet scores).
_COMMON_FIELDS = ("type", "grades", "pass_mark", "action_due_days", "overall")
SCHEME_FIELDS = {
    "levels": (*_COMMON_FIELDS, "levels", "finding_at_or_below", "meanings_en"),
    "pass_fail": (*_COMMON_FIELDS, "ok_label", "fail_label", "meanings_en"),
    "deduction": (*_COMMON_FIELDS, "category_points", "points_per_finding", "max_findings"),
}


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
    overall: str = "mean"
    # English for a Chinese sheet's own words, where the sheet gives it: grade label → English label, and an
    # answer option's label → what it means in English
    grades_en: tuple[tuple[str, str], ...] = ()
    meanings_en: tuple[tuple[str, str], ...] = ()

    def grade_en(self, label: str | None) -> str | None:
        """A grade label's English: the sheet's own label_en, else the default bands' English."""
        return dict(self.grades_en).get(label) or DEFAULT_GRADES_EN.get(label)

    def meaning_en(self, option: Option) -> str | None:
        """What an answer option means, in English: the sheet's meanings_en, else the defaults' English."""
        own = dict(self.meanings_en).get(option.label)
        if own:
            return own
        if option.meaning == DEFAULT_LEVELS.get(option.value):
            return DEFAULT_LEVELS_EN[option.value]
        return DEFAULT_PASS_FAIL_MEANINGS_EN.get(option.meaning)

    @property
    def counted(self) -> bool:
        """Whether an answer is a count of occurrences (a stepper), not one of a few buttons."""
        return False

    @property
    def named(self) -> bool:
        """Whether the answers are named grades (优/良/…) worth their own points."""
        return False

    @property
    def labelled(self) -> bool:
        """Whether an answer is shown by its label (优, 合格) rather than its stored number."""
        return self.named

    def fails_critical(self, value: int) -> bool:
        """Whether this answer on a critical item fails the inspection: the worst answer there is."""
        return value == min(o.value for o in self.options)

    def label_of(self, value: int | None) -> str:
        return next((o.label for o in self.options if o.value == value), str(value))

    def grade_for(self, percent: float | None) -> str | None:
        if percent is None:
            return None
        for minimum, label in self.grades:
            if percent >= minimum:
                return label
        return self.grades[-1][1]

    def _bands_dict(self) -> dict[str, Any]:
        english = dict(self.grades_en)
        out = {"grades": [{"min": m, "label": label, **({"label_en": english[label]} if label in english else {})}
                          for m, label in self.grades], "pass_mark": self.pass_mark}
        if self.meanings_en:  # only when set, like the rest: sheets without English keep their content hash
            out["meanings_en"] = dict(self.meanings_en)
        if self.action_due_days != DEFAULT_DUE_DAYS:
            # only when set: versions published before the setting existed keep their exact content hash
            out["action_due_days"] = dict(zip(("critical", "normal"), self.action_due_days, strict=True))
        if self.overall != "mean":
            out["overall"] = self.overall  # likewise
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
    # Named grades (优/良/中…): points → label, in the sheet's own order. None: the levels are numbered 0..N.
    labels: Mapping[int, str] | None = None

    @property
    def max_level(self) -> int:
        return max(self.levels)

    @property
    def named(self) -> bool:
        return self.labels is not None

    @property
    def options(self) -> list[Option]:
        if self.labels is not None:
            return [Option(points, label, self.levels[points]) for points, label in self.labels.items()]
        return [Option(level, str(level), meaning) for level, meaning in sorted(self.levels.items())]

    def value_for_label(self, label: str) -> int | None:
        return next((o.value for o in self.options if o.label == label), None)

    def points(self, value: int) -> tuple[float, float]:
        """(points, maximum) for one answer of weight 1."""
        return float(value), float(self.max_level)

    def is_finding(self, value: int | None) -> bool:
        return value is not None and value <= self.finding_at_or_below

    def to_dict(self) -> dict[str, Any]:
        levels: Any = {str(level): meaning for level, meaning in sorted(self.levels.items())}
        if self.labels is not None:
            levels = [{"label": label, "points": points, "meaning": self.levels[points]}
                      for points, label in self.labels.items()]
        return {"type": self.type, "levels": levels,
                "finding_at_or_below": self.finding_at_or_below, **self._bands_dict()}


@dataclass(frozen=True)
class PassFailScheme(_Banded):
    type: ClassVar[str] = "pass_fail"
    ok_label: str = "合格"
    fail_label: str = "不合格"

    @property
    def labelled(self) -> bool:
        return True  # 合格 / 不合格, never 1 / 0

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
    max_findings: int = MAX_COUNT  # a sheet may set a lower cap; without one, no real floor reaches it

    @property
    def counted(self) -> bool:
        return True

    def label_of(self, value: int | None) -> str:
        return str(value)

    def fails_critical(self, value: int) -> bool:
        return value > 0  # any occurrence on a critical item

    @property
    def options(self) -> list[Option]:
        # what a count means is the item's own (its deduction and unit): see item_deduction
        return [Option(n, str(n), "无问题" if n == 0 else f"{n} 处问题") for n in range(self.max_findings + 1)]

    def validate(self, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= self.max_findings:
            raise ValueError(f"answer must be a count from 0 to {self.max_findings} or 'na', got {value!r}")

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


def _named_levels(raw: list) -> tuple[dict[int, str], dict[int, str]]:
    """levels as a list of {label, points, meaning}: (points → meaning, points → label in the file's order)."""
    if not 2 <= len(raw) <= MAX_NAMED_LEVELS:
        raise SchemeError(f"levels: a sheet has 2 to {MAX_NAMED_LEVELS} levels, not {len(raw)}", "bad_levels")
    meanings: dict[int, str] = {}
    labels: dict[int, str] = {}
    for n, level in enumerate(raw):
        if not isinstance(level, Mapping):
            raise SchemeError(f"levels[{n}]: must be {{label, points, meaning}}", "bad_levels")
        unknown = [name for name in level if name not in ("label", "points", "meaning")]
        if unknown:
            raise SchemeError(f"levels[{n}].{unknown[0]}: unknown field; a level has label, points, meaning",
                              "bad_levels")
        label, points, meaning = level.get("label"), level.get("points"), level.get("meaning", "")
        if not isinstance(label, str | int) or isinstance(label, bool) or not str(label).strip():
            raise SchemeError(f"levels[{n}].label: required", "bad_levels")
        label = str(label).strip()
        if isinstance(points, float) and points.is_integer():
            points = int(points)
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            raise SchemeError(f"levels[{n}].points: must be a whole number ≥ 0", "bad_levels")
        if not isinstance(meaning, str):
            raise SchemeError(f"levels[{n}].meaning: must be text", "bad_levels")
        if points in labels:
            raise SchemeError(f"levels[{n}].points: {points} is given twice", "bad_levels")
        if label in labels.values():
            raise SchemeError(f"levels[{n}].label: {label!r} is given twice", "bad_levels")
        labels[points], meanings[points] = label, meaning.strip()
    return meanings, labels


def _grades_en(raw: object) -> tuple[tuple[str, str], ...]:
    english = []
    for n, grade in enumerate(raw if isinstance(raw, list) else ()):
        if not isinstance(grade, Mapping):
            continue  # named by the grades check
        unknown = [name for name in grade if name not in ("min", "label", "label_en")]
        if unknown:
            raise SchemeError(f"grades[{n}].{unknown[0]}: unknown field; a grade has min, label, label_en",
                              "bad_grades")
        if grade.get("label_en") is not None:
            if not isinstance(grade["label_en"], str) or not grade["label_en"].strip():
                raise SchemeError(f"grades[{n}].label_en: must be text", "bad_grades")
            english.append((str(grade["label"]), grade["label_en"].strip()))
    return tuple(english)


def _meanings_en(raw: object) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not all(isinstance(v, str) and v.strip() for v in raw.values()):
        raise SchemeError("meanings_en must map each answer's label to its meaning in English", "bad_meanings")
    return tuple((str(label), text.strip()) for label, text in raw.items())


def scheme_from_dict(data: Mapping[str, Any] | None) -> Scheme:
    scheme = _scheme_from_dict(data)
    labels = [o.label for o in scheme.options] if not scheme.counted else []
    strange = [label for label, _text in scheme.meanings_en if label not in labels]
    if strange:
        raise SchemeError(f"meanings_en.{strange[0]}: not an answer of this sheet ({', '.join(labels)})",
                          "bad_meanings")
    return scheme


def _scheme_from_dict(data: Mapping[str, Any] | None) -> Scheme:
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
    overall = data.get("overall", "mean")
    if overall not in OVERALL_RULES:
        raise SchemeError(f"overall must be one of {', '.join(OVERALL_RULES)}, not {overall!r}", "bad_overall")
    bands = {"grades": grades, "pass_mark": _number(data, "pass_mark", DEFAULT_PASS_MARK),
             "action_due_days": _due_days(data.get("action_due_days")), "overall": overall,
             "grades_en": _grades_en(data.get("grades")), "meanings_en": _meanings_en(data.get("meanings_en"))}
    if kind == "levels":
        raw_levels = data.get("levels") or DEFAULT_LEVELS
        if isinstance(raw_levels, list):
            levels, labels = _named_levels(raw_levels)
            threshold = _number(data, "finding_at_or_below", min(levels))
            if not float(threshold).is_integer():
                raise SchemeError("finding_at_or_below must be whole points")
            return LevelScheme(levels=levels, labels=labels, finding_at_or_below=int(threshold), **bands)
        try:
            levels = {int(level): str(meaning) for level, meaning in raw_levels.items()}
        except (TypeError, ValueError, AttributeError) as exc:
            raise SchemeError("levels must map 0, 1, 2, … to their meanings") from exc
        if sorted(levels) != list(range(len(levels))) or len(levels) < 2:
            raise SchemeError("levels must be numbered 0, 1, 2, … without gaps (or named: a list of "
                              "{label, points, meaning})")
        threshold = int(_number(data, "finding_at_or_below", 1))
        return LevelScheme(levels=levels, finding_at_or_below=threshold, **bands)
    if kind == "pass_fail":
        return PassFailScheme(ok_label=str(data.get("ok_label", "合格")),
                              fail_label=str(data.get("fail_label", "不合格")), **bands)
    max_findings = _number(data, "max_findings", MAX_COUNT, minimum=1)
    if not float(max_findings).is_integer() or max_findings > MAX_COUNT:
        raise SchemeError(f"max_findings must be a whole number from 1 to {MAX_COUNT}")
    category_points = _number(data, "category_points", 20.0)
    if category_points <= 0:
        raise SchemeError("category_points must be greater than 0")
    return DeductionScheme(category_points=category_points,
                           points_per_finding=_number(data, "points_per_finding", 2.0),
                           max_findings=int(max_findings), **bands)
