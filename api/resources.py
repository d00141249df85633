"""The API's read resources for integrators: checklists and their versions (every category and item, the scheme,
the content hash) and inspections listed with filters and cursor pagination. Routes join the API's blueprint.

Who sees a checklist: managers and admins every one; anyone else the published (or retired) versions of the
checklists used at a workshop they see. Inspections: those of the workshops the caller sees, less the copies of a
joint inspection that are not the caller's own (a panel's copies stay apart until one is official)."""

from __future__ import annotations

import base64
from datetime import date

from flask import abort, jsonify, request
from flask_login import current_user
from sqlalchemy import and_, or_
from sqlmodel import select

import clock
from accounts.models import Plant, User
from accounts.service import is_manager, visible_workshops
from api.answers import Checklists, InspectionPage, VersionOut
from api.openapi import operation
from api.problems import ApiProblem
from api.schemas import InspectionFilters, NoQuery
from api.views import bp
from checklists.models import Checklist, ChecklistVersion, VersionStatus
from checklists.service import is_used_at
from database import MAX_ID, db
from inspections.models import Inspection, InspectionStatus

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def _iso(value):
    return value.isoformat() if value else None


def _readable_checklists(session) -> list[Checklist]:
    checklists = session.exec(select(Checklist).order_by(Checklist.key)).all()
    if is_manager(current_user):
        return list(checklists)
    workshops = session.exec(visible_workshops(current_user)).all()
    return [c for c in checklists if any(is_used_at(c, w) for w in workshops)]


def _readable_versions(checklist: Checklist) -> list[ChecklistVersion]:
    if is_manager(current_user):
        return list(checklist.versions)
    return [v for v in checklist.versions if v.status != VersionStatus.draft]


@bp.get("/checklists")
@operation(summary="List checklists and their versions", tags=["checklists"], ok={200: Checklists}, query=NoQuery)
def checklists():
    session = db()
    return jsonify(checklists=[{
        "key": c.key, "name": c.name,
        "versions": [{"number": v.number, "status": v.status.value, "name": v.name or c.name,
                      "content_sha256": v.content_sha256, "published_at": _iso(v.published_at)}
                     for v in _readable_versions(c)],
    } for c in _readable_checklists(session)])


@bp.get("/checklists/<key>/versions/<int:number>")
@operation(summary="Read a checklist version: every category and item",
           tags=["checklists"], ok={200: VersionOut}, query=NoQuery)
def checklist_version(key: str, number: int):
    """One version as a client needs it to fill an inspection in: every category and item, in form order."""
    session = db()
    checklist = next((c for c in _readable_checklists(session) if c.key == key), None)
    version = next((v for v in _readable_versions(checklist) if v.number == number), None) if checklist else None
    if version is None:
        abort(404, "no such checklist version")
    return jsonify(version_json(version))


def version_json(version: ChecklistVersion) -> dict:
    return {
        "key": version.checklist.key, "name": version.name or version.checklist.name, "number": version.number,
        "status": version.status.value, "description": version.description, "change_note": version.change_note,
        "content_sha256": version.content_sha256, "published_at": _iso(version.published_at),
        "scheme": version.scheme,
        "categories": [{
            "key": c.key, "name": c.name, "name_en": c.name_en, "weight": c.weight, "full_marks": c.full_marks,
            "items": [{"key": i.key, "text": i.text, "text_en": i.text_en, "guidance": i.guidance,
                       "weight": i.weight, "critical": i.critical, "photo_required": i.photo_required,
                       "deduct": i.deduct, "unit": i.unit, "level_texts": i.level_texts} for i in c.items],
        } for c in version.categories],
    }


