from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_login import current_user
from sqlmodel import select

import clock
from accounts.models import Plant, Workshop
from accounts.service import (
    SignInRefused,
    can_inspect,
    confirm_password,
    get_visible_workshop_or_404,
    visible_workshops,
)
from accounts.views import load_user_from_request, this_device
from api.answers import InspectionOut, League, SavedAnswer, Started, Trend, Workshops
from api.idempotency import keep_answer, replay_or_claim
from api.openapi import operation
from api.problems import ApiProblem, as_problem, json_body, problem
from api.schemas import AnswerBody, LeagueQuery, NoQuery, StartBody, SubmitBody, TrendQuery
from checklists.models import ChecklistItem
from checklists.schemes import scheme_from_dict
from clock.periods import PeriodError, parse_month, parse_period
from database import db, reads_first
from inspections.answering import MAX_CHANGE_KEY, save_answer
from inspections.models import Inspection
from inspections.representation import answer_fields, inspection_json
from inspections.scoring import NA
from inspections.service import (
    InspectionError,
    answer_value,
    can_edit,
    get_visible_inspection,
    parse_score,
)
from inspections.signatures import SignatureError, clean_signature_image
from inspections.starting import start_inspection
from inspections.submission import submit_inspection
from inspections.trends import like_for_like_points, workshop_trend
from reports.context import monthly_league

bp = Blueprint("api", __name__, url_prefix="/api/v1")
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="6S Inspect"'}


@bp.errorhandler(ApiProblem)
def _problem(exc: ApiProblem):
    return problem(exc.status, exc.detail, exc.code, exc.items, headers=exc.headers, **exc.extra)


@bp.after_request
def _problem_details(response):
    """Every error answer of the API in one shape (RFC 9457), whichever way the route made it; the answer to a
    POST with an Idempotency-Key kept as it leaves."""
    return keep_answer(as_problem(response))

@bp.before_request
def _authenticate():
    if request.endpoint in ("api.openapi_json", "api.reference"):  # the API's description is public
        return None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        # An explicit token speaks for its own user, even when a browser session cookie comes along.

        user = load_user_from_request(request)
        if user is None:
            return problem(401, "invalid or revoked token", "invalid_token",
                           headers=WWW_AUTHENTICATE | {"WWW-Authenticate": 'Bearer realm="6S Inspect", '
                                                                          'error="invalid_token"'})
        g._login_user = user  # Flask-Login's per-request user
    if not current_user.is_authenticated:
        return problem(401, headers=WWW_AUTHENTICATE)
    bearer = request.headers.get("Authorization", "").startswith("Bearer ")
    if not bearer and request.method not in ("GET", "HEAD", "OPTIONS"):
        # A browser session (cookie) must prove the request came from our pages.
        current_app.extensions["csrf_protect"].protect()
    return None


@bp.before_request
def _idempotency_first():
    """A POST with an Idempotency-Key: the answer to the first request with that key, if there was one."""
    return replay_or_claim(current_user)

def inspection_refusal(exc: InspectionError):
    body = {"error": str(exc), "code": exc.code}
    if exc.items:
        body["items"] = exc.items
    if exc.choices:
        body["choices"] = [{"checklist": v.checklist.key, "name": v.name or v.checklist.name, "version": v.number}
                           for v in exc.choices]
    if exc.current is not None:
        body["current"] = {"score": answer_value(exc.current), "note": exc.current.note, "flagged": exc.current.flagged,
                           "revision": exc.current.revision, "updated_by": exc.current.updated_by_id,
                           "updated_at": _iso(exc.current.updated_at)}
    return jsonify(body), exc.status

def _not_editable(inspection: Inspection):
    """The refusal for someone who may not change this inspection (None: they may)."""
    if can_edit(current_user, inspection):
        return None
    if inspection.locked:
        return inspection_refusal(InspectionError("locked", "this inspection is submitted and locked", status=409))
    return inspection_refusal(InspectionError("not_allowed", "only the inspector can change this inspection",
                                              status=403))


def inspection_or_404(inspection_id: int) -> Inspection:
    inspection = get_visible_inspection(session=db(), user=current_user, inspection_id=inspection_id)
    if inspection is None:
        abort(404, "no such inspection")
    return inspection

def _iso(value):
    return value.isoformat() if value else None

def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)

@bp.get("/workshops")
@operation(summary="List workshops", tags=["workshops"], ok={200: Workshops}, query=NoQuery)
def workshops():
    rows: list[Workshop] = db().exec(visible_workshops(current_user)).all()
    return jsonify(workshops=[{"code": w.code, "name": w.name, "plant": w.plant.code} for w in rows])

