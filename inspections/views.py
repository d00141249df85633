"""The inspection's own screens: start, the form page, the result, photos, signatures and the QR label. The
form's saves (form_views.py), review and sign-off (signoff_views.py) and markup (markup_views.py) join this
blueprint. Views parse, call the domain, render."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlalchemy.exc import IntegrityError

import clock
import events
from accounts.service import get_visible_workshop_or_404, is_manager
from checklists.schemes import scheme_from_dict
from database import db
from inspections.device_start import DeviceStart
from inspections.markup import layers_of
from inspections.models import Inspection, InspectionStatus, Photo, Signature
from inspections.photo_uploads import photos_by_item
from inspections.service import (
    InspectionError,
    answer_value,
    answers_by_key,
    can_edit,
    device_rules,
    find_item,
    get_visible_inspection,
    progress,
)
from inspections.signatures import (
    may_approve,
    may_record_signature,
)
from inspections.starting import start_inspection
from inspections.templating import register_template_helpers
from web import (
    at_plant,
    is_fragment_request,
    photo_response,
    private_cache,
    public_url,
    qr_svg,
    render_page,
)

bp = Blueprint("inspections", __name__)



@bp.before_request
@login_required
def _require_login():
    """Every screen here needs a signed-in user."""


def get_inspection_or_404(inspection_id: int) -> Inspection:
    inspection = get_visible_inspection(session=db(), user=current_user, inspection_id=inspection_id)
    if inspection is None:
        abort(404)
    at_plant(inspection.workshop.plant)  # its times and days are the plant's
    return inspection


def get_item_or_404(inspection: Inspection, item_key: str):
    item = find_item(inspection, item_key)
    if item is None:
        abort(404)
    return item


@bp.get("/workshops/<code>/label")
def qr_label(code: str):
    """A printable label for the workshop: its QR code opens the workshop page with the start button."""
    workshop = get_visible_workshop_or_404(session=db(), user=current_user, code=code)
    target = public_url("pages.workshop", code=workshop.code)
    return render_page("inspections/label.html", workshop=workshop, qr=qr_svg(target, title=workshop.name),
                       target=target)


@bp.post("/workshops/<code>/inspections")
def start(code: str):
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    chosen = request.form.get("checklist") or None
    for attempt in (1, 2):
        try:
            device = device_start_from(request)
            inspection = start_inspection(session=session, user=current_user, workshop=workshop,
                                          checklist_key=chosen, device=device)
            session.commit()
            break
        except InspectionError as exc:
            session.rollback()
            if exc.code in ("checklist_required", "unknown_checklist"):
                # the start button asks which sheet when the workshop offers more than one
                return render_page("inspections/choose_checklist.html", workshop=workshop, offered=exc.choices,
                                   refused=chosen, status=200 if exc.code == "checklist_required" else 422)
            abort(exc.status, error_text(exc))
        except IntegrityError:
            # the same start arriving twice at once: the second try finds the first by its key
            session.rollback()
            if attempt == 2:
                raise
    target = url_for(".inspection", inspection_id=inspection.id)
    if request.headers.get("X-Change-Key"):
        return "", 201, {"Location": target}  # the tablet's script moves its queued changes to this inspection
    return redirect(target, code=303)


def device_start_from(req) -> DeviceStart | None:
    """A start sent by the tablet's script (from a page kept offline, or a tap sent again) carries its key, the
    version it held and its clock; a plain form without a key is an ordinary start."""
    key = req.headers.get("X-Change-Key") or req.form.get("client_key") or None
    if key is None:
        return None
    raw_version, raw_at = req.form.get("version", ""), req.form.get("device_started_at", "")
    if raw_version and not raw_version.isdigit():
        raise InspectionError("bad_version", "version must be a whole number", items=["version"])
    started = None
    if raw_at:
        try:
            started = datetime.fromisoformat(raw_at.replace("Z", "+00:00"))
        except ValueError:
            started = None
        if started is None or started.tzinfo is None:
            raise InspectionError("bad_device_time", "device_started_at must be an ISO 8601 time with its offset",
                                  items=["device_started_at"])
    return DeviceStart(client_key=key.strip(), version_number=int(raw_version) if raw_version else None,
                       started_at=started)


def _invalid_answer_text(scheme) -> str:
    if scheme.counted:
        return _("数量无效：请填写 0 到 %(max)d 之间的整数，或选“不适用”", max=scheme.max_findings)
    return _("评分无效，请选择 %(choices)s 或“不适用”", choices="、".join(o.label for o in scheme.options))


def error_text(exc: InspectionError, scheme=None) -> str:
    """The domain speaks English to logs and the API; screens speak the user's language."""
    if exc.code == "invalid_score" and scheme is not None:
        return _invalid_answer_text(scheme)
    texts = {
        "locked": _("这次检查已提交并锁定，不能再修改"),
        "no_version": _("还没有已发布的检查表版本，请质量经理先发布"),
        "not_allowed": _("只有本次检查的检查员可以修改"),
        "unknown_item": _("本检查表版本中没有这个检查项"),
        "note_too_long": _("备注太长（最多 2000 字）"),
        "note_needs_score": _("请先选择评分或“不适用”，再填写备注"),
        "flag_needs_score": _("请先评分，再标记为问题"),
        "flag_not_applicable": _("选了“不适用”的项不能标记为问题；请取消标记或改选评分"),
        "unanswered": _("还有 %(count)d 项未评分，请完成后再提交", count=len(exc.items)),
        "conflict": _("另一台设备刚改过这一项"),
        "photo_missing": _("%(count)d 个问题项要求拍照，请补拍后再提交", count=len(exc.items)),
        "too_many_photos": _("每项最多 10 张照片"),
        "photo_too_large": _("照片太大（最大 12 MB）"),
        "photo_bad_type": _("只接受 JPEG、PNG 或 WebP 照片"),
        "photo_too_many_pixels": _("照片像素过多"),
        "photo_unreadable": _("无法读取这张照片，请重新拍摄"),
        "reason_required": _("更正必须写明原因（至少 4 个字）"),
        "reason_too_long": _("原因太长（最多 1000 字）"),
        "unchanged": _("评分和备注都没有变化，无需更正"),
        "not_submitted": _("检查提交后才能更正；草稿由检查员直接修改"),
        "change_key_taken": _("这次保存的编号已被另一次修改用过，请刷新页面后重新操作"),
        "bad_client_key": _("开始检查的编号无效（client_key：16–64 个字母、数字、- 或 _）"),
        "client_key_taken": _("这个开始检查的编号已用于另一次检查（client_key），请重新开始"),
        "bad_version": _("检查表版本号无效（version：应为整数）"),
        "unknown_version": _("本机保存的检查表版本从未发布（version），请联网后重新开始"),
        "version_retired": _("本机保存的检查表版本已被新版本替换，且开始时间晚于替换（version），请联网刷新后重新开始"),
        "bad_device_time": _("设备时间格式无效（device_started_at：应为带时区的 ISO 8601 时间）"),
        "device_key_unknown": _("服务器不认识这台平板的签名密钥：请联网重新登录后，打开这次检查重新签名提交"),
        "device_key_revoked": _("这台平板的签名密钥已失效（密码已更改或已在所有设备退出）："
                                "请联网重新登录后，打开这次检查重新签名提交"),
        "device_signature_bad": _("平板上的签名无法验证：请联网打开这次检查，核对后重新签名提交"),
        "device_statement_bad": _("平板上签名的内容不完整或格式不对：请联网打开这次检查，核对后重新签名提交"),
        "device_answers_differ": _("签名时的答案与服务器上现在的不一致（%(items)s）："
                                   "请联网打开这次检查，核对后重新签名提交", items="、".join(exc.items[:5])),
    }
    return texts.get(exc.code, _("评分无效，请选择按钮上的评分或“不适用”"))


