"""The API's shapes as pydantic models: request bodies and query strings (read with them: `json_body(model=…)`,
`@operation(query=…)`), and the answers (described in the OpenAPI document; Schemathesis holds every answer to
them in the tests). Field descriptions are the reference page's text, in English like the rest of the API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

import clock
from database import MAX_ID

Score = float | str | None  # points or a count; "na" where the item does not apply
# a day a request may name (clock.FIRST_DAY … LAST_DAY: the day after and a day's bounds stay within the calendar)
Day = Annotated[date, Field(ge=clock.FIRST_DAY, le=clock.LAST_DAY)]


class Body(BaseModel):
    """A request body: a field not described here is refused by name (422 unknown_field)."""
    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """A query string: a parameter not described here is refused by name (422 unknown_field)."""
    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """An answer: open to fields added later (clients must ignore members they do not know)."""
    model_config = ConfigDict(extra="allow")


# ---- errors

class Problem(Answer):
    """RFC 9457 problem details, with our `code` (for programs) and `items` (the fields or item keys concerned)."""
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str = Field(description="what went wrong, stable across releases: e.g. unknown_field, locked, conflict")
    error: str = Field(description="the same text as detail, for clients written before problem details")
    items: list[str | None] | None = None


# ---- request bodies

class StartBody(Body):
    checklist: StrictStr | None = Field(None, description="the checklist key; needed when the workshop offers "
                                                          "more than one")


class AnswerBody(Body):
    score: StrictInt | float | StrictStr | None = Field(None, description='points of the sheet\'s scale, or "na"')
    count: StrictInt | StrictStr | None = Field(None, description='occurrences on a counting sheet, or "na"')
    level: StrictStr | None = Field(None, description="a named grade's label (or \"na\")")
    note: StrictStr | None = None
    flagged: StrictBool | None = Field(None, description="a finding to follow up even with a passing score")
    revision: StrictInt | None = Field(None, ge=0, le=MAX_ID,
                                       description="the revision this change was made on; a later one answers 409 "
                                                   "conflict with the answer as it stands")
    change_key: StrictStr | None = Field(None, min_length=1, max_length=64,
                                         description="makes a retry of this change harmless")


class SubmitBody(Body):
    signature: StrictStr | None = Field(None, description="the inspector's drawn signature, a PNG data URL")
    password: StrictStr | None = Field(None, description="the signer's password: needed with a signature")


class ApproveBody(Body):
    password: StrictStr = Field(description="the manager's password, as on the screen")
    signature: StrictStr | None = Field(None, description="a drawn PNG signature as a data URL")


class CountersignBody(Body):
    name: StrictStr = Field(min_length=1, max_length=60, description="the workshop leader's name")
    signature: StrictStr | None = Field(None, description="the leader's drawn signature, a PNG data URL")
    password: StrictStr = Field(description="the password of the signed-in user whose device records it")


class CorrectionBody(Body):
    item: StrictStr = Field(description="the item key")
    score: StrictInt | float | StrictStr | None = None
    count: StrictInt | StrictStr | None = None
    level: StrictStr | None = None
    note: StrictStr | None = None
    reason: StrictStr = Field(description="why the record is corrected; kept with the old value")


class CalibrationBody(Body):
    inspectors: list[StrictStr] = Field(description="usernames, at least two")
    checklist: StrictStr | None = None


class OfficialBody(Body):
    inspection: StrictInt = Field(ge=1, le=MAX_ID, description="the id of a submitted copy")


class NoBody(Body):
    """Nothing to send (anything sent is refused by name)."""


class AssignBody(Body):
    owner: StrictStr | None = Field(None, description="username of the owner: an active user of the workshop")
    due_on: Day | None = Field(None, description="YYYY-MM-DD, within a year")
    priority: Literal["high", "medium", "low"] | None = None
    action: StrictStr | None = Field(None, max_length=2000, description="what is to be done")


class CommentBody(Body):
    comment: StrictStr | None = Field(None, max_length=2000, description="required when returning an action")


class DecideBody(Body):
    outcome: Literal["scrap", "returned", "relocate", "keep"]
    note: StrictStr | None = Field(None, max_length=2000)


class DoneForm(Body):
    photo: bytes = Field(description="the after-photo: JPEG, PNG or WebP")
    comment: str | None = None


class RedTagForm(Body):
    what: str = Field(description="the thing tagged")
    location: str
    reason: Literal["unneeded", "defective", "excess", "unknown", "misplaced", "other"]
    holding_days: int = Field(ge=1, le=90, description="how long the thing is held before it must be decided")
    quantity: str | None = None
    note: str | None = None
    photo: bytes


class NewPlantBody(Body):
    code: StrictStr = Field(description="letters, digits, - or _; never changes")
    name: StrictStr
    timezone: StrictStr | None = Field(None, description="IANA zone, default Asia/Shanghai")


class NewWorkshopBody(Body):
    code: StrictStr
    name: StrictStr


Role = Literal["admin", "manager", "supervisor", "auditor"]


class NewUserBody(Body):
    username: StrictStr
    password: StrictStr = Field(description="at least 10 characters, not a common password")
    role: Role
    display_name: StrictStr | None = None
    email: StrictStr | None = None
    plants: list[StrictStr] = Field([], description="plant codes: the whole plant in scope")
    workshops: list[StrictStr] = Field([], description="workshop codes in scope")
    may_inspect: StrictBool = Field(False, description="an auditor who may also inspect")
    access_expires_on: Day | None = Field(None, description="an external auditor's last day")


class UserChangeBody(Body):
    """A field left out keeps its value; null clears email and access_expires_on (and is refused elsewhere)."""
    display_name: StrictStr = Field(None)
    role: Role = Field(None)
    active: StrictBool = Field(None, description="false ends every session of the user")
    email: StrictStr | None = None
    plants: list[StrictStr] = Field(None)
    workshops: list[StrictStr] = Field(None)
    may_inspect: StrictBool = Field(None)
    access_expires_on: Day | None = None


class PhotoUpload(Body):
    photo: bytes = Field(description="a JPEG, PNG, WebP or HEIC photo (re-encoded without EXIF, stored by hash)")


class PlanBody(Body):
    workshop: StrictStr | None = Field(None, description="a workshop code, or plant for every workshop of a plant")
    plant: StrictStr | None = None
    checklist: StrictStr = Field(description="the checklist key")
    rrule: StrictStr = Field(description="RFC 5545 recurrence, e.g. FREQ=WEEKLY;BYDAY=MO")
    starts_on: StrictStr = Field(description="YYYY-MM-DD")
    window_days: StrictInt = 1
    inspectors: list[StrictStr] = []
    allow_late: StrictBool = False


class PlanChangeBody(Body):
    rrule: StrictStr | None = None
    starts_on: StrictStr = Field(description="YYYY-MM-DD: the change applies to occurrences from this day")
    window_days: StrictInt = 1
    inspectors: list[StrictStr] = []
    allow_late: StrictBool = False


class SkipBody(Body):
    reason: StrictStr


# ---- query strings

class NoQuery(Query):
    pass


class InspectionFilters(Query):
    plant: str | None = None
    workshop: str | None = None
    status: Literal["draft", "submitted", "calibration", "all"] | None = None
    from_: Day | None = Field(None, alias="from", description="first day of submission, YYYY-MM-DD")
    to: Day | None = Field(None, description="last day of submission, YYYY-MM-DD")
    checklist: str | None = None
    version: int | None = Field(None, ge=1, le=MAX_ID)
    inspector: str | None = Field(None, description="username")
    limit: int | None = Field(None, ge=1, le=1000, description="default 100")
    cursor: str | None = Field(None, description="next_cursor of the previous page")


class AuditFilters(Query):
    action: str | None = Field(None, description="e.g. inspection.submit")
    object_type: str | None = None
    object_id: str | None = None
    from_: Day | None = Field(None, alias="from", description="first day (UTC)")
    to: Day | None = Field(None, description="last day (UTC)")
    limit: int | None = Field(None, ge=1, le=1000, description="default 200")
    before: int | None = Field(None, ge=1, le=MAX_ID, description="next_before of the previous page")


class Period(Query):
    from_: Day | None = Field(None, alias="from")
    to: Day | None = None


class TrendQuery(Period):
    view: Literal["full", "like"] | None = Field(None, description="like: like-for-like across versions")


class LeagueQuery(Query):
    month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, default this month")


class ActionFilters(Query):
    workshop: str | None = None
    status: Literal["open", "overdue", "done", "verified", "all"] | None = None


class RedTagFilters(Query):
    workshop: str | None = None
    status: Literal["open", "overdue", "decided", "all"] | None = None


class ControlChartQuery(Query):
    series: str | None = Field(None, description="overall (default) or a category key")
    baseline: int | None = Field(None, ge=0)
    rules: str | None = Field(None, pattern=r"^[1-4](,[1-4])*$", description="Nelson rules, e.g. 1,2,3")
    view: Literal["version", "like"] | None = None


class ParetoQuery(Period):
    workshop: str | None = None
    plant: str | None = None
    by: Literal["item", "category"] | None = None


class OccurrenceFilters(Period):
    workshop: str | None = None
    plant: str | None = None
    state: str | None = None


# ---- answers

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
    score: Score
    note: str | None
    flagged: bool
    photo_count: int


class ItemState(Answer):
    item: str
    category: str
    text: str
    answered: bool


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


class League(Answer):
    plant: str
    timezone: str
    month: str
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
