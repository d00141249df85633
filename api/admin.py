"""The API of administration, for admins (like /admin on screen): plants and workshops listed and created, users
listed, created and changed (role, scope, active), and the audit trail read (newest first, with a cursor) — the
same rules as the screens (accounts.service). Refusals carry the domain's stable code with an English detail.
Routes join the API's blueprint."""

from __future__ import annotations

from datetime import UTC, timedelta

from flask import g, jsonify
from flask_login import current_user
from sqlmodel import select

import clock
from accounts.models import Plant, Role, User, Workshop
from accounts.places import create_plant, create_workshop, set_plant_timezone
from accounts.service import AccountError, UserChanges, create_user, is_admin, update_user
from admin.audit_scope import in_scope, may_read_trail
from api.answers import AuditPage, PlantOut, Plants, UserOut, Users, WorkshopOut
from api.openapi import operation
from api.problems import ApiProblem, json_body
from api.schemas import AuditFilters, NewPlantBody, NewUserBody, NewWorkshopBody, NoQuery, UserChangeBody
from api.views import bp
from audit.models import AuditEvent
from audit.service import events_query
from database import db

ADMIN_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 429)
# English for the API; the screens show the Chinese message of the same code
DETAILS = {
    "bad_username": "a username is 1 to 64 characters without spaces", "bad_role": "unknown role",
    "duplicate": "this username is taken", "duplicate_site": "this code is taken",
    "bad_site_code": "a code is 1 to 32 letters, digits, - or _", "bad_site_name": "a name is 1 to 200 characters",
    "bad_timezone": "unknown time zone (an IANA name such as Asia/Shanghai)", "bad_email": "not an e-mail address",
    "self_lockout": "you may not change your own role or disable yourself", "unknown_plant": "unknown plant",
    "unknown_workshop": "unknown workshop", "display_name_too_long": "the display name is too long",
}
FIELDS = {"bad_username": "username", "duplicate": "username", "bad_role": "role", "bad_site_code": "code",
          "duplicate_site": "code", "bad_site_name": "name", "bad_timezone": "timezone", "bad_email": "email",
          "unknown_plant": "plants", "unknown_workshop": "workshops", "display_name_too_long": "display_name",
          "self_lockout": "role"}


def _admins_only() -> None:
    if not is_admin(current_user):  # who may, before what was sent
        raise ApiProblem(403, "not_allowed", "administration is for admins")


def _refused(exc: AccountError):
    db().rollback()
    field = "password" if exc.code.startswith("password_") else FIELDS.get(exc.code)
    detail = DETAILS.get(exc.code) or ("the password is too weak or too common" if field == "password"
                                       else f"refused ({exc.code})")
    raise ApiProblem(409 if exc.code in ("duplicate", "duplicate_site") else 422, exc.code, detail,
                     items=[field] if field else None)


def plant_json(plant: Plant, workshops: list[Workshop]) -> dict:
    return {"code": plant.code, "name": plant.name, "timezone": plant.timezone,
            "workshops": [{"code": w.code, "name": w.name, "plant": plant.code} for w in workshops]}


@bp.get("/plants")
@operation(summary="List plants and their workshops (admins)", tags=["administration"], ok={200: Plants},
           query=NoQuery, errors=ADMIN_ERRORS)
def list_plants():
    _admins_only()
    workshops = db().exec(select(Workshop).order_by(Workshop.code)).all()
    return jsonify(plants=[plant_json(p, [w for w in workshops if w.plant_id == p.id])
                           for p in db().exec(select(Plant).order_by(Plant.code))])


@bp.post("/plants")
@operation(summary="Create a plant (admins)", tags=["administration"], ok={201: PlantOut}, body=NewPlantBody,
           errors=ADMIN_ERRORS)
def new_plant():
    _admins_only()
    body = json_body(NewPlantBody)
    try:
        plant = create_plant(session=db(), actor=current_user, code=body["code"], name=body["name"])
        if body.get("timezone"):
            set_plant_timezone(session=db(), actor=current_user, plant=plant, name=body["timezone"])
    except AccountError as exc:
        _refused(exc)
    db().commit()
    return jsonify(plant_json(plant, [])), 201


@bp.post("/plants/<code>/workshops")
@operation(summary="Create a workshop in a plant (admins)", tags=["administration"], ok={201: WorkshopOut},
           body=NewWorkshopBody, errors=ADMIN_ERRORS)
