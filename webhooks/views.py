"""The admin's screens of event webhooks: endpoints per plant (address, events, secret), the delivery log with each
attempt's answer, a test event and redelivery. Admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import select

from accounts.models import Plant
from accounts.service import is_admin
from database import db
from web import render_page
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.service import (
    EVENTS,
    WebhookError,
    change_endpoint,
    create_endpoint,
    log_of,
    redeliver,
    rotate_secret,
    send_test,
)

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")

EVENT_NAMES = {
    "inspection.submitted": _l("检查已提交"), "finding.created": _l("发现问题项（生成整改）"),
    "report.issued": _l("报告已签发"), "action.overdue": _l("整改逾期"), "action.verified": _l("整改已验证关闭"),
    "red_tag.escalated": _l("红牌留置期满升级"), "plan.occurrence_skipped": _l("计划检查被跳过"),
    "plan.occurrence_missed": _l("计划检查漏检"),
    "webhook.test": _l("测试事件"),
}
STATE_NAMES = {"pending": _l("等待重试"), "sending": _l("发送中"), "delivered": _l("已送达"), "failed": _l("失败")}


@bp.before_request
@login_required
def _require_admin():
    if not is_admin(current_user):
        abort(403)


def _message(exc: WebhookError) -> str:
    return {"url": _("接收网址须以 http:// 或 https:// 开头，最多 500 个字符"),
            "unknown_event": _("未知的事件：%(names)s", names=str(exc).partition(": ")[2]),
            "events_required": _("请至少选择一个事件"),
            "description": _("说明最多 200 个字符")}.get(exc.code, str(exc))


def _list_page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    plants = db().exec(select(Plant).order_by(Plant.code)).all()
    endpoints = db().exec(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return render_page("webhooks/list.html", status=status, plants=plants, endpoints=endpoints, events=EVENTS,
                       event_names=EVENT_NAMES, errors=errors or {}, values=values or {})


@bp.get("")
def endpoints():
    return _list_page()


@bp.post("")
def create():
    form = request.form
    plant = db().get(Plant, form.get("plant", type=int) or 0)
    if plant is None:
        return _list_page(422, {"plant": _("请选择工厂")}, form.to_dict(flat=False))
    try:
        endpoint = create_endpoint(session=db(), actor=current_user, plant=plant, url=form.get("url", ""),
                                   events=form.getlist("events"), description=form.get("description", ""))
    except WebhookError as exc:
        db().rollback()
        return _list_page(422, {exc.field: _message(exc)}, form.to_dict(flat=False))
    db().commit()
    flash(_("已添加。接收方用下面的签名密钥验证每条消息。"))
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint.id), code=303)


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    return db().get(WebhookEndpoint, endpoint_id) or abort(404)


def _endpoint_page(endpoint: WebhookEndpoint, status: int = 200, errors: dict | None = None):
    return render_page("webhooks/endpoint.html", status=status, endpoint=endpoint,
                       plant=db().get(Plant, endpoint.plant_id), log=log_of(db(), endpoint), events=EVENTS,
                       event_names=EVENT_NAMES, state_names=STATE_NAMES, errors=errors or {})


@bp.get("/<int:endpoint_id>")
def endpoint(endpoint_id: int):
    return _endpoint_page(_endpoint_or_404(endpoint_id))


@bp.post("/<int:endpoint_id>")
def change(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    form = request.form
    try:
        change_endpoint(session=db(), actor=current_user, endpoint=endpoint, url=form.get("url", ""),
                        events=form.getlist("events"), description=form.get("description", ""),
                        active=form.get("active") == "on")
    except WebhookError as exc:
        db().rollback()
        return _endpoint_page(db().get(WebhookEndpoint, endpoint_id), 422, {exc.field: _message(exc)})
    db().commit()
    flash(_("已保存"))
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id), code=303)


@bp.post("/<int:endpoint_id>/secret")
def new_secret(endpoint_id: int):
    rotate_secret(session=db(), actor=current_user, endpoint=_endpoint_or_404(endpoint_id))
    db().commit()
    flash(_("已生成新的签名密钥：请在接收方同时更新，旧密钥立即失效。"))
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id), code=303)


@bp.post("/<int:endpoint_id>/test")
def test(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if not endpoint.active:
        flash(_("该订阅已停用：启用后才能发送测试事件。"))
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id), code=303)
    send_test(session=db(), actor=current_user, endpoint=endpoint)
    db().commit()
    flash(_("测试事件已排队发送，结果见下方投递记录（刷新查看）。"))
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id), code=303)


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
def redeliver_one(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    delivery = db().get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        abort(404)
    if delivery.state == "sending":
        flash(_("这条消息正在发送，稍后再试。"))
    else:
        redeliver(session=db(), actor=current_user, delivery=delivery)
        db().commit()
        flash(_("已重新排队：同一消息编号（webhook-id），接收方可据此去重。"))
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id), code=303)
