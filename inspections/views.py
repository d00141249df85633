"""Screens for doing inspections and reading their history. Views parse, call the domain, render."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlmodel import func, select

import clock
from accounts.days import plant_days
from accounts.models import Plant
from accounts.service import can_inspect, get_visible_workshop_or_404, is_manager, visible_workshops
from accounts.service import may_inspect as user_may_inspect
from accounts.views import reconfirm_password
from actions.service import stats_for
from checklists.schemes import scheme_from_dict
from database import db, reads_first
from inspections.markup import layers_of
from inspections.models import Inspection, InspectionStatus, Signature, SignatureRole
from inspections.reports.archive import ArchiveCorrupt, number_of
from inspections.reports.charts import line_chart
from inspections.reports.context import inspection_report_context, plant_report_context
from inspections.reports.issuing import issued_inspection_report, report_state
from inspections.reports.language import UnknownReportLanguage, document_suffix, report_language_of
from inspections.reports.pdf import ReportUnavailable
from inspections.reports.period_issuing import issue_plant_report, issue_workshop_report, issued_or_500, pdf_response
from inspections.reports.periods import (
    PeriodError,
    finding_rows,
    parse_month,
    parse_period,
    previous_month,
    top_findings,
)
from inspections.service import (
    InspectionError,
    add_photo,
    answers_at_stake,
    answers_by_key,
    can_edit,
    correct_answer,
    editable_item,
    find_item,
    get_visible_inspection,
    latest_submitted,
    mark_category_not_applicable,
    parse_score,
    photos_by_item,
    progress,
    review,
    save_answer,
    start_inspection,
    submit_inspection,
)
from inspections.signatures import (
    SignatureError,
    clean_signature_image,
    may_approve,
    may_record_signature,
    record_signature,
)
from inspections.templating import register_template_helpers
from inspections.trends import (
    category_names_in_order,
    like_for_like_points,
    series_from_points,
    version_changes,
    workshop_trend,
)
from plans.figures import plan_figures, trend_with_missed
from redtags.service import tag_counts
from storage import storage
from web import (
    at_plant,
    is_fragment_request,
    kept_as_conflict,
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


@bp.get("/")
def home():
    session = db()
    workshops = session.exec(visible_workshops(current_user)).all()
    latest = latest_submitted(session=session, workshop_ids=[w.id for w in workshops])
    drafts = session.exec(
        select(Inspection)
        .where(Inspection.inspector_id == current_user.id, Inspection.status == InspectionStatus.draft)
        .order_by(Inspection.started_at.desc())
    ).all()
    # the workshops listed are the visible ones: whoever may inspect at all may inspect each of them
    may_inspect = {w.id for w in workshops} if user_may_inspect(current_user) else set()
    plants = list({w.plant.id: w.plant for w in workshops}.values())
    from actions.service import counts_by_plant, counts_for

    days = plant_days(session)
    mine = counts_for(session=session, user=current_user, days=days)
    overseen = counts_by_plant(session=session, user=current_user, days=days) if may_inspect else {}
    if len(plants) == 1:
        at_plant(plants[0])
    from plans.service import agenda, checklist_keys

    planned = agenda(session, current_user, days, may_inspect)
    return render_page("inspections/home.html", workshops=workshops, latest=latest, drafts=drafts,
                       may_inspect=may_inspect, plants=plants, agenda=planned,
                       checklist_keys=checklist_keys(session, {o.plan_id for o in planned}),
                       workshop_by_id={w.id: w for w in workshops},
                       this_month=f"{days.of(plants[0]) if plants else days.latest():%Y-%m}",
                       my_actions=mine, all_actions=overseen)


@bp.get("/workshops/<code>")
def workshop(code: str):
    """A workshop's history: trend of the overall and the chosen categories over a chosen period (12 weeks by
    default), small multiples per category, repeat findings, the inspections of the period."""
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    zone = at_plant(workshop.plant)
    today = clock.today(zone)
    period_error, status = None, 200
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), today)
    except PeriodError as exc:
        period_error, status = _period_text(exc), 422
        period = parse_period(None, None, today)
    since, until = period.bounds(zone)
    points = workshop_trend(session=session, workshop_id=workshop.id, since=since, until=until)
    names = category_names_in_order(session=session, inspection_ids=[p.inspection_id for p in points])
    chosen = [key for key in request.args.getlist("category") if key in names]
    like = request.args.get("view") == "like"
    common_keys: set[str] = set()
    if like and points:
        points, common_keys = like_for_like_points(session=session, points=points)
    view_note = (_("同口径：只按各版共有的 %(n)d 个检查项计分，版本之间逐项可比", n=len(common_keys)) if like
                 else _("各版完整评分：每次检查按其所用版本的全部检查项计分（得分率可直接比较）"))
    chart, multiples = None, []
    planned = plan_figures(session, [workshop], period.start, period.end, plant_days(session))
    missed = planned.missed.get(workshop.id, [])
    if points or missed:
        label_format = "%Y-%m" if period.days > 366 else "%m-%d"
        labels = [clock.local(p.submitted_at, zone).strftime(label_format) for p in points]
        series = series_from_points(points, names, _("总分"))
        shown = [series[0]] + [s for s in series[1:] if s.key in chosen]
        axis = trend_with_missed(labels, [(s.name, s.values) for s in shown], version_changes(points),
                                 [clock.local_day(p.submitted_at, zone) for p in points],
                                 [o.window.opens_on for o in missed],
                                 lambda day: day.strftime(label_format) + " " + _("漏检"))
        chart = line_chart(axis.labels, axis.series, markers=axis.markers, marker_label=_("检查表换版"),
                           missed=axis.missed, missed_label=_("计划内漏检"),
                           title=_("%(name)s 6S 得分趋势", name=workshop.name) + " · " + view_note)
        multiples = [(s, line_chart(labels, [(s.name, s.values)], markers=version_changes(points), width=360,
                                    height=190, title=s.name)) for s in series[1:]] if points else []
    drafts = session.exec(
        select(Inspection)
        .where(Inspection.workshop_id == workshop.id, Inspection.status == InspectionStatus.draft,
               Inspection.calibration_id.is_(None))  # a joint inspection's copies are listed on its own page
        .order_by(Inspection.started_at.desc())
    ).all()
    recent = [p.inspection_id for p in points[-12:]]
    first_ever = session.exec(select(func.min(Inspection.submitted_at)).where(
        Inspection.workshop_id == workshop.id, Inspection.status == InspectionStatus.submitted)).one()
    presets = [(_("12 周"), today - timedelta(days=83)), (_("半年"), today - timedelta(days=182)),
               (_("1 年"), today - timedelta(days=364))]
    if first_ever is not None:
        presets.append((_("全部"), clock.local_day(first_ever, zone)))
    return render_page(
        "inspections/workshop.html", status=status, workshop=workshop, points=list(reversed(points)),
        category_names=names, chosen=chosen, chart=chart, multiples=multiples, period=period,
        period_error=period_error, presets=presets, today=today, like=like, view_note=view_note,
        top_findings=top_findings(recent_findings := finding_rows(session=session, inspection_ids=recent), 5),
        open_findings=[f for f in recent_findings if recent and f.inspection_id == recent[-1]],
        recent_count=len(recent), latest_id=recent[-1] if recent else None, drafts=drafts,
        may_inspect=can_inspect(session=session, user=current_user, workshop_id=workshop.id),
        action_stats=stats_for(session=session, workshop_ids=[workshop.id], today=today, since=since, until=until),
        tag_counts=tag_counts(session=session, workshop_ids=[workshop.id], today=today),
        plan=planned.of(workshop.id), missed=missed,
    )


@bp.get("/workshops/<code>/label")
def qr_label(code: str):
    """A printable label for the workshop: its QR code opens the workshop page with the start button."""
    workshop = get_visible_workshop_or_404(session=db(), user=current_user, code=code)
    target = public_url(".workshop", code=workshop.code)
    return render_page("inspections/label.html", workshop=workshop, qr=qr_svg(target, title=workshop.name),
                       target=target)


@bp.post("/workshops/<code>/inspections")
def start(code: str):
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    chosen = request.form.get("checklist") or None
    try:
        inspection = start_inspection(session=session, user=current_user, workshop=workshop, checklist_key=chosen)
    except InspectionError as exc:
        if exc.code in ("checklist_required", "unknown_checklist"):
            # the start button asks which sheet when the workshop offers more than one
            return render_page("inspections/choose_checklist.html", workshop=workshop, offered=exc.choices,
                               refused=chosen, status=200 if exc.code == "checklist_required" else 422)
        abort(exc.status, _error_text(exc))
    session.commit()
    return redirect(url_for(".inspection", inspection_id=inspection.id), code=303)


def _invalid_answer_text(scheme) -> str:
    if scheme.counted:
        return _("数量无效：请填写 0 到 %(max)d 之间的整数，或选“不适用”", max=scheme.max_findings)
    return _("评分无效，请选择 %(choices)s 或“不适用”", choices="、".join(o.label for o in scheme.options))


def _error_text(exc: InspectionError, scheme=None) -> str:
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
    }
    return texts.get(exc.code, _("评分无效，请选择按钮上的评分或“不适用”"))


def _form_context(inspection: Inspection, category_key: str | None, with_actions: bool = True, **extra) -> dict:
    """with_actions=False for the small fragments of a save (state line, photo strip): the hot path does not
    look up open corrective actions it will not show."""
    categories = list(inspection.version.categories)
    current = next((c for c in categories if c.key == category_key), categories[0])
    index = categories.index(current)
    photos = photos_by_item(session=db(), inspection=inspection)
    return {
        "inspection": inspection,
        "version": inspection.version,
        "scheme": scheme_from_dict(inspection.version.scheme),
        "categories": categories,
        "category": current,
        "previous_category": categories[index - 1] if index > 0 else None,
        "next_category": categories[index + 1] if index + 1 < len(categories) else None,
        "answers": answers_by_key(inspection),
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
    """On the floor, by each item: the earlier findings' actions still open, and whether this user may verify."""
    if inspection.status != InspectionStatus.draft or not can_edit(current_user, inspection):
        return {"open_actions": {}, "verifiable": set()}
    from actions.service import open_actions_for_items, verifiable_keys

    found = open_actions_for_items(session=db(), workshop_id=inspection.workshop_id, before=inspection)
    return {"open_actions": found, "verifiable": verifiable_keys(session=db(), user=current_user,
                                                                 workshop_id=inspection.workshop_id, actions=found)}


