"""The form's saves: an answer (htmx, the outbox), a whole category (the no-JavaScript form), photos and a
category marked not applicable. Its routes join the inspections blueprint."""

from __future__ import annotations

from flask import (
    abort,
    redirect,
    request,
    url_for,
)
from flask_login import current_user

from checklists.schemes import scheme_from_dict
from database import db, reads_first
from inspections.answering import AnswerInput, mark_category_not_applicable, save_answer, save_answers
from inspections.models import InspectionStatus
from inspections.photo_uploads import add_photo
from inspections.service import (
    InspectionError,
    answers_at_stake,
    can_edit,
    editable_item,
    parse_score,
)
from inspections.views import (
    bp,
    error_text,
    form_context,
    form_fragments,
    get_inspection_or_404,
    get_item_or_404,
    photo_strip_answer,
)
from storage import storage
from web import (
    is_fragment_request,
    kept_as_conflict,
    render_page,
)


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
            errors[item_key] = error_text(exc, scheme_from_dict(inspection.version.scheme))
        status = exc.status
        if status in (403, 409) and exc.code != "conflict" and not is_fragment_request():
            abort(status, errors[item_key])
    context = form_context(inspection, item.category.key, with_actions=not is_fragment_request(), errors=errors,
                            conflicts=conflicts)
    if is_fragment_request():
        return form_fragments({**context, "item": item}, "item_state", status)
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
                photo_errors[item.key] = error_text(exc)
    changes = []
    for item in category.items:
        raw_score = _raw_score(item.key, "")
        note = request.form.get(f"note-{item.key}")
        flagged = _flag(item.key)
        if raw_score == "" and not (note or "").strip() and not flagged:
            continue
        try:
            value = parse_score(raw_score) if raw_score else None
        except ValueError as exc:
            errors[item.key] = error_text(InspectionError("invalid_score", str(exc)), scheme)
            continue
        changes.append(AnswerInput(item_key=item.key, value=value, note=note, flagged=flagged,
                                   base_revision=_revision(request.form.get(f"rev-{item.key}"))))
    try:
        saved = save_answers(session=session, user=current_user, inspection=inspection, changes=changes) \
            if changes else []
    except InspectionError as exc:
        abort(exc.status, error_text(exc))
    for change, result in zip(changes, saved, strict=True):
        if not isinstance(result, InspectionError):
            continue
        if result.code == "conflict":
            conflicts[change.item_key] = {"mine": _raw_score(change.item_key, ""), "mine_note": change.note,
                                          "theirs": result.current}
        elif result.status in (403, 409):
            abort(result.status, error_text(result))
        else:
            errors[change.item_key] = error_text(result, scheme)
    session.commit()  # what was valid is kept even when other items need fixing
    session.refresh(inspection)
    if errors or photo_errors or conflicts:
        context = form_context(inspection, category_key, errors=errors, photo_errors=photo_errors,
                                conflicts=conflicts)
        return render_page("inspections/inspection.html", status=409 if conflicts else 422, **context)
    context = form_context(inspection, category_key)
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
            abort(exc.status, error_text(exc))
        photo_errors[item_key] = error_text(exc)
        status = 422
    return photo_strip_answer(inspection, item, photo_errors, status)


@bp.post("/inspections/<int:inspection_id>/categories/<category_key>/not-applicable")
def category_not_applicable(inspection_id: int, category_key: str):
    """本类全部不适用. Over items already scored it asks first (a page, so it works without JavaScript too),
    saying how many scores and findings it would clear; an untouched category goes N/A at once."""
    session = db()
    inspection = get_inspection_or_404(inspection_id)
    if inspection.status != InspectionStatus.draft:
        abort(409, error_text(InspectionError("locked", "")))
    if not can_edit(current_user, inspection):
        abort(403)
    if request.form.get("confirm") != "yes":
        try:
            stake = answers_at_stake(inspection=inspection, category_key=category_key, typed=request.form)
        except InspectionError as exc:
            abort(exc.status, error_text(exc))
        if stake.scored:
            return render_page("inspections/confirm_na.html", inspection=inspection, category=stake.category,
                               stake=stake)
    try:
        mark_category_not_applicable(session=session, user=current_user, inspection=inspection,
                                     category_key=category_key)
    except InspectionError as exc:
        session.rollback()
        abort(exc.status, error_text(exc))
    session.commit()
    context = form_context(inspection, category_key)
    target = context["next_category"] or context["category"]
    return redirect(url_for(".inspection", inspection_id=inspection.id, category=target.key), code=303)
