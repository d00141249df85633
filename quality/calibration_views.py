"""Screens of joint inspections for calibration (on the quality blueprint): start one, follow it, read the
calibration report, make a copy or a reconciled copy the official inspection. Views parse, call
quality.calibration, render."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.service import get_visible_workshop_or_404, is_manager
from checklists.service import versions_for_workshop
from database import db
from inspections.models import Calibration
from quality.agreement import kappa_reading
from quality.calibration import (
    MAX_INSPECTORS,
    MIN_INSPECTORS,
    CalibrationError,
    CalibrationState,
    Report,
    calibrations_of,
    candidates,
    choose_official,
    may_start,
    may_view,
    report,
    start_calibration,
    start_reconciled,
    state_of,
)
from quality.views import bp
from web import at_plant, render_page


def refusal_text(exc: CalibrationError) -> str:
    """What was refused, in the reader's language, naming the inspectors concerned."""
    names = "、".join(exc.names)
    texts = {
        "not_allowed": _("只有质量经理可以发起和裁定联合检查"),
        "too_few": _("联合检查至少需要 %(n)d 名检查员", n=MIN_INSPECTORS),
        "too_many": _("联合检查最多 %(n)d 名检查员", n=MAX_INSPECTORS),
        "unknown_inspector": _("没有这个用户：%(names)s", names=names),
        "out_of_scope": _("不在本车间的范围内：%(names)s", names=names),
        "may_not_inspect": _("没有检查权限（或账号已停用）：%(names)s", names=names),
        "decided": _("这次联合检查已经确定了正式检查"),
        "incomplete": _("还有检查员未提交：%(names)s", names=names),
        "reconciling": _("已有一份合议稿正在填写，请提交它"),
        "unknown_copy": _("所选的检查不是这次联合检查的一份"),
        "checklist_required": _("本车间有多张检查表，请选择一张"),
        "unknown_checklist": _("本车间没有这张检查表"),
        "no_version": _("还没有已发布的检查表版本"),
    }
    return texts.get(exc.code, str(exc))


def bias_words(name: str, bias: float | None, unit: str) -> str:
    """Each inspector's bias against the rest of the panel, in words."""
    if bias is None:
        return _("%(name)s：没有可比较的评分", name=name)
    size = abs(bias)
    if size < (0.5 if unit == "pass_rate" else 0.05):  # shows as 0 at the precision printed
        return _("%(name)s 与其他检查员基本一致", name=name)
    if unit == "level":
        return (_("%(name)s 平均比其他检查员高 %(n).1f 级", name=name, n=size) if bias > 0
                else _("%(name)s 平均比其他检查员低 %(n).1f 级", name=name, n=size))
    if unit == "points":
        return (_("%(name)s 平均比其他检查员高 %(n).1f 分", name=name, n=size) if bias > 0
                else _("%(name)s 平均比其他检查员低 %(n).1f 分", name=name, n=size))
    if unit == "pass_rate":
        return (_("%(name)s 判“合格”的比例比其他检查员高 %(n).0f 个百分点", name=name, n=size) if bias > 0
                else _("%(name)s 判“合格”的比例比其他检查员低 %(n).0f 个百分点", name=name, n=size))
    return (_("%(name)s 平均每项比其他检查员多记 %(n).1f 处问题（更严）", name=name, n=size) if bias > 0
            else _("%(name)s 平均每项比其他检查员少记 %(n).1f 处问题（更宽）", name=name, n=size))


def kappa_words(band: str | None) -> str:
    return {None: _("无法计算"), "poor": _("差（低于随机）"), "slight": _("轻微"), "fair": _("一般"),
            "moderate": _("中等"), "substantial": _("较强"), "almost_perfect": _("几乎完全一致")}[band]


def figure(value: float | None) -> str:
    """Two decimals, and never "-0.00" for a kappa a hair below zero."""
    return "—" if value is None else f"{round(value, 2) + 0.0:.2f}"


