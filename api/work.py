"""The API of the follow-up work: corrective actions (listed, read, assigned, started, done with an after-photo,
verified, returned) and red tags (the register, one tag, raised with a photo, decided), with the screens' rules
(actions.service, redtags.service). Who may is asked before the body is read. Routes join the API's blueprint."""

from __future__ import annotations

from datetime import date

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from accounts.days import plant_days
from accounts.models import User, Workshop
from accounts.service import can_see_workshop, get_visible_workshop_or_404, visible_workshops
from actions import service as actions
from actions.models import CorrectiveAction
from api.answers import ActionOut, Actions, RedTagOut, RedTags
from api.openapi import operation
from api.problems import ApiProblem, json_body
from api.schemas import (
    ActionFilters,
    AssignBody,
    CommentBody,
    DecideBody,
    DoneForm,
    NoBody,
    NoQuery,
    RedTagFilters,
    RedTagForm,
)
from api.views import bp
from database import db, reads_first
from redtags import service as redtags
from redtags.models import RedTag
from storage import storage


def _iso(value):
    return value.isoformat() if value else None


def _asked_workshop(session) -> Workshop | None:
    """The ?workshop= of a list, in the caller's scope (404 outside it); None when not asked."""
    if not request.args.get("workshop"):
        return None
    workshop = session.exec(visible_workshops(current_user).where(Workshop.code == request.args["workshop"])).first()
    if workshop is None:
        abort(404, "no such workshop in your scope")
    return workshop


# ---- corrective actions

def action_json(a: CorrectiveAction, today: date) -> dict:
    if a.finding is None:
        source = {"source": "red_tag", "red_tag": a.red_tag.number, "inspection": None, "item": None,
                  "item_text": a.subject, "score": None, "flagged": False, "severity": None}
    else:
        f = a.finding
        source = {"source": "finding", "red_tag": None, "inspection": f.inspection_id, "item": f.item_key,
                  "item_text": f.item.text, "score": f.score, "flagged": f.flagged, "severity": f.severity.value}
    return {
        "id": a.id, "workshop": a.workshop.code, **source, "owner": a.owner.username if a.owner else None,
        "due_on": a.due_on.isoformat(), "priority": a.priority.value, "action": a.action_text,
        "status": a.status.value, "overdue": a.status.value in ("open", "in_progress", "returned") and a.due_on < today,
        "done_at": _iso(a.done_at), "done_comment": a.done_comment or None, "closed_at": _iso(a.closed_at),
        "after_photo": url_for("actions.after_photo", action_id=a.id) if a.after_photo_sha256 else None,
    }


@bp.get("/actions")
@operation(summary="List corrective actions", tags=["actions"], ok={200: Actions}, query=ActionFilters)
def list_actions():
    """The actions the caller may see: ?workshop=CODE&status=open|overdue|done|verified|all (default open),
    oldest due first, at most 1000."""
    session = db()
    query = actions.visible_actions(current_user)
    if (workshop := _asked_workshop(session)) is not None:
        query = query.where(CorrectiveAction.workshop_id == workshop.id)
    status = request.args.get("status", "open")
    days = plant_days(session)  # overdue at each action's own plant
    rows = session.exec(actions.with_details(actions.action_filter(query, status, days))
                        .order_by(CorrectiveAction.due_on, CorrectiveAction.id).limit(1000)).all()
    return jsonify(status=status, actions=[action_json(a, days.of(a.workshop)) for a in rows])


def _action_or_404(action_id: int) -> CorrectiveAction:
    action = db().get(CorrectiveAction, action_id)
    if action is None or not can_see_workshop(session=db(), user=current_user, workshop_id=action.workshop_id):
        abort(404, "no such action")
    return action


def _answer(action_id: int, status: int = 200):
    session = db()
    action = session.get(CorrectiveAction, action_id)
    return jsonify(action_json(action, plant_days(session).of(action.workshop))), status


def _refused(exc: actions.ActionError | redtags.RedTagError):
    db().rollback()
    raise ApiProblem(exc.status, exc.code, str(exc))


def _not_allowed(message: str):
    raise ApiProblem(403, "not_allowed", message)


@bp.get("/actions/<int:action_id>")
@operation(summary="Read a corrective action", tags=["actions"], ok={200: ActionOut}, query=NoQuery)
def get_action(action_id: int):
    _action_or_404(action_id)
    return _answer(action_id)


@bp.post("/actions/<int:action_id>/assign")
@operation(summary="Assign an action (owner, due day, priority, what to do)", tags=["actions"],
           ok={200: ActionOut}, body=AssignBody)