def _day(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ApiProblem(422, "bad_date", f"{name} is a day, YYYY-MM-DD", items=[name]) from None
    if not clock.FIRST_DAY <= day <= clock.LAST_DAY:
        raise ApiProblem(422, "bad_date", f"{name} lies between {clock.FIRST_DAY} and {clock.LAST_DAY}", items=[name])
    return day


def _cursor() -> int:
    raw = request.args.get("cursor")
    if not raw:
        return 0
    try:
        after = int(base64.urlsafe_b64decode(raw.encode() + b"==").decode().removeprefix("i:"))
    except ValueError:
        after = -1
    if not 0 <= after <= MAX_ID:
        raise ApiProblem(422, "bad_cursor", "cursor is the next_cursor of a previous page", items=["cursor"])
    return after


@bp.get("/inspections")
@operation(summary="List inspections (filters, cursor pages)",
           tags=["inspections"], ok={200: InspectionPage}, query=InspectionFilters)
def inspections():
    """?plant= &workshop= &status=draft|submitted|calibration|all (default submitted) &from= &to= (days of the
    submission at each plant) &checklist= &version= &inspector= (username) &limit= (≤ 1000) &cursor= — oldest
    first by id; next_cursor is null on the last page."""
    session = db()
    raw_limit = request.args.get("limit") or str(DEFAULT_LIMIT)
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise ApiProblem(422, "bad_limit", f"limit is 1 to {MAX_LIMIT}", items=["limit"])
    limit = int(raw_limit)
    status = request.args.get("status") or "submitted"
    if status not in ("draft", "submitted", "calibration", "all"):
        raise ApiProblem(422, "bad_status", "status is draft, submitted, calibration or all", items=["status"])
    workshops = session.exec(visible_workshops(current_user)).all()
    if request.args.get("plant"):
        workshops = [w for w in workshops if w.plant.code == request.args["plant"]]
    if request.args.get("workshop"):
        workshops = [w for w in workshops if w.code == request.args["workshop"]]
    if not workshops and (request.args.get("plant") or request.args.get("workshop")):
        abort(404, "no such workshop or plant")
    first, last = _day("from"), _day("to")
    if first and last and first > last:
        raise ApiProblem(422, "bad_period", "from is after to", items=["from", "to"])
    conditions = [Inspection.workshop_id.in_([w.id for w in workshops]), Inspection.id > _cursor(),
                  # a joint inspection's copies: the caller's own, or the one made official
                  or_(Inspection.calibration_id.is_(None), Inspection.inspector_id == current_user.id,
                      Inspection.status == InspectionStatus.submitted)]
    if status != "all":
        conditions.append(Inspection.status == InspectionStatus(status))
    if first or last:
        zones: dict[str, list[int]] = {}
        for w in workshops:
            zones.setdefault(w.plant.timezone, []).append(w.id)
        parts = []
        for zone_name, ids in zones.items():
            since, until = clock.day_bounds(first or date(1970, 1, 1), last or date(9998, 12, 30),
                                            clock.zone_named(zone_name))
            parts.append(and_(Inspection.workshop_id.in_(ids), Inspection.submitted_at >= since,
                              Inspection.submitted_at < until))
        conditions.append(or_(*parts) if parts else Inspection.id < 0)
    query = select(Inspection).join(ChecklistVersion, Inspection.version_id == ChecklistVersion.id)
    if request.args.get("checklist"):
        query = query.join(Checklist, ChecklistVersion.checklist_id == Checklist.id)
        conditions.append(Checklist.key == request.args["checklist"])
    if request.args.get("version"):
        if not request.args["version"].isdigit():
            raise ApiProblem(422, "bad_version", "version is a version number", items=["version"])
        conditions.append(ChecklistVersion.number == int(request.args["version"]))
    if request.args.get("inspector"):
        conditions.append(Inspection.inspector_id.in_(select(User.id).where(
            User.username == request.args["inspector"])))
    rows = session.exec(query.where(*conditions).order_by(Inspection.id).limit(limit + 1)).all()
    page, more = rows[:limit], len(rows) > limit
    by_id = {w.id: w for w in workshops}
    versions = {v.id: v for v in session.exec(select(ChecklistVersion).where(
        ChecklistVersion.id.in_({i.version_id for i in page})))} if page else {}
    names = {u.id: u.username for u in session.exec(select(User).where(
        User.id.in_({i.inspector_id for i in page})))} if page else {}
    plants = {p.id: p.code for p in session.exec(select(Plant))}
    return jsonify(
        inspections=[{
            "id": i.id, "workshop": by_id[i.workshop_id].code, "plant": plants[by_id[i.workshop_id].plant_id],
            "checklist": {"key": versions[i.version_id].checklist.key, "version": versions[i.version_id].number},
            "status": i.status.value, "inspector": names.get(i.inspector_id), "calibration": i.calibration_id,
            "started_at": _iso(i.started_at), "submitted_at": _iso(i.submitted_at),
            "overall_percent": None if i.overall_percent is None else round(i.overall_percent, 2),
            "grade": i.grade, "passed": i.passed, "fail_reasons": i.fail_reasons or [],
        } for i in page],
        next_cursor=base64.urlsafe_b64encode(f"i:{page[-1].id}".encode()).decode().rstrip("=") if more else None,
    )
