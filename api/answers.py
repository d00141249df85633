"""The API's answers as pydantic models: described in the OpenAPI document (not validated at run time — a cost on
every call); Schemathesis holds every answer to them in the tests. What the API reads is in api.schemas."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Score = float | str | None  # points or a count; "na" where the item does not apply


class Answer(BaseModel):
    """An answer: open to fields added later (clients must ignore members they do not know)."""
    model_config = ConfigDict(extra="allow")


class Problem(Answer):
    """RFC 9457 problem details, with our `code` (for programs) and `items` (the fields or item keys concerned)."""
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str = Field(description="what went wrong, stable across releases: e.g. unknown_field, locked, conflict")
    error: str = Field(description="the same text as detail, for clients written before problem details")
    items: list[str | None] | None = None


class WorkshopOut(Answer):
    code: str
    name: str
    plant: str


class Workshops(Answer):
    workshops: list[WorkshopOut]


class ChecklistRef(Answer):
    key: str
    version: int


class Started(Answer):
    id: int
    checklist: str
    version: int


class SavedAnswer(Answer):
    item: str
    score: Score
    count: Score = None
    deducted: float | None = None
    level: str | None = None
    note: str | None
    flagged: bool
    revision: int


class AnswerOut(Answer):
    item: str
    category: str
    critical: bool = Field(description="a critical item: its worst answer fails the inspection whatever the total")
    score: Score
    note: str | None
    flagged: bool
    photo_count: int


class ItemState(Answer):
    item: str
    category: str
    text: str
    critical: bool
    answered: bool


class FailReasonOut(Answer):
    """Why the inspection failed: its percent is below the pass mark, or critical items were failed."""
    code: Literal["below_pass_mark", "critical_failed"]
    items: list[str] | None = Field(default=None, description="critical_failed: the failed critical items' keys")
    pass_mark: float | None = Field(default=None, description="below_pass_mark: the pass mark it missed")


class CategoryResult(Answer):
    key: str
    name: str
    percent: float | None
    points: float | None


class SignatureOut(Answer):
    role: str
    name: str
    meaning: str
    signed_at: str | None
    drawn: bool
    password_confirmed: bool
    signed_on_device_at: str | None = Field(
        default=None, description="signed on a tablet without the server: the tablet's clock then (signed_at is "
                                  "when the server received it); the tablet's key, unlocked by the password, signed it")


class InspectionOut(Answer):
    id: int
    workshop: str
    checklist: ChecklistRef
    status: Literal["draft", "submitted", "calibration"]
    inspector: str
    calibration: int | None
    started_at: str | None
    submitted_at: str | None
    answers: list[AnswerOut]
    items: list[ItemState] = Field(description="every item of the version, answered or not")
    categories: list[CategoryResult]
    overall_percent: float | None
    grade: str | None
    passed: bool | None
    fail_reasons: list[FailReasonOut] = Field(description="why it failed (empty when passed or not yet scored)")
    signatures: list[SignatureOut]


class InspectionRow(Answer):
    id: int
    workshop: str
    plant: str
    checklist: ChecklistRef
    status: str
    inspector: str | None
    calibration: int | None
    started_at: str | None
    submitted_at: str | None
    overall_percent: float | None
    grade: str | None
    passed: bool | None
    fail_reasons: list[FailReasonOut] = Field(description="why it failed (empty when passed or not yet scored)")


class InspectionPage(Answer):
    inspections: list[InspectionRow]
    next_cursor: str | None = Field(description="null on the last page")


class PhotoOut(Answer):
    id: int
    item_id: int
    sha256: str
    width: int
    height: int
    byte_size: int
    uploaded_at: str
    url: str = Field(description="downloads the JPEG (the same token works there)")


class Photos(Answer):
    photos: dict[str, list[PhotoOut]] = Field(description="by item key")


class VersionSummary(Answer):
    number: int
    status: str
    name: str
    content_sha256: str | None
    published_at: str | None


class ChecklistOut(Answer):
    key: str
    name: str
    versions: list[VersionSummary]


class Checklists(Answer):
    checklists: list[ChecklistOut]


class ItemOut(Answer):
    key: str
    text: str
    text_en: str | None
    guidance: str | None
    weight: float | None
    critical: bool
    photo_required: bool
    deduct: float | None
    unit: str | None
    level_texts: Any = None


class CategoryOut(Answer):
    key: str
    name: str
    name_en: str | None
    weight: float | None
    full_marks: float | None
    items: list[ItemOut]


class VersionOut(Answer):
    key: str
    name: str
    number: int
    status: str
    description: str | None
    change_note: str | None
    content_sha256: str | None
    published_at: str | None
    scheme: dict[str, Any]
    categories: list[CategoryOut]


class TrendPoint(Answer):
    id: int
    date: str
    submitted_at: str | None
    overall_percent: float | None
    grade: str | None
    categories: dict[str, float | None]
    checklist: ChecklistRef


class Trend(Answer):
    workshop: str
    timezone: str
    view: str
    common_items: list[str] | None
    inspections: list[TrendPoint]


class LeagueRow(Answer):
    code: str
    name: str
    rank: int | None
    inspections: int
    average: float | None
    latest: float | None
    previous_average: float | None
    change: float | None
    categories: dict[str, float | None]
    passed: bool | None = Field(description="every inspection of the month passed (null: none this month)")
    failed: int = Field(description="inspections of the month that failed")
    checklists: list[str] = Field(description="the checklists its inspections of the month were filled against")


class League(Answer):
    plant: str
    timezone: str
    month: str
    ranking: Literal["failed_last"] = Field(description="a workshop with a failed inspection in the month ranks "
                                                       "after every workshop whose inspections all passed; then "
                                                       "by average, best first")
    inspections: int
    categories: list[dict[str, str]]
    workshops: list[LeagueRow]


class ActionOut(Answer):
    id: int
    workshop: str
    source: Literal["finding", "red_tag"]
    red_tag: str | None
    inspection: int | None
    item: str | None
    item_text: str | None
    score: Score
    flagged: bool
    severity: str | None
    owner: str | None
    due_on: str
    priority: str
    action: str | None
    status: Literal["open", "in_progress", "done", "verified", "returned"]
    overdue: bool
    done_at: str | None
    done_comment: str | None
    closed_at: str | None
    after_photo: str | None = Field(description="downloads the after-photo (the same token works there)")


class Actions(Answer):
    status: str
    actions: list[ActionOut]


class RedTagOut(Answer):
    id: int
    number: str
    workshop: str
    what: str
    quantity: str
    location: str
    reason: str
    note: str | None
    tagged_on: str
    hold_until: str
    days_left: int
    status: Literal["held", "escalated", "decided"]
    outcome: str | None
    outcome_note: str | None
    decided_at: str | None
    photo: str = Field(description="downloads the tag's photo")


class RedTags(Answer):
    status: str
    red_tags: list[RedTagOut]


class ChartPoint(Answer):
    inspection: int
    date: str
    value: float
    moving_range: float | None


class Signal(Answer):
    rule: int
    inspection: int
    text: str


class ControlChart(Answer):
    workshop: str
    series: str
    view: str
    since_version_change: bool | None = None
    baseline: int | None
    rules: list[int]
    points: list[ChartPoint]
    centre: float | None
    lower: float | None
    upper: float | None
    mr_centre: float | None
    mr_upper: float | None
    signals: list[Signal]
    note: str | None


class ParetoRow(Answer):
    key: str
    label: str
    count: int
    percent: float
    cumulative_percent: float
    vital: bool
    inspections: list[int]


class Pareto(Answer):
    by: str
    from_: str = Field(alias="from")
    to: str
    total: int
    rows: list[ParetoRow]


class Copy(Answer):
    inspector: str
    inspection: int
    status: str
    submitted_at: str | None


class AgreementOut(Answer):
    items: int
    fleiss_kappa: float | None
    weighted_kappa: float | None
    mean_absolute_difference: float | None
    reading: str | None


class CalibrationOut(Answer):
    id: int
    workshop: str
    checklist: ChecklistRef
    started_at: str
    state: Literal["open", "complete", "decided"]
    copies: list[Copy]
    reconciled: int | None
    official: int | None
    report: dict[str, Any] | None = Field(description="null until every copy is submitted")


class PlanVersionOut(Answer):
    valid_from: str
    valid_until: str | None
    rrule: str
    starts_on: str
    window_days: int
    allow_late: bool
    paused: bool


class PlanOut(Answer):
    id: int
    plant: str
    workshop: str | None
    checklist: str
    rrule: str
    starts_on: str
    window_days: int
    allow_late: bool
    paused: bool
    inspectors: list[str]
    versions: list[PlanVersionOut]


class Plans(Answer):
    plans: list[PlanOut]


class OccurrenceOut(Answer):
    id: str
    plan: int
    workshop: str
    opens_on: str
    closes_on: str
    late_until: str | None
    state: str
    inspection: int | None
    draft: int | None
    done_on: str | None
    on_time: bool | None
    skip: dict[str, str] | None


class Occurrences(Answer):
    from_: str = Field(alias="from")
    to: str
    occurrences: list[OccurrenceOut]


class PlantOut(Answer):
    code: str
    name: str
    timezone: str
    workshops: list[WorkshopOut]


class Plants(Answer):
    plants: list[PlantOut]


class UserOut(Answer):
    username: str
    display_name: str
    role: str
    active: bool
    may_inspect: bool
    email: str | None
    access_expires_on: str | None
    plants: list[str]
    workshops: list[str]


class Users(Answer):
    users: list[UserOut]


class AuditOut(Answer):
    id: int
    at: str
    actor: str | None
    action: str
    object_type: str
    object_id: str
    old: str | None = Field(description="the old values, JSON text")
    new: str | None = Field(description="the new values, JSON text")
    reason: str | None
    sha256: str = Field(description="this row's link in the trail's hash chain")


class AuditPage(Answer):
    events: list[AuditOut]
    next_before: int | None = Field(description="null on the last page")
