from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

import clock
from accounts.device_keys import DeviceKeyError
from accounts.device_keys import enrol as enrol_device_key
from accounts.device_keys import revoke as revoke_device_key
from accounts.devices import COOKIE as DEVICE_COOKIE
from accounts.devices import MAX_AGE_DAYS as DEVICE_MAX_AGE_DAYS
from accounts.devices import Device, read_device, remembered
from accounts.models import ApiToken, User, UserSession
from accounts.service import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    SESSION_TOUCH_INTERVAL,
    AccountError,
    SignInRefused,
    confirm_password,
    end_all_sessions,
    is_usable,
    set_password,
    sign_in,
)
from accounts.session_limits import Limits, still_live
from accounts.sessions import (
    active_sessions,
    create_api_token,
    end_session,
    revoke_api_token,
    session_for_token,
    start_session,
    token_and_user,
)
from accounts.site import remember_address
from database import db, request_holds_write_lock, writing
from web import render_page

bp = Blueprint("accounts", __name__)


def load_user(token: str) -> User | None:
    """Flask-Login's loader: the cookie carries a session token, valid until it is revoked, left unused for
    SESSION_IDLE_DAYS or older than SESSION_MAX_DAYS (a tablet used for the weekly round stays signed in; a
    cookie found on a lost one a season later does not)."""
    config = current_app.config
    user_session = session_for_token(session=db(), token=token) if token else None
    default = Limits(idle=timedelta(days=float(config.get("SESSION_IDLE_DAYS", 14))),
                     lifetime=timedelta(days=float(config.get("SESSION_MAX_DAYS", 90))))
    if user_session is None or not still_live(user_session, default):
        return None
    user = db().get(User, user_session.user_id)
    if not is_usable(user, session=db()):
        return None
    g.user_session = user_session
    _touch(user_session)
    return user


def _touch(user_session: UserSession) -> None:
    _stamp(UserSession, user_session.id, "last_seen_at", user_session.last_seen_at)


def _stamp(model, row_id: int, field: str, previous) -> None:
    """A "last used" time, at most every few minutes, in its own short write (pages are read-only
    transactions). Skipped when the database is busy: it is only bookkeeping."""
    now = clock.now()
    if previous is not None and now - clock.as_utc(previous) < SESSION_TOUCH_INTERVAL:
        return
    if request_holds_write_lock():
        # This request's own session already holds SQLite's write lock (BEGIN IMMEDIATE): a second writer would
        # wait for it until the busy timeout. The stamp rides along with the request's commit instead.
        setattr(db().get(model, row_id), field, now)
        return
    try:
        with Session(writing(current_app.extensions["engine"])) as write:
            setattr(write.get(model, row_id), field, now)
            write.commit()
    except OperationalError:
        current_app.logger.info("%s %s: %s update skipped (database busy)", model.__name__, row_id, field)


