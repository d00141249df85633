"""Review, submit and sign-off: the review page, submit with the signatures, countersign, approve and a
manager's correction of a submitted answer. Its routes join the inspections blueprint."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from accounts.service import is_manager
from accounts.views import reconfirm_password
from checklists.schemes import scheme_from_dict
from database import db
from inspections.device_signing import check_signed_on_device, proof_from
from inspections.models import Inspection, InspectionStatus, SignatureRole
from inspections.service import InspectionError, answers_by_key, can_edit, parse_score
from inspections.signatures import (
    SignatureError,
    clean_signature_image,
    may_approve,
    may_record_signature,
    record_signature,
)
from inspections.submission import correct_answer, review, submit_inspection
from inspections.views import bp, error_text, get_inspection_or_404, get_item_or_404, result_context
from web import (
    render_page,
)


@bp.get("/inspections/<int:inspection_id>/review")
def review_page(inspection_id: int):
    """The summary before signing: scores, grade, findings, and links to whatever is still unanswered."""
    inspection = get_inspection_or_404(inspection_id)
    if inspection.locked:
        return redirect(url_for(".inspection", inspection_id=inspection.id), code=303)
    return render_page("inspections/review.html", **_review_context(inspection))


def _review_context(inspection: Inspection, **extra) -> dict:
    return {
        "inspection": inspection,
        "version": inspection.version,
        "scheme": scheme_from_dict(inspection.version.scheme),
        "review": review(session=db(), inspection=inspection),
        "editable": can_edit(current_user, inspection),
        "errors": {},
        "form": request.form,
        **extra,
    }


def _signature_texts(exc: SignatureError) -> str:
    return {
        "empty": _("请在框内签名"),
        "bad_image": _("签名图像无法读取，请清除后重签"),
        "too_large": _("签名图像太大，请清除后重签"),
        "name_missing": _("请填写签名人姓名"),
        "name_too_long": _("姓名太长（最多 64 字）"),
        "already_signed": _("已经签过名了"),
        "not_allowed": _("只有检查员或质量经理可以代为记录签名"),
        "not_submitted": _("检查提交后才能会签"),
    }[exc.code]


def _drawn_signature(field: str, errors: dict) -> bytes | None:
    """A drawn signature from the form; None on a device without JavaScript (it sends <field>_typed)."""
    if request.form.get(f"{field}_typed") and not request.form.get(field):
        return None
    try:
        return clean_signature_image(request.form.get(field, ""))
    except SignatureError as exc:
        errors[field] = _signature_texts(exc)
        return None


def _leader_signature(errors: dict) -> tuple[str, bytes | None] | None:
    """The optional countersign: (name, image) when the leader signed, None when nobody did."""
    name = request.form.get("leader_name", "").strip()
    if not name and not request.form.get("leader_signature"):
        return None
    if not name:
        errors["leader_name"] = _signature_texts(SignatureError("name_missing", ""))
    image = _drawn_signature("leader_signature", errors)
    return name, image


@bp.post("/inspections/<int:inspection_id>/submit")
def submit(inspection_id: int):
    """Sign and submit. What is wrong (unanswered items, a missing signature) is named; answers stay saved.

    Confirmed by the password typed here, or signed on the tablet where the server could not be reached
    (inspections/device_signing.py): then the tablet's queued submit arrives with its key's signature over what
    it showed, and is answered 201 with the record's address."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    queued = bool(request.headers.get("X-Change-Key"))
    if inspection.locked:
        if inspection.inspector_id == current_user.id:
            return _submitted(inspection, queued)  # a repeated tap, or the tablet's submit sent again
        abort(409, error_text(InspectionError("locked", "")))
    if not can_edit(current_user, inspection):
        abort(403, error_text(InspectionError("not_allowed", "")))
    errors: dict[str, str] = {}
    image = _drawn_signature("signature", errors)
    leader = _leader_signature(errors)
    proof = proof_from(request.form)
    on_device = None
    if not errors and proof is not None:
        try:
            on_device = check_signed_on_device(
                session, current_user, inspection, proof, signature=request.form.get("signature", ""),
                leader_name=request.form.get("leader_name", "").strip(),
                leader_signature=request.form.get("leader_signature", ""))
        except InspectionError as exc:
            session.rollback()
            abort(exc.status, error_text(exc))
    elif not errors:
        refused = reconfirm_password(request.form.get("password", ""))
        if refused:
            if refused[0] == 429:
                abort(429, refused[1])
            errors["password"] = refused[1]
    try:
        if errors:
            # still check the answers, so that every problem is named at once
            review_now = review(session=session, inspection=inspection)
            if review_now.unanswered:
                raise InspectionError("unanswered", "", items=[i.key for i in review_now.unanswered])
        else:
            submit_inspection(session=session, user=current_user, inspection=inspection,
                              signature_image=image, signed=True, password_confirmed=on_device is None,
                              on_device=on_device)
            if leader:
                record_signature(session=session, user=current_user, inspection=inspection,
                                 role=SignatureRole.workshop_leader, signer_name=leader[0], image=leader[1],
                                 password_confirmed=on_device is None, on_device=on_device)
    except InspectionError as exc:
        session.rollback()
        if exc.status != 422:
            abort(exc.status, error_text(exc))
        errors["submit"] = error_text(exc)
    except SignatureError as exc:
        session.rollback()
        if exc.status != 422:
            abort(exc.status, _signature_texts(exc))
        errors["leader_name"] = _signature_texts(exc)
    if errors:
        session.refresh(inspection)
        return render_page("inspections/review.html", status=422, **_review_context(inspection, errors=errors))
    session.commit()
    return _submitted(inspection, queued)


