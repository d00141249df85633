"""Account use cases and the one place where access rules live.

Scope: an admin sees everything; everyone else sees the workshops assigned to them plus every workshop of the
plants granted to them (managers and auditors get plants, supervisors workshops). Auditors read only, until
their access expiry day, and inspect only when granted. Every screen, fragment, photo, PDF, export and API
call asks the functions at the bottom of this module and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import abort
from sqlalchemy import delete, exists, func, or_
from sqlmodel import Session, select

import clock
from accounts.device_keys import revoke_all as revoke_device_keys
from accounts.devices import NO_DEVICE, Device
from accounts.models import (
    LoginAttempt,
    Plant,
    Role,
    User,
    UserPlant,
    UserSession,
    UserWorkshop,
    Workshop,
)
from accounts.passwords import check_against_nothing, check_password, hash_password, needs_rehash
from audit.service import record

MIN_PASSWORD_LENGTH = 10
MAX_DISPLAY_NAME_LENGTH = 64  # the name signs reports: the signature's signer_name column holds 64
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

# Sign-in rate limit: failures counted over a sliding window, per user name and per client address.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5  # per name, from browsers that never signed in as it; and per trusted browser
MAX_FAILURES_PER_ADDRESS = 30  # wrong names (no such user) from one address: someone guessing names
MAX_NAMES_PER_ADDRESS = 10  # different real names failing from one address: someone trying a password on many
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)


class AccountError(ValueError):
    """A refusal with a message for the user (Chinese; the views translate the known ones)."""

    def __init__(self, message: str, code: str = "invalid", detail: str = ""):
        super().__init__(message)
        self.code = code
        self.detail = detail  # the offending value, for the translated message


# ---- passwords ----

def _common_passwords() -> frozenset[str]:
    global _COMMON
    if _COMMON is None:
        lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
        _COMMON = frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))
    return _COMMON


_COMMON: frozenset[str] | None = None
_KEYBOARD_RUNS = ("abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm" * 2, "1qaz2wsx3edc4rfv5tgb6yhn7ujm")


def password_problem(password: str, username: str = "") -> str | None:
    """Why this password is refused (a code), or None. Length counts characters, so 中文 passwords work."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    lowered = password.lower()
    if (lowered in _common_passwords() or len(set(password)) < 4 or password.isdigit()
            or any(lowered in run for run in _KEYBOARD_RUNS)):
        return "common"  # digits only: phone numbers and dates, the first things a guesser tries
    if username and username.lower() in lowered:
        return "contains_username"
    return None


PASSWORD_MESSAGES = {
    "too_short": f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符",
    "too_long": f"密码最多 {MAX_PASSWORD_LENGTH} 个字符",
    "common": "这个密码太常见，很容易被猜到，请换一个",
    "contains_username": "密码不能包含用户名",
}


def check_new_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise AccountError(PASSWORD_MESSAGES[problem], code=f"password_{problem}")


# ---- users (every change is written to the audit trail) ----

def audit_user_change(session: Session, actor, action: str, user: User, old=None, new=None, reason=None) -> None:

    record(session, actor=actor, action=action, object_type="user", object_id=user.id, old=old, new=new,
           reason=reason)


def user_snapshot(user: User) -> dict:
    return {
        "username": user.username, "display_name": user.display_name, "email": user.email,
        "role": str(user.role),
        "active": user.active, "may_inspect": user.may_inspect,
        "access_expires_on": user.access_expires_on.isoformat() if user.access_expires_on else None,
        "workshops": sorted(w.code for w in user.workshops), "plants": sorted(p.code for p in user.plants),
    }


def _workshops_by_code(session: Session, codes) -> list[Workshop]:
    found = []
    for code in codes:
        workshop = session.exec(select(Workshop).where(Workshop.code == code)).first()
        if workshop is None:
            raise AccountError(f"没有编号为 {code} 的车间", code="unknown_workshop")
        found.append(workshop)
    return found