def form_context(inspection: Inspection, category_key: str | None, with_actions: bool = True, **extra) -> dict:
    """with_actions=False for the small fragments of a save (state line, photo strip): the hot path does not
    look up open corrective actions it will not show."""
    categories = list(inspection.version.categories)
    current = next((c for c in categories if c.key == category_key), categories[0])
    index = categories.index(current)
    photos = photos_by_item(session=db(), inspection=inspection)
    answers = answers_by_key(inspection)
    return {
        "inspection": inspection,
        "version": inspection.version,
        "scheme": scheme_from_dict(inspection.version.scheme),
        "categories": categories,
        "category": current,
        "previous_category": categories[index - 1] if index > 0 else None,
        "next_category": categories[index + 1] if index + 1 < len(categories) else None,
        "answers": answers,
        # the answers the server holds, by key, with their revisions: the tablet adds what waits in its outbox to
        # score the sheet so far (and a page it kept from earlier is brought up to date by revision)
        # … and how many photos each has, for the tablet's review of findings that need one (device-review.js)
        "confirmed_values": {key: [answer_value(answer), answer.revision, len(photos.get(answer.item_id, ()))]
                             for key, answer in answers.items()},
        "device_rules": device_rules(inspection.version) if with_actions else None,
        "progress": progress(inspection),
        "photos": photos,
        "markups": layers_of(db(), [p.id for listed in photos.values() for p in listed]),
        "editable": can_edit(current_user, inspection),
        **(_open_actions(inspection) if with_actions else {"open_actions": {}, "verifiable": set()}),
        "errors": {},
        "photo_errors": {},
        "conflicts": {},
        **extra,
    }