def assign_action(action_id: int):
    action = _action_or_404(action_id)
    if not actions.may_manage(session=db(), user=current_user, action=action):  # who may, before what was sent
        _not_allowed("only a manager or the workshop's supervisor assigns actions")
    body = json_body(AssignBody)
    owner_id = None
    if body.get("owner"):
        owner = db().exec(select(User).where(User.username == body["owner"])).first()
        if owner is None:
            raise ApiProblem(422, "owner_out_of_scope", "no such user", items=["owner"])
        owner_id = owner.id
    try:
        actions.assign(session=db(), user=current_user, action=action, owner_id=owner_id,
                       due_on=body.get("due_on") or action.due_on,
                       priority=body.get("priority") or action.priority.value,
                       action_text=body.get("action", action.action_text))
    except actions.ActionError as exc:
        _refused(exc)
    db().commit()
    return _answer(action_id)


@bp.post("/actions/<int:action_id>/start")
@operation(summary="Start work on an action", tags=["actions"], ok={200: ActionOut}, body=NoBody)
def start_action(action_id: int):
    action = _action_or_404(action_id)
    if not actions.may_work_on(session=db(), user=current_user, action=action):
        _not_allowed("only the owner or a manager works on an action")
    json_body(NoBody, optional=True)
    try:
        actions.start(session=db(), user=current_user, action=action)
    except actions.ActionError as exc:
        _refused(exc)
    db().commit()
    return _answer(action_id)


def _form(allowed: set[str]) -> None:
    if request.mimetype != "multipart/form-data":
        raise ApiProblem(415, "unsupported_media_type", "send multipart/form-data")
    unknown = sorted((set(request.files) | set(request.form)) - allowed)
    if unknown:
        raise ApiProblem(422, "unknown_field", f"unknown fields: {', '.join(unknown)}", items=unknown)


def _photo() -> bytes | None:
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    data = upload.read()
    upload.close()
    return data


@bp.post("/actions/<int:action_id>/done")
@operation(summary="Mark an action done, with its after-photo", tags=["actions"], ok={200: ActionOut},
           form=DoneForm)
@reads_first  # the photo is decoded before the write lock is asked for
def done_action(action_id: int):
    """multipart/form-data: `photo` (the after-photo, required) and `comment`; `X-Change-Key` (16–64 of
    A–Z a–z 0–9 _ -) makes a retry return the first answer."""
    action = _action_or_404(action_id)
    if not actions.may_work_on(session=db(), user=current_user, action=action):
        _not_allowed("only the owner or a manager works on an action")
    _form({"photo", "comment"})
    try:
        actions.mark_done(session=db(), user=current_user, action=action, photo=_photo(),
                          comment=request.form.get("comment", ""), store=storage(),
                          client_key=request.headers.get("X-Change-Key"))
        db().commit()
    except actions.ActionError as exc:
        _refused(exc)
    except IntegrityError:  # the same key arriving twice at once: the retry finds the first
        db().rollback()
        raise ApiProblem(409, "conflict", "the same change is being made: retry",
                         headers={"Retry-After": "1"}) from None
    return _answer(action_id)


@bp.post("/actions/<int:action_id>/verify")
@operation(summary="Verify a done action (closes it)", tags=["actions"], ok={200: ActionOut}, body=CommentBody)
def verify_action(action_id: int):
    action = _action_or_404(action_id)
    if not actions.may_verify(session=db(), user=current_user, action=action):
        _not_allowed("only a manager or the next inspector verifies an action")
    body = json_body(CommentBody, optional=True)
    try:
        actions.verify(session=db(), user=current_user, action=action, comment=body.get("comment") or "")
    except actions.ActionError as exc:
        _refused(exc)
    db().commit()
    return _answer(action_id)


@bp.post("/actions/<int:action_id>/return")
@operation(summary="Return a done action: not fixed (says why)", tags=["actions"], ok={200: ActionOut},
           body=CommentBody)
def return_action(action_id: int):
    action = _action_or_404(action_id)
    if not actions.may_verify(session=db(), user=current_user, action=action):
        _not_allowed("only a manager or the next inspector returns an action")
    body = json_body(CommentBody)
    try:
        actions.send_back(session=db(), user=current_user, action=action, comment=body.get("comment") or "")
    except actions.ActionError as exc:
        _refused(exc)
    db().commit()
    return _answer(action_id)


# ---- red tags