def _plants_by_code(session: Session, codes) -> list[Plant]:
    found = []
    for code in codes:
        plant = session.exec(select(Plant).where(Plant.code == code)).first()
        if plant is None:
            raise AccountError(f"没有编号为 {code} 的工厂", code="unknown_plant")
        found.append(plant)
    return found


def create_user(
    *, session: Session, username: str, password: str, role: Role | str, display_name: str | None = None,
    workshop_codes=(), plant_codes=(), may_inspect: bool = False, access_expires_on: date | None = None,
    actor: User | None = None, email: str | None = None,
) -> User:
    username = username.strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise AccountError("用户名不能为空、不能含空格，最多 64 个字符", code="bad_username")
    try:
        role = Role(role)
    except ValueError as exc:
        raise AccountError(f"未知角色 {role!r}；可用：{', '.join(r.value for r in Role)}", code="bad_role") from exc
    check_new_password(password, username)
    display_name = _display_name(display_name, username)
    if session.exec(select(User).where(func.lower(User.username) == username.lower())).first():
        raise AccountError(f"用户名 {username} 已存在", code="duplicate")
    user = User(username=username, display_name=display_name, role=role,
                password_hash=hash_password(password), workshops=_workshops_by_code(session, workshop_codes),
                plants=_plants_by_code(session, plant_codes), may_inspect=may_inspect,
                access_expires_on=access_expires_on, email=_email(email))
    session.add(user)
    session.flush()
    audit_user_change(session, actor, "user.create", user, new=user_snapshot(user))
    return user


def _display_name(name: str | None, username: str) -> str:
    name = " ".join((name or "").split()) or username
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise AccountError(f"姓名最多 {MAX_DISPLAY_NAME_LENGTH} 个字符", code="display_name_too_long")
    return name


@dataclass
class UserChanges:
    display_name: str
    role: Role
    active: bool
    may_inspect: bool
    access_expires_on: date | None
    workshop_codes: list[str]
    plant_codes: list[str]
    email: str | None = None


EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,180}\.[^@\s]{2,24}")


def _email(value: str | None) -> str | None:
    value = (value or "").strip()
    if value and not EMAIL.fullmatch(value):
        raise AccountError(f"邮箱地址 {value!r} 无效", code="bad_email")
    return value or None


def update_user(*, session: Session, actor: User, user: User, changes: UserChanges) -> User:
    if user.id == actor.id and (changes.role != user.role or not changes.active):
        raise AccountError("不能更改自己的角色或停用自己的账号", code="self_lockout")
    before = user_snapshot(user)
    user.display_name = _display_name(changes.display_name, user.username)
    user.email = _email(changes.email)
    user.role = changes.role
    user.may_inspect = changes.may_inspect and changes.role == Role.auditor
    user.access_expires_on = changes.access_expires_on
    user.workshops = _workshops_by_code(session, changes.workshop_codes)
    user.plants = _plants_by_code(session, changes.plant_codes)
    was_active, user.active = user.active, changes.active
    session.add(user)
    session.flush()
    after = user_snapshot(user)
    if after != before:
        audit_user_change(session, actor, "user.update", user, old=before, new=after)
    if was_active and not user.active:
        end_all_sessions(session=session, user=user, actor=actor, reason="user disabled")
    return user


def set_password(*, session: Session, actor: User | None, user: User, password: str) -> None:
    check_new_password(password, user.username)
    user.password_hash = hash_password(password)
    session.add(user)
    audit_user_change(session, actor, "user.password", user,
                      reason="set by an administrator" if actor and actor.id != user.id else "changed by the user")
    end_all_sessions(session=session, user=user, actor=actor, reason="password changed")


def verify_password(user: User, password: str) -> bool:
    return check_password(user.password_hash, password)


# ---- signing in, with a rate limit ----

class SignInRefused(Exception):
    def __init__(self, code: str, minutes: int = 0, day: date | None = None):
        super().__init__(code)
        self.code, self.minutes, self.day = code, minutes, day


