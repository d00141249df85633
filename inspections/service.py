"""Inspection use cases: start, answer, submit, correct. Views and the API both call these; none commits.
Every change to a quality record also goes to the audit trail, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import false, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, object_session
from sqlmodel import Session, func, select

import clock
import events
from accounts.models import User, Workshop
from accounts.service import can_inspect, can_see_workshop, is_manager
from audit.service import record as audit
from checklists.models import ChecklistCategory, ChecklistItem, ChecklistVersion
from checklists.schemes import scheme_from_dict
from checklists.service import versions_for_workshop
from database import begin_writing
from inspections.models import (
    Answer,
    AnswerChange,
    Calibration,
    CategoryResult,
    Correction,
    Inspection,
    InspectionStatus,
    Photo,
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
from inspections.signatures import SignatureRole, record_signature
from observability import answer_saved
from photos import PhotoError, store_image
from storage import Storage
from webhooks.service import emit

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


def start_inspection(*, session: Session, user: User, workshop: Workshop,
                     checklist_key: str | None = None) -> Inspection:
    """A new draft of the workshop against the checklist chosen (by key), which must be one on offer there; the
    choice may be left out only when one checklist is offered."""
    if not can_inspect(session=session, user=user, workshop_id=workshop.id):
        raise InspectionError("not_allowed", "you may not inspect this workshop", status=403)
    offered = versions_for_workshop(session=session, workshop=workshop)
    if not offered:
        raise InspectionError(
            "no_version", "no published checklist version: a manager must publish one first", status=409
        )
    keys = ", ".join(v.checklist.key for v in offered)
    if checklist_key:
        version = next((v for v in offered if v.checklist.key == checklist_key), None)
        if version is None:
            raise InspectionError("unknown_checklist", f"checklist {checklist_key!r} is not offered for this "
                                  f"workshop; choose one of {keys}", choices=offered)
    elif len(offered) > 1:
        raise InspectionError("checklist_required", f"this workshop offers several checklists; choose one of "
                              f"{keys}", choices=offered)
    else:
        version = offered[0]
    inspection = Inspection(workshop_id=workshop.id, version_id=version.id, inspector_id=user.id)
    session.add(inspection)
    session.flush()
    return inspection


def _lock_inspection(session: Session, inspection: Inspection) -> None:
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


def _stored(value: AnswerValue | None) -> str | None:
    return None if value is None else str(value)


def save_answer(
    *, session: Session, user: User, inspection: Inspection, item_key: str, value: AnswerValue | None,
    note: str | None, change_key: str | None = None, base_revision: int | None = None, flagged: bool | None = None,
) -> Answer:
    """Save one answer; value None keeps the current score (a note-only change), flagged None the current flag.

    change_key (made by the tablet, one per change) makes a replay harmless: a key seen before returns the
    answer as it is. base_revision is the revision the tablet last saw: if someone else changed the answer
    since, the save is refused as a conflict (409) and recorded, so both values stay in the history.

    Saves of one answer are applied one after another, whatever the engine: the answer's row is locked before
    anything is decided (SQLite writers already queue at the database's gate), and two first saves racing to
    create the row end with the loser saving again on top of the winner's answer.
    """
    found = find_item(inspection, item_key)  # a published version never changes: read before taking any lock
    begin_writing(session)
    if session.get_bind().dialect.name != "sqlite":
        # A submit holds the inspection's row while it scores the answers: wait for it and see its outcome, so no
        # answer changes under a score being computed.
        session.refresh(inspection, attribute_names=["status"], with_for_update={"read": True, "of": Inspection})
    elif session.info.get("reads_first"):
        session.refresh(inspection, attribute_names=["status"])  # read before the lock: read it again under it
    item = editable_item(user, inspection, item_key, found=found)
    change_key = _change_key(change_key)
    scheme = scheme_from_dict(inspection.version.scheme)
    if value is not None:
        try:
            validate_answer(value, scheme)
        except ValueError as exc:
            raise InspectionError("invalid_score", str(exc), items=[item_key]) from exc
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise InspectionError(
            "note_too_long", f"the note is longer than {MAX_NOTE_LENGTH} characters", items=[item_key]
        )
    note = note.strip() if note is not None else None
    change = _Change(value=value, note=note, flagged=flagged, change_key=change_key, base_revision=base_revision)
    try:
        return _apply(session, user, inspection, item, change)
    except _FirstAnswerRace:
        return _apply(session, user, inspection, item, change)


MAX_CHANGE_KEY = 64


def _change_key(raw: str | None) -> str | None:
    """The tablet's key for one change, refused when too long — never cut: two keys sharing their first 64
    characters would make the second change look like a replay of the first, and it would be lost."""
    key = (raw or "").strip() or None
    if key is not None and len(key) > MAX_CHANGE_KEY:
        raise InspectionError("bad_change_key", f"change_key is longer than {MAX_CHANGE_KEY} characters",
                              items=["change_key"])
    return key


@dataclass(frozen=True)
class _Change:
    value: AnswerValue | None
    note: str | None
    flagged: bool | None
    change_key: str | None
    base_revision: int | None


class _FirstAnswerRace(Exception):
    """Another save created this item's answer while this one was creating it too."""


def _apply(session: Session, user: User, inspection: Inspection, item: ChecklistItem, change: _Change) -> Answer:
    item_key, value, note, flagged = item.key, change.value, change.note, change.flagged
    # FOR UPDATE: on PostgreSQL a second save of this answer waits here until the first commits, then reads
    # what it wrote (no revision handed out twice, no change key applied twice); populate_existing, so an
    # answer this request loaded earlier is read again too. SQLite ignores FOR UPDATE.
    answer = session.exec(
        select(Answer).where(Answer.inspection_id == inspection.id, Answer.item_id == item.id)
        .with_for_update(of=Answer).execution_options(populate_existing=True)
    ).first()
    earlier = session.exec(select(AnswerChange).where(AnswerChange.change_key == change.change_key)).first() \
        if change.change_key else None
    if earlier is not None and (earlier.inspection_id, earlier.item_id, earlier.user_id) != (
            inspection.id, item.id, user.id):
        # a key is its maker's, for one item of one inspection: another's says nothing of theirs
        raise InspectionError("change_key_taken", "this change key was used for another change", status=409,
                              items=["change_key"])
    seen = earlier.outcome if earlier is not None else None
    if seen is not None:
        answer_saved("duplicate")
        if seen == "conflict":
            raise InspectionError("conflict", "the answer was changed on another device", status=409,
                                  items=[item_key], current=answer)
        return answer
    if answer is None and value is None:
        if flagged:
            raise InspectionError("flag_needs_score", "choose a score before flagging the item", items=[item_key])
        raise InspectionError("note_needs_score", "choose a score or N/A before adding a note", items=[item_key])
    old_value = answer_value(answer) if answer else None
    old_note = answer.note if answer else None
    old_flagged = answer.flagged if answer else None
    new_flagged = old_flagged if flagged is None else flagged
    if new_flagged and (value if value is not None else old_value) == NA:
        raise InspectionError("flag_not_applicable", "an item marked N/A cannot be flagged as a finding",
                              items=[item_key])
    unchanged = (answer is not None and (value is None or old_value == value) and (note is None or note == old_note)
                 and new_flagged == old_flagged)
    if unchanged:
        answer_saved("unchanged")
        return answer  # a repeated save writes nothing
    current_revision = answer.revision if answer else 0
    if change.base_revision is not None and change.base_revision != current_revision:
        session.add(AnswerChange(
            inspection_id=inspection.id, item_id=item.id, change_key=change.change_key, user_id=user.id,
            outcome="conflict", old_value=_stored(old_value), new_value=_stored(value), old_note=old_note,
            new_note=note, old_flagged=old_flagged, new_flagged=flagged, revision=change.base_revision))
        session.flush()
        answer_saved("conflict")
        raise InspectionError("conflict", "the answer was changed on another device", status=409,
                              items=[item_key], current=answer)
    first = answer is None
    if first:
        answer = Answer(inspection_id=inspection.id, item_id=item.id, updated_by_id=user.id)
    if value is not None:
        answer.not_applicable = value == NA
        answer.score = None if value == NA else value
    if note is not None:
        answer.note = note
    answer.flagged = bool(new_flagged)
    answer.updated_at = clock.now()
    answer.updated_by_id = user.id
    answer.revision = current_revision + 1
    if first:
        try:
            with session.begin_nested():  # a savepoint: losing the race must not undo the whole transaction
                session.add(answer)
        except IntegrityError as exc:
            raise _FirstAnswerRace from exc
    session.add(AnswerChange(
        inspection_id=inspection.id, item_id=item.id, change_key=change.change_key, user_id=user.id,
        outcome="applied", old_value=_stored(old_value), new_value=_stored(answer_value(answer)), old_note=old_note,
        new_note=answer.note, old_flagged=old_flagged, new_flagged=answer.flagged, revision=answer.revision))
    audit(session, actor=user, action="answer.save", object_type="inspection", object_id=inspection.id,
          old={"item": item.key, "value": _stored(old_value), "note": old_note, "flagged": old_flagged}
          if old_value is not None else None,
          new={"item": item.key, "value": _stored(answer_value(answer)), "note": answer.note,
               "flagged": answer.flagged, "revision": answer.revision})
    session.flush()
    answer_saved("applied")
    return answer


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


@dataclass(frozen=True)
class Finding:
    item: ChecklistItem
    answer: Answer
    photos: list[Photo]
    needs_photo: bool  # the item requires a photo for a finding and has none: submit will refuse
    lacks_photo: bool
    lacks_note: bool


@dataclass(frozen=True)
class Review:
    """What the inspector checks before signing: scores so far, findings, and what is left to answer."""

    progress: Progress
    findings: list[Finding]
    unanswered: list[ChecklistItem]

    @property
    def ready(self) -> bool:
        return not self.unanswered and not any(f.needs_photo for f in self.findings)


def review(*, session: Session, inspection: Inspection) -> Review:
    answers = answers_by_key(inspection)
    scheme = scheme_from_dict(inspection.version.scheme)
    photos = photos_by_item(session=session, inspection=inspection)
    findings, unanswered = [], []
    for category in inspection.version.categories:
        for item in category.items:
            answer = answers.get(item.key)
            if answer is None:
                unanswered.append(item)
            elif is_finding_answer(answer, scheme):
                item_photos = photos.get(item.id, [])
                findings.append(Finding(item=item, answer=answer, photos=item_photos,
                                        needs_photo=item.photo_required and not item_photos,
                                        lacks_photo=not item_photos, lacks_note=not answer.note))
    return Review(progress=progress(inspection), findings=findings, unanswered=unanswered)


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


def mark_category_not_applicable(*, session: Session, user: User, inspection: Inspection, category_key: str) -> int:
    """N/A for every item of a category in one action (no office area in this workshop). Returns the count."""
    category = _category(inspection, category_key)
    for item in category.items:
        save_answer(session=session, user=user, inspection=inspection, item_key=item.key, value=NA, note=None,
                    flagged=False)
    return len(category.items)


def submit_inspection(*, session: Session, user: User, inspection: Inspection,
                      signature_image: bytes | None = None, signed: bool = False,
                      password_confirmed: bool = False, today: date | None = None) -> Inspection:
    """Validate, score, store the rollups and lock. Submitting twice is harmless (idempotent).

    signed: the inspector signs with this submit (signature_image is the drawn signature, already cleaned;
    None on a device without JavaScript, where the signed-in name is the signature).
    """
    # Lock the row so that two taps on two workers cannot both score it (SQLite: BEGIN IMMEDIATE does this).
    _lock_inspection(session, inspection)
    if inspection.locked:
        if inspection.inspector_id == user.id:
            return inspection  # the inspector's repeated tap
        raise InspectionError("locked", "this inspection is submitted and locked", status=409)
    if not can_edit(user, inspection):
        raise InspectionError("not_allowed", "only the inspector can submit this inspection", status=403)
    specs = category_specs(inspection.version)
    answers = answers_by_key(inspection)
    values = {key: answer_value(a) for key, a in answers.items()}
    missing = unanswered_keys(specs, values)
    if missing:
        raise InspectionError("unanswered", f"{len(missing)} items are not answered", items=missing)
    scheme = scheme_from_dict(inspection.version.scheme)
    photos = photos_by_item(session=session, inspection=inspection)
    without_photo = [
        item.key for category in inspection.version.categories for item in category.items
        if item.photo_required and is_finding_answer(answers[item.key], scheme) and not photos.get(item.id)
    ]
    if without_photo:
        raise InspectionError("photo_missing", f"{len(without_photo)} findings need a photo", items=without_photo)
    result = score_inspection(specs, values, scheme)
    store_result(session=session, inspection=inspection, result=result)
    # a joint inspection's copy waits for the manager's choice; the reconciled copy is the choice
    copy = inspection.calibration_id is not None and not inspection.reconciled
    inspection.status = InspectionStatus.calibration if copy else InspectionStatus.submitted
    inspection.submitted_at = clock.now()
    session.flush()
    audit(session, actor=user, action="inspection.submit", object_type="inspection", object_id=inspection.id,
          new={"workshop": inspection.workshop.code, "checklist_version_id": inspection.version_id,
               "overall_percent": result.overall_percent, "grade": result.grade, "passed": result.passed,
               **({"calibration": inspection.calibration_id} if inspection.calibration_id else {})})
    if signed or signature_image is not None:
        record_signature(session=session, user=user, inspection=inspection, role=SignatureRole.inspector,
                         signer_name=user.display_name, signer_user=user, image=signature_image,
                         password_confirmed=password_confirmed)
    if not copy:
        became_official(session=session, inspection=inspection, today=today)
    if inspection.reconciled:
        calibration = session.get(Calibration, inspection.calibration_id)
        calibration.decided_by_id, calibration.decided_at = user.id, inspection.submitted_at
    return inspection


def became_official(*, session: Session, inspection: Inspection, today: date | None = None) -> None:
    """An inspection is now the workshop's record (at submit, or a calibration copy the manager chose): every
    finding becomes a corrective action, due dates counted from the day at the workshop's plant; its reports are
    issued."""
    counted = events.findings_due.send(session, inspection=inspection, today=today or clock.local_day(
        inspection.submitted_at, clock.zone_of(inspection.workshop.plant)))
    record_changed(session, inspection)
    _announce_submitted(session, inspection, sum(counted))


def _announce_submitted(session: Session, inspection: Inspection, findings: int) -> None:
    version = inspection.version
    emit(session, plant_id=inspection.workshop.plant_id, event="inspection.submitted", data={
        "inspection": inspection.id, "workshop": inspection.workshop.code,
        "checklist": {"key": version.checklist.key, "version": version.number},
        "inspector": inspection.inspector.username, "submitted_at": inspection.submitted_at.isoformat(),
        "overall_percent": None if inspection.overall_percent is None else round(inspection.overall_percent, 2),
        "grade": inspection.grade, "passed": inspection.passed, "findings": findings,
        "calibration": inspection.calibration_id})


def record_changed(session: Session, inspection: Inspection) -> None:
    """A submitted inspection's record changed (submit, signature, correction, an action's move): its reports are
    issued again in the background once the change has committed (events.record_changed)."""
    events.record_changed.send(session, inspection=inspection)


def correct_answer(*, session: Session, user: User, inspection: Inspection, item_key: str,
                   value: AnswerValue | None, note: str | None, reason: str, today: date | None = None) -> Correction:
    """Change an answer of a submitted inspection: managers only, with a reason; rescored at once.

    The old value stays in the correction row (append-only), the answer history and the audit trail; the next
    report download is a new document that references the previous one."""
    if not is_manager(user):
        raise InspectionError("not_allowed", "only a quality manager can correct a submitted inspection", status=403)
    if inspection.status != InspectionStatus.submitted:
        raise InspectionError("not_submitted", "a draft is changed directly, not corrected", status=409)
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON_LENGTH:
        raise InspectionError("reason_required", "a correction needs a reason", items=[item_key])
    if len(reason) > MAX_REASON_LENGTH:
        raise InspectionError("reason_too_long", f"the reason is longer than {MAX_REASON_LENGTH} characters",
                              items=[item_key])
    item = find_item(inspection, item_key)
    if item is None:
        raise InspectionError("unknown_item", f"no item {item_key!r} in this checklist version", status=404)
    scheme = scheme_from_dict(inspection.version.scheme)
    if value is not None:
        try:
            validate_answer(value, scheme)
        except ValueError as exc:
            raise InspectionError("invalid_score", str(exc), items=[item_key]) from exc
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise InspectionError("note_too_long", f"the note is longer than {MAX_NOTE_LENGTH} characters",
                              items=[item_key])
    _lock_inspection(session, inspection)
    answer = session.exec(select(Answer).where(Answer.inspection_id == inspection.id,
                                               Answer.item_id == item.id)).one()
    old_value, old_note = answer_value(answer), answer.note
    new_value = old_value if value is None else value
    new_note = old_note if note is None else note.strip()
    if new_value == old_value and new_note == old_note:
        raise InspectionError("unchanged", "the correction changes nothing", items=[item_key])
    revision = answer.revision + 1
    correction = Correction(inspection_id=inspection.id, item_id=item.id, user_id=user.id, reason=reason,
                            old_value=_stored(old_value), new_value=_stored(new_value), old_note=old_note,
                            new_note=new_note, answer_revision=revision)
    session.add(correction)
    session.flush()  # the database lets the answer change only once this row announces the revision
    old_flagged = answer.flagged
    answer.not_applicable = new_value == NA
    answer.score = None if new_value == NA else new_value
    answer.flagged = old_flagged and new_value != NA  # an item that does not apply is no finding, flagged or not
    answer.note = new_note
    answer.revision = revision
    answer.updated_at = correction.at
    answer.updated_by_id = user.id
    session.add(AnswerChange(
        inspection_id=inspection.id, item_id=item.id, user_id=user.id, outcome="correction",
        old_value=_stored(old_value), new_value=_stored(new_value), old_note=old_note, new_note=new_note,
        old_flagged=old_flagged, new_flagged=answer.flagged, revision=revision))
    session.flush()
    before = {"overall_percent": inspection.overall_percent, "grade": inspection.grade, "passed": inspection.passed}
    for row in session.exec(select(CategoryResult).where(CategoryResult.inspection_id == inspection.id)).all():
        session.delete(row)
    session.flush()
    session.expire(inspection, ["answers", "category_results"])
    values = {key: answer_value(a) for key, a in answers_by_key(inspection).items()}
    result = score_inspection(category_specs(inspection.version), values, scheme)
    store_result(session=session, inspection=inspection, result=result)
    session.flush()
    audit(session, actor=user, action="inspection.correct", object_type="inspection", object_id=inspection.id,
          old={"item": item.key, "value": _stored(old_value), "note": old_note, **before},
          new={"item": item.key, "value": _stored(new_value), "note": new_note,
               "overall_percent": result.overall_percent, "grade": result.grade, "passed": result.passed},
          reason=reason)
    events.findings_due.send(session, inspection=inspection,
                             today=today or clock.local_day(correction.at, clock.zone_of(inspection.workshop.plant)))
    record_changed(session, inspection)
    return correction


def corrections_of(session: Session, inspection: Inspection) -> list[Correction]:
    return session.exec(select(Correction).where(Correction.inspection_id == inspection.id)
                        .order_by(Correction.id)).all()


def store_result(*, session: Session, inspection: Inspection, result: InspectionScore) -> None:
    for position, category in enumerate(result.categories, 1):
        session.add(CategoryResult(
            inspection_id=inspection.id, category_key=category.key, category_name=category.name,
            position=position, points=category.points, max_points=category.max_points, percent=category.percent,
        ))
    inspection.overall_percent = result.overall_percent
    inspection.grade = result.grade
    inspection.passed = result.passed
    inspection.fail_reasons = [reason.to_dict() for reason in result.fail_reasons]


MAX_PHOTOS_PER_ITEM = 10


def add_photo(
    *, session: Session, user: User, inspection: Inspection, item_key: str, data: bytes, store: Storage,
    change_key: str | None = None,
) -> Photo:
    """Validate, re-encode and store a photo for one item of a draft inspection (a replayed upload: once).

    The photo is decoded and stored before the write lock is asked for (in a request that reads first): a large
    photo takes a second of one core, and no other tablet's save waits behind it. What was read before is read
    again under the lock."""
    item = editable_item(user, inspection, item_key)
    change_key = _change_key(change_key)
    seen = _photo_sent_before(session, user, inspection, change_key)
    if seen is not None:
        return seen
    _photo_room_left(session, inspection, item, item_key)
    try:
        stored = store_image(data, store)
    except PhotoError as exc:
        raise InspectionError(f"photo_{exc.code}", str(exc), items=[item_key]) from exc
    if session.info.get("reads_first"):
        begin_writing(session)
        session.refresh(inspection, attribute_names=["status"])
        item = editable_item(user, inspection, item_key)
        seen = _photo_sent_before(session, user, inspection, change_key)
        if seen is not None:
            return seen
        _photo_room_left(session, inspection, item, item_key)
    photo = Photo(inspection_id=inspection.id, item_id=item.id, sha256=stored.sha256, width=stored.width,
                  height=stored.height, byte_size=stored.byte_size, uploaded_by_id=user.id, change_key=change_key)
    session.add(photo)
    session.flush()
    audit(session, actor=user, action="photo.add", object_type="inspection", object_id=inspection.id,
          new={"item": item.key, "photo": photo.id, "sha256": photo.sha256})
    return photo


def _photo_sent_before(session: Session, user: User, inspection: Inspection, change_key: str | None) -> Photo | None:
    if not change_key:
        return None
    seen = session.exec(select(Photo).where(Photo.change_key == change_key)).first()
    if seen is not None and (seen.inspection_id, seen.uploaded_by_id) != (inspection.id, user.id):
        raise InspectionError("change_key_taken", "this change key was used for another upload", status=409,
                              items=["change_key"])
    return seen


def _photo_room_left(session: Session, inspection: Inspection, item, item_key: str) -> None:
    existing = session.exec(select(func.count()).select_from(Photo).where(
        Photo.inspection_id == inspection.id, Photo.item_id == item.id)).one()
    if existing >= MAX_PHOTOS_PER_ITEM:
        raise InspectionError("too_many_photos", f"at most {MAX_PHOTOS_PER_ITEM} photos per item", items=[item_key])


def photos_by_item(*, session: Session, inspection: Inspection) -> dict[int, list[Photo]]:
    grouped: dict[int, list[Photo]] = {}
    for photo in session.exec(select(Photo).where(Photo.inspection_id == inspection.id).order_by(Photo.id)):
        grouped.setdefault(photo.item_id, []).append(photo)
    return grouped
