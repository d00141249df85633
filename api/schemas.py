"""What the API reads, as pydantic models: request bodies (`json_body(Model)`, after the check of who may) and
query strings (`@operation(query=…)`). Field descriptions are the reference page's text, in English like the rest
of the API. The answers are in api.answers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

import clock
from database import MAX_ID

# a day a request may name (clock.FIRST_DAY … LAST_DAY: the day after and a day's bounds stay within the calendar)
Day = Annotated[date, Field(ge=clock.FIRST_DAY, le=clock.LAST_DAY)]


class Body(BaseModel):
    """A request body: a field not described here is refused by name (422 unknown_field)."""
    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """A query string: a parameter not described here is refused by name (422 unknown_field)."""
    model_config = ConfigDict(extra="forbid")


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