def load_user_from_request(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    found = token_and_user(session=db(), token=header.removeprefix("Bearer ").strip(),
                           max_age=timedelta(days=float(current_app.config.get("API_TOKEN_MAX_DAYS", 365))))
    if found is None:
        return None
    token, user = found
    _stamp(ApiToken, token.id, "last_used_at", token.last_used_at)
    return user


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


def _safe_next(target: str | None) -> str:
    """Only our own paths: an open redirect after login would hand a tablet to a phishing page. Browsers drop tabs
    and line breaks from an address (so "/", a tab, "/evil.example" is "//evil.example") and read a backslash as
    "/": a target with either, any other control character or space, a scheme or a host is refused."""
    if (target and target.startswith("/") and not target.startswith("//")
            and not any(ch <= " " or ch in "\\\x7f" for ch in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.home")


def _client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


def refused_message(refused: SignInRefused) -> tuple[int, str]:
    """(HTTP status, message in the user's language) for a refused sign-in or password re-entry."""
    if refused.code == "locked":
        return 429, _("登录失败次数过多，请 %(minutes)d 分钟后再试，或请管理员重设密码。", minutes=refused.minutes)
    if refused.code == "expired":
        return 422, _("您的访问权限已于 %(day)s 到期，请联系管理员。", day=refused.day.isoformat())
    return 422, _("用户名或密码不正确")


def this_device() -> Device:
    """What this browser's device cookie proves (the names it signed in as before), or NO_DEVICE."""
    return read_device(request.cookies.get(DEVICE_COOKIE), current_app.config["SECRET_KEY"])


def _remember_device(response, name: str):
    """The device cookie, now naming `name` too: next time this browser is not held by someone else's guessing."""
    response.set_cookie(DEVICE_COOKIE, remembered(this_device(), name, current_app.config["SECRET_KEY"]),
                        max_age=DEVICE_MAX_AGE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE") or request.is_secure))
    return response


def reconfirm_password(password: str) -> tuple[int, str] | None:
    """The signed-in user re-enters their password before signing: None when right, else (status, message).
    A failure is committed at once, so it counts towards the lock even though the form is shown again."""
    try:
        confirm_password(session=db(), user=current_user, password=password or "", address=_client_address(),
                         device=this_device())
    except SignInRefused as refused:
        db().commit()
        status, message = refused_message(refused)
        if refused.code == "wrong":
            message = _("密码不正确，签名未保存")
        return status, message
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in(session=db(), username=form.username.data, password=form.password.data,
                           address=_client_address(), device=this_device())
        except SignInRefused as refused:
            db().commit()  # the failed attempt counts even though the sign-in did not happen
            status, message = refused_message(refused)
            form.password.errors.append(message)
            return render_page("accounts/login.html", form=form, status=status)
        token = start_session(session=db(), user=user, address=_client_address(),
                              user_agent=request.headers.get("User-Agent", ""),
                              known_device=this_device().trusted_for(user.username))
        if not current_app.config.get("PUBLIC_BASE_URL"):
            remember_address(db(), user, request.host_url)
        signing_key = _enrol_signing_key(user)
        db().commit()
        session.clear()  # nothing of a previous user's session survives on a shared tablet
        login_user(user)
        session["_user_id"] = token  # the loader receives this token, not the user id
        if signing_key:
            session["signing_key"] = signing_key  # pages tell the tablet its key is known (static/js/signing-key.js)
        return _remember_device(redirect(_safe_next(request.args.get("next")), code=303), user.username)
    status = 422 if form.is_submitted() else 200
    return render_page("accounts/login.html", form=form, status=status)


def _enrol_signing_key(user) -> str | None:
    """The public half of the key the tablet made from the password just typed (accounts/device_keys.py), kept for
    records it signs offline; its fingerprint, or None. A bad key does not stop the sign-in: the tablet is told
    (no fingerprint on its pages) and signs online only."""
    encoded = request.form.get("device_key", "")
    if not encoded:
        return None
    try:
        return enrol_device_key(db(), user, encoded, request.headers.get("User-Agent", "")).fingerprint
    except DeviceKeyError as exc:
        current_app.logger.warning("device key of %s not enrolled: %s", user.username, exc)
        return None


def _sign_out(message: str):
    user_session = g.get("user_session")
    if user_session is not None:
        end_session(session=db(), user_session=user_session)
        if session.get("signing_key"):  # this tablet's offline signing key signs no more for this user
            revoke_device_key(db(), current_user, session["signing_key"])
        db().commit()
    logout_user()
    session.clear()
    flash(message)
    response = redirect(url_for("accounts.login"), code=303)
    # Browsers that honour it (HTTPS or localhost) drop this site's HTTP cache; outbox.js drops the pages kept for
    # offline use and the user's confirmed values itself (also on plain-HTTP factory networks), after making sure
    # nothing of theirs is unsent. Not "storage": that would wipe the outbox, where another user's queued changes
    # may wait for them (their session ended elsewhere) — never thrown away for someone else's sign-out.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.post("/logout")
def logout():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"), code=303)
    return _sign_out(_("已退出登录"))


@bp.post("/switch-user")
def switch_user():
    """Shared tablets: hand over to the next person; the login page shows nothing of this user."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"), code=303)
    return _sign_out(_("已退出。请下一位同事登录。"))


# ---- my account: password, sessions, API tokens ----

class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    new = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    confirm = PasswordField(_l("再次输入新密码"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    end_tokens = BooleanField(_l("同时停用我的全部 API 令牌（怀疑密码泄露时）"))


class TokenForm(FlaskForm):
    label = StringField(_l("用途（例如：MES 接口）"), validators=[Length(max=80)])


def _account_page(status: int = 200, new_token: str | None = None, password_form=None, token_form=None):
    session_ = db()
    tokens = session_.exec(select(ApiToken).where(ApiToken.user_id == current_user.id)
                           .order_by(ApiToken.created_at.desc())).all()
    return render_page("accounts/account.html", status=status, sessions=active_sessions(session=session_,
                       user=current_user), this_session=g.get("user_session"), tokens=tokens, new_token=new_token,
                       password_form=password_form or PasswordForm(), token_form=token_form or TokenForm())


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        refused = reconfirm_password(form.current.data)  # counted: a borrowed session cannot guess it
        if refused:
            if refused[0] == 429:
                abort(429, refused[1])
            form.current.errors.append(_("当前密码不正确"))
        elif form.new.data != form.confirm.data:
            form.confirm.errors.append(_("两次输入的新密码不一致"))
        else:
            try:
                set_password(session=db(), actor=current_user, user=current_user, password=form.new.data)
            except AccountError as exc:
                form.new.errors.append(account_message(exc))
            else:
                if form.end_tokens.data:  # the owner asks: a leaked password may have made tokens too
                    for token in db().exec(select(ApiToken).where(ApiToken.user_id == current_user.id,
                                                                  ApiToken.revoked_at.is_(None))).all():
                        revoke_api_token(session=db(), actor=current_user, token=token)
                db().commit()
                logout_user()
                session.clear()
                flash(_("密码已更改。所有设备都已退出，请用新密码登录。"))
                return redirect(url_for("accounts.login"), code=303)
    return _account_page(status=422, password_form=form)


@bp.post("/account/sessions/end-all")
@login_required
def end_all():
    end_all_sessions(session=db(), user=current_user, actor=current_user, reason="signed out everywhere")
    db().commit()
    logout_user()
    session.clear()
    flash(_("已在所有设备上退出登录"))
    return redirect(url_for("accounts.login"), code=303)


@bp.post("/account/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _account_page(status=422, token_form=form)
    token = create_api_token(session=db(), user=current_user, label=form.label.data or "")
    db().commit()
    response = _account_page(new_token=token)
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = db().get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    revoke_api_token(session=db(), actor=current_user, token=token)
    db().commit()
    flash(_("令牌已撤销，使用它的程序将无法再访问"))
    return redirect(url_for("accounts.account"), code=303)


def account_message(exc: AccountError) -> str:
    """The refusal in the user's language (the service speaks Chinese)."""

    known = {
        "password_too_short": _("密码至少需要 %(n)d 个字符", n=MIN_PASSWORD_LENGTH),
        "password_too_long": _("密码太长"),
        "password_common": _("这个密码太常见，很容易被猜到，请换一个"),
        "password_contains_username": _("密码不能包含用户名"),
        "self_lockout": _("不能更改自己的角色或停用自己的账号"),
        "duplicate": _("用户名已存在"),
        "bad_username": _("用户名不能为空、不能含空格，最多 64 个字符"),
        "display_name_too_long": _("姓名最多 64 个字符"),
        "bad_email": _("邮箱地址无效"),
        "bad_webhook_url": _("网址必须以 http:// 或 https:// 开头"),
        "bad_timezone": _("未知的时区「%(name)s」：请填写 IANA 时区名，例如 Asia/Shanghai 或 Europe/Budapest",
                          name=exc.detail),
        "bad_webhook_secret": _("签名密钥需要 16–128 个字符"),
        "bad_report_language": _("没有这种报告语言：%(lang)s（可选 zh 中文、en 英文、zh-en 中英双语）",
                                 lang=exc.detail),
        "bad_site_code": _("代码只能用字母、数字、- 或 _，最多 32 个字符"),
        "bad_site_name": _("名称不能为空，最多 200 个字符"),
        "duplicate_site": _("这个代码已经有了，请换一个"),
        "bad_session_idle": _("闲置时限为 1 到 2160 小时（留空用默认值）"),
        "bad_session_max": _("登录有效期为 1 到 365 天（留空用默认值）"),
        "not_a_number": _("请填写整数：%(value)s", value=exc.detail),
    }
    return known.get(exc.code, str(exc))
