"""Corrective actions on screen: lists per workshop and plant, one action with its history and the moves the
signed-in user may make. Thin: parse → actions.service → render."""

from __future__ import annotations

import secrets
from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from accounts.days import plant_days
from accounts.models import Plant, User, Workshop
from accounts.service import can_see_workshop, get_visible_workshop_or_404, visible_workshops
from actions import service
from actions.models import CorrectiveAction, Priority
from database import db, reads_first
from inspections.photo_uploads import photos_by_item
from storage import storage
from web import at_plant, photo_response, plant_today, render_page

bp = Blueprint("actions", __name__)
LIST_LIMIT = 500
STATUSES = ("open", "overdue", "done", "verified", "all")


@bp.before_request
@login_required
def _require_login():
    return None


def error_text(exc: service.ActionError) -> str:
    return {
        "not_allowed": _("您不能对这项整改做这个操作"),
        "owner_out_of_scope": _("责任人必须是负责该车间的在职人员（审核员不能做责任人）"),
        "bad_due": _("请选择一年以内的完成日期"),
        "bad_priority": _("请选择优先级"),
        "text_too_long": _("文字太长（最多 2000 字）"),
        "wrong_status": _("这项整改的状态已经变了，请刷新后再试"),
        "photo_required": _("请上传整改后的照片，才能标记为已完成"),
        "comment_required": _("退回时请写明还有什么问题"),
        "photo_bad_type": _("只接受 JPEG、PNG 或 WebP 照片"),
        "photo_too_many_pixels": _("照片像素过多"),
        "photo_unreadable": _("无法读取这张照片，请重新拍摄"),
        "photo_too_large": _("照片太大（最大 12 MB）"),
        "bad_key": _("表单已失效，请重新打开这项整改"),
    }.get(exc.code, str(exc))


def action_or_404(action_id: int) -> CorrectiveAction:
    action = db().get(CorrectiveAction, action_id)
    if action is None or not can_see_workshop(session=db(), user=current_user, workshop_id=action.workshop_id):
        abort(404)
    return action


def _list(query, status: str, **context):
    days = plant_days(db())  # "overdue" is a question for each action's own plant
    status = status if status in STATUSES else "open"
    rows = db().exec(service.with_details(service.action_filter(query, status, days))
                     .order_by(CorrectiveAction.due_on, CorrectiveAction.id).limit(LIST_LIMIT)).all()
    return render_page("actions/list.html", actions=rows, shown=status, days=days, limit=LIST_LIMIT, **context)


@bp.get("/workshops/<code>/actions")
def workshop_actions(code: str):
    workshop = get_visible_workshop_or_404(session=db(), user=current_user, code=code)
    query = service.visible_actions(current_user).where(CorrectiveAction.workshop_id == workshop.id)
    at_plant(workshop.plant)
    return _list(query, request.args.get("status", "open"), workshop=workshop, plant=None)


@bp.get("/plants/<code>/actions")
def plant_actions(code: str):
    plant = db().exec(select(Plant).where(Plant.code == code)).first()
    visible = visible_workshops(current_user).with_only_columns(Workshop.id).where(Workshop.plant_id == (
        plant.id if plant else -1))
    if plant is None or not db().exec(visible).first():
        abort(404)
    query = service.visible_actions(current_user).where(CorrectiveAction.workshop_id.in_(visible.scalar_subquery()))
    at_plant(plant)
    return _list(query, request.args.get("status", "overdue"), workshop=None, plant=plant)


@bp.get("/actions")
def my_actions():
    query = service.visible_actions(current_user).where(CorrectiveAction.owner_id == current_user.id)
    return _list(query, request.args.get("status", "open"), workshop=None, plant=None, mine=True)


def _page(action: CorrectiveAction, status: int = 200, errors: dict | None = None):
    session = db()
    finding = action.finding  # None for a red tag's action: the tag's page is where it is decided
    before = photos_by_item(session=session, inspection=finding.inspection).get(finding.item_id, []) if finding else []
    events = service.events_of(session, action)
    names = {u.id: u.display_name for u in session.exec(select(User).where(User.id.in_({e.user_id for e in events})))}
    return render_page(
        "actions/action.html", status=status, action=action, finding=finding, before_photos=before,
        events=events, names=names, today=plant_today(action.workshop.plant), errors=errors or {}, form=request.form,
        # a fresh key per form shown; a refused form keeps its key, as nothing moved with it
        client_key=request.form.get("client_key") or secrets.token_urlsafe(18),
        owners=service.eligible_owners(session=session, workshop_id=action.workshop_id), priorities=list(Priority),
        may_manage=service.may_manage(session=session, user=current_user, action=action),
        may_work=service.may_work_on(session=session, user=current_user, action=action),
        may_verify=service.may_verify(session=session, user=current_user, action=action),
    )


