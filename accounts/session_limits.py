"""How long a signed-in browser stays signed in.

Two limits end a session: idle (not used for so long) and lifetime (begun so long ago). The app-wide ones
(SESSION_IDLE_DAYS 14, SESSION_MAX_DAYS 90) suit a plant's own tablets: the weekly round must not begin with a
sign-in. A plant may set shorter ones for every other browser (an office PC, a borrowed phone, a kiosk):
`Plant.session_idle_hours` / `Plant.session_max_days`. A browser is the person's known tablet when its device cookie
shows they signed in on it before (accounts.devices). The limits are fixed when the session begins (the strictest
of the person's plants), so checking them costs nothing per request; shortening a plant's limits applies to
sign-ins from then on (end the others with "sign out everywhere" when it must be at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

import clock
from accounts.models import Plant, User, UserPlant, UserSession, UserWorkshop, Workshop
from accounts.places import site_audit
from accounts.service import AccountError

MAX_IDLE_HOURS = 24 * 90
MAX_SESSION_DAYS = 365


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    lifetime: timedelta


def plants_of(session: Session, user: User) -> list[Plant]:
    granted = select(Plant).join(UserPlant, UserPlant.plant_id == Plant.id).where(UserPlant.user_id == user.id)
    through_workshops = (select(Plant).join(Workshop, Workshop.plant_id == Plant.id)
                         .join(UserWorkshop, UserWorkshop.workshop_id == Workshop.id)
                         .where(UserWorkshop.user_id == user.id))
    found = {plant.id: plant for plant in session.exec(granted)}
    found.update({plant.id: plant for plant in session.exec(through_workshops)})
    return list(found.values())


def limits_for_new_session(session: Session, user: User, known_device: bool) -> tuple[int | None, int | None]:
    """(idle hours, max days) to begin a session with: None, None on the person's known tablet (the app's long
    limits); else the strictest its plants set (None where none sets one)."""
    if known_device:
        return None, None
    plants = plants_of(session, user)
    idle = min((p.session_idle_hours for p in plants if p.session_idle_hours), default=None)
    days = min((p.session_max_days for p in plants if p.session_max_days), default=None)
    return idle, days


def limits_of(user_session: UserSession, default: Limits) -> Limits:
    """A session's own limits, never longer than the app-wide ones."""
    idle = timedelta(hours=user_session.idle_hours) if user_session.idle_hours else default.idle
    lifetime = timedelta(days=user_session.max_days) if user_session.max_days else default.lifetime
    return Limits(idle=min(idle, default.idle), lifetime=min(lifetime, default.lifetime))


def still_live(user_session: UserSession, default: Limits, now: datetime | None = None) -> bool:
    now = now or clock.now()
    limits = limits_of(user_session, default)
    return (clock.as_utc(user_session.last_seen_at) >= now - limits.idle
            and clock.as_utc(user_session.created_at) >= now - limits.lifetime)


def set_session_limits(*, session: Session, actor: User | None, plant: Plant, idle_hours: int | None,
                       max_days: int | None) -> None:
    """A plant's limits for browsers that are not a known tablet (None: the app-wide ones)."""

    if idle_hours is not None and not 1 <= idle_hours <= MAX_IDLE_HOURS:
        raise AccountError(f"空闲时限为 1 到 {MAX_IDLE_HOURS} 小时", code="bad_session_idle", detail=str(idle_hours))
    if max_days is not None and not 1 <= max_days <= MAX_SESSION_DAYS:
        raise AccountError(f"登录有效期为 1 到 {MAX_SESSION_DAYS} 天", code="bad_session_max",
                           detail=str(max_days))
    old = {"session_idle_hours": plant.session_idle_hours, "session_max_days": plant.session_max_days}
    new = {"session_idle_hours": idle_hours, "session_max_days": max_days}
    if old != new:
        plant.session_idle_hours, plant.session_max_days = idle_hours, max_days
        session.flush()
        site_audit(session, actor, "plant.session_limits", plant, old=old, new=new)
