"""How well inspectors agree when they score the same floor (joint inspections for calibration), pure.

- Fleiss' kappa for any number of raters, the score levels as categories (Fleiss 1971).
- Weighted Cohen's kappa for two raters on ordinal levels (linear or quadratic disagreement weights; Cohen 1968).
- The mean absolute difference between two raters, and each rater's bias against the others' mean.

Written out rather than taken from statsmodels: the arithmetic is twenty lines, and statsmodels would bring
numpy, scipy and pandas (some 150 MB) into a web app for it; the tests reproduce the published worked examples.
Kappa is None where it is undefined (every rating in one category: agreement by chance is already perfect).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """table[subject][category] = how many raters put the subject in the category; every subject rated by the
    same number of raters (at least two)."""
    rows = [list(r) for r in table if sum(r)]
    if not rows:
        return None
    raters = sum(rows[0])
    if raters < 2 or any(sum(r) != raters for r in rows):
        raise ValueError("every subject needs the same number of raters, at least two")
    subjects = len(rows)
    p_j = [sum(r[j] for r in rows) / (subjects * raters) for j in range(len(rows[0]))]
    p_i = [(sum(n * n for n in r) - raters) / (raters * (raters - 1)) for r in rows]
    p_bar, p_e = fmean(p_i), sum(p * p for p in p_j)
    if p_e >= 1:
        return None
    return (p_bar - p_e) / (1 - p_e)


def ratings_table(ratings: Sequence[Sequence[object]], categories: Sequence[object]) -> list[list[int]]:
    """ratings[subject] = each rater's category → Fleiss' count table."""
    index = {c: i for i, c in enumerate(categories)}
    table = []
    for row in ratings:
        counts = [0] * len(categories)
        for value in row:
            counts[index[value]] += 1
        table.append(counts)
    return table


def weighted_kappa(first: Sequence[object], second: Sequence[object], categories: Sequence[object],
                   weights: str = "linear") -> float | None:
    """Cohen's kappa of two raters over ordered categories, disagreements weighted by distance ("linear",
    "quadratic", or "none" for plain Cohen's kappa)."""
    if len(first) != len(second):
        raise ValueError("both raters rate the same subjects")
    k, n = len(categories), len(first)
    if n == 0 or k < 2:
        return None
    index = {c: i for i, c in enumerate(categories)}
    observed = [[0.0] * k for _ in range(k)]
    for a, b in zip(first, second, strict=True):
        observed[index[a]][index[b]] += 1 / n
    rows = [sum(observed[i]) for i in range(k)]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]

    def weight(i: int, j: int) -> float:
        if weights == "none":
            return float(i != j)
        distance = abs(i - j) / (k - 1)
        return distance if weights == "linear" else distance * distance

    disagreement = sum(weight(i, j) * observed[i][j] for i in range(k) for j in range(k))
    expected = sum(weight(i, j) * rows[i] * cols[j] for i in range(k) for j in range(k))
    if expected == 0:
        return None
    return 1 - disagreement / expected


def mean_absolute_difference(first: Sequence[float], second: Sequence[float]) -> float | None:
    pairs = list(zip(first, second, strict=True))
    return fmean(abs(a - b) for a, b in pairs) if pairs else None


def biases(scores: Mapping[str, Sequence[float | None]]) -> dict[str, float | None]:
    """Each rater's mean difference from the mean of the others, over the subjects both they and at least one
    other rater scored (None: not applicable). Positive: more lenient than the panel."""
    raters = list(scores)
    subjects = len(next(iter(scores.values()), []))
    found: dict[str, float | None] = {}
    for rater in raters:
        differences = []
        for s in range(subjects):
            mine = scores[rater][s]
            others = [scores[o][s] for o in raters if o != rater and scores[o][s] is not None]
            if mine is not None and others:
                differences.append(mine - fmean(others))
        found[rater] = fmean(differences) if differences else None
    return found


def leniency(scores: Sequence[tuple[object, object, float]]) -> dict[object, tuple[float, int]]:
    """(inspector, group, score) rows — a group is a workshop in a month — → each inspector's mean difference
    between their own mean and the other inspectors' mean in the groups someone else scored too, and how many such
    groups there were. Positive: scores higher than the others on the same floors."""
    by_group: dict[object, dict[object, list[float]]] = {}
    for inspector, group, score in scores:
        by_group.setdefault(group, {}).setdefault(inspector, []).append(score)
    differences: dict[object, list[float]] = {}
    for inspectors in by_group.values():
        if len(inspectors) < 2:
            continue
        means = {i: fmean(v) for i, v in inspectors.items()}
        for inspector, own in means.items():
            others = fmean(m for other, m in means.items() if other != inspector)
            differences.setdefault(inspector, []).append(own - others)
    return {i: (fmean(d), len(d)) for i, d in differences.items()}


NOT_APPLICABLE = "na"


@dataclass(frozen=True)
class Agreement:
    """How a panel agreed over a set of items: None where a figure is undefined or does not apply."""

    items: int  # items every rater answered (scored or N/A)
    fleiss: float | None  # the score levels and N/A as categories
    weighted: float | None  # two raters only: linear-weighted Cohen's kappa over the items both scored
    mean_absolute_difference: float | None  # mean over items and pairs of raters of |a − b|, both scored


def panel_agreement(ratings: Sequence[Sequence[object]], levels: Sequence[object]) -> Agreement:
    """ratings[item] = each rater's answer (a level, NOT_APPLICABLE, or None: not answered), raters in the same
    order on every item → the panel's agreement. Items someone left unanswered take no part."""
    complete = [list(row) for row in ratings if row and all(value is not None for value in row)]
    categories = [*levels, NOT_APPLICABLE]
    fleiss = fleiss_kappa(ratings_table(complete, categories)) if complete and len(complete[0]) >= 2 else None
    scored = [row for row in complete if NOT_APPLICABLE not in row]
    weighted = None
    if scored and len(scored[0]) == 2:
        weighted = weighted_kappa([r[0] for r in scored], [r[1] for r in scored], list(levels), "linear")
    differences = [abs(row[a] - row[b]) for row in complete for a in range(len(row)) for b in range(a + 1, len(row))
                   if row[a] != NOT_APPLICABLE and row[b] != NOT_APPLICABLE]
    return Agreement(len(complete), fleiss, weighted, fmean(differences) if differences else None)


def spread(values: Sequence[object]) -> float | None:
    """An item's spread: the highest score less the lowest (N/A and unanswered left out)."""
    scored = [v for v in values if v is not None and v != NOT_APPLICABLE]
    return max(scored) - min(scored) if len(scored) >= 2 else None


def kappa_reading(kappa: float | None) -> str | None:
    """Landis & Koch's (1977) bands, as keys: poor < 0 ≤ slight ≤ 0.20 < fair ≤ 0.40 < moderate ≤ 0.60 <
    substantial ≤ 0.80 < almost_perfect."""
    if kappa is None:
        return None
    for upper, band in ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if kappa < upper or (upper > 0 and kappa <= upper):
            return band
    return "almost_perfect"
