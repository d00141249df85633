"""Red tags on screen: the register (per workshop or everything the user sees), raising a tag on the floor, one tag
with its countdown and outcome. Thin: parse → redtags.service → render."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from accounts.days import plant_days
from accounts.models import Workshop
from accounts.service import can_see_workshop, get_visible_workshop_or_404, visible_workshops
from actions.models import CorrectiveAction
from database import db, reads_first
from redtags import service
from redtags.models import RedTag, TagOutcome, TagReason
from storage import storage
from web import at_plant, photo_response, plant_today, public_url, qr_svg, render_page

bp = Blueprint("redtags", __name__)
REGISTER_LIMIT = 500


@bp.before_request
@login_required
def _require_login():
    return None


def error_text(exc: service.RedTagError) -> str:
    return {
        "not_allowed": _("只有负责检查该车间的人员可以挂红牌或处置红牌"),
        "what_required": _("请写明挂红牌的物品"),
        "location_required": _("请写明物品所在位置"),
        "text_too_long": _("文字太长"),
        "bad_reason": _("请选择挂红牌的原因"),
        "bad_holding": _("留置期为 1–90 天"),
        "photo_required": _("请给挂红牌的物品拍照"),
        "photo_bad_type": _("只接受 JPEG、PNG 或 WebP 照片"),
        "photo_too_many_pixels": _("照片像素过多"),
        "photo_unreadable": _("无法读取这张照片，请重新拍摄"),
        "photo_too_large": _("照片太大（最大 12 MB）"),
        "bad_outcome": _("请选择处置结果"),
        "wrong_status": _("这个红牌已经处置过了"),
        "bad_key": _("表单已失效，请重新打开挂红牌页面"),
    }.get(exc.code, str(exc))


def tag_or_404(tag_id: int) -> RedTag:
    tag = db().get(RedTag, tag_id)
    if tag is None or not can_see_workshop(session=db(), user=current_user, workshop_id=tag.workshop_id):
        abort(404)
    return tag


@bp.get("/red-tags")
def register():
    """Every tag the user may see, or one workshop's (?workshop=CODE); ?status=open|overdue|decided|all."""
    session = db()
    code = request.args.get("workshop", "")
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code) if code else None
    if workshop is not None:
        at_plant(workshop.plant)
    status = request.args.get("status", "open")
    status = status if status in service.REGISTER_STATUSES else "open"
    days = plant_days(session)
    query = service.visible_tags(current_user)
    if workshop is not None:
        query = query.where(RedTag.workshop_id == workshop.id)
    tags = session.exec(service.register_filter(query, status, days)
                        .order_by(RedTag.hold_until, RedTag.id).limit(REGISTER_LIMIT)).all()
    workshops = session.exec(visible_workshops(current_user)).all()
    taggable = [w for w in workshops if service.may_tag(session=session, user=current_user, workshop_id=w.id)]
    return render_page("redtags/register.html", tags=tags, workshop=workshop, shown=status, days=days,
                       limit=REGISTER_LIMIT, workshops=workshops, taggable=taggable,
                       actions={a.red_tag_id: a for a in _actions_of(tags)})


def _actions_of(tags):

    ids = [t.id for t in tags]
    return db().exec(select(CorrectiveAction).where(CorrectiveAction.red_tag_id.in_(ids))).all() if ids else []


def _new_form(workshop: Workshop, status: int = 200, error: str | None = None):
    # a fresh key per form shown; a refused form keeps its key, as nothing was raised with it
    client_key = request.form.get("client_key") or secrets.token_urlsafe(18)
    return render_page("redtags/new.html", status=status, workshop=workshop, reasons=list(TagReason),
                       holding_days=service.HOLDING_DAYS, form=request.form, error=error, client_key=client_key)


@bp.get("/workshops/<code>/red-tags/new")
def new(code: str):
    workshop = get_visible_workshop_or_404(session=db(), user=current_user, code=code)
    if not service.may_tag(session=db(), user=current_user, workshop_id=workshop.id):
        abort(403, _("只有负责检查该车间的人员可以挂红牌或处置红牌"))
    return _new_form(workshop)


