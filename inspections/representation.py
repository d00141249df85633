"""An inspection as plain JSON values: what the API answers and what an issued report carries inside it."""

from __future__ import annotations

from sqlmodel import Session

from checklists.models import ChecklistItem
from checklists.schemes import scheme_from_dict
from inspections.models import SIGNATURE_MEANING, Inspection, SignatureRole
from inspections.photo_uploads import photos_by_item
from inspections.scoring import CRITICAL_FAILED, NA, category_full_marks, item_deduction
from inspections.service import answer_value, current_score
from inspections.signatures import signatures_of


def iso(value):
    return value.isoformat() if value else None


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def answer_fields(answer, item: ChecklistItem | None, scheme) -> dict:
    """score (the stored value: points, or a count), and what it means: count and deducted on a counting
    sheet (which needs the item), the level's label on named grades."""
    value = answer_value(answer)
    if scheme.counted:
        return {"score": value, "count": value,
                "deducted": None if value == NA else rounded(value * item_deduction(item, scheme))}
    if scheme.named:
        return {"score": value, "level": value if value == NA else scheme.label_of(value)}
    return {"score": value}


def inspection_json(session: Session, inspection: Inspection) -> dict:
    """The inspection as the API answers it (GET /api/v1/inspections/<id>), and as an issued report embeds it."""
    version = inspection.version
    by_item = {answer.item_id: answer for answer in inspection.answers}
    photo_counts = {item_id: len(photos) for item_id, photos in
                    photos_by_item(session=session, inspection=inspection).items()}
    scheme = scheme_from_dict(version.scheme)
    maxima = "full_marks" if scheme.counted else "max_points"
    if inspection.locked:
        categories = [{"key": r.category_key, "name": r.category_name, "percent": rounded(r.percent),
                       "points": rounded(r.points) if r.percent is not None else None,
                       maxima: rounded(r.max_points) if r.percent is not None else None}
                      for r in inspection.category_results]
        overall, grade, passed = inspection.overall_percent, inspection.grade, inspection.passed
        fail_reasons = inspection.fail_reasons or []
    else:
        score = current_score(inspection)
        so_far = {s.key: s for s in score.categories} if score else {}
        categories = []
        for c in version.categories:
            s = so_far.get(c.key)
            counted = s is not None and s.percent is not None
            categories.append({"key": c.key, "name": c.name, "percent": rounded(s.percent) if counted else None,
                               "points": rounded(s.points) if counted else None,
                               maxima: rounded(s.max_points) if counted else None})
        overall, grade, passed = (score.overall_percent, score.grade, score.passed) if score else (None, None, None)
        # so far: a critical item failed is final; the pass mark is known only at the end
        fail_reasons = [r.to_dict() for r in score.fail_reasons if r.code == CRITICAL_FAILED] if score else []
    if scheme.counted:  # a counting sheet's full marks are known before anything is answered
        full = {c.key: category_full_marks(c, scheme) for c in version.categories}
        for c in categories:
            c["full_marks"] = rounded(full.get(c["key"], c["full_marks"] or 0))
    answers = []
    for category in version.categories:
        for item in category.items:
            answer = by_item.get(item.id)
            if answer is not None:
                answers.append({"item": item.key, "category": category.key, "critical": item.critical,
                                **answer_fields(answer, item, scheme), "note": answer.note, "flagged": answer.flagged,
                                "photo_count": photo_counts.get(item.id, 0)})
    return {
        "id": inspection.id,
        "workshop": inspection.workshop.code,
        "checklist": {"key": version.checklist.key, "version": version.number},
        "status": inspection.status.value if hasattr(inspection.status, "value") else inspection.status,
        "inspector": inspection.inspector.username,
        "calibration": inspection.calibration_id,  # a joint inspection's copy: see /api/v1/calibrations/<id>
        "started_at": iso(inspection.started_at),
        "submitted_at": iso(inspection.submitted_at),
        "answers": answers,
        # every item of the version, answered or not: what a client must fill in (texts: /api/v1/checklists/…)
        "items": [{"item": item.key, "category": category.key, "text": item.text, "critical": item.critical,
                   "answered": item.id in by_item} for category in version.categories for item in category.items],
        "categories": categories,
        "overall_percent": rounded(overall),
        "grade": grade,
        "passed": passed,
        "fail_reasons": fail_reasons,
        "signatures": [{"role": s.role.value if hasattr(s.role, "value") else s.role, "name": s.signer_name,
                        "meaning": SIGNATURE_MEANING[SignatureRole(s.role)], "signed_at": iso(s.signed_at),
                        "drawn": s.image_png is not None, "password_confirmed": s.password_confirmed,
                        "signed_on_device_at": iso(s.device_signed_at)}
                       for s in signatures_of(session, inspection).values()],
    }