@bp.get("/inspections/<int:inspection_id>")
def inspection(inspection_id: int):
    inspection = get_inspection_or_404(inspection_id)
    if inspection.locked:
        context = inspection_report_context(session=db(), inspection=inspection)
        return render_page("inspections/result.html", errors={}, form={}, **_result_extras(inspection), **context)
    context = _form_context(inspection, request.args.get("category"))
    if is_fragment_request():
        return _fragments(context, "category_panel")
    return render_page("inspections/inspection.html", **context)


def _fragments(context: dict, block: str, status: int = 200):
    """One block of the form page plus the progress bar and tabs, swapped out of band."""
    template = "inspections/inspection.html"
    html = render_block(template, block, **context) + render_block(template, "progress", oob=True, **context)
    return html, status


def _revision(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() else None


def _raw_score(item_key: str, default: str | None = None) -> str | None:
    """score-<key>: a level's value or a count; a ticked N/A box (na-<key>, the counting sheets' N/A, after
    a hidden 0) wins over a count typed beside it."""
    na = request.form.getlist(f"na-{item_key}")
    if na and na[-1] == "1":
        return "na"
    return request.form.get(f"score-{item_key}", default)


def _flag(item_key: str) -> bool | None:
    """flag-<key>: the form sends a hidden 0 and, when ticked, a 1 after it; absent means "leave it"."""
    values = request.form.getlist(f"flag-{item_key}")
    return values[-1] == "1" if values else None


@bp.post("/inspections/<int:inspection_id>/answers/<item_key>")
@reads_first
def answer(inspection_id: int, item_key: str):
    """Save one item (as it is given). Answers with the item's state line and the new progress.

    The tablet sends the revision it last saw (rev-<key>) and a key for this change (X-Change-Key): a replay
    changes nothing, and a save on stale data is a 409 conflict showing both values.
    """
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    item = get_item_or_404(inspection, item_key)
    raw_score = _raw_score(item_key, request.form.get("score"))
    note = request.form.get(f"note-{item_key}", request.form.get("note"))
    errors, conflicts, status = {}, {}, 200
    try:
        value = parse_score(raw_score) if raw_score not in (None, "") else None
        save_answer(session=session, user=current_user, inspection=inspection, item_key=item_key, value=value,
                    note=note, change_key=request.headers.get("X-Change-Key") or request.form.get("change_key"),
                    base_revision=_revision(request.form.get(f"rev-{item_key}")), flagged=_flag(item_key))
        session.commit()
    except ValueError as exc:
        if not isinstance(exc, InspectionError):
            exc = InspectionError("invalid_score", str(exc))
        if exc.code == "conflict":
            session.commit()  # the refused value stays in the answer history
            kept_as_conflict()
            conflicts[item_key] = {"mine": raw_score, "mine_note": note, "theirs": exc.current}
        else:
            session.rollback()
            errors[item_key] = _error_text(exc, scheme_from_dict(inspection.version.scheme))
        status = exc.status
        if status in (403, 409) and exc.code != "conflict" and not is_fragment_request():
            abort(status, errors[item_key])
    context = _form_context(inspection, item.category.key, with_actions=not is_fragment_request(), errors=errors,
                            conflicts=conflicts)
    if is_fragment_request():
        return _fragments({**context, "item": item}, "item_state", status)
    if errors or conflicts:
        return render_page("inspections/inspection.html", status=status, **context)
    return redirect(url_for(".inspection", inspection_id=inspection.id, category=item.category.key)
                    + f"#item-{item_key}", code=303)


@bp.post("/inspections/<int:inspection_id>/categories/<category_key>")
def save_category(inspection_id: int, category_key: str):
    """The no-JavaScript path: one form saves a whole category, then moves on to the next."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    category = next((c for c in inspection.version.categories if c.key == category_key), None)
    if category is None:
        abort(404)
    scheme = scheme_from_dict(inspection.version.scheme)
    errors, photo_errors, conflicts = {}, {}, {}
    for item in category.items:
        upload = request.files.get(f"photo-{item.key}")
        if upload and upload.filename:
            data = upload.read()
            upload.close()
            try:
                with session.begin_nested():
                    add_photo(session=session, user=current_user, inspection=inspection, item_key=item.key,
                              data=data, store=storage())
            except InspectionError as exc:
                photo_errors[item.key] = _error_text(exc)
        raw_score = _raw_score(item.key, "")
        note = request.form.get(f"note-{item.key}")
        flagged = _flag(item.key)
        if raw_score == "" and not (note or "").strip() and not flagged:
            continue
        try:
            with session.begin_nested():
                save_answer(session=session, user=current_user, inspection=inspection, item_key=item.key,
                            value=parse_score(raw_score) if raw_score else None, note=note,
                            base_revision=_revision(request.form.get(f"rev-{item.key}")), flagged=flagged)
        except InspectionError as exc:
            if exc.code == "conflict":
                conflicts[item.key] = {"mine": raw_score, "mine_note": note, "theirs": exc.current}
                continue
            if exc.status in (403, 409):
                abort(exc.status, _error_text(exc))
            errors[item.key] = _error_text(exc, scheme)
        except ValueError as exc:
            errors[item.key] = _error_text(InspectionError("invalid_score", str(exc)), scheme)
    session.commit()  # what was valid is kept even when other items need fixing
    session.refresh(inspection)
    if errors or photo_errors or conflicts:
        context = _form_context(inspection, category_key, errors=errors, photo_errors=photo_errors,
                                conflicts=conflicts)
        return render_page("inspections/inspection.html", status=409 if conflicts else 422, **context)
    context = _form_context(inspection, category_key)
    target = context["next_category"] or category
    return redirect(url_for(".inspection", inspection_id=inspection.id, category=target.key), code=303)


@bp.post("/inspections/<int:inspection_id>/photos/<item_key>")
@reads_first
def upload_photo(inspection_id: int, item_key: str):
    """One photo for one item (htmx: answers with the item's photo strip)."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    item = get_item_or_404(inspection, item_key)
    upload = request.files.get(f"photo-{item_key}") or request.files.get("photo")
    photo_errors, status = {}, 200
    try:
        editable_item(current_user, inspection, item_key)  # who may, before what was sent
        if upload is None or not upload.filename:
            raise InspectionError("photo_unreadable", "no photo in the request", items=[item_key])
        data = upload.read()
        upload.close()
        add_photo(session=session, user=current_user, inspection=inspection, item_key=item_key,
                  data=data, store=storage(), change_key=request.headers.get("X-Change-Key"))
        session.commit()
    except InspectionError as exc:
        session.rollback()
        if exc.status in (403, 409):
            abort(exc.status, _error_text(exc))
        photo_errors[item_key] = _error_text(exc)
        status = 422
    return photo_strip_answer(inspection, item, photo_errors, status)


def photo_strip_answer(inspection: Inspection, item, photo_errors: dict, status: int):
    """After a photo or its markup: the item's photo strip (htmx and the outbox), else the page again on a
    refusal or back to the item."""
    context = _form_context(inspection, item.category.key, with_actions=not is_fragment_request(),
                            photo_errors=photo_errors)
    if is_fragment_request():
        return render_block("inspections/inspection.html", "item_photos", item=item, **context), status
    if photo_errors:
        return render_page("inspections/inspection.html", status=status, **context)
    return redirect(url_for("inspections.inspection", inspection_id=inspection.id, category=item.category.key)
                    + f"#item-{item.key}", code=303)


@bp.get("/photos/<int:photo_id>")
def photo(photo_id: int):
    from inspections.models import Photo

    record = db().get(Photo, photo_id)
    if record is None or get_visible_inspection(session=db(), user=current_user,
                                                inspection_id=record.inspection_id) is None:
        abort(404)
    # a photo row never changes what it shows
    return photo_response(record.sha256, thumbnail=request.args.get("size") == "thumb",
                          download_name=f"photo-{photo_id}.jpg", immutable=True)


@bp.post("/inspections/<int:inspection_id>/categories/<category_key>/not-applicable")
def category_not_applicable(inspection_id: int, category_key: str):
    """本类全部不适用. Over items already scored it asks first (a page, so it works without JavaScript too),
    saying how many scores and findings it would clear; an untouched category goes N/A at once."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    if inspection.status != InspectionStatus.draft:
        abort(409, _error_text(InspectionError("locked", "")))
    if not can_edit(current_user, inspection):
        abort(403)
    if request.form.get("confirm") != "yes":
        try:
            stake = answers_at_stake(inspection=inspection, category_key=category_key, typed=request.form)
        except InspectionError as exc:
            abort(exc.status, _error_text(exc))
        if stake.scored:
            return render_page("inspections/confirm_na.html", inspection=inspection, category=stake.category,
                               stake=stake)
    try:
        mark_category_not_applicable(session=session, user=current_user, inspection=inspection,
                                     category_key=category_key)
    except InspectionError as exc:
        session.rollback()
        abort(exc.status, _error_text(exc))
    session.commit()
    context = _form_context(inspection, category_key)
    target = context["next_category"] or context["category"]
    return redirect(url_for(".inspection", inspection_id=inspection.id, category=target.key), code=303)


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
    """Sign and submit. What is wrong (unanswered items, a missing signature) is named; answers stay saved."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    if inspection.locked:
        if inspection.inspector_id == current_user.id:
            return redirect(url_for(".inspection", inspection_id=inspection.id), code=303)  # a repeated tap
        abort(409, _error_text(InspectionError("locked", "")))
    if not can_edit(current_user, inspection):
        abort(403, _error_text(InspectionError("not_allowed", "")))
    errors: dict[str, str] = {}
    image = _drawn_signature("signature", errors)
    leader = _leader_signature(errors)
    if not errors:
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
                              signature_image=image, signed=True, password_confirmed=True)
            if leader:
                record_signature(session=session, user=current_user, inspection=inspection,
                                 role=SignatureRole.workshop_leader, signer_name=leader[0], image=leader[1],
                                 password_confirmed=True)
    except InspectionError as exc:
        session.rollback()
        if exc.status != 422:
            abort(exc.status, _error_text(exc))
        errors["submit"] = _error_text(exc)
    except SignatureError as exc:
        session.rollback()
        if exc.status != 422:
            abort(exc.status, _signature_texts(exc))
        errors["leader_name"] = _signature_texts(exc)
    if errors:
        session.refresh(inspection)
        return render_page("inspections/review.html", status=422, **_review_context(inspection, errors=errors))
    session.commit()
    return redirect(url_for(".inspection", inspection_id=inspection.id), code=303)


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
        context = inspection_report_context(session=session, inspection=inspection)
        return render_page("inspections/result.html", status=422, errors=errors, form=request.form,
                           **_result_extras(inspection), **context)
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
        context = inspection_report_context(session=session, inspection=inspection)
        return render_page("inspections/result.html", status=422, errors=errors, form=request.form,
                           **_result_extras(inspection), **context)
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
        abort(409, _error_text(InspectionError("not_submitted", "")))
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
                abort(exc.status, _error_text(exc))
            errors["correction"] = _error_text(exc, scheme_from_dict(inspection.version.scheme))
        if not errors:
            flash(_("已更正，结果已重新计分"))
            return redirect(url_for(".inspection", inspection_id=inspection.id) + f"#item-{item.key}", code=303)
        session.refresh(inspection)
    answer = answers_by_key(inspection).get(item.key)
    return render_page("inspections/correct.html", status=422 if errors else 200, inspection=inspection, item=item,
                       answer=answer, scheme=scheme_from_dict(inspection.version.scheme), errors=errors,
                       form=request.form)


def _result_extras(inspection: Inspection) -> dict:
    official = inspection.status == InspectionStatus.submitted  # not a joint inspection's calibration record
    return {"may_countersign": official and may_record_signature(current_user, inspection),
            "may_approve": may_approve(current_user, inspection),
            "may_correct": is_manager(current_user) and inspection.status == InspectionStatus.submitted,
            "today": clock.today(clock.zone_of(inspection.workshop.plant)),
            "report": report_state(inspection) if inspection.status == InspectionStatus.submitted else None}


@bp.get("/inspections/<int:inspection_id>/report-state")
def report_state_fragment(inspection_id: int):
    """The result page's line about its report, polled while the report is being issued."""
    inspection = get_inspection_or_404(inspection_id)
    if inspection.status != InspectionStatus.submitted:
        abort(409, _("检查提交后才能生成报告"))
    return render_block("inspections/result.html", "report_state", inspection=inspection,
                        report=report_state(inspection))


@bp.get("/signatures/<int:signature_id>.png")
def signature_image(signature_id: int):
    record = db().get(Signature, signature_id)
    if record is None or record.image_png is None or get_visible_inspection(
            session=db(), user=current_user, inspection_id=record.inspection_id) is None:
        abort(404)
    return private_cache(Response(record.image_png, mimetype="image/png"), immutable=True)


@bp.get("/inspections/<int:inspection_id>/report.pdf")
def report_pdf(inspection_id: int):
    """The issued report: rendered once per state of the record, then the same stored bytes every time."""
    inspection = get_inspection_or_404(inspection_id)
    if inspection.status != InspectionStatus.submitted:
        abort(409, _("检查提交后才能生成报告"))
    kind = "findings" if request.args.get("detail") == "findings" else "full"
    language = _asked_report_language(inspection.workshop.plant)
    try:
        issued = issued_inspection_report(inspection, kind, language=language)
    except ReportUnavailable as exc:
        current_app.logger.error("report rendering unavailable: %s", exc)
        abort(500)
    except ArchiveCorrupt as exc:
        current_app.logger.error("report archive: %s", exc)
        abort(500)
    document = issued.document
    filename = f"{number_of(document)}-{inspection.workshop.code}-" \
               f"{clock.local_day(inspection.submitted_at, clock.zone_of(inspection.workshop.plant)):%Y%m%d}.pdf"
    response = Response(issued.pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"',
                                 "X-Report-Document": number_of(document), "X-Report-Language": document.language,
                                 "X-Report-SHA256": document.file_sha256})
    response.set_etag(document.file_sha256)
    response.cache_control.private = True
    response.cache_control.no_cache = True  # revalidate: a countersign makes a newer document
    return response.make_conditional(request)