@bp.route("/workshops/<code>/calibrations", methods=["GET", "POST"])
def workshop_calibrations(code: str):
    """A workshop's joint inspections, and for managers the form that starts one."""
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    at_plant(workshop.plant)
    allowed = may_start(session=session, user=current_user, workshop=workshop)
    errors, status = {}, 200
    if request.method == "POST":
        if not allowed:
            abort(403, _("只有质量经理可以发起和裁定联合检查"))
        try:
            calibration = start_calibration(session=session, user=current_user, workshop=workshop,
                                            usernames=request.form.getlist("inspectors"),
                                            checklist_key=request.form.get("checklist") or None)
        except CalibrationError as exc:
            session.rollback()
            if exc.status == 403:
                abort(403, refusal_text(exc))
            errors[exc.field], status = refusal_text(exc), 422
        else:
            session.commit()
            flash(_("联合检查已发起：每位检查员在自己的平板上填写自己的一份"))
            return redirect(url_for(".calibration_page", calibration_id=calibration.id), code=303)
    return render_page("quality/calibrations.html", status=status, workshop=workshop, allowed=allowed,
                       errors=errors, chosen=set(request.form.getlist("inspectors")),
                       chosen_checklist=request.form.get("checklist", ""),
                       people=candidates(session=session, workshop=workshop) if allowed else [],
                       offered=versions_for_workshop(session=session, workshop=workshop) if allowed else [],
                       calibrations=calibrations_of(session, workshop), min_inspectors=MIN_INSPECTORS)


def calibration_or_404(calibration_id: int) -> CalibrationState:
    session = db()
    calibration = session.get(Calibration, calibration_id)
    if calibration is None or not may_view(session=session, user=current_user, calibration=calibration):
        abort(404)
    at_plant(calibration.workshop.plant)
    return state_of(session, calibration)


@bp.get("/calibrations/<int:calibration_id>")
def calibration_page(calibration_id: int):
    """Who has submitted; once all have, the calibration report and the manager's decision."""
    state = calibration_or_404(calibration_id)
    return _render(state)


def calibration_report_context(state: CalibrationState) -> dict:
    """What the page and the PDF show of the report (nothing until every copy is submitted)."""
    found: Report | None = report(state) if state.complete else None
    names = [c.inspector.display_name for c in state.copies]
    return {"state": state, "found": found, "names": names, "figure": figure,
            "kappa_text": lambda k: kappa_words(kappa_reading(k)),
            "readings": [bias_words(n, b, found.unit) for n, b in zip(names, found.bias, strict=True)] if found
            else []}


def _render(state: CalibrationState, errors: dict | None = None, status: int = 200):
    return render_page(
        "quality/calibration.html", status=status, errors=errors or {}, **calibration_report_context(state),
        may_decide=is_manager(current_user) and state.complete and not state.decided,
        mine=state.copy_of(current_user))



def _refused_decision(state: CalibrationState, exc: CalibrationError):
    """The page again, saying why (nothing was changed); 403 for someone who may not decide at all."""
    db().rollback()
    if exc.status == 403:
        abort(403, refusal_text(exc))
    return _render(state_of(db(), state.calibration), {"decision": refusal_text(exc)}, exc.status)


@bp.post("/calibrations/<int:calibration_id>/official")
def calibration_official(calibration_id: int):
    state = calibration_or_404(calibration_id)
    raw = request.form.get("inspection", "")
    try:
        chosen = choose_official(session=db(), user=current_user, calibration=state.calibration,
                                 inspection_id=int(raw) if raw.isdigit() else -1)
    except CalibrationError as exc:
        return _refused_decision(state, exc)
    db().commit()
    flash(_("已将 %(name)s 的一份定为本车间的正式检查", name=chosen.inspector.display_name))
    return redirect(url_for(".calibration_page", calibration_id=calibration_id), code=303)


@bp.post("/calibrations/<int:calibration_id>/reconcile")
def calibration_reconcile(calibration_id: int):
    state = calibration_or_404(calibration_id)
    try:
        reconciled = start_reconciled(session=db(), user=current_user, calibration=state.calibration)
    except CalibrationError as exc:
        return _refused_decision(state, exc)
    db().commit()
    return redirect(url_for("inspections.inspection", inspection_id=reconciled.id), code=303)
