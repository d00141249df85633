"""The API's hands on an inspection's record, with the screens' rules: photos uploaded and listed, a quality
manager's approval (password re-entered, signature drawn) and corrections with a reason. Routes join the API's
blueprint."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user

from accounts.service import is_manager
from api.answers import InspectionOut, PhotoOut, Photos
from api.openapi import operation
from api.problems import ApiProblem, json_body
from api.schemas import ApproveBody, CorrectionBody, CountersignBody, NoQuery, PhotoUpload
from api.views import bp, given_value, inspection_or_404, inspection_refusal, password_refused
from checklists.schemes import scheme_from_dict
from database import db, reads_first
from inspections.models import InspectionStatus, Photo, SignatureRole
from inspections.photo_uploads import add_photo, photos_by_item
from inspections.representation import inspection_json
from inspections.service import InspectionError, editable_item
from inspections.signatures import (
    SignatureError,
    clean_signature_image,
    may_approve,
    may_record_signature,
    record_signature,
)
from inspections.submission import correct_answer
from storage import storage


@bp.post("/inspections/<int:inspection_id>/approve")
@operation(summary="Approve (the quality manager's signature)",
           tags=["inspections"], ok={200: InspectionOut}, body=ApproveBody)
def approve(inspection_id: int):
    """{"password", "signature"?: a drawn PNG as a data URL} — the manager's approval (not of their own)."""
    inspection = inspection_or_404(inspection_id)
    if not may_approve(current_user, inspection):  # who may, before what was sent
        return jsonify(error="a quality manager approves a submitted inspection they did not inspect",
                       code="not_allowed"), 403
    return _signed(inspection, json_body(ApproveBody), SignatureRole.manager, current_user.display_name)


def _signed(inspection, body: dict, role: SignatureRole, name: str, name_field: str | None = None):
    """A signature recorded as on screen: the drawn image checked, the signed-in user's password re-entered (a
    wrong one counts towards the sign-in lock), each role once."""
    image = None
    if body.get("signature") is not None:
        try:
            image = clean_signature_image(body["signature"])
        except SignatureError as exc:
            return jsonify(error=str(exc), code=f"signature_{exc.code}", items=["signature"]), 422
    refused = password_refused(body)
    if refused is not None:
        return refused
    try:
        record_signature(session=db(), user=current_user, inspection=inspection, role=role, signer_name=name,
                         image=image, password_confirmed=True)
    except SignatureError as exc:
        db().rollback()
        return jsonify(error=str(exc), code=f"signature_{exc.code}",
                       items=[name_field] if name_field else None), exc.status
    db().commit()
    return jsonify(inspection_json(db(), inspection))


@bp.post("/inspections/<int:inspection_id>/countersign")
@operation(summary="Countersign: the workshop leader has seen the findings", tags=["inspections"],
           ok={200: InspectionOut}, body=CountersignBody)
def countersign(inspection_id: int):
    """{"name": the leader's name, "signature"?: a drawn PNG, "password": the signed-in user's} — on the
    inspector's (or a manager's) device, as on screen; once per inspection."""
    inspection = inspection_or_404(inspection_id)
    if not may_record_signature(current_user, inspection):  # who may, before what was sent
        return jsonify(error="the inspector or a manager records the workshop leader's countersign",
                       code="not_allowed"), 403
    if inspection.status != InspectionStatus.submitted:
        return jsonify(error="only a submitted inspection is countersigned", code="signature_not_submitted"), 409
    body = json_body(CountersignBody)
    return _signed(inspection, body, SignatureRole.workshop_leader, body["name"], name_field="name")


@bp.post("/inspections/<int:inspection_id>/corrections")
@operation(summary="Correct a submitted answer, with a reason",
           tags=["inspections"], ok={201: InspectionOut}, body=CorrectionBody)
def correct(inspection_id: int):
    """{"item", one of "score" / "count" / "level" and/or "note", "reason"} — a manager's correction of a
    submitted answer: the old value stays in the record, the result is rescored, the next PDF is a new document."""
    inspection = inspection_or_404(inspection_id)
    if not is_manager(current_user):  # who may, before what was sent
        return jsonify(error="only a quality manager corrects a submitted inspection", code="not_allowed"), 403
    if inspection.status != InspectionStatus.submitted:
        return jsonify(error="only a submitted inspection is corrected; a draft is changed directly",
                       code="not_submitted"), 409
    body = json_body(CorrectionBody)
    item_key, note, reason = body.get("item"), body.get("note"), body.get("reason")
    value = given_value(body, scheme_from_dict(inspection.version.scheme), item_key, required=note is None)
    try:
        correct_answer(session=db(), user=current_user, inspection=inspection, item_key=item_key, value=value,
                       note=note, reason=reason)
    except InspectionError as exc:
        db().rollback()
        return inspection_refusal(exc)
    db().commit()
    return jsonify(inspection_json(db(), inspection)), 201


@bp.post("/inspections/<int:inspection_id>/items/<item_key>/photos")
@operation(summary="Upload a photo for an item", tags=["photos"], ok={201: PhotoOut}, form=PhotoUpload)
@reads_first  # the photo is decoded before the write lock is asked for
def upload_photo(inspection_id: int, item_key: str):
    """multipart/form-data with one file field `photo`: the screens' checks (a real JPEG/PNG/WebP/HEIC under the
    size limit, at most 10 per item, re-encoded without EXIF, stored by hash). `X-Change-Key` or an
    Idempotency-Key makes a retry harmless."""
    inspection = inspection_or_404(inspection_id)
    try:
        editable_item(current_user, inspection, item_key)  # who may, before what was sent
    except InspectionError as exc:
        return inspection_refusal(exc)
    if request.mimetype != "multipart/form-data":
        raise ApiProblem(415, "unsupported_media_type", "send the photo as multipart/form-data, field 'photo'")
    unknown = sorted((set(request.files) | set(request.form)) - {"photo"})
    if unknown:
        raise ApiProblem(422, "unknown_field", f"unknown fields: {', '.join(unknown)}", items=unknown)
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        raise ApiProblem(422, "photo_missing", "no file in the field 'photo'", items=["photo"])
    data = upload.read()
    upload.close()
    try:
        photo = add_photo(session=db(), user=current_user, inspection=inspection, item_key=item_key, data=data,
                          store=storage(), change_key=request.headers.get("X-Change-Key"))
    except InspectionError as exc:
        db().rollback()
        return inspection_refusal(exc)
    db().commit()
    return jsonify(photo_json(photo)), 201


def photo_json(photo: Photo) -> dict:
    return {"id": photo.id, "item_id": photo.item_id, "sha256": photo.sha256, "width": photo.width,
            "height": photo.height, "byte_size": photo.byte_size, "uploaded_at": photo.uploaded_at.isoformat(),
            "url": url_for("inspections.photo", photo_id=photo.id)}


@bp.get("/inspections/<int:inspection_id>/photos")
@operation(summary="List an inspection's photos", tags=["photos"], ok={200: Photos}, query=NoQuery)
def photos(inspection_id: int):
    """Every photo of the inspection by item key; `url` downloads the JPEG (the same token works there)."""
    inspection = inspection_or_404(inspection_id)
    keys = {item.id: item.key for category in inspection.version.categories for item in category.items}
    found = photos_by_item(session=db(), inspection=inspection)
    return jsonify(photos={keys[item_id]: [photo_json(p) for p in listed] for item_id, listed in found.items()})
