"""The draft editor's saves: a version's details and scheme, its categories and items (added, changed, moved,
removed). Its routes join the checklists blueprint. Editing is htmx-enhanced (an item or a category swaps itself,
422 fragments carry the error next to the field) and works as plain forms without JavaScript.
"""

from __future__ import annotations

from flask import request
from jinja2_fragments.flask import render_block

from checklists.drafts import (
    add_category,
    add_item,
    move_category,
    move_item,
    remove_category,
    remove_item,
    set_scheme,
    update_category,
    update_draft,
    update_item,
)
from checklists.models import ChecklistCategory, ChecklistItem, ChecklistVersion
from checklists.schemes import scheme_from_dict
from checklists.service import (
    ChecklistError,
)
from checklists.views import TEMPLATE, back_to, bp, editor_context, get_version_or_404, part_of, refused
from database import db
from web import is_fragment_request


@bp.post("/<key>/v<int:number>/details")
def details(key: str, number: int):
    session = db()
    version = get_version_or_404(key, number)
    try:
        update_draft(session=session, version=version, name=request.form.get("name", ""),
                     description=request.form.get("description", ""),
                     change_note=request.form.get("change_note", ""))
    except ChecklistError as exc:
        return refused(version, exc, form=request.form)
    session.commit()
    return back_to(version)


@bp.post("/<key>/v<int:number>/scheme")
def scheme(key: str, number: int):
    session = db()
    version = get_version_or_404(key, number)
    form = request.form
    kind = form.get("type", "levels")
    grades = [{"min": m, "label": label} for m, label in zip(form.getlist("grade_min"), form.getlist("grade_label"),
                                                             strict=False) if label.strip()]
    data = {"type": kind, "pass_mark": _number(form.get("pass_mark")), "grades": [
        {"min": _number(g["min"]), "label": g["label"].strip()} for g in grades]}
    critical_days, normal_days = scheme_from_dict(version.scheme).action_due_days
    data["action_due_days"] = {  # a form without these fields (a page from before they existed) keeps the days
        "critical": _number(form.get("due_days_critical", critical_days)),
        "normal": _number(form.get("due_days_normal", normal_days))}
    if form.get("overall", "mean") != "mean":
        data["overall"] = form.get("overall")
    current = scheme_from_dict(version.scheme)
    if kind == "levels" and current.named and form.get("keep_named_levels") == "yes":
        # named grades (优/良/…) are edited in the file or Excel sheet; this form keeps them as they are
        data["levels"] = current.to_dict()["levels"]
        data["finding_at_or_below"] = _number(form.get("finding_at_or_below"))
    elif kind == "levels":
        meanings = [m.strip() for m in form.getlist("level_meaning") if m.strip()]
        data["levels"] = {str(i): meaning for i, meaning in enumerate(meanings)}
        data["finding_at_or_below"] = _number(form.get("finding_at_or_below"))
    elif kind == "deduction":
        for name in ("category_points", "points_per_finding", "max_findings"):
            data[name] = _number(form.get(name))
    try:
        set_scheme(session=session, version=version, scheme=data)
    except ChecklistError as exc:
        return refused(version, exc, form=form)
    session.commit()
    return back_to(version, "#scheme")


def _number(raw):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return raw  # the scheme validation names it
    return int(value) if value.is_integer() else value


def _category_response(version: ChecklistVersion, category: ChecklistCategory):
    if is_fragment_request():
        db().refresh(version)
        return render_block(TEMPLATE, "categories", **editor_context(version))
    return back_to(version, f"#category-{category.key}")


@bp.post("/<key>/v<int:number>/categories")
def new_category(key: str, number: int):
    session = db()
    version = get_version_or_404(key, number)
    try:
        category = add_category(session=session, version=version, name=request.form.get("name", ""),
                                name_en=request.form.get("name_en", ""), weight=request.form.get("weight", 1))
    except ChecklistError as exc:
        return refused(version, exc, form=request.form, target="new-category")
    session.commit()
    return _category_response(version, category)


@bp.post("/<key>/v<int:number>/categories/<int:category_id>")
def change_category(key: str, number: int, category_id: int):
    session = db()
    version = get_version_or_404(key, number)
    category = part_of(version, ChecklistCategory, category_id)
    action = request.form.get("action", "save")
    try:
        if action in ("up", "down"):
            move_category(session=session, category=category, direction=-1 if action == "up" else 1)
        elif action == "delete":
            remove_category(session=session, category=category)
        else:
            update_category(session=session, category=category, name=request.form.get("name", ""),
                            name_en=request.form.get("name_en", ""), weight=request.form.get("weight", 1),
                            full_marks=request.form.get("full_marks"))
    except ChecklistError as exc:
        return refused(version, exc, form=request.form, target=category.id)
    session.commit()
    return _category_response(version, category)


def _item_fields() -> dict:
    form = request.form
    return {"text": form.get("text", ""), "text_en": form.get("text_en", ""), "guidance": form.get("guidance", ""),
            "weight": form.get("weight", 1), "critical": form.get("critical") == "on",
            "photo_required": form.get("photo_required") == "on", "deduct": form.get("deduct"),
            "unit": form.get("unit", "")}


@bp.post("/<key>/v<int:number>/categories/<int:category_id>/items")
def new_item(key: str, number: int, category_id: int):
    session = db()
    version = get_version_or_404(key, number)
    category = part_of(version, ChecklistCategory, category_id)
    try:
        add_item(session=session, category=category, **_item_fields())
    except ChecklistError as exc:
        return refused(version, exc, form=request.form, target=f"new-item-{category.id}")
    session.commit()
    return _category_response(version, category)


@bp.post("/<key>/v<int:number>/items/<int:item_id>")
def change_item(key: str, number: int, item_id: int):
    session = db()
    version = get_version_or_404(key, number)
    item = part_of(version, ChecklistItem, item_id)
    category = item.category
    action = request.form.get("action", "save")
    try:
        if action in ("up", "down"):
            move_item(session=session, item=item, direction=-1 if action == "up" else 1)
        elif action == "delete":
            remove_item(session=session, item=item)
        else:
            update_item(session=session, item=item, meaning_unchanged=request.form.get("meaning_unchanged") == "on",
                        **_item_fields())
    except ChecklistError as exc:
        return refused(version, exc, form=request.form, target=item.id)
    session.commit()
    return _category_response(version, category)
