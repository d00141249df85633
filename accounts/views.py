from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from accounts.models import User
from accounts.service import authenticate, user_for_token
from database import db
from web import render_page

bp = Blueprint("accounts", __name__)


def load_user(user_id: str) -> User | None:
    user = db().get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def load_user_from_request(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return user_for_token(session=db(), token=header.removeprefix("Bearer ").strip())
    return None


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login would hand a tablet to a phishing page.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("inspections.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(session=db(), username=form.username.data, password=form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")), code=303)
        form.password.errors.append(_("用户名或密码不正确"))
        return render_page("accounts/login.html", form=form, status=422)
    status = 422 if form.is_submitted() else 200
    return render_page("accounts/login.html", form=form, status=status)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        logout_user()
        flash(_("已退出登录"))
    return redirect(url_for("accounts.login"), code=303)