def _period_text(exc: PeriodError) -> str:
    return {
        "bad_date": _("日期格式应为 年-月-日，例如 2026-11-01"),
        "reversed": _("开始日期晚于结束日期"),
        "too_long": _("一次最多查看五年"),
        "bad_month": _("月份格式应为 年-月，例如 2026-11"),
    }[exc.code]


@bp.get("/workshops/<code>/report.pdf")
def workshop_report_pdf(code: str):
    """The workshop's trend history on paper: ?from=YYYY-MM-DD&to=YYYY-MM-DD (the last twelve weeks by default)."""
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    zone = at_plant(workshop.plant)
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), clock.today(zone))
    except PeriodError as exc:
        abort(422, _period_text(exc))
    language = _asked_report_language(workshop.plant)
    issued = issued_or_500(lambda: issue_workshop_report(session=session, workshop=workshop, period=period,
                                                         language=language))
    return pdf_response(issued, f"6S-{workshop.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
                                f"{document_suffix(language)}.pdf")


def _plant_month(code: str):
    """The plant, only the workshops the reader may see there, and the month asked for (404, 422)."""
    session = db()
    plant = session.exec(select(Plant).where(Plant.code == code)).first()
    workshops = [w for w in session.exec(visible_workshops(current_user)).all()
                 if plant is not None and w.plant_id == plant.id]
    if not workshops:
        abort(404)
    return plant, workshops, _requested_month(clock.today(at_plant(plant)))