def _open_actions(inspection: Inspection) -> dict:
    """On the floor, by each item: what the packages above show beside it (earlier findings' open actions)."""
    if inspection.status != InspectionStatus.draft or not can_edit(current_user, inspection):
        return {"open_actions": {}, "verifiable": set()}
    return {"open_actions": {}, "verifiable": set(),
            **events.merged(events.inspection_form_shown.send(db(), inspection=inspection, user=current_user))}


@bp.get("/inspections/<int:inspection_id>")
def inspection(inspection_id: int):
    inspection = get_inspection_or_404(inspection_id)
    if inspection.locked:
        return render_page("inspections/result.html", errors={}, form={}, **result_context(inspection))
    context = form_context(inspection, request.args.get("category"))
    if is_fragment_request():
        return form_fragments(context, "category_panel")
    return render_page("inspections/inspection.html", **context)


def form_fragments(context: dict, block: str, status: int = 200):
    """One block of the form page plus the progress bar and tabs, swapped out of band."""
    template = "inspections/inspection.html"
    html = render_block(template, block, **context) + render_block(template, "progress", oob=True, **context)
    return html, status


def result_context(inspection: Inspection) -> dict:
    """The result page: the record as the packages above show it (reports: as it prints, with its report's
    state), and what this reader may do with it."""
    official = inspection.status == InspectionStatus.submitted  # not a joint inspection's calibration record
    return {**events.merged(events.inspection_record_shown.send(db(), inspection=inspection)),
            "may_countersign": official and may_record_signature(current_user, inspection),
            "may_approve": may_approve(current_user, inspection),
            "may_correct": is_manager(current_user) and inspection.status == InspectionStatus.submitted,
            "today": clock.today(clock.zone_of(inspection.workshop.plant))}


def photo_strip_answer(inspection: Inspection, item, photo_errors: dict, status: int):
    """After a photo or its markup: the item's photo strip (htmx and the outbox), else the page again on a
    refusal or back to the item."""
    context = form_context(inspection, item.category.key, with_actions=not is_fragment_request(),
                            photo_errors=photo_errors)
    if is_fragment_request():
        return render_block("inspections/inspection.html", "item_photos", item=item, **context), status
    if photo_errors:
        return render_page("inspections/inspection.html", status=status, **context)
    return redirect(url_for("inspections.inspection", inspection_id=inspection.id, category=item.category.key)
                    + f"#item-{item.key}", code=303)


@bp.get("/photos/<int:photo_id>")
def photo(photo_id: int):

    record = db().get(Photo, photo_id)
    if record is None or get_visible_inspection(session=db(), user=current_user,
                                                inspection_id=record.inspection_id) is None:
        abort(404)
    # a photo row never changes what it shows
    return photo_response(record.sha256, thumbnail=request.args.get("size") == "thumb",
                          download_name=f"photo-{photo_id}.jpg", immutable=True)


@bp.get("/signatures/<int:signature_id>.png")
def signature_image(signature_id: int):
    record = db().get(Signature, signature_id)
    if record is None or record.image_png is None or get_visible_inspection(
            session=db(), user=current_user, inspection_id=record.inspection_id) is None:
        abort(404)
    return private_cache(Response(record.image_png, mimetype="image/png"), immutable=True)


register_template_helpers(bp)