@bp.post("/workshops/<code>/inspections")
@operation(summary="Start an inspection", tags=["inspections"], ok={201: Started}, body=StartBody)
def start(code: str):
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    if not can_inspect(session=session, user=current_user, workshop_id=workshop.id):  # who may, before what was sent
        return inspection_refusal(InspectionError("not_allowed", "you may not inspect this workshop", status=403))
    body = json_body(StartBody, optional=True)
    try:
        inspection = start_inspection(session=session, user=current_user, workshop=workshop,
                                      checklist_key=body.get("checklist") or None)
    except InspectionError as exc:
        return inspection_refusal(exc)
    session.commit()
    return jsonify(id=inspection.id, checklist=inspection.version.checklist.key,
                   version=inspection.version.number), 201

@bp.put("/inspections/<int:inspection_id>/answers/<item_key>")
@operation(summary="Answer an item", tags=["inspections"], ok={200: SavedAnswer}, body=AnswerBody)
@reads_first
def put_answer(inspection_id: int, item_key: str):
    session = db()
    inspection = inspection_or_404(inspection_id)
    refused = _not_editable(inspection)
    if refused is not None:  # who may, before what was sent
        return refused
    body = json_body(AnswerBody)
    scheme = scheme_from_dict(inspection.version.scheme)
    value = given_value(body, scheme, item_key)
    note, flagged = body.get("note"), body.get("flagged")
    revision, change_key = body.get("revision"), body.get("change_key")
    if change_key is not None and not 0 < len(change_key.strip()) <= MAX_CHANGE_KEY:
        # never cut to length: two keys sharing their first characters would make the second change a no-op
        return jsonify(error=f"change_key must be text of 1 to {MAX_CHANGE_KEY} characters",
                       code="bad_change_key", items=["change_key"]), 422
    try:
        answer = save_answer(session=session, user=current_user, inspection=inspection, item_key=item_key,
                             value=value, note=note, change_key=change_key, base_revision=revision, flagged=flagged)
    except InspectionError as exc:
        if exc.code == "conflict":
            session.commit()  # keep the refused value in the history
        return inspection_refusal(exc)
    except ValueError as exc:
        return jsonify(error=str(exc), items=[item_key]), 422
    # The answer as saved, read before the commit expires it (after, each attribute would query again); only a
    # counting sheet needs the item (its deduction).
    item = session.get(ChecklistItem, answer.item_id) if scheme.counted else None
    saved = dict(item=item_key, **answer_fields(answer, item, scheme), note=answer.note, flagged=answer.flagged,
                 revision=answer.revision)
    session.commit()
    return jsonify(saved)


def given_value(body: dict, scheme, item_key: str, *, required: bool = True):
    """The answer a body gives — exactly one of "score", "count" (counting sheets) or "level" (a named grade's
    label) — as a stored value; None when it gives none and none is required. Refusals name the item."""
    given = [name for name in ("score", "count", "level") if name in body]
    if not given and not required:
        return None
    if len(given) != 1:
        answer_field = '"count": 0..n or "na"' if scheme.counted else \
            f'"score": {"|".join(str(o.value) for o in scheme.options)} or "na" (or "level": a label)'
        raise ApiProblem(422, "bad_answer", f'expected JSON {{{answer_field}, "note": "…", "flagged": true|false}}')
    if given[0] == "count" and not scheme.counted:
        raise ApiProblem(422, "bad_answer", 'this sheet scores levels: send "score" (points) or "level" (a label)',
                         items=[item_key])
    if given[0] == "level" and scheme.counted:
        raise ApiProblem(422, "bad_answer", 'this sheet counts occurrences: send "count"', items=[item_key])
    raw = body[given[0]]
    if given[0] == "level" and raw != NA:
        raw = scheme.value_for_label(str(raw))
        if raw is None:
            raise ApiProblem(422, "invalid_score", f'level must be one of '
                             f'{", ".join(o.label for o in scheme.options)} or "na"', items=[item_key])
    try:
        return parse_score(raw)
    except ValueError as exc:
        raise ApiProblem(422, "invalid_score", str(exc), items=[item_key]) from exc