def new_workshop(code: str):
    _admins_only()
    plant = db().exec(select(Plant).where(Plant.code == code)).first()
    if plant is None:
        raise ApiProblem(404, "not_found", "no such plant")
    body = json_body(NewWorkshopBody)
    try:
        workshop = create_workshop(session=db(), actor=current_user, plant=plant, code=body["code"],
                                   name=body["name"])
    except AccountError as exc:
        _refused(exc)
    db().commit()
    return jsonify(code=workshop.code, name=workshop.name, plant=plant.code), 201


def user_json(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "role": user.role.value,
            "active": user.active, "may_inspect": user.may_inspect, "email": user.email,
            "access_expires_on": user.access_expires_on.isoformat() if user.access_expires_on else None,
            "plants": sorted(p.code for p in user.plants), "workshops": sorted(w.code for w in user.workshops)}


@bp.get("/users")
@operation(summary="List users (admins)", tags=["administration"], ok={200: Users}, query=NoQuery,
           errors=ADMIN_ERRORS)
def list_users():
    _admins_only()
    return jsonify(users=[user_json(u) for u in db().exec(select(User).order_by(User.username))])


@bp.post("/users")
@operation(summary="Create a user (admins)", tags=["administration"], ok={201: UserOut}, body=NewUserBody,
           errors=ADMIN_ERRORS)
def new_user():
    _admins_only()
    body = json_body(NewUserBody)
    try:
        user = create_user(session=db(), actor=current_user, username=body["username"], password=body["password"],
                           role=body["role"], display_name=body.get("display_name"),
                           workshop_codes=body.get("workshops", []), plant_codes=body.get("plants", []),
                           may_inspect=body.get("may_inspect", False), email=body.get("email"),
                           access_expires_on=body.get("access_expires_on"))
    except AccountError as exc:
        _refused(exc)
    db().commit()
    return jsonify(user_json(user)), 201


@bp.put("/users/<username>")
@operation(summary="Change a user: name, role, scope, active (admins)", tags=["administration"],
           ok={200: UserOut}, body=UserChangeBody, errors=ADMIN_ERRORS)
def change_user(username: str):
    """Fields left out keep their value; disabling a user ends their sessions, as on screen."""
    _admins_only()
    user = db().exec(select(User).where(User.username == username)).first()
    if user is None:
        raise ApiProblem(404, "not_found", "no such user")
    body = json_body(UserChangeBody)
    now = user_json(user)
    changes = UserChanges(
        display_name=body.get("display_name", user.display_name), role=Role(body.get("role", user.role.value)),
        active=body.get("active", user.active), may_inspect=body.get("may_inspect", user.may_inspect),
        access_expires_on=body.get("access_expires_on", user.access_expires_on),
        workshop_codes=body.get("workshops", now["workshops"]), plant_codes=body.get("plants", now["plants"]),
        email=body.get("email", user.email))
    try:
        update_user(session=db(), actor=current_user, user=user, changes=changes)
    except AccountError as exc:
        _refused(exc)
    db().commit()
    return jsonify(user_json(user))


@bp.get("/audit")
@operation(summary="Read the audit trail (admins all of it; managers and auditors their scope's)",
           tags=["administration"], ok={200: AuditPage}, query=AuditFilters, errors=ADMIN_ERRORS)
def audit_trail():
    """Newest first: ?action= &object_type= &object_id= &from= &to= (UTC days) &limit= (≤ 1000) &before= (the
    next_before of the previous page). A quality manager or an auditor reads the events about the plants and
    workshops of their scope; an administrator all of them."""
    if not may_read_trail(current_user):
        raise ApiProblem(403, "not_allowed", "the audit trail is for admins, quality managers and auditors")
    asked = g.query
    since = clock.day_start(asked.from_, UTC) if asked.from_ else None
    until = clock.day_start(asked.to + timedelta(days=1), UTC) if asked.to else None
    limit = asked.limit or 200
    query = events_query(action=asked.action, object_type=asked.object_type, object_id=asked.object_id,
                         since=since, until=until, limit=limit + 1).where(in_scope(current_user))
    if asked.before:
        query = query.where(AuditEvent.id < asked.before)
    rows = db().exec(query).all()
    page = rows[:limit]
    return jsonify(events=[{
        "id": e.id, "at": (e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)).isoformat(),
        "actor": e.actor_name or None, "action": e.action,
        "object_type": e.object_type, "object_id": e.object_id, "old": e.old_value, "new": e.new_value,
        "reason": e.reason, "sha256": e.sha256,
    } for e in page], next_before=page[-1].id if len(rows) > limit else None)
