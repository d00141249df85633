"""Administration: plants and workshops; users, their roles and scopes, sessions; the audit trail (screen and
CSV). Admins only."""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

import clock
from accounts.models import Plant, PlantRobot, Role, User, Workshop
from accounts.places import (
    create_plant,
    create_workshop,
    rename_site,
    set_plant_timezone,
    set_plant_webhook,
    set_report_language,
)
from accounts.robots import add_robot, as_robot, remove_robot, robots_of, set_missed_counts_as_zero
from accounts.service import (
    AccountError,
    UserChanges,
    access_day,
    create_user,
    end_all_sessions,
    is_admin,
    set_password,
    update_user,
)
from accounts.session_limits import set_session_limits
from accounts.sessions import active_sessions
from accounts.views import account_message
from admin.audit_scope import in_scope, may_read_trail
from audit.models import AuditEvent
from audit.service import events_query, field_changes
from chatbots import Pacer, RobotError, send
from clock.periods import Period
from database import db, reads_first
from exports.service import safe_cell
from web import render_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 200


# the audit trail is read by managers and auditors too, each their own scope's part of it (admin/audit_scope.py)
TRAIL_ENDPOINTS = ("admin.audit", "admin.audit_csv")


@bp.before_request
@login_required
def _require_admin():
    if request.endpoint in TRAIL_ENDPOINTS and may_read_trail(current_user):
        return None
    if not is_admin(current_user):
        abort(403)


def _plants_with_workshops():
    plants = db().exec(select(Plant).order_by(Plant.code)).all()
    workshops = db().exec(select(Workshop).order_by(Workshop.code)).all()
    return [(plant, [w for w in workshops if w.plant_id == plant.id]) for plant in plants]


@bp.get("/users")
def users():
    rows = db().exec(select(User).order_by(User.active.desc(), User.role, User.username)).all()
    expired = {u.id for u in rows if u.access_expires_on and u.access_expires_on < access_day(session=db(), user=u)}
    return render_page("admin/users.html", users=rows, expired=expired)


def _user_form(user: User | None, status: int = 200, errors: dict | None = None, values: dict | None = None):
    return render_page("admin/user.html", status=status, user=user, roles=list(Role), errors=errors or {},
                       values=values or {}, plants=_plants_with_workshops(),
                       sessions=active_sessions(session=db(), user=user) if user else [])


def _form_changes(form) -> tuple[UserChanges, dict]:
    errors = {}
    try:
        role = Role(form.get("role", ""))
    except ValueError:
        role, errors["role"] = Role.supervisor, _("请选择角色")
    expires = None
    if form.get("access_expires_on"):
        try:
            expires = date.fromisoformat(form["access_expires_on"])
        except ValueError:
            errors["access_expires_on"] = _("日期格式应为 年-月-日，例如 2026-11-01")
    if role == Role.auditor and expires is None and "access_expires_on" not in errors:
        errors["access_expires_on"] = _("审核员必须有访问到期日")
    changes = UserChanges(
        display_name=form.get("display_name", "").strip(), role=role, active=form.get("active") == "on",
        may_inspect=form.get("may_inspect") == "on", access_expires_on=expires,
        workshop_codes=form.getlist("workshop"), plant_codes=form.getlist("plant"), email=form.get("email"),
    )
    return changes, errors


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    if request.method == "GET":
        return _user_form(None, values={"active": True})
    changes, errors = _form_changes(request.form)
    username = request.form.get("username", "").strip()
    values = {**request.form.to_dict(), "workshops": changes.workshop_codes, "plants": changes.plant_codes,
              "active": True}
    if errors:
        return _user_form(None, 422, errors, values)
    try:
        user = create_user(session=db(), username=username, password=request.form.get("password", ""),
                           role=changes.role, display_name=changes.display_name or username,
                           workshop_codes=changes.workshop_codes, plant_codes=changes.plant_codes,
                           may_inspect=changes.may_inspect and changes.role == Role.auditor,
                           access_expires_on=changes.access_expires_on, actor=current_user, email=changes.email)
    except AccountError as exc:
        field = ("password" if exc.code.startswith("password")
                 else {"display_name_too_long": "display_name", "bad_email": "email"}.get(exc.code, "username"))
        db().rollback()
        return _user_form(None, 422, {field: account_message(exc)}, values)
    db().commit()
    flash(_("已创建用户 %(name)s", name=user.username))
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