@bp.post("/workshops/<code>/red-tags")
@reads_first  # the photo is decoded before the write lock is asked for
def create(code: str):
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    if not service.may_tag(session=session, user=current_user, workshop_id=workshop.id):
        abort(403, _("只有负责检查该车间的人员可以挂红牌或处置红牌"))  # before reading the upload
    form = request.form
    upload = request.files.get("photo")
    photo = upload.read() if upload and upload.filename else None
    days = form.get("holding_days", "")
    # the tablet's outbox sends the key as a header too (like answers); a plain form has it as a field
    client_key = request.headers.get("X-Change-Key") or form.get("client_key") or None
    for attempt in (1, 2):
        try:
            tag = service.raise_tag(
                session=session, user=current_user, workshop=workshop, what=form.get("what", ""),
                location=form.get("location", ""), reason=form.get("reason", ""),
                holding_days=int(days) if days.isdigit() else None, photo=photo,
                store=storage(), quantity=form.get("quantity", ""),
                note=form.get("note", ""), client_key=client_key)
            session.commit()
            break
        except service.RedTagError as exc:
            session.rollback()
            if exc.status == 403:
                abort(403, error_text(exc))
            return _new_form(workshop, exc.status, error_text(exc))
        except IntegrityError:
            # the same form arriving twice at once, or two tags taking the same number: the second try finds the
            # first tag by its key, or takes the next number
            session.rollback()
            if attempt == 2:
                raise
    flash(_("红牌 %(number)s 已登记", number=tag.number))
    if request.headers.get("X-Change-Key"):
        # the tablet's script: it moves to the tag itself, so the message above waits for that page (a followed
        # redirect would use it up unseen)
        return "", 201, {"Location": url_for(".tag_page", tag_id=tag.id)}
    return redirect(url_for(".tag_page", tag_id=tag.id), code=303)


def _page(tag: RedTag, status: int = 200, error: str | None = None):
    session = db()
    return render_page("redtags/tag.html", status=status, tag=tag, today=plant_today(tag.workshop.plant),
                       outcomes=list(TagOutcome),
                       action=service.escalated_action(session, tag), error=error, form=request.form,
                       may_decide=service.may_tag(session=session, user=current_user, workshop_id=tag.workshop_id))


@bp.get("/red-tags/<int:tag_id>")
def tag_page(tag_id: int):
    return _page(tag_or_404(tag_id))


@bp.get("/red-tags/<int:tag_id>/card")
def card(tag_id: int):
    """The tag to print and hang on the thing: number, what, why, until when; its QR code opens this tag."""
    tag = tag_or_404(tag_id)
    at_plant(tag.workshop.plant)
    target = public_url(".tag_page", tag_id=tag.id)
    return render_page("redtags/card.html", tag=tag, qr=qr_svg(target, title=tag.number), target=target)


@bp.post("/red-tags/<int:tag_id>/decide")
def decide(tag_id: int):
    session = db()
    tag = tag_or_404(tag_id)
    try:
        service.decide(session=session, user=current_user, tag=tag, outcome=request.form.get("outcome", ""),
                       note=request.form.get("note", ""))
    except service.RedTagError as exc:
        session.rollback()
        if exc.status in (403, 409):
            abort(exc.status, error_text(exc))
        return _page(session.get(RedTag, tag_id), 422, error_text(exc))
    session.commit()
    flash(_("已保存"))
    return redirect(url_for(".tag_page", tag_id=tag_id), code=303)


@bp.get("/red-tags/<int:tag_id>/photo.jpg")
def photo(tag_id: int):
    tag = tag_or_404(tag_id)
    # the photo a tag was raised with
    return photo_response(tag.photo_sha256, thumbnail=request.args.get("size") == "thumb",
                          download_name=f"{tag.number}.jpg", immutable=True)