def plant_month_context(code: str) -> dict:
    """The plant's month for the dashboard (the same context its PDF is printed from)."""
    plant, workshops, month = _plant_month(code)
    return plant_report_context(session=db(), plant=plant, workshops=workshops, month=month, for_print=False)


def _requested_month(today):
    """?month=YYYY-MM (the month of `today` by default); 422 if bad. Each plant's month is its own days."""
    try:
        return parse_month(request.args.get("month"), today)
    except PeriodError as exc:
        abort(422, _period_text(exc))


@bp.get("/plants")
def group_dashboard():
    """Every plant the reader may see, side by side for a month (for managers who have several)."""
    from inspections.reports.context import monthly_league
    from inspections.reports.periods import group_table, heat_level

    session = db()
    workshops = session.exec(visible_workshops(current_user)).all()
    if not workshops:
        abort(404)
    month = _requested_month(plant_days(session).latest())
    from inspections.reports.context import month_plan_figures
    from plans.figures import combine

    planned = month_plan_figures(session=session, workshops=workshops, month=month)
    league, names, grades, count = monthly_league(session=session, workshops=workshops, month=month,
                                                  planned=planned)
    plants = list({w.plant.code: w.plant for w in workshops}.values())
    rows = group_table([(p.code, p.name) for p in plants], league, {w.code: w.plant.code for w in workshops},
                       list(names))
    plan_by_plant = {p.code: combine([planned.by_workshop[w.id] for w in workshops
                                      if w.plant_id == p.id and w.id in planned.by_workshop]) for p in plants}
    return render_page(
        "inspections/group.html", rows=rows, category_names=names, month=month, inspection_count=count,
        plan_total=planned.total, plan_by_plant=plan_by_plant,
        heat=lambda v: heat_level(v, grades), grades=grades,
        month_value=f"{month.start:%Y-%m}", previous_value=f"{previous_month(month).start:%Y-%m}",
        next_value=f"{(month.end + timedelta(days=1)):%Y-%m}",
    )


