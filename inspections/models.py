
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from accounts.models import User, Workshop, utcnow
from checklists.models import ChecklistItem, ChecklistVersion


class InspectionStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class Inspection(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    # The exact version filled against, forever: never re-pointed at a newer one.
    version_id: int = Field(foreign_key="checklist_version.id", index=True)
    inspector_id: int = Field(foreign_key="user.id", index=True)
    status: InspectionStatus = Field(default=InspectionStatus.draft, max_length=16, index=True)
    started_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None, index=True)
    # Rollups written once at submit so that trends never scan answers.
    overall_percent: float | None = None
    grade: str | None = Field(default=None, max_length=32)
    passed: bool | None = None

    workshop: Workshop = Relationship()
    version: "ChecklistVersion" = Relationship()
    inspector: User = Relationship()
    answers: list["Answer"] = Relationship(back_populates="inspection")
    category_results: list["CategoryResult"] = Relationship(
        back_populates="inspection", sa_relationship_kwargs={"order_by": "CategoryResult.position"}
    )


class Answer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("inspection_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="checklist_item.id")
    # score is None exactly when the item is not applicable (N/A leaves the denominator).
    score: int | None = None
    not_applicable: bool = False
    note: str = ""
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int = Field(foreign_key="user.id")

    inspection: "Inspection" = Relationship(back_populates="answers")
    item: ChecklistItem = Relationship()


class CategoryResult(SQLModel, table=True):
    __tablename__ = "category_result"
    __table_args__ = (UniqueConstraint("inspection_id", "category_key"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True, ondelete="CASCADE")
    category_key: str = Field(max_length=64)
    category_name: str = Field(max_length=100)
    position: int
    points: float
    max_points: float
    # None when every item of the category was N/A: it then takes no part in the overall score.
    percent: float | None = None

    inspection: "Inspection" = Relationship(back_populates="category_results")


class Photo(SQLModel, table=True):
    """A photo taken for an answer. The file is re-encoded (EXIF gone) and stored under its content hash."""

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="checklist_item.id")
    sha256: str = Field(max_length=64, index=True)
    width: int
    height: int
    byte_size: int
    uploaded_at: datetime = Field(default_factory=utcnow)
    uploaded_by_id: int = Field(foreign_key="user.id")
