"""Action figures for a workshop or a plant over a period (pure: plain values in, numbers out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

OPEN = ("open", "in_progress", "returned")


@dataclass(frozen=True)
class ActionRow:
    status: str
    created_at: datetime
    due_on: date
    closed_at: datetime | None


@dataclass(frozen=True)
class ActionStats:
    open: int  # not yet fixed (open, in progress, returned)
    overdue: int  # of those, past their due date
    waiting: int  # done, waiting for verification
    closed_in_period: int
    mean_days_to_close: float | None  # of the ones closed in the period, from finding to verification


def action_stats(rows: list[ActionRow], today: date, since: datetime | None, until: datetime | None) -> ActionStats:
    open_rows = [r for r in rows if r.status in OPEN]
    closed = [r for r in rows if r.status == "verified" and r.closed_at is not None
              and (since is None or r.closed_at >= since) and (until is None or r.closed_at < until)]
    days = [(r.closed_at - r.created_at).total_seconds() / 86400 for r in closed]
    return ActionStats(
        open=len(open_rows), overdue=sum(1 for r in open_rows if r.due_on < today),
        waiting=sum(1 for r in rows if r.status == "done"), closed_in_period=len(closed),
        mean_days_to_close=round(sum(days) / len(days), 1) if days else None,
    )