def _user_or_404(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    if request.method == "GET":
        return _user_form(user)
    changes, errors = _form_changes(request.form)
    if errors:
        values = {**request.form.to_dict(), "workshops": changes.workshop_codes, "plants": changes.plant_codes,
                  "active": changes.active}
        return _user_form(user, 422, errors, values)

    try:
        update_user(session=db(), actor=current_user, user=user, changes=changes)
    except AccountError as exc:
        db().rollback()
        field = {"display_name_too_long": "display_name", "bad_email": "email"}.get(exc.code, "role")
        return _user_form(db().get(User, user_id), 422, {field: account_message(exc)},
                          {**request.form.to_dict(), "workshops": changes.workshop_codes,
                           "plants": changes.plant_codes, "active": changes.active})
    db().commit()
    flash(_("已保存"))
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    try:
        set_password(session=db(), actor=current_user, user=user, password=request.form.get("password", ""))
    except AccountError as exc:
        db().rollback()
        return _user_form(user, 422, {"new_password": account_message(exc)})
    db().commit()
    flash(_("密码已重设，该用户所有设备都已退出登录"))
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/sessions/end")
def end_sessions(user_id: int):
    user = _user_or_404(user_id)
    count = end_all_sessions(session=db(), user=user, actor=current_user, reason="ended by an administrator")
    db().commit()
    flash(_("已结束 %(n)d 个登录会话", n=count))
    return redirect(url_for("admin.edit_user", user_id=user.id), code=303)


# ---- plants and workshops ----

def _sites_page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    plants = _plants_with_workshops()
    now = clock.now()

    def wall(zone) -> str:  # always with the offset: the admin is choosing the zone
        return f"{clock.local(now, zone):%Y-%m-%d %H:%M} (UTC{clock.offset_text(now, zone)})"

    local_now = {p.id: wall(clock.zone_of(p)) for p, _workshops in plants}

    return render_page("admin/sites.html", status=status, plants=plants, errors=errors or {}, values=values or {},
                       zone_names=clock.zone_names(), local_now=local_now,
                       robots=robots_of(db(), [p.id for p, _workshops in plants]),
                       default_idle_hours=round(float(current_app.config.get("SESSION_IDLE_DAYS", 14)) * 24),
                       default_max_days=round(float(current_app.config.get("SESSION_MAX_DAYS", 90))))


@bp.get("/sites")
def sites():
    return _sites_page()


def _site_change(change, form_key: str):
    """Run one change to plants/workshops; on a refusal show the page again with the message where it belongs."""
    try:
        change()
    except AccountError as exc:
        db().rollback()
        return _sites_page(422, {form_key: account_message(exc)}, {form_key: request.form.to_dict()})
    db().commit()
    flash(_("已保存"))
    return redirect(url_for("admin.sites"), code=303)


@bp.post("/plants")
def create_plant_route():
    form = request.form
    return _site_change(lambda: create_plant(session=db(), actor=current_user, code=form.get("code", ""),
                                             name=form.get("name", "")), "new_plant")


@bp.post("/plants/<int:plant_id>/workshops")
def create_workshop_route(plant_id: int):
    plant = db().get(Plant, plant_id) or abort(404)
    form = request.form
    return _site_change(lambda: create_workshop(session=db(), actor=current_user, plant=plant,
                                                code=form.get("code", ""), name=form.get("name", "")),
                        f"new_workshop_{plant.id}")


@bp.post("/plants/<int:plant_id>")
def rename_plant(plant_id: int):
    plant = db().get(Plant, plant_id) or abort(404)
    return _site_change(lambda: rename_site(session=db(), actor=current_user, site=plant,
                                            name=request.form.get("name", "")), f"plant_{plant.id}")


@bp.post("/plants/<int:plant_id>/webhook")
def plant_webhook(plant_id: int):
    plant = db().get(Plant, plant_id) or abort(404)
    return _site_change(lambda: set_plant_webhook(session=db(), actor=current_user, plant=plant,
                                                  url=request.form.get("webhook_url", ""),
                                                  secret=request.form.get("webhook_secret", "")), f"webhook_{plant.id}")


def _robot_text(exc) -> str:
    return {"robot_kind": _("请选择机器人类型"), "robot_url": _("机器人地址必须以 http:// 或 https:// 开头"),
            "robot_secret": _("企业微信群机器人没有签名密钥；钉钉、飞书的密钥最多 128 个字符"),
            "robot_count": _("每个工厂最多 5 个机器人")}.get(exc.code, str(exc))


@bp.post("/plants/<int:plant_id>/robots")
def add_plant_robot(plant_id: int):

    plant = db().get(Plant, plant_id) or abort(404)
    form = request.form
    try:
        add_robot(session=db(), actor=current_user, plant=plant, kind=form.get("kind", ""), url=form.get("url", ""),
                  secret=form.get("secret", ""), label=form.get("label", ""))
    except RobotError as exc:
        db().rollback()
        key = f"robot_{plant.id}"
        return _sites_page(422, {key: _robot_text(exc)}, {key: {k: v for k, v in form.items() if k != "secret"}})
    db().commit()
    flash(_("已添加群机器人"))
    return redirect(url_for("admin.sites"), code=303)


def _robot_or_404(robot_id: int):

    return db().get(PlantRobot, robot_id) or abort(404)


@bp.post("/robots/<int:robot_id>/delete")
def remove_plant_robot(robot_id: int):

    remove_robot(session=db(), actor=current_user, robot=_robot_or_404(robot_id))
    db().commit()
    flash(_("已删除群机器人"))
    return redirect(url_for("admin.sites"), code=303)


@bp.post("/robots/<int:robot_id>/test")
@reads_first
def test_plant_robot(robot_id: int):
    """A test message now, so the admin sees at once whether the address and the secret are right. It writes
    nothing: the request reads without the write lock and ends its transaction before the network (a slow
    receiver held every other save behind SQLite's writers' lock for its ten seconds)."""

    stored = _robot_or_404(robot_id)
    plant = db().get(Plant, stored.plant_id)
    robot, plant_name = as_robot(stored), plant.name
    db().rollback()  # nothing was written; no transaction stays open across the post
    delivered, outcome = send(robot, _("6S 巡检测试消息"),
                              _("%(plant)s 的群机器人已连接：检查提醒和逾期整改会发到这里。", plant=plant_name),
                              pacer=Pacer(), attempts=1)
    flash(_("测试消息已送达") if delivered else _("测试消息未送达：%(why)s", why=outcome))
    return redirect(url_for("admin.sites"), code=303)


@bp.post("/plants/<int:plant_id>/ranking")
def plant_ranking_rule(plant_id: int):

    plant = db().get(Plant, plant_id) or abort(404)
    set_missed_counts_as_zero(session=db(), actor=current_user, plant=plant,
                              value=request.form.get("missed_counts_as_zero") == "1")
    db().commit()
    flash(_("已保存"))
    return redirect(url_for("admin.sites"), code=303)


@bp.post("/plants/<int:plant_id>/report-language")
def plant_report_language(plant_id: int):
    plant = db().get(Plant, plant_id) or abort(404)
    return _site_change(lambda: set_report_language(session=db(), actor=current_user, plant=plant,
                                                    language=request.form.get("report_language", "")),
                        f"report_language_{plant.id}")


@bp.post("/plants/<int:plant_id>/session-limits")
def plant_session_limits(plant_id: int):

    plant = db().get(Plant, plant_id) or abort(404)

    def whole(name: str) -> int | None:
        raw = request.form.get(name, "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise AccountError("请填写整数", code="not_a_number", detail=raw[:16])
        return int(raw)

    return _site_change(lambda: set_session_limits(session=db(), actor=current_user, plant=plant,
                                                   idle_hours=whole("idle_hours"), max_days=whole("max_days")),
                        f"session_limits_{plant.id}")


@bp.post("/plants/<int:plant_id>/timezone")
def plant_timezone(plant_id: int):
    plant = db().get(Plant, plant_id) or abort(404)
    return _site_change(lambda: set_plant_timezone(session=db(), actor=current_user, plant=plant,
                                                   name=request.form.get("timezone", "")), f"timezone_{plant.id}")


@bp.post("/workshops/<int:workshop_id>")
def rename_workshop(workshop_id: int):
    workshop = db().get(Workshop, workshop_id) or abort(404)
    return _site_change(lambda: rename_site(session=db(), actor=current_user, site=workshop,
                                            name=request.form.get("name", "")), f"workshop_{workshop.id}")


# ---- the audit trail ----

def _audit_filter(args):
    """The filter as typed (for the form) and as a query. The trail spans every plant, so its days are those of
    the default zone (Asia/Shanghai), as the screen shows its times."""

    flt = {key: (args.get(key) or "").strip()[:64]
           for key in ("action", "object_type", "object_id", "actor", "from", "to")}
    since = until = None
    error = None
    if flt["from"] or flt["to"]:
        try:
            start = date.fromisoformat(flt["from"]) if flt["from"] else date(2000, 1, 1)
            end = date.fromisoformat(flt["to"]) if flt["to"] else date(2999, 12, 31)
            since, until = Period(start, end).bounds(clock.zone_named(None))
        except ValueError:
            error = _("日期格式应为 年-月-日，例如 2026-11-01")
    actor_id = None
    if flt["actor"]:
        actor = db().exec(select(User).where(User.username == flt["actor"])).first()
        actor_id = actor.id if actor else -1  # an unknown name matches nothing, not everything
    query = dict(action=flt["action"] or None, object_type=flt["object_type"] or None,
                 object_id=flt["object_id"] or None, actor_id=actor_id, since=since, until=until)
    return flt, query, error


@bp.get("/audit")
def audit():
    flt, query, error = _audit_filter(request.args)
    scope = in_scope(current_user)
    rows = [] if error else db().exec(events_query(**query, limit=AUDIT_PAGE_SIZE).where(scope)).all()
    actions = db().exec(select(AuditEvent.action).where(scope).distinct().order_by(AuditEvent.action)).all()
    object_types = db().exec(select(AuditEvent.object_type).where(scope).distinct()
                             .order_by(AuditEvent.object_type)).all()
    return render_page("admin/audit.html", status=422 if error else 200, rows=rows, flt=flt, error=error,
                       actions=actions, object_types=object_types, page_size=AUDIT_PAGE_SIZE,
                       field_changes=field_changes)


@bp.get("/audit.csv")
def audit_csv():
    flt, query, error = _audit_filter(request.args)
    if error:
        abort(422, error)
    rows = db().exec(events_query(**query, limit=None).where(in_scope(current_user)))
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
    writer = csv.writer(buffer)
    writer.writerow(["序号", "时间（UTC）", "操作人ID", "操作人", "操作", "对象类型", "对象", "原值", "新值", "原因",
                     "前一条哈希", "本条哈希"])
    for e in rows:
        writer.writerow([e.id, e.at.isoformat(), e.actor_id or "", safe_cell(e.actor_name), e.action, e.object_type,
                         safe_cell(e.object_id), safe_cell(e.old_value or ""), safe_cell(e.new_value or ""),
                         safe_cell(e.reason or ""), e.prev_sha256, e.sha256])
    filename = f"6S-audit-{clock.today(clock.zone_named(None)).isoformat()}.csv"
    response = Response(buffer.getvalue().encode(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"})
    response.cache_control.no_store = True
    return response