@bp.get("/plants/<code>")
def plant_dashboard(code: str):
    """The plant's month at a glance: league table and heat map, each number linking to what is behind it."""
    from inspections.reports.periods import monthly_average, months_back
    from inspections.trends import overall_by_workshop

    context = plant_month_context(code)
    month = context["month"]
    months = months_back(month, 12)
    zone = clock.zone_of(context["plant"])
    points = overall_by_workshop(session=db(), workshop_ids=[w.id for w in context["workshops"]],
                                 since=months[0].bounds(zone)[0], until=month.bounds(zone)[1])
    averages = monthly_average(points, months, lambda t: clock.local_day(t, zone))
    labels = [f"{m.start:%Y-%m}" for m in months]
    trend = line_chart(labels, [(_("全厂平均"), averages)], width=720, height=260,
                       title=_("%(plant)s 近 12 个月平均分", plant=context["plant"].name))
    month_since, month_until = month.bounds(zone)
    actions = stats_for(session=db(), workshop_ids=[w.id for w in context["workshops"]], today=clock.today(zone),
                        since=month_since, until=month_until)
    leniency = []
    if is_manager(current_user):  # who scores high or low is for the quality managers
        from quality.service import inspector_leniency

        leniency = inspector_leniency(session=db(), workshops=context["workshops"],
                                      since=months_back(month, 6)[0].bounds(zone)[0], until=month.bounds(zone)[1])
    return render_page("inspections/plant.html", **context, month_value=f"{month.start:%Y-%m}", leniency=leniency,
                       leniency_months=[f"{m.start:%Y-%m}" for m in months_back(month, 6)],
                       action_stats=actions, trend=trend, trend_rows=list(zip(labels, averages, strict=True)),
                       previous_value=f"{previous_month(month).start:%Y-%m}",
                       next_value=f"{(month.end + timedelta(days=1)):%Y-%m}")


@bp.get("/plants/<code>/report.pdf")
def plant_report_pdf(code: str):
    """The monthly 6S 评比 of a plant: ?month=YYYY-MM. Only the workshops the reader may see take part."""
    plant, workshops, month = _plant_month(code)
    language = _asked_report_language(plant)
    issued = issued_or_500(lambda: issue_plant_report(session=db(), plant=plant, workshops=workshops, month=month,
                                                      language=language))
    return pdf_response(issued, f"6S-{plant.code}-{month.start:%Y-%m}{document_suffix(language)}.pdf")


def _asked_report_language(plant) -> str:
    """?lang= of a download (zh, en, zh-en; the pages' forms say report_lang=, as their lang= would switch the
    screens), else the plant's report language; anything else is a 400 naming it."""
    try:
        asked = request.args.get("lang") or request.args.get("report_lang")
        return report_language_of(asked, plant.report_language)
    except UnknownReportLanguage as exc:
        abort(400, _("没有这种报告语言：%(lang)s（可选 zh 中文、en 英文、zh-en 中英双语）", lang=str(exc)))


register_template_helpers(bp)