@bp.get("/actions/<int:action_id>")
def action_page(action_id: int):
    return _page(action_or_404(action_id))


def _move(action_id: int, change, field: str):
    """One move; a refusal shows the page again with the message by the form it came from."""
    for attempt in (1, 2):
        action = action_or_404(action_id)
        try:
            change(action)
            db().commit()
            break
        except service.ActionError as exc:
            db().rollback()
            if exc.status in (403, 409):
                abort(exc.status, error_text(exc))
            return _page(db().get(CorrectiveAction, action_id), 422, {field: error_text(exc)})
        except IntegrityError:
            # the same keyed form arriving twice at once: the second try finds the first move by its key
            db().rollback()
            if attempt == 2:
                raise
    flash(_("已保存"))
    back = request.values.get("next", "")
    if back.startswith("/inspections/") and "//" not in back:  # back to the inspection being done, on our site
        target = back
    else:
        target = url_for(".action_page", action_id=action_id)
    if request.headers.get("X-Change-Key"):
        # the tablet's outbox: it moves to the page itself, so the message waits for it (a followed redirect would
        # use it up unseen)
        return "", 201, {"Location": target}
    return redirect(target, code=303)


@bp.post("/actions/<int:action_id>/assign")
def assign(action_id: int):
    form = request.form
    try:
        due = date.fromisoformat(form.get("due_on", ""))
    except ValueError:
        due = None
    owner = form.get("owner_id", "")
    return _move(action_id, lambda a: service.assign(
        session=db(), user=current_user, action=a, owner_id=int(owner) if owner.isdigit() else None, due_on=due,
        priority=form.get("priority", ""), action_text=form.get("action_text", "")), "assign")


@bp.post("/actions/<int:action_id>/start")
def start(action_id: int):
    return _move(action_id, lambda a: service.start(session=db(), user=current_user, action=a), "start")


@bp.post("/actions/<int:action_id>/done")
@reads_first  # the after-photo is decoded before the write lock is asked for
def done(action_id: int):
    upload = request.files.get("photo")
    data = upload.read() if upload and upload.filename else None
    # the tablet's outbox sends the form's key as a header too (like answers); a plain form has it as a field
    client_key = request.headers.get("X-Change-Key") or request.form.get("client_key") or None
    return _move(action_id, lambda a: service.mark_done(
        session=db(), user=current_user, action=a, photo=data, comment=request.form.get("comment", ""),
        store=storage(), client_key=client_key), "done")


def _inspection_id() -> int | None:
    """Set when the move is made from an inspection form (the buttons carry it in their formaction)."""
    raw = request.values.get("inspection_id", "")
    return int(raw) if raw.isdigit() else None


def _comment(action_id: int) -> str:
    # inside an inspection's category form each open action has its own comment box
    return request.form.get(f"action_comment-{action_id}") or request.form.get("comment", "")


@bp.post("/actions/<int:action_id>/verify")
def verify(action_id: int):
    return _move(action_id, lambda a: service.verify(
        session=db(), user=current_user, action=a, comment=_comment(action_id),
        inspection_id=_inspection_id()), "verify")


@bp.post("/actions/<int:action_id>/return")
def send_back(action_id: int):
    return _move(action_id, lambda a: service.send_back(
        session=db(), user=current_user, action=a, comment=_comment(action_id),
        inspection_id=_inspection_id()), "verify")


@bp.get("/actions/<int:action_id>/after.jpg")
def after_photo(action_id: int):
    action = action_or_404(action_id)
    if not action.after_photo_sha256:
        abort(404)
    # not immutable: a returned action gets a new after-photo at this address (the ETag tells them apart)
    return photo_response(action.after_photo_sha256, thumbnail=request.args.get("size") == "thumb",
                          download_name=f"action-{action_id}-after.jpg", immutable=False)