def _locked(session: Session, now, *conditions) -> SignInRefused | None:
    """Refused while the failures matching conditions in the window reach the limit (the first condition)."""
    limit, *where = conditions
    count, oldest = session.exec(select(func.count(LoginAttempt.id), func.min(LoginAttempt.at))
                                 .where(LoginAttempt.at >= now - LOGIN_WINDOW, *where)).one()
    return _held_since(oldest, now) if count >= limit else None


def _held_since(oldest, now) -> SignInRefused:
    """Refused until the oldest failure counted leaves the window, in whole minutes (at least one)."""
    return SignInRefused("locked", minutes=max(1, int((clock.as_utc(oldest) + LOGIN_WINDOW - now)
                                                      .total_seconds() // 60) + 1))


def _spraying(session: Session, now, address: str, name: str) -> SignInRefused | None:
    """Many real names failing from one address (one password tried on each): other names are held too."""
    names = session.exec(select(LoginAttempt.username, func.min(LoginAttempt.at)).where(
        LoginAttempt.at >= now - LOGIN_WINDOW, LoginAttempt.address == address, LoginAttempt.known,
        LoginAttempt.trusted.is_(False)).group_by(LoginAttempt.username)).all()
    if len(names) < MAX_NAMES_PER_ADDRESS or name in {n for n, _ in names}:
        return None
    return _held_since(min(at for _, at in names), now)


def sign_in(*, session: Session, username: str, password: str, address: str, device: Device = NO_DEVICE) -> User:
    """The user, or SignInRefused("wrong" | "locked" | "expired").

    Wrong passwords are limited without letting anyone lock others out (a plant's tablets share one NAT address,
    a shared tablet serves several people):
    - per name, from browsers that never signed in as it: 5 in 15 minutes, then the name is held for them. A
      locked name is not even checked: the lock holds for the right password too, or it would not slow a guesser;
    - a browser that signed in as the name before (its device cookie, accounts.devices) is not held by that: it
      has its own 5;
    - per address, only what points to someone guessing: 30 unknown names, or 10 different real names failing
      (one password tried on many); then untrusted attempts from that address are held, except for the names
      already failing there, which their own limit holds.
    """
    name = username.strip().lower()[:64]
    address = address[:64]
    now = clock.now()
    trusted = device.trusted_for(name)
    if trusted:
        checks = [(MAX_FAILURES_PER_USER, LoginAttempt.username == name, LoginAttempt.device == device.device_id,
                   LoginAttempt.trusted)]
    else:
        checks = [(MAX_FAILURES_PER_USER, LoginAttempt.username == name, LoginAttempt.trusted.is_(False)),
                  (MAX_FAILURES_PER_ADDRESS, LoginAttempt.address == address, LoginAttempt.known.is_(False))]
    for conditions in checks:
        if (refused := _locked(session, now, *conditions)) is not None:
            raise refused
    if not trusted and (refused := _spraying(session, now, address, name)) is not None:
        raise refused
    user = session.exec(select(User).where(func.lower(User.username) == name)).first()
    if user is None:
        check_against_nothing(password)
        ok = False
    else:
        ok = check_password(user.password_hash, password) and user.active
    if not ok:
        session.add(LoginAttempt(username=name, address=address, device=device.device_id or "", trusted=trusted,
                                 known=user is not None))
        session.exec(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=1)))
        session.flush()
        raise SignInRefused("wrong")
    if user.access_expires_on is not None and user.access_expires_on < access_day(session=session, user=user):
        raise SignInRefused("expired", day=user.access_expires_on)
    if needs_rehash(user.password_hash):  # kept at another cost than today's PASSWORD_HASH: moved to it
        user.password_hash = hash_password(password)
        session.add(user)
    # the right password clears the failures of the side it came from: this browser's, or the untrusted ones
    session.exec(delete(LoginAttempt).where(LoginAttempt.username == name, *(
        (LoginAttempt.device == device.device_id, LoginAttempt.trusted) if trusted
        else (LoginAttempt.trusted.is_(False),))))
    return user


def confirm_password(*, session: Session, user: User, password: str, address: str,
                     device: Device = NO_DEVICE) -> None:
    """The signed-in user re-enters their password (before a signature). Counted and limited like a sign-in, so
    an unattended tablet cannot be used to guess it; raises SignInRefused. The caller commits a failure."""
    confirmed = sign_in(session=session, username=user.username, password=password, address=address, device=device)
    if confirmed.id != user.id:
        raise SignInRefused("wrong")


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """For scripts and tests: the user or None, without a rate limit."""
    user = session.exec(select(User).where(func.lower(User.username) == username.strip().lower())).first()
    if user is None:
        check_against_nothing(password)
        return None
    if not check_password(user.password_hash, password) or not user.active:
        return None
    return user



def is_usable(user: User | None, *, session: Session) -> bool:
    return bool(user and user.active and (user.access_expires_on is None
                                          or user.access_expires_on >= access_day(session=session, user=user)))


def access_day(*, session: Session, user: User) -> date:
    """The day an auditor's "access until" date is checked against. It is a day at the plants they audit (granted
    whole, or through a workshop), so it ends at midnight there, not on the server's clock. When those plants keep
    different zones the strictest counts: access ends as soon as the last day is over at any of them (the
    easternmost). Without any plant in scope: the default zone (Asia/Shanghai)."""
    plant_ids = {p.id for p in user.plants} | {w.plant_id for w in user.workshops}
    zones = session.exec(select(Plant.timezone).where(Plant.id.in_(plant_ids))).all() if plant_ids else []
    now = clock.now()
    return max((clock.local_day(now, clock.zone_named(name)) for name in zones),
               default=clock.today(clock.zone_named(None)))


# ---- sessions ----


# ---- API tokens ----


# ---- plants and workshops (the administrator's) ----


# ---- access rules: every view and API call asks these, nothing else decides ----

def visible_workshops(user: User):
    """A SELECT of the workshops this user may see, ordered for display."""
    query = select(Workshop).join(Plant).order_by(Plant.code, Workshop.code)
    if user.role == Role.admin:
        return query
    return query.where(or_(
        exists().where(UserWorkshop.workshop_id == Workshop.id, UserWorkshop.user_id == user.id),
        exists().where(UserPlant.plant_id == Workshop.plant_id, UserPlant.user_id == user.id),
    ))


def can_see_workshop(*, session: Session, user: User, workshop_id: int) -> bool:
    if user.role == Role.admin:
        return True
    if session.get(UserWorkshop, (user.id, workshop_id)) is not None:
        return True
    workshop = session.get(Workshop, workshop_id)
    return workshop is not None and session.get(UserPlant, (user.id, workshop.plant_id)) is not None


def may_inspect(user: User) -> bool:
    return user.role != Role.auditor or user.may_inspect


def can_inspect(*, session: Session, user: User, workshop_id: int) -> bool:
    return may_inspect(user) and can_see_workshop(session=session, user=user, workshop_id=workshop_id)


def is_manager(user: User) -> bool:
    """Checklists, review and sign-off, corrections: managers (and admins) only."""
    return user.role in (Role.admin, Role.manager)


def is_admin(user: User) -> bool:
    return user.role == Role.admin


def get_visible_workshop_or_404(*, session: Session, user: User, code: str) -> Workshop:
    workshop = session.exec(select(Workshop).where(Workshop.code == code)).first()
    # Outside the user's scope looks exactly like "does not exist": codes and ids cannot be probed.
    if workshop is None or not can_see_workshop(session=session, user=user, workshop_id=workshop.id):
        abort(404)
    return workshop


def end_all_sessions(*, session: Session, user: User, actor: User | None, reason: str) -> int:
    rows = session.exec(select(UserSession).where(UserSession.user_id == user.id,
                                                  UserSession.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = clock.now()
        session.add(row)
    # a tablet's offline signing key goes with the sessions: it signs for the person only while they are signed in
    keys = revoke_device_keys(session, user)
    session.flush()
    if rows or keys:
        audit_user_change(session, actor, "user.sessions_ended", user,
                          new={"sessions": len(rows), **({"device_keys": keys} if keys else {})}, reason=reason)
    return len(rows)
