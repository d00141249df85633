"""The API of joint inspections for calibration: start one (managers), read its state and report, make a copy or
a reconciled copy the official inspection. The copies themselves are answered and submitted through the usual
inspection routes. Routes join the API's blueprint (its sign-in and CSRF rules apply)."""

from __future__ import annotations

from flask import abort, jsonify
from flask_login import current_user

from accounts.service import get_visible_workshop_or_404, is_manager
from api.answers import CalibrationOut
from api.openapi import operation
from api.problems import json_body
from api.schemas import CalibrationBody, NoBody, NoQuery, OfficialBody
from api.views import bp
from database import db
from inspections.models import Calibration
from quality.agreement import Agreement, kappa_reading
from quality.calibration import (
    CalibrationError,
    CalibrationState,
    choose_official,
    may_start,
    may_view,
    report,
    start_calibration,
    start_reconciled,
    state_of,
)


def _refused(exc: CalibrationError):
    return jsonify(error=str(exc), code=exc.code, field=exc.field, items=[exc.field], names=exc.names), exc.status


def _bad(message: str, code: str, fields: list[str]):
    return jsonify(error=message, code=code, field=fields[0] if fields else None, items=fields), 422


@bp.post("/workshops/<code>/calibrations")
@operation(summary="Start a joint inspection (calibration)",
           tags=["calibrations"], ok={201: CalibrationOut}, body=CalibrationBody)
def start_calibration_api(code: str):
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    if not may_start(session=session, user=current_user, workshop=workshop):  # who may, before what was sent
        return jsonify(error="only a quality manager may start a joint inspection", code="not_allowed"), 403
    body = json_body(CalibrationBody)
    names = body.get("inspectors")
    checklist = body.get("checklist")
    try:
        calibration = start_calibration(session=session, user=current_user, workshop=workshop, usernames=names,
                                        checklist_key=checklist)
    except CalibrationError as exc:
        session.rollback()
        return _refused(exc)
    session.commit()
    return jsonify(calibration_json(state_of(session, calibration))), 201


def _calibration_or_404(calibration_id: int) -> CalibrationState:
    calibration = db().get(Calibration, calibration_id)
    if calibration is None or not may_view(session=db(), user=current_user, calibration=calibration):
        abort(404)
    return state_of(db(), calibration)


@bp.get("/calibrations/<int:calibration_id>")
@operation(summary="Read a joint inspection (calibration) and its report",
           tags=["calibrations"], ok={200: CalibrationOut}, query=NoQuery)
def get_calibration(calibration_id: int):
    return jsonify(calibration_json(_calibration_or_404(calibration_id)))


@bp.post("/calibrations/<int:calibration_id>/official")
@operation(summary="Make one copy the official inspection",
           tags=["calibrations"], ok={200: CalibrationOut}, body=OfficialBody)
def calibration_official_api(calibration_id: int):
    state = _calibration_or_404(calibration_id)
    if not is_manager(current_user):  # who may, before what was sent
        return jsonify(error="only a quality manager may decide a joint inspection", code="not_allowed"), 403
    body = json_body(OfficialBody)
    try:
        choose_official(session=db(), user=current_user, calibration=state.calibration,
                        inspection_id=body["inspection"])
    except CalibrationError as exc:
        db().rollback()
        return _refused(exc)
    db().commit()
    return jsonify(calibration_json(state_of(db(), state.calibration)))


@bp.post("/calibrations/<int:calibration_id>/reconcile")
@operation(summary="Start the reconciled copy", tags=["calibrations"], ok={201: CalibrationOut}, body=NoBody)
def calibration_reconcile_api(calibration_id: int):
    """The manager's reconciled copy (a draft filled in from the panel's median scores): answer and submit it
    through the inspection routes; submitted, it is the official inspection."""
    state = _calibration_or_404(calibration_id)
    if not is_manager(current_user):  # who may, before what was sent
        return jsonify(error="only a quality manager may decide a joint inspection", code="not_allowed"), 403
    json_body(NoBody, optional=True)  # nothing to send: anything sent is named
    try:
        reconciled = start_reconciled(session=db(), user=current_user, calibration=state.calibration)
    except CalibrationError as exc:
        db().rollback()
        return _refused(exc)
    db().commit()
    return jsonify(calibration_json(state_of(db(), state.calibration)) | {"reconciled": reconciled.id}), 201


def _agreement(found: Agreement) -> dict:
    return {"items": found.items, "fleiss_kappa": _round(found.fleiss), "weighted_kappa": _round(found.weighted),
            "mean_absolute_difference": _round(found.mean_absolute_difference),
            "reading": kappa_reading(found.fleiss)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def calibration_json(state: CalibrationState) -> dict:
    """The panel and its state; the report only once every copy is submitted (until then nobody, inspector or
    not, reads one inspector's scores beside another's)."""
    calibration = state.calibration
    copies = [{"inspector": c.inspector.username, "inspection": c.id, "status": c.status.value,
               "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None} for c in state.copies]
    found = {
        "id": calibration.id,
        "workshop": calibration.workshop.code,
        "checklist": {"key": calibration.version.checklist.key, "version": calibration.version.number},
        "started_at": calibration.started_at.isoformat(),
        "state": "decided" if state.decided else ("complete" if state.complete else "open"),
        "copies": copies,
        "reconciled": state.reconciled.id if state.reconciled else None,
        "official": state.official.id if state.official else None,
        "report": None,
    }
    if state.complete:
        result = report(state)
        names = [c.inspector.username for c in state.copies]
        found["report"] = {
            "unit": result.unit,
            "items": [{"item": r.key, "category": r.category_key, "spread": r.spread,
                       "scores": dict(zip(names, r.values, strict=True))} for r in result.items],
            "categories": [{"key": r.key, "name": r.name, **_agreement(r.agreement)} for r in result.categories],
            "overall": _agreement(result.overall),
            "bias": {name: _round(b) for name, b in zip(names, result.bias, strict=True)},
        }
    return found
