"""Findings and their corrective actions.

A finding is what a submitted inspection found wrong with one item (scored at or below the version's threshold,
or flagged by the inspector); it gets one corrective action: an owner in the workshop's scope, a due date, what to
do, and a status that moves open → in_progress → done → verified, or done → returned → in_progress … Every move is
an ActionEvent row.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import UniqueConstraint, false
from sqlmodel import Field, Relationship, SQLModel

import clock
from accounts.models import User, Workshop
from checklists.models import ChecklistItem
from inspections.models import Inspection

if TYPE_CHECKING:  # red tags stand above actions (one escalates into an action); the mapper finds it by name
    from redtags.models import RedTag


class Severity(StrEnum):
    critical = "critical"  # a critical item (关键项): due the next day by default
    normal = "normal"


class Priority(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class ActionStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"  # the owner says it is fixed, with an after-photo: waits for verification
    verified = "verified"  # closed: a manager or the next inspector saw it fixed
    returned = "returned"  # not fixed after all: back to the owner

    @property
    def is_closed(self) -> bool:
        return self == ActionStatus.verified


OPEN_STATUSES = (ActionStatus.open, ActionStatus.in_progress, ActionStatus.returned)


class Finding(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("inspection_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    item_id: int = Field(foreign_key="checklist_item.id")
    # the stable key across checklist versions: the next inspection finds the open action for "its" item by it
    item_key: str = Field(max_length=64, index=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    severity: Severity = Field(default=Severity.normal, max_length=16)
    score: int | None = None
    flagged: bool = Field(default=False, sa_column_kwargs={"server_default": false()})  # raised by the inspector
    note: str = ""
    created_at: datetime = Field(default_factory=clock.now)

    inspection: Inspection = Relationship()
    item: ChecklistItem = Relationship()
    workshop: Workshop = Relationship()
    action: "CorrectiveAction" = Relationship(back_populates="finding")


class CorrectiveAction(SQLModel, table=True):
    __tablename__ = "corrective_action"

    id: int | None = Field(default=None, primary_key=True)
    # An action comes from a finding, or from a red tag whose holding period ended undecided: exactly one is set.
    finding_id: int | None = Field(default=None, foreign_key="finding.id", unique=True)
    red_tag_id: int | None = Field(default=None, foreign_key="red_tag.id", unique=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)  # denormalised: lists and counts per workshop
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)  # None until assigned
    due_on: date = Field(index=True)
    priority: Priority = Field(default=Priority.medium, max_length=16)
    action_text: str = ""
    status: ActionStatus = Field(default=ActionStatus.open, max_length=16, index=True)
    created_at: datetime = Field(default_factory=clock.now)
    updated_at: datetime = Field(default_factory=clock.now)
    done_at: datetime | None = None
    done_comment: str = ""
    after_photo_sha256: str | None = Field(default=None, max_length=64)
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="user.id")

    finding: Finding | None = Relationship(back_populates="action")
    red_tag: "RedTag" = Relationship()
    workshop: Workshop = Relationship()
    owner: User | None = Relationship(sa_relationship_kwargs={"foreign_keys": "CorrectiveAction.owner_id"})

    @property
    def subject(self) -> str:
        """What the action is about, in one line: the checklist item, or the red tag."""
        if self.finding is not None:
            return self.finding.item.text
        return f"{self.red_tag.number} · {self.red_tag.what}"


class ActionEvent(SQLModel, table=True):
    """One move of an action (append-only): who, when, from → to, and what they wrote."""

    __tablename__ = "action_event"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="corrective_action.id", index=True)
    at: datetime = Field(default_factory=clock.now)
    user_id: int = Field(foreign_key="user.id")
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    comment: str = ""
    # set when this move came from an inspection (verified or returned on the floor)
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id")
    # the tablet's key for the form that made this move (done with a photo, queued while offline): a resend is no
    # second move
    client_key: str | None = Field(default=None, max_length=64, unique=True, index=True)


class NotificationDelivery(SQLModel, table=True):
    """What the daily run delivered, one row per day, channel and recipient: a second run the same day (cron retried
    after a failed webhook, someone ran it by hand) sends only what has not arrived yet."""

    __tablename__ = "notification_delivery"
    __table_args__ = (UniqueConstraint("day", "channel", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    channel: str = Field(max_length=16)  # mail | webhook
    recipient: str = Field(max_length=64)  # user:<id> | plant:<code>
    address: str = Field(default="", max_length=500)  # the e-mail address or URL it went to
    action_count: int = 0
    delivered_at: datetime = Field(default_factory=clock.now)