def _submitted(inspection: Inspection, queued: bool):
    target = url_for(".inspection", inspection_id=inspection.id)
    if queued:
        return "", 201, {"Location": target}  # the tablet's outbox takes only an answer it can acknowledge
    return redirect(target, code=303)


@bp.post("/inspections/<int:inspection_id>/countersign")
def countersign(inspection_id: int):
    """The workshop leader countersigns a submitted inspection on the inspector's tablet."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    errors: dict[str, str] = {}
    leader = _leader_signature(errors)
    if leader is None:
        errors["leader_name"] = _signature_texts(SignatureError("name_missing", ""))
    if not may_record_signature(current_user, inspection):
        abort(403, _signature_texts(SignatureError("not_allowed", "")))
    if inspection.status != InspectionStatus.submitted:
        abort(409, _signature_texts(SignatureError("not_submitted", "")))
    if not errors:
        refused = reconfirm_password(request.form.get("password", ""))
        if refused:
            if refused[0] == 429:
                abort(429, refused[1])
            errors["password"] = refused[1]
    if not errors:
        try:
            record_signature(session=session, user=current_user, inspection=inspection,
                             role=SignatureRole.workshop_leader, signer_name=leader[0], image=leader[1],
                             password_confirmed=True)
        except SignatureError as exc:
            session.rollback()
            if exc.status != 422:
                abort(exc.status, _signature_texts(exc))
            errors["leader_name"] = _signature_texts(exc)
    if errors:
        return render_page("inspections/result.html", status=422, errors=errors, form=request.form,
                           **result_context(inspection))
    session.commit()
    flash(_("会签已保存"))
    return redirect(url_for(".inspection", inspection_id=inspection.id), code=303)


@bp.post("/inspections/<int:inspection_id>/approve")
def approve(inspection_id: int):
    """A quality manager approves a submitted inspection: password re-entered, signature drawn (or, without
    JavaScript, the signed-in name)."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    if not may_approve(current_user, inspection):
        abort(403, _signature_texts(SignatureError("not_allowed", "")))
    errors: dict[str, str] = {}
    image = _drawn_signature("manager_signature", errors)
    if not errors:
        refused = reconfirm_password(request.form.get("password", ""))
        if refused:
            if refused[0] == 429:
                abort(429, refused[1])
            errors["approve_password"] = refused[1]
    if not errors:
        try:
            record_signature(session=session, user=current_user, inspection=inspection, role=SignatureRole.manager,
                             signer_name=current_user.display_name, image=image, password_confirmed=True)
        except SignatureError as exc:
            session.rollback()
            if exc.status != 422:
                abort(exc.status, _signature_texts(exc))
            errors["manager_signature"] = _signature_texts(exc)
    if errors:
        return render_page("inspections/result.html", status=422, errors=errors, form=request.form,
                           **result_context(inspection))
    session.commit()
    flash(_("已批准并签名"))
    return redirect(url_for(".inspection", inspection_id=inspection.id), code=303)


@bp.route("/inspections/<int:inspection_id>/items/<item_key>/correct", methods=["GET", "POST"])
def correct(inspection_id: int, item_key: str):
    """A quality manager corrects one answer of a submitted inspection, with a reason. The old value stays in the
    record; the result is rescored and the next PDF is a new document listing the correction."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    item = get_item_or_404(inspection, item_key)
    if not is_manager(current_user):
        abort(403, _("只有质量经理可以更正已提交的检查"))
    if inspection.status != InspectionStatus.submitted:
        abort(409, error_text(InspectionError("not_submitted", "")))
    errors: dict[str, str] = {}
    if request.method == "POST":
        # a counting sheet sends the count and, when ticked, its N/A box under the same name: N/A wins
        given = request.form.getlist("score")
        raw_score = "na" if "na" in given else next((v for v in given if v.strip()), "")
        try:
            value = parse_score(raw_score) if raw_score else None
            correct_answer(session=session, user=current_user, inspection=inspection, item_key=item.key,
                           value=value, note=request.form.get("note"), reason=request.form.get("reason", ""))
            session.commit()
        except ValueError as exc:
            session.rollback()
            if not isinstance(exc, InspectionError):
                exc = InspectionError("invalid_score", str(exc))
            if exc.status not in (422, 400):
                abort(exc.status, error_text(exc))
            errors["correction"] = error_text(exc, scheme_from_dict(inspection.version.scheme))
        if not errors:
            flash(_("已更正，结果已重新计分"))
            return redirect(url_for(".inspection", inspection_id=inspection.id) + f"#item-{item.key}", code=303)
        session.refresh(inspection)
    answer = answers_by_key(inspection).get(item.key)
    return render_page("inspections/correct.html", status=422 if errors else 200, inspection=inspection, item=item,
                       answer=answer, scheme=scheme_from_dict(inspection.version.scheme), errors=errors,
                       form=request.form)
