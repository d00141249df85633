
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint, false
from sqlmodel import Field, Relationship, SQLModel

import clock
from accounts.models import User, Workshop
from checklists.models import ChecklistItem, ChecklistVersion


class InspectionStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"  # the workshop's official record: trends, rankings, plans, findings, reports
    # a joint inspection's copy, submitted and locked, that did not become the official record: it counts only in
    # the calibration report and in inspector leniency, never in trends (migration 0025)
    calibration = "calibration"


class Calibration(SQLModel, table=True):
    """A joint inspection for calibration: two or more named inspectors each fill their own copy (an Inspection
    with calibration_id) of one workshop against one checklist version, without seeing each other's answers
    until all have submitted. The manager then makes one copy, or a reconciled copy, the official inspection."""

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    version_id: int = Field(foreign_key="checklist_version.id")
    started_by_id: int = Field(foreign_key="user.id")
    started_at: datetime = Field(default_factory=clock.now)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = None

    workshop: Workshop = Relationship()
    version: "ChecklistVersion" = Relationship()


class Inspection(SQLModel, table=True):
    # a workshop's inspections by time: trends and a plant's month (migration 0007)
    __table_args__ = (Index("ix_inspection_workshop_submitted", "workshop_id", "submitted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True)
    # The exact version filled against, forever: never re-pointed at a newer one.
    version_id: int = Field(foreign_key="checklist_version.id", index=True)
    inspector_id: int = Field(foreign_key="user.id", index=True)
    status: InspectionStatus = Field(default=InspectionStatus.draft, max_length=16, index=True)
    started_at: datetime = Field(default_factory=clock.now)
    submitted_at: datetime | None = Field(default=None, index=True)
    # Rollups written once at submit so that trends never scan answers.
    overall_percent: float | None = None
    grade: str | None = Field(default=None, max_length=32)
    passed: bool | None = None
    # why it failed, when it did: [{"code": "critical_failed", "items": [item keys]}, {"code": "below_pass_mark",
    # "pass_mark": 85.0}] (inspections/scoring.py FailReason); [] when passed, None before submit
    fail_reasons: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # a copy of a joint inspection (see Calibration); reconciled: the manager's copy made from the panel's
    calibration_id: int | None = Field(default=None, foreign_key="calibration.id", index=True)
    reconciled: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # A start made on a tablet (offline, or a tap sent again): the device's key for it, so the same start arriving
    # twice is one inspection; the device's clock when the supervisor started and the server's when it arrived.
    # started_at is the device's time when the server finds it plausible, else the arrival (migration 0036).
    client_key: str | None = Field(default=None, max_length=64, unique=True, index=True)
    device_started_at: datetime | None = None
    received_at: datetime | None = None

    workshop: Workshop = Relationship()
    version: "ChecklistVersion" = Relationship()
    inspector: User = Relationship()
    answers: list["Answer"] = Relationship(back_populates="inspection")
    category_results: list["CategoryResult"] = Relationship(
        back_populates="inspection", sa_relationship_kwargs={"order_by": "CategoryResult.position"}
    )

    @property
    def failed_critical_items(self) -> list[str]:
        return [key for reason in self.fail_reasons or () if reason["code"] == "critical_failed"
                for key in reason["items"]]

    @property
    def below_pass_mark(self) -> bool:
        return any(reason["code"] == "below_pass_mark" for reason in self.fail_reasons or ())

    @property
    def device_clock_doubted(self) -> bool:
        """Started on a device whose clock the server did not believe: started_at is the arrival instead."""
        return self.device_started_at is not None and self.started_at != self.device_started_at

    @property
    def locked(self) -> bool:
        """Submitted, officially or as a calibration copy: answers change only through a correction."""
        return self.status != InspectionStatus.draft


class Answer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("inspection_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="checklist_item.id")
    # score is None exactly when the item is not applicable (N/A leaves the denominator).
    score: int | None = None
    not_applicable: bool = False
    note: str = ""
    # the inspector marks a problem the score does not show (a hazard on an otherwise tidy line): a finding too
    flagged: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    updated_at: datetime = Field(default_factory=clock.now)
    updated_by_id: int = Field(foreign_key="user.id")
    # Bumped on every change: a tablet sends the revision it saw, so a save made on stale data is a conflict.
    revision: int = 0

    inspection: "Inspection" = Relationship(back_populates="answers")
    item: ChecklistItem = Relationship()


def is_finding_answer(answer: Answer | None, scheme) -> bool:
    """A finding: an applicable item scored at or below the scheme's threshold, or flagged by the inspector."""
    if answer is None or answer.not_applicable:
        return False
    return answer.flagged or scheme.is_finding(answer.score)


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
    change_key: str | None = Field(default=None, max_length=64, unique=True)  # a replayed upload is stored once
    inspection_id: int = Field(foreign_key="inspection.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="checklist_item.id")
    sha256: str = Field(max_length=64, index=True)
    width: int
    height: int
    byte_size: int
    uploaded_at: datetime = Field(default_factory=clock.now)
    uploaded_by_id: int = Field(foreign_key="user.id")


class PhotoMarkup(SQLModel, table=True):
    """A layer of circles, arrows and texts drawn over a photo (inspections/markup.py). The photo is untouched;
    every save is a new row, the newest counts. Append-only like the answers' history."""

    __tablename__ = "photo_markup"

    id: int | None = Field(default=None, primary_key=True)
    photo_id: int = Field(foreign_key="photo.id", index=True, ondelete="CASCADE")
    shapes: list = Field(sa_column=Column(JSON, nullable=False))
    sha256: str = Field(max_length=64)  # of the canonical shapes: the record statement carries it
    change_key: str | None = Field(default=None, max_length=64, unique=True)  # the outbox's replay is stored once
    created_at: datetime = Field(default_factory=clock.now)
    created_by_id: int = Field(foreign_key="user.id")


class AnswerChange(SQLModel, table=True):
    """Every change to an answer (append-only), including refused conflicting saves.

    change_key is generated by the tablet for each change; its uniqueness makes a replayed save harmless.
    """

    __tablename__ = "answer_change"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="checklist_item.id")
    change_key: str | None = Field(default=None, max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id")
    at: datetime = Field(default_factory=clock.now)
    outcome: str = Field(default="applied", max_length=16)  # applied | conflict
    old_value: str | None = Field(default=None, max_length=8)  # "0".."9" or "na"; None before the first answer
    new_value: str | None = Field(default=None, max_length=8)
    old_note: str | None = None
    new_note: str | None = None
    old_flagged: bool | None = None  # None before the first answer (and in changes recorded before migration 0011)
    new_flagged: bool | None = None
    revision: int = 0  # the answer's revision after an applied change; the one seen by a refused change


class Correction(SQLModel, table=True):
    """A change to an answer of a submitted inspection: a manager's, always with a reason; append-only.

    The database lets a submitted answer change only to the revision a correction row announces, so a quiet
    UPDATE of a submitted result fails (migration 0008)."""

    __tablename__ = "correction"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    item_id: int = Field(foreign_key="checklist_item.id")
    user_id: int = Field(foreign_key="user.id")
    at: datetime = Field(default_factory=clock.now)
    reason: str
    old_value: str | None = Field(default=None, max_length=8)
    new_value: str | None = Field(default=None, max_length=8)
    old_note: str = ""
    new_note: str = ""
    answer_revision: int  # the answer's revision this correction makes


class SignatureRole(StrEnum):
    inspector = "inspector"  # signs at submit: "I inspected, these are my findings"
    workshop_leader = "workshop_leader"  # countersigns, optionally: "I have seen the findings"
    manager = "manager"  # the quality manager's approval of the submitted result


# What a signature in each role means; printed beside it, so a reader need not guess.
SIGNATURE_MEANING = {
    SignatureRole.inspector: "inspected",
    SignatureRole.workshop_leader: "reviewed",
    SignatureRole.manager: "approved",
}


class Signature(SQLModel, table=True):
    """A sign-off of a submitted inspection: who, in what role, when, and the signature as drawn.

    Append-only: the database refuses to change or delete one. The workshop leader often has no account, so
    signer_name is what was written; recorded_by is the signed-in user whose tablet it was.
    """

    __table_args__ = (UniqueConstraint("inspection_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    role: SignatureRole = Field(max_length=32)
    signer_name: str = Field(max_length=64)
    signer_user_id: int | None = Field(default=None, foreign_key="user.id")
    recorded_by_id: int = Field(foreign_key="user.id")
    signed_at: datetime = Field(default_factory=clock.now)
    # A clean PNG (re-encoded, cropped to the ink); None when signed on a device without JavaScript.
    image_png: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    image_sha256: str | None = Field(default=None, max_length=64)
    # True when the signed-in user who recorded it re-entered their password to do so (from migration 0009;
    # older signatures were recorded before that was asked).
    password_confirmed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Signed on a tablet without the server (#37): the tablet's clock when it was signed there (signed_at is when
    # the server received it) and the tablet's key that signed it (the user's password unlocked it there).
    device_signed_at: datetime | None = None
    device_key_id: int | None = Field(default=None, foreign_key="device_key.id")


class ReportDocument(SQLModel, table=True):
    """A PDF report as issued. Its bytes are stored once, by hash, and every later download serves them unchanged.

    record_json is the canonical statement of the inspection the PDF was made from (answers, scores, photos,
    signatures); record_sha256 its hash, printed in the PDF. When the record changes (a countersign, a
    correction) the next download issues a new document that points at the one it replaces. Append-only.
    """

    __tablename__ = "report_document"
    __table_args__ = (UniqueConstraint("inspection_id", "kind", "language", "sequence",
                                       name="uq_report_document_language_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    kind: str = Field(max_length=16)  # full | findings
    # zh | en | zh-en (reports/language.py): each language is its own chain of issued documents
    language: str = Field(default="zh", max_length=8, sa_column_kwargs={"server_default": "zh"})
    sequence: int  # 1, 2, … per inspection, kind and language
    previous_id: int | None = Field(default=None, foreign_key="report_document.id")
    reason: str = Field(max_length=16)  # issued | signed | corrected
    record_sha256: str = Field(max_length=64, index=True)
    record_json: str
    file_sha256: str = Field(max_length=64, unique=True)
    byte_size: int
    created_at: datetime = Field(default_factory=clock.now)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")


class PeriodReport(SQLModel, table=True):
    """A workshop report or a plant's monthly 评比 as issued: stored once per content, served as stored bytes.

    html_sha256 fingerprints what the PDF shows (its HTML with the print time left out): a download whose HTML
    hashes the same is served the stored file; anything that changes the report (an inspection submitted or
    corrected in the period, an action closed, a day passing that makes one overdue) changes it, and the next
    download or the background refresh issues a new document. scope: the workshop ids the report covers (a plant
    report covers the workshops its reader may see)."""

    __tablename__ = "period_report"
    __table_args__ = (UniqueConstraint("kind", "subject", "period_start", "period_end", "locale", "scope",
                                       "html_sha256", name="uq_period_report_content"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # workshop | plant
    subject: str = Field(max_length=32)  # the workshop's or plant's code
    period_start: date
    period_end: date
    locale: str = Field(max_length=8)
    scope: str = Field(max_length=2000)  # comma-separated workshop ids, ascending
    html_sha256: str = Field(max_length=64)
    file_sha256: str = Field(max_length=64)
    byte_size: int
    created_at: datetime = Field(default_factory=clock.now)