def tag_json(t: RedTag, workshop: Workshop, today: date) -> dict:
    return {
        "id": t.id, "number": t.number, "workshop": workshop.code, "what": t.what, "quantity": t.quantity,
        "location": t.location, "reason": t.reason.value, "note": t.note or None,
        "tagged_on": t.tagged_on.isoformat(), "hold_until": t.hold_until.isoformat(),
        "days_left": t.days_left(today), "status": t.status.value,
        "outcome": t.outcome.value if t.outcome else None, "outcome_note": t.outcome_note or None,
        "decided_at": _iso(t.decided_at), "photo": url_for("redtags.photo", tag_id=t.id),
    }


@bp.get("/red-tags")
@operation(summary="List red tags (the register)", tags=["red tags"], ok={200: RedTags}, query=RedTagFilters)
def list_red_tags():
    """?workshop=CODE&status=open|overdue|decided|all (default open): the tag whose holding period ends first
    first, at most 1000."""
    session = db()
    query = redtags.visible_tags(current_user)
    if (workshop := _asked_workshop(session)) is not None:
        query = query.where(RedTag.workshop_id == workshop.id)
    status = request.args.get("status", "open")
    days = plant_days(session)
    rows = session.exec(redtags.register_filter(query, status, days).order_by(RedTag.hold_until, RedTag.id)
                        .limit(1000)).all()
    found = {w.id: w for w in session.exec(select(Workshop).where(Workshop.id.in_({t.workshop_id for t in rows})))
             } if rows else {}
    return jsonify(status=status, red_tags=[tag_json(t, found[t.workshop_id], days.of(found[t.workshop_id]))
                                            for t in rows])


def _tag_or_404(tag_id: int) -> RedTag:
    tag = db().get(RedTag, tag_id)
    if tag is None or not can_see_workshop(session=db(), user=current_user, workshop_id=tag.workshop_id):
        abort(404, "no such red tag")
    return tag


def _tag_answer(tag_id: int, status: int = 200):
    tag = db().get(RedTag, tag_id)
    workshop = db().get(Workshop, tag.workshop_id)
    return jsonify(tag_json(tag, workshop, plant_days(db()).of(workshop))), status


@bp.get("/red-tags/<int:tag_id>")
@operation(summary="Read a red tag", tags=["red tags"], ok={200: RedTagOut}, query=NoQuery)
def get_red_tag(tag_id: int):
    _tag_or_404(tag_id)
    return _tag_answer(tag_id)


@bp.post("/workshops/<code>/red-tags")
@operation(summary="Raise a red tag, with its photo", tags=["red tags"], ok={201: RedTagOut}, form=RedTagForm)
@reads_first  # the photo is decoded before the write lock is asked for
def raise_red_tag(code: str):
    """multipart/form-data: `what`, `location`, `reason`, `holding_days`, `quantity`, `note`, `photo`;
    `X-Change-Key` (16–64 of A–Z a–z 0–9 _ -) makes a retry return the tag raised the first time."""
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    if not redtags.may_tag(session=session, user=current_user, workshop_id=workshop.id):
        _not_allowed("only someone who inspects this workshop raises red tags")
    _form({"what", "location", "reason", "holding_days", "quantity", "note", "photo"})
    form = request.form
    days = form.get("holding_days", "")
    if days and not days.isdigit():
        raise ApiProblem(422, "bad_holding", "holding_days is a whole number of days", items=["holding_days"])
    try:
        tag = redtags.raise_tag(session=session, user=current_user, workshop=workshop, what=form.get("what", ""),
                                location=form.get("location", ""), reason=form.get("reason", ""),
                                holding_days=int(days) if days else None, photo=_photo(), store=storage(),
                                quantity=form.get("quantity", ""), note=form.get("note", ""),
                                client_key=request.headers.get("X-Change-Key"))
        session.commit()
    except redtags.RedTagError as exc:
        _refused(exc)
    except IntegrityError:  # the same key twice at once, or two tags taking one number: the retry sorts it out
        session.rollback()
        raise ApiProblem(409, "conflict", "the same tag is being raised: retry", headers={"Retry-After": "1"}) from None
    return _tag_answer(tag.id, 201)


@bp.post("/red-tags/<int:tag_id>/decide")
@operation(summary="Decide a red tag (dispose, return, move, keep)", tags=["red tags"], ok={200: RedTagOut},
           body=DecideBody)
def decide_red_tag(tag_id: int):
    tag = _tag_or_404(tag_id)
    if not redtags.may_tag(session=db(), user=current_user, workshop_id=tag.workshop_id):
        _not_allowed("only someone who inspects this workshop decides red tags")
    body = json_body(DecideBody)
    try:
        redtags.decide(session=db(), user=current_user, tag=tag, outcome=body["outcome"],
                       note=body.get("note") or "")
    except redtags.RedTagError as exc:
        _refused(exc)
    db().commit()
    return _tag_answer(tag_id)
