"""Review, submit and correct: an inspection becomes the workshop's record (its findings, its reports, the
webhook), and a manager corrects a submitted answer with a reason. Views and the API both call these; none commits.
Every change to a quality record also goes to the audit trail, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

import clock
import events
from accounts.models import User
from accounts.service import is_manager
from audit.service import record as audit
from checklists.models import ChecklistItem
from checklists.schemes import scheme_from_dict
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
from inspections.photo_uploads import photos_by_item
from inspections.scoring import (
    NA,
    AnswerValue,
    InspectionScore,
    score_inspection,
    unanswered_keys,
)
from inspections.service import (
    MAX_REASON_LENGTH,
    MIN_REASON_LENGTH,
    InspectionError,
    Progress,
    answer_value,
    answers_by_key,
    can_edit,
    category_specs,
    check_answer,
    find_item,
    lock_inspection,
    progress,
    stored_value,
)
from inspections.signatures import SignatureRole, SignedOnDevice, record_signature


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


def submit_inspection(*, session: Session, user: User, inspection: Inspection,
                      signature_image: bytes | None = None, signed: bool = False,
                      password_confirmed: bool = False, today: date | None = None,
                      on_device: SignedOnDevice | None = None) -> Inspection:
    """Validate, score, store the rollups and lock. Submitting twice is harmless (idempotent).

    signed: the inspector signs with this submit (signature_image is the drawn signature, already cleaned;
    None on a device without JavaScript, where the signed-in name is the signature).
    """
    # Lock the row so that two taps on two workers cannot both score it (SQLite: BEGIN IMMEDIATE does this).
    lock_inspection(session, inspection)
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
                         password_confirmed=password_confirmed, on_device=on_device)
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
    events.announce(session, events.News(inspection.workshop.plant_id, "inspection.submitted", {
        "inspection": inspection.id, "workshop": inspection.workshop.code,
        "checklist": {"key": version.checklist.key, "version": version.number},
        "inspector": inspection.inspector.username, "submitted_at": inspection.submitted_at.isoformat(),
        "overall_percent": None if inspection.overall_percent is None else round(inspection.overall_percent, 2),
        "grade": inspection.grade, "passed": inspection.passed, "findings": findings,
        "calibration": inspection.calibration_id}))


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
    check_answer(inspection, item_key, value, note)
    scheme = scheme_from_dict(inspection.version.scheme)
    lock_inspection(session, inspection)
    answer = session.exec(select(Answer).where(Answer.inspection_id == inspection.id,
                                               Answer.item_id == item.id)).one()
    old_value, old_note = answer_value(answer), answer.note
    new_value = old_value if value is None else value
    new_note = old_note if note is None else note.strip()
    if new_value == old_value and new_note == old_note:
        raise InspectionError("unchanged", "the correction changes nothing", items=[item_key])
    revision = answer.revision + 1
    correction = Correction(inspection_id=inspection.id, item_id=item.id, user_id=user.id, reason=reason,
                            old_value=stored_value(old_value), new_value=stored_value(new_value), old_note=old_note,
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
        old_value=stored_value(old_value), new_value=stored_value(new_value), old_note=old_note, new_note=new_note,
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
          old={"item": item.key, "value": stored_value(old_value), "note": old_note, **before},
          new={"item": item.key, "value": stored_value(new_value), "note": new_note,
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
