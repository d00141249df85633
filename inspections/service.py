"""Inspection use cases: who may see and change an inspection, its items, progress. Answers: answering.py; start:
starting.py; review, submit and correct: submission.py; photos: photo_uploads.py. Views and the API both call
these; none commits. Every change to a quality record also goes to the audit trail, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, inspect
from sqlalchemy.orm import joinedload, object_session
from sqlmodel import Session, func, select

from accounts.models import User
from accounts.service import can_see_workshop, is_manager
from checklists.models import ChecklistCategory, ChecklistItem, ChecklistVersion
from checklists.schemes import scheme_from_dict
from inspections.models import (
    Answer,
    Inspection,
    InspectionStatus,
    is_finding_answer,
)
from inspections.scoring import (
    NA,
    AnswerValue,
    CategoryScore,
    CategorySpec,
    InspectionScore,
    ItemSpec,
    running_score,
    score_inspection,
    unanswered_keys,
    validate_answer,
)

MAX_NOTE_LENGTH = 2000
MIN_REASON_LENGTH = 4
MAX_REASON_LENGTH = 1000


class InspectionError(ValueError):
    """A request the domain refuses.

    code names the reason (views translate it for people), status is the HTTP status to answer with,
    items the item keys concerned.
    """

    def __init__(self, code: str, message: str, status: int = 422, items: list[str] | None = None,
                 current: Answer | None = None, choices: list[ChecklistVersion] | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.items = items or []
        self.current = current  # on a conflict: the answer as it stands
        self.choices = choices or []  # when a checklist must be chosen: the versions on offer


def category_specs(version: ChecklistVersion) -> list[CategorySpec]:
    return [
        CategorySpec(
            key=c.key, name=c.name, weight=c.weight, full_marks=c.full_marks,
            items=tuple(ItemSpec(key=i.key, weight=i.weight, critical=i.critical, deduct=i.deduct) for i in c.items),
        )
        for c in version.categories
    ]


def device_rules(version: ChecklistVersion) -> dict:
    """What a tablet needs to score the version itself (static/js/scoring.js): its categories and items as
    category_specs reads them, and the scheme as stored."""
    # the review on the tablet (device-review.js) names every item and asks for a finding's required photo, also of
    # categories not on the page
    return {"scheme": version.scheme,
            "categories": [{"key": c.key, "name": c.name, "name_en": c.name_en, "weight": c.weight,
                            "full_marks": c.full_marks,
                            "items": [{"key": i.key, "weight": i.weight, "critical": i.critical, "deduct": i.deduct,
                                       "position": i.position, "text": i.text, "text_en": i.text_en,
                                       "photo_required": i.photo_required}
                                      for i in c.items]} for c in version.categories]}


def answer_value(answer: Answer) -> AnswerValue:
    return NA if answer.not_applicable else answer.score


def answers_by_key(inspection: Inspection) -> dict[str, Answer]:
    # keys from the version's items (loaded with its categories, which every caller walks anyway), not from each
    # answer's item: that was one query per answer
    keys = {item.id: item.key for category in inspection.version.categories for item in category.items}
    return {keys[answer.item_id]: answer for answer in inspection.answers}


def current_score(inspection: Inspection) -> InspectionScore | None:
    """Score of a complete set of answers (None while items are missing)."""
    specs = category_specs(inspection.version)
    values = {key: answer_value(a) for key, a in answers_by_key(inspection).items()}
    if unanswered_keys(specs, values):
        return None
    return score_inspection(specs, values, scheme_from_dict(inspection.version.scheme))


def get_visible_inspection(*, session: Session, user: User, inspection_id: int) -> Inspection | None:
    # every caller reads the version (its scheme, its items): one query for both
    inspection = session.get(Inspection, inspection_id, options=[joinedload(Inspection.version)])
    if inspection is None or not can_see_workshop(session=session, user=user, workshop_id=inspection.workshop_id):
        return None
    if inspection.calibration_id is not None and hidden_from_panel(session=session, user=user, inspection=inspection):
        return None
    return inspection


def hidden_from_panel(*, session: Session, user: User, inspection: Inspection) -> bool:
    """A joint inspection's copy is hidden from the other inspectors of its panel until every copy is submitted:
    nobody scores with a colleague's answers in view. The manager who is not on the panel sees them all."""
    if inspection.inspector_id == user.id or inspection.reconciled:
        return False
    copies = session.exec(select(Inspection.inspector_id, Inspection.status)
                          .where(Inspection.calibration_id == inspection.calibration_id,
                                 Inspection.reconciled == false())).all()
    on_panel = any(inspector_id == user.id for inspector_id, _status in copies)
    return on_panel and any(status == InspectionStatus.draft for _inspector, status in copies)


def latest_submitted(*, session: Session, workshop_ids: list[int]) -> dict[int, Inspection | None]:
    """Each workshop's most recently submitted inspection (None: never inspected), in two queries."""
    found: dict[int, Inspection | None] = dict.fromkeys(workshop_ids)
    if not workshop_ids:
        return found
    newest = (select(Inspection.workshop_id, func.max(Inspection.submitted_at).label("at"))
              .where(Inspection.workshop_id.in_(workshop_ids), Inspection.status == InspectionStatus.submitted)
              .group_by(Inspection.workshop_id).subquery())
    rows = session.exec(select(Inspection).join(newest, (Inspection.workshop_id == newest.c.workshop_id)
                                                & (Inspection.submitted_at == newest.c.at))
                        .order_by(Inspection.id))
    for inspection in rows:
        found[inspection.workshop_id] = inspection
    return found


