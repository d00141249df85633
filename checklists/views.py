"""Checklist screens (read-only for now: list, versions, a version's content)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlmodel import select

from checklists.models import Checklist
from checklists.schemes import scheme_from_dict
from checklists.service import get_version
from database import db
from web import render_page

bp = Blueprint("checklists", __name__, url_prefix="/checklists")


@bp.before_request
@login_required
def _require_manager():
    """Checklists are the quality managers' (and admins') business."""
    if current_user.role not in ("admin", "manager"):
        abort(404)


@bp.get("/")
def index():
    checklists = db().exec(select(Checklist).order_by(Checklist.key)).all()
    return render_page("checklists/index.html", checklists=checklists)


@bp.get("/<key>/v<int:number>")
def version(key: str, number: int):
    version = get_version(session=db(), key=key, number=number)
    if version is None:
        abort(404)
    return render_page("checklists/version.html", version=version, scheme=scheme_from_dict(version.scheme))
