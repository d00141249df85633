"""Marking up a finding photo on the tablet (the layer itself: inspections/markup.py). Its route joins the
inspections blueprint."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from database import MAX_ID, db
from inspections.markup import MAX_SHAPES, MAX_TEXT, MarkupError, parse_shapes, save_markup
from inspections.models import Photo
from inspections.service import InspectionError, editable_item
from inspections.views import bp, error_text, get_inspection_or_404, get_item_or_404, photo_strip_answer


@bp.post("/inspections/<int:inspection_id>/items/<item_key>/markup")
def mark_up_photo(inspection_id: int, item_key: str):
    """A markup layer for one photo of an item (htmx and the outbox: answers with the item's photo strip). The
    photo is named by id, or by the change key its upload was queued with (a photo marked up offline has no id
    on the tablet yet; the outbox sends the upload first)."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    item = get_item_or_404(inspection, item_key)
    try:
        editable_item(current_user, inspection, item_key)  # who may, before what was sent
    except InspectionError as exc:
        abort(exc.status if exc.status in (403, 409) else 422, error_text(exc))
    photo_id, photo_key = request.form.get("photo", ""), request.form.get("photo_key", "")
    query = select(Photo).where(Photo.inspection_id == inspection.id, Photo.item_id == item.id)
    if photo_id.isdigit() and int(photo_id) <= MAX_ID:
        found = session.exec(query.where(Photo.id == int(photo_id))).first()
    elif photo_key:
        found = session.exec(query.where(Photo.change_key == photo_key)).first()
    else:
        found = None
    if found is None:
        abort(404, _("没有这张照片"))
    photo_errors, status = {}, 200
    try:
        save_markup(session=session, user=current_user, inspection=inspection, photo=found,
                    shapes=parse_shapes(request.form.get("shapes", "")),
                    change_key=request.headers.get("X-Change-Key"))
        session.commit()
    except MarkupError as exc:
        session.rollback()
        photo_errors[item_key], status = markup_error_text(exc), 422
    return photo_strip_answer(inspection, item, photo_errors, status)


def markup_error_text(exc) -> str:
    return {
        "too_many": _("一张照片最多 %(n)d 个标注", n=MAX_SHAPES),
        "bad_type": _("第 %(n)d 个标注的类型无效（只能是圆圈、箭头或文字）", n=exc.shape),
        "unknown_field": _("第 %(n)d 个标注有未知字段：%(field)s", n=exc.shape, field=exc.field),
        "missing_field": _("第 %(n)d 个标注缺少：%(field)s", n=exc.shape, field=exc.field),
        "bad_text": _("第 %(n)d 个标注的文字须为 1–%(max)d 个字", n=exc.shape, max=MAX_TEXT),
        "bad_number": _("第 %(n)d 个标注的 %(field)s 超出照片范围", n=exc.shape, field=exc.field),
    }.get(exc.code, _("标注数据无法读取"))
