"""Red tags (红牌): a thing in the workshop whose need is in doubt gets a numbered tag and a holding period.

Before the period ends someone decides its outcome (scrap, return, relocate, keep); a tag still undecided when
the period ends escalates as a corrective action, which closes when the outcome is recorded.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

import clock
from accounts.models import User, Workshop


class TagReason(StrEnum):
    unneeded = "unneeded"  # 不需要
    defective = "defective"  # 不良品
    excess = "excess"  # 数量过多
    unknown = "unknown"  # 用途或归属不明
    misplaced = "misplaced"  # 放错位置
    other = "other"


class TagOutcome(StrEnum):
    scrap = "scrap"  # 报废
    returned = "returned"  # 退回（仓库、供应商或原部门）
    relocate = "relocate"  # 移至指定位置
    keep = "keep"  # 确认需要，保留


# for what is written into records (action comments, PDFs, exports), which are in Chinese like the checklist
OUTCOME_NAMES_ZH = {TagOutcome.scrap: "报废", TagOutcome.returned: "退回", TagOutcome.relocate: "移位",
                    TagOutcome.keep: "保留"}
REASON_NAMES_ZH = {TagReason.unneeded: "不需要", TagReason.defective: "不良品", TagReason.excess: "数量过多",
                   TagReason.unknown: "用途或归属不明", TagReason.misplaced: "放错位置", TagReason.other: "其他"}


class TagStatus(StrEnum):
    held = "held"  # waiting for a decision within its holding period
    escalated = "escalated"  # the period ended without one: a corrective action asks for it
    decided = "decided"


class RedTag(SQLModel, table=True):
    __tablename__ = "red_tag"
    __table_args__ = (UniqueConstraint("workshop_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    sequence: int  # 1, 2, … per workshop; the printed number is WORKSHOP-0001
    number: str = Field(max_length=48, unique=True)
    what: str = Field(max_length=200)  # the thing tagged
    location: str = Field(max_length=200)
    quantity: str = Field(default="", max_length=40)
    reason: TagReason = Field(max_length=16)
    note: str = ""
    photo_sha256: str = Field(max_length=64)
    tagged_on: date
    hold_until: date = Field(index=True)
    raised_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=clock.now)
    status: TagStatus = Field(default=TagStatus.held, max_length=16, index=True)
    escalated_at: datetime | None = None
    outcome: TagOutcome | None = Field(default=None, max_length=16)
    outcome_note: str = ""
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    # the key the tablet gave the form: a resend after a lost network finds this tag instead of raising another
    client_key: str | None = Field(default=None, max_length=64, unique=True, index=True)

    workshop: Workshop = Relationship()
    raised_by: User = Relationship(sa_relationship_kwargs={"foreign_keys": "RedTag.raised_by_id"})
    decided_by: User | None = Relationship(sa_relationship_kwargs={"foreign_keys": "RedTag.decided_by_id"})

    def days_left(self, today: date) -> int:
        """Days until the holding period ends: negative once it has (the countdown on the register)."""
        return (self.hold_until - today).days
