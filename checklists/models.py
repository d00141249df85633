
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

import clock


class VersionStatus(StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"


class Checklist(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True, index=True)
    # Name and description of the newest version, for lists; each version keeps its own.
    name: str = Field(max_length=200)
    description: str = ""
    versions: list["ChecklistVersion"] = Relationship(
        back_populates="checklist", sa_relationship_kwargs={"order_by": "ChecklistVersion.number"}
    )
    scopes: list["ChecklistScope"] = Relationship(sa_relationship_kwargs={"cascade": "all, delete-orphan"})


class ChecklistScope(SQLModel, table=True):
    """Where a checklist is used: a plant, or one workshop. A checklist without scopes is used everywhere."""

    __tablename__ = "checklist_scope"
    __table_args__ = (UniqueConstraint("checklist_id", "plant_id", "workshop_id"),)

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id", index=True, ondelete="CASCADE")
    plant_id: int | None = Field(default=None, foreign_key="plant.id", ondelete="CASCADE")
    workshop_id: int | None = Field(default=None, foreign_key="workshop.id", ondelete="CASCADE")


class ChecklistVersion(SQLModel, table=True):
    __tablename__ = "checklist_version"
    __table_args__ = (UniqueConstraint("checklist_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id", index=True)
    number: int
    status: VersionStatus = Field(default=VersionStatus.draft, max_length=16)
    name: str = Field(default="", max_length=200)
    description: str = ""
    # the language the version's own texts are written in (checklists/files.py LANGUAGES): zh, or en for a plant
    # abroad whose names and items are English (reports then need no name_en / text_en and mark nothing)
    language: str = Field(default="zh", max_length=8, sa_column_kwargs={"server_default": "zh"})
    # The scoring scheme (levels and their meanings, grade bands, pass mark) belongs to the version:
    # a later scheme change must never rescore an old inspection.
    scheme: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_sha256: str | None = Field(default=None, max_length=64)
    change_note: str = ""
    created_at: datetime = Field(default_factory=clock.now)
    published_at: datetime | None = None
    published_by_id: int | None = Field(default=None, foreign_key="user.id")
    retired_at: datetime | None = None
    retired_by_id: int | None = Field(default=None, foreign_key="user.id")

    checklist: "Checklist" = Relationship(back_populates="versions")
    categories: list["ChecklistCategory"] = Relationship(
        back_populates="version",
        sa_relationship_kwargs={"order_by": "ChecklistCategory.position", "cascade": "all, delete-orphan"},
    )


class ChecklistCategory(SQLModel, table=True):
    __tablename__ = "checklist_category"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="checklist_version.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=64)
    position: int
    name: str = Field(max_length=100)
    name_en: str = Field(default="", max_length=100)
    weight: float = 1.0
    # deduction sheets: the category's own full marks (None: the scheme's category_points)
    full_marks: float | None = None

    version: "ChecklistVersion" = Relationship(back_populates="categories")
    # selectin: whoever loads a version's categories walks their items next — one query for all of them, not one
    # per category
    items: list["ChecklistItem"] = Relationship(
        back_populates="category",
        sa_relationship_kwargs={"order_by": "ChecklistItem.position", "cascade": "all, delete-orphan",
                                "lazy": "selectin"},
    )


class ChecklistItem(SQLModel, table=True):
    __tablename__ = "checklist_item"
    # Item keys are stable across versions; within a version each key appears once.
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="checklist_version.id", index=True, ondelete="CASCADE")
    category_id: int = Field(foreign_key="checklist_category.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=64)
    position: int
    text: str
    text_en: str = ""
    guidance: str = ""
    weight: float = 1.0
    critical: bool = False
    # A finding on this item needs a photo before the inspection can be submitted.
    photo_required: bool = False
    # deduction sheets: points one occurrence takes off (None: points_per_finding × weight), and what is counted
    deduct: float | None = None
    unit: str = Field(default="", max_length=16)
    # what each level means for this item in its own words: {level label: text}; None when the item has none
    level_texts: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))

    category: "ChecklistCategory" = Relationship(back_populates="items")
