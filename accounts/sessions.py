"""Sign-in sessions and API tokens: rows whose token's SHA-256 is stored, so that a sign-out, "sign out everywhere",
a password change or a disabled account ends them server-side (a copied cookie or token is dead)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, select

import clock
from accounts.models import ApiToken, User, UserSession
from accounts.service import audit_user_change, is_usable
from accounts.session_limits import limits_for_new_session


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(*, session: Session, user: User, address: str, user_agent: str, known_device: bool = False) -> str:
    """A new session token (for the cookie); only its hash is stored. Its limits are fixed now (session_limits)."""
    token = secrets.token_urlsafe(32)
    idle_hours, max_days = limits_for_new_session(session, user, known_device)
    session.add(UserSession(user_id=user.id, token_sha256=_digest(token), address=address[:64],
                            user_agent=user_agent[:200], idle_hours=idle_hours, max_days=max_days,
                            known_device=known_device))
    session.flush()
    return token


def session_for_token(*, session: Session, token: str, idle: timedelta | None = None,
                      lifetime: timedelta | None = None) -> UserSession | None:
    """The live session of a cookie's token: not ended, used within `idle`, begun within `lifetime`."""
    query = select(UserSession).where(UserSession.token_sha256 == _digest(token), UserSession.revoked_at.is_(None))
    now = clock.now()
    if idle is not None:
        query = query.where(UserSession.last_seen_at >= now - idle)
    if lifetime is not None:
        query = query.where(UserSession.created_at >= now - lifetime)
    return session.exec(query).first()


def end_session(*, session: Session, user_session: UserSession) -> None:
    user_session.revoked_at = clock.now()
    session.add(user_session)


def active_sessions(*, session: Session, user: User) -> list[UserSession]:
    return session.exec(select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
                        .order_by(UserSession.last_seen_at.desc())).all()


def create_api_token(*, session: Session, user: User, label: str = "", actor: User | None = None) -> str:
    """Returns the token once; only its hash is stored."""
    token = "6s_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_sha256=_digest(token), prefix=token[:10], label=label.strip()[:80])
    session.add(row)
    session.flush()
    audit_user_change(session, actor or user, "token.create", user, new={"token": row.id, "prefix": row.prefix,
                                                               "label": row.label})
    return token


def revoke_api_token(*, session: Session, actor: User, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.add(token)
        user = session.get(User, token.user_id)
        audit_user_change(session, actor, "token.revoke", user, old={"token": token.id, "prefix": token.prefix})


def api_token_for(*, session: Session, token: str) -> ApiToken | None:
    """The live (not revoked) token row for a presented token."""
    return session.exec(
        select(ApiToken).where(ApiToken.token_sha256 == _digest(token), ApiToken.revoked_at.is_(None))
    ).first()


def token_and_user(*, session: Session, token: str, max_age: timedelta | None = None) -> tuple[ApiToken, User] | None:
    """The live token row for a presented token and its user, in one query (it runs before every API call), or
    None when the token is unknown, revoked, older than max_age (API_TOKEN_MAX_DAYS) or its user may no longer
    sign in."""
    query = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
             .where(ApiToken.token_sha256 == _digest(token), ApiToken.revoked_at.is_(None)))
    if max_age is not None:
        query = query.where(ApiToken.created_at >= clock.now() - max_age)
    row = session.exec(query).first()
    if row is None or not is_usable(row[1], session=session):
        return None
    return row[0], row[1]


def user_for_token(*, session: Session, token: str) -> User | None:
    found = token_and_user(session=session, token=token)
    return found[1] if found else None
