"""Account use cases and the one place where access rules live."""

from __future__ import annotations

import hashlib
import secrets

from flask import abort
from sqlalchemy import exists
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import ApiToken, Plant, Role, User, UserWorkshop, Workshop

MIN_PASSWORD_LENGTH = 8
# Roles that see every workshop; the others see only the workshops they are assigned to.
ALL_WORKSHOP_ROLES = {Role.admin, Role.manager}
INSPECTING_ROLES = {Role.admin, Role.manager, Role.supervisor, Role.auditor}


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_user(
    *, session: Session, username: str, password: str, role: Role | str, display_name: str | None = None,
    workshop_codes: list[str] | tuple[str, ...] = (),
) -> User:
    username = username.strip()
    if not username:
        raise AccountError("username is required")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    try:
        role = Role(role)
    except ValueError as exc:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}") from exc
    if session.exec(select(User).where(User.username == username)).first():
        raise AccountError(f"user {username!r} already exists")
    workshops = []
    for code in workshop_codes:
        workshop = session.exec(select(Workshop).where(Workshop.code == code)).first()
        if workshop is None:
            raise AccountError(f"no workshop with code {code!r}")
        workshops.append(workshop)
    user = User(username=username, display_name=display_name or username, role=role,
                password_hash=hash_password(password), workshops=workshops)
    session.add(user)
    session.flush()
    return user


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        # Spend the same time as a real check so that timing does not tell which usernames exist.
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def create_api_token(*, session: Session, user: User) -> str:
    """Returns the token once; only its hash is stored."""
    token = "6s_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=hashlib.sha256(token.encode()).hexdigest()))
    session.flush()
    return token


def user_for_token(*, session: Session, token: str) -> User | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = session.exec(
        select(User).join(ApiToken).where(ApiToken.token_sha256 == digest, ApiToken.revoked_at.is_(None))
    ).first()
    return row if row is not None and row.active else None


# ---- access rules: every view and API call asks these, nothing else decides ----

def visible_workshops(user: User):
    """A SELECT of the workshops this user may see, ordered for display."""
    query = select(Workshop).join(Plant).order_by(Plant.code, Workshop.code)
    if user.role in ALL_WORKSHOP_ROLES:
        return query
    return query.where(
        exists().where(UserWorkshop.workshop_id == Workshop.id, UserWorkshop.user_id == user.id)
    )


def can_see_workshop(*, session: Session, user: User, workshop_id: int) -> bool:
    if user.role in ALL_WORKSHOP_ROLES:
        return True
    return session.get(UserWorkshop, (user.id, workshop_id)) is not None


def can_inspect(*, session: Session, user: User, workshop_id: int) -> bool:
    return user.role in INSPECTING_ROLES and can_see_workshop(session=session, user=user, workshop_id=workshop_id)


def get_visible_workshop_or_404(*, session: Session, user: User, code: str) -> Workshop:
    workshop = session.exec(select(Workshop).where(Workshop.code == code)).first()
    # Outside the user's scope looks exactly like "does not exist": codes and ids cannot be probed.
    if workshop is None or not can_see_workshop(session=session, user=user, workshop_id=workshop.id):
        abort(404)
    return workshop


