"""Pareto of findings, pure: what to fix first. Rows largest first (ties by key, so the order is stable), each with
its share and the running share; the "vital few" are the rows up to and including the one that reaches 80 %."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

VITAL_SHARE = 80.0


@dataclass(frozen=True)
class ParetoRow:
    key: str
    label: str
    count: int
    percent: float
    cumulative_percent: float
    vital: bool  # within the first 80 % (the row that crosses it included)


def pareto(counts: Mapping[str, tuple[str, int]]) -> list[ParetoRow]:
    """counts: key → (label, count); rows with a count of 0 are left out."""
    items = sorted(((key, label, n) for key, (label, n) in counts.items() if n > 0), key=lambda r: (-r[2], r[0]))
    total = sum(n for _key, _label, n in items)
    rows, running, reached = [], 0, False
    for key, label, n in items:
        running += n
        cumulative = 100.0 * running / total
        rows.append(ParetoRow(key, label, n, 100.0 * n / total, cumulative, not reached))
        reached = reached or cumulative >= VITAL_SHARE - 1e-9
    return rows