def lock_inspection(session: Session, inspection: Inspection) -> None:
    """Read the inspection again, holding its row until the commit (PostgreSQL; SQLite writers already queue).
    Only its own row: the version loaded beside it (an outer join) cannot be locked."""
    locking = session.get_bind().dialect.name != "sqlite"
    session.refresh(inspection, with_for_update={"of": Inspection} if locking else None)


def can_edit(user: User, inspection: Inspection) -> bool:
    # a joint inspection's copy is its inspector's alone: even a manager does not fill in a panel member's view
    return inspection.status == InspectionStatus.draft and (
        inspection.inspector_id == user.id or (is_manager(user) and inspection.calibration_id is None)
    )


def parse_score(raw: object) -> AnswerValue:
    """'na' / 'NA' → NA, '0'…'4' or 0…4 → int; anything else → ValueError."""
    if isinstance(raw, str):
        raw = raw.strip().lower()
        if raw == NA:
            return NA
        if raw.isdigit():
            return int(raw)
        raise ValueError(f"not a score: {raw!r}")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    raise ValueError(f"not a score: {raw!r}")


def find_item(inspection: Inspection, item_key: str) -> ChecklistItem | None:
    """The item of the inspection's version with this key. One indexed query, unless the page already loaded the
    version's items: loading all 105 to find one was a quarter of an answer save's time."""
    version = inspection.version
    session = object_session(inspection)
    if session is None or "categories" not in inspect(version).unloaded:
        return next((item for category in version.categories for item in category.items if item.key == item_key),
                    None)
    return session.exec(select(ChecklistItem).where(ChecklistItem.version_id == version.id,
                                                    ChecklistItem.key == item_key)).first()


_NOT_LOOKED_UP = object()


def editable_item(user: User, inspection: Inspection, item_key: str, found=_NOT_LOOKED_UP) -> ChecklistItem:
    """The item to change, once we know this user may change this inspection at all (found: the item already
    looked up, or None when there is none)."""
    if not can_edit(user, inspection):
        if inspection.status != InspectionStatus.draft:
            raise InspectionError("locked", "this inspection is submitted and locked", status=409)
        raise InspectionError("not_allowed", "only the inspector can change this inspection", status=403)
    item = find_item(inspection, item_key) if found is _NOT_LOOKED_UP else found
    if item is None:
        raise InspectionError("unknown_item", f"no item {item_key!r} in this checklist version", status=404)
    return item


def check_answer(inspection: Inspection, item_key: str, value: AnswerValue | None, note: str | None) -> None:
    """A score the version's scheme allows and a note of the allowed length (a save and a correction alike)."""
    if value is not None:
        try:
            validate_answer(value, scheme_from_dict(inspection.version.scheme))
        except ValueError as exc:
            raise InspectionError("invalid_score", str(exc), items=[item_key]) from exc
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise InspectionError("note_too_long", f"the note is longer than {MAX_NOTE_LENGTH} characters",
                              items=[item_key])


def stored_value(value: AnswerValue | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int
    by_category: dict[str, tuple[int, int]]
    score: InspectionScore | None  # the running score of what is answered so far

    def category_percent(self, key: str) -> float | None:
        if self.score is None:
            return None
        return next((c.percent for c in self.score.categories if c.key == key), None)

    def category_score(self, key: str) -> CategoryScore | None:
        if self.score is None:
            return None
        return next((c for c in self.score.categories if c.key == key), None)


def progress(inspection: Inspection) -> Progress:
    answers = answers_by_key(inspection)
    by_category = {
        c.key: (sum(1 for i in c.items if i.key in answers), len(c.items))
        for c in inspection.version.categories
    }
    values = {key: answer_value(a) for key, a in answers.items()}
    return Progress(
        answered=sum(a for a, _ in by_category.values()),
        total=sum(t for _, t in by_category.values()),
        by_category=by_category,
        score=running_score(category_specs(inspection.version), values, scheme_from_dict(inspection.version.scheme)),
    )


def _category(inspection: Inspection, category_key: str):
    category = next((c for c in inspection.version.categories if c.key == category_key), None)
    if category is None:
        raise InspectionError("unknown_item", f"no category {category_key!r}", status=404)
    return category


@dataclass(frozen=True)
class AnswersAtStake:
    """What marking a whole category N/A would overwrite: items already scored, and how many of them are findings."""

    category: ChecklistCategory
    scored: int
    findings: int


def answers_at_stake(*, inspection: Inspection, category_key: str, typed: dict[str, str] | None = None
                     ) -> AnswersAtStake:
    """The category's items that carry a score (saved, or typed into the plain form and sent with the tap) and
    would be lost to N/A. `typed`: the posted form ({"score-<key>": value, "flag-<key>": "1", …})."""
    category = _category(inspection, category_key)
    scheme = scheme_from_dict(inspection.version.scheme)
    answers = answers_by_key(inspection)
    typed = typed or {}
    scored = findings = 0
    for item in category.items:
        answer = answers.get(item.key)
        raw = (typed.get(f"score-{item.key}") or "").strip()
        if raw and raw != "na":
            value = int(raw) if raw.isdigit() else None
            finding = (value is not None and scheme.is_finding(value)) or typed.get(f"flag-{item.key}") == "1"
        elif answer is not None and not answer.not_applicable and answer.score is not None:
            finding = is_finding_answer(answer, scheme)
        else:
            continue
        scored += 1
        findings += finding
    return AnswersAtStake(category, scored, findings)
