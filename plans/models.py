"""Inspection plans: who inspects what, and when. A plan's rule is kept as versions so that editing, pausing and
resuming change future occurrences only; occurrences themselves are not stored (they follow from the versions and
the inspections), only what a person decided about one: a skip, with its reason."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

import clock


class InspectionPlan(SQLModel, table=True):
    """A workshop's programme, or (workshop_id None) the same programme for every workshop of a plant."""

    __tablename__ = "inspection_plan"

    id: int | None = Field(default=None, primary_key=True)
    plant_id: int = Field(foreign_key="plant.id", index=True)
    workshop_id: int | None = Field(default=None, foreign_key="workshop.id", index=True)
    checklist_id: int = Field(foreign_key="checklist.id", index=True)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=clock.now)


class PlanVersion(SQLModel, table=True):
    """The plan's rule for the occurrences opening from valid_from to valid_until (both included; None: on)."""

    __tablename__ = "plan_version"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="inspection_plan.id", index=True, ondelete="CASCADE")
    rrule: str = Field(max_length=200)
    starts_on: date  # the rule's first day (every two weeks counts from here)
    valid_from: date
    valid_until: date | None = None
    window_days: int
    allow_late: bool = False
    paused: bool = False
    inspector_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [] = anyone
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=clock.now)


class PlanSkip(SQLModel, table=True):
    """A manager's decision that one occurrence is not inspected (停产检修…)."""

    __tablename__ = "plan_skip"
    __table_args__ = (UniqueConstraint("plan_id", "workshop_id", "opens_on"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="inspection_plan.id", index=True, ondelete="CASCADE")
    workshop_id: int = Field(foreign_key="workshop.id")
    opens_on: date
    reason: str = Field(max_length=200)
    skipped_by_id: int = Field(foreign_key="user.id")
    skipped_at: datetime = Field(default_factory=clock.now)


class CalendarFeed(SQLModel, table=True):
    """A user's secret calendar address (only its digest is kept); a new one replaces it, deleting revokes it."""

    __tablename__ = "calendar_feed"

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=clock.now)