@bp.post("/inspections/<int:inspection_id>/submit")
@operation(summary="Sign and submit an inspection", tags=["inspections"], ok={200: InspectionOut}, body=SubmitBody)
def submit(inspection_id: int):
    session = db()
    inspection = inspection_or_404(inspection_id)
    repeated = inspection.locked and inspection.inspector_id == current_user.id  # the inspector's second tap
    refused = None if repeated else _not_editable(inspection)
    if refused is not None:  # who may, before what was sent
        return refused
    # read strictly: a body cut short (a signature half sent) must not submit without the signature it carried
    body = json_body(SubmitBody, optional=True)
    image = None
    if body.get("signature") and not inspection.locked:
        try:
            image = clean_signature_image(str(body["signature"]))
        except SignatureError as exc:
            return jsonify(error=str(exc), code=f"signature_{exc.code}"), 422
        refused = password_refused(body)
        if refused is not None:
            return refused
    try:
        submit_inspection(session=session, user=current_user, inspection=inspection, signature_image=image,
                          password_confirmed=image is not None)
    except InspectionError as exc:
        return inspection_refusal(exc)
    session.commit()
    return jsonify(inspection_json(db(), inspection))

def password_refused(body: dict):
    """A token is not the person: a signature needs the signer's password, as on the screen. The refusal (a wrong
    password counts towards the sign-in lock, as on the screen), or None."""
    try:
        confirm_password(session=db(), user=current_user, password=str(body.get("password") or ""),
                         address=(request.remote_addr or "unknown")[:64], device=this_device())
    except SignInRefused as refused:
        db().commit()  # the failure counts towards the lock
        status = 429 if refused.code == "locked" else 422
        return jsonify(error="the signer's password is required and must be right",
                       code=f"password_{refused.code}", items=["password"]), status
    return None


@bp.get("/inspections/<int:inspection_id>")
@operation(summary="Read an inspection", tags=["inspections"], ok={200: InspectionOut}, query=NoQuery)
def get_inspection(inspection_id: int):
    return jsonify(inspection_json(db(), inspection_or_404(inspection_id)))

@bp.get("/workshops/<code>/trend")
@operation(summary="A workshop's trend", tags=["analytics"], ok={200: Trend}, query=TrendQuery)
def trend(code: str):
    """?from=&to= (YYYY-MM-DD, local days; default: all history), ?view=like for the like-for-like scores."""

    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    zone = clock.zone_of(workshop.plant)
    since = until = None
    if request.args.get("from") or request.args.get("to"):
        try:
            period = parse_period(request.args.get("from"), request.args.get("to"), clock.today(zone))
            since, until = period.bounds(zone)
        except PeriodError as exc:
            return jsonify(error=str(exc), code=exc.code), 422
    points = workshop_trend(session=session, workshop_id=workshop.id, since=since, until=until)
    view, common = "full", None
    if request.args.get("view") == "like":
        points, keys = like_for_like_points(session=session, points=points)
        view, common = "like", sorted(keys)
    inspections = [
        {"id": p.inspection_id, "date": clock.local_day(p.submitted_at, zone).isoformat(),
         "submitted_at": _iso(p.submitted_at), "overall_percent": _round(p.overall_percent), "grade": p.grade,
         "categories": {k: _round(v) for k, v in p.category_percents.items()},
         "checklist": {"key": p.checklist_key, "version": p.version_number}}
        for p in points
    ]
    return jsonify(workshop=workshop.code, timezone=workshop.plant.timezone, view=view, common_items=common,
                   inspections=inspections)

@bp.get("/plants/<code>/league")
@operation(summary="A plant's monthly league of workshops", tags=["analytics"], ok={200: League}, query=LeagueQuery)
def league(code: str):
    """The month's ranking of the plant's workshops that the caller may see (?month=YYYY-MM, default this month)."""

    session = db()
    plant = session.exec(select(Plant).where(Plant.code == code)).first()
    workshops = [w for w in session.exec(visible_workshops(current_user)).all()
                 if plant is not None and w.plant_id == plant.id]
    if not workshops:
        return jsonify(error="no such plant in your scope", code="not_found"), 404
    try:
        month = parse_month(request.args.get("month"), clock.today(clock.zone_of(plant)))
    except PeriodError as exc:
        return jsonify(error=str(exc), code=exc.code), 422
    rows, names, _grades, count = monthly_league(session=session, workshops=workshops, month=month)
    return jsonify(
        plant=plant.code, timezone=plant.timezone, month=f"{month.start:%Y-%m}", ranking="failed_last",
        inspections=count,
        categories=[{"key": key, "name": name} for key, name in names.items()],
        workshops=[{
            "code": r.workshop_code, "name": r.workshop_name, "rank": r.rank, "inspections": r.inspections,
            "average": _round(r.average), "latest": _round(r.latest), "previous_average": _round(r.previous_average),
            "change": _round(r.change), "categories": {k: _round(v) for k, v in r.category_averages.items()},
            "passed": r.passed, "failed": r.failed, "checklists": list(r.checklists),
        } for r in rows],
    )
