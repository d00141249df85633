"""Each user's plan occurrences as a calendar feed at a secret address: the address (only its digest kept, shown
once, revocable), what it shows, and the iCalendar (RFC 5545) document made with the `icalendar` library: one
all-day event per occurrence spanning its window, so a phone's calendar shows the week's inspections."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlmodel import Session, select

import audit.service as audit
import clock
from accounts.days import PlantDays
from accounts.models import User
from accounts.service import can_inspect, is_usable, visible_workshops
from plans.models import CalendarFeed
from plans.occurrences import Occurrence, occurrences
from plans.recurrence import State
from plans.service import visible_plans

FEED_PAST_DAYS = 28
FEED_FUTURE_DAYS = 92

STATE_WORDS = {State.upcoming: "未开始", State.due: "待检", State.overdue: "已超期", State.missed: "漏检",
               State.done: "已完成", State.skipped: "已跳过"}


def calendar_of(found: list[Occurrence], *, name: str, workshop_name: Callable[[int], str],
                link: Callable[[Occurrence], str], host: str, stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//6S Inspect//plans//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval;value=duration", "PT6H")  # RFC 7986: phones poll a few times a day
    for occurrence in found:
        event = Event()
        state = STATE_WORDS[occurrence.state]
        event.add("uid", f"{occurrence.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("summary", f"6S 检查 · {workshop_name(occurrence.workshop_id)}（{state}）")
        event.add("dtstart", occurrence.window.opens_on)
        event.add("dtend", occurrence.window.closes_on + timedelta(days=1))  # all-day: the end is exclusive
        event.add("url", link(occurrence))
        lines = [f"状态：{state}", f"检查窗口：{occurrence.window.opens_on} – {occurrence.window.closes_on}"]
        if occurrence.late_until:
            lines.append(f"可补检至：{occurrence.late_until}")
        if occurrence.skip is not None:
            lines.append(f"跳过原因：{occurrence.skip.reason}")
        lines.append(link(occurrence))
        event.add("description", "\n".join(lines))
        event.add("status", "CANCELLED" if occurrence.state == State.skipped else "CONFIRMED")
        event.add("transp", "TRANSPARENT")  # a window is not a meeting: it does not block the day
        calendar.add_component(event)
    return calendar.to_ical()


def _feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_calendar_feed(session: Session, user: User) -> str:
    """A new secret address for the user's calendar (the old one stops working). Only its digest is kept: the
    token is shown once."""
    token = secrets.token_urlsafe(24)
    feed = session.get(CalendarFeed, user.id)
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token_sha256=_feed_digest(token))
        session.add(feed)
    else:
        feed.token_sha256, feed.created_at = _feed_digest(token), clock.now()
    session.flush()
    audit.record(session, actor=user, action="calendar.new", object_type="user", object_id=user.id)
    return token


def revoke_calendar_feed(session: Session, user: User) -> bool:
    feed = session.get(CalendarFeed, user.id)
    if feed is None:
        return False
    session.delete(feed)
    session.flush()
    audit.record(session, actor=user, action="calendar.revoke", object_type="user", object_id=user.id)
    return True


def calendar_feed_of(session: Session, user: User):

    return session.get(CalendarFeed, user.id)


def feed_user(session: Session, token: str) -> User | None:
    """The active user whose feed this token opens, or None."""
    if not token or len(token) > 100:
        return None
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.token_sha256 == _feed_digest(token))).first()
    user = session.get(User, feed.user_id) if feed else None
    return user if user is not None and is_usable(user, session=session) else None


def feed_occurrences(session: Session, user: User, days: PlantDays) -> list[Occurrence]:
    """What the user's calendar shows: their occurrences from four weeks back to three months ahead, at the
    workshops they may inspect."""
    ids = {w.id for w in session.exec(visible_workshops(user))
           if can_inspect(session=session, user=user, workshop_id=w.id)}
    plans = visible_plans(session, user)
    today = days.latest()
    found = occurrences(session, plans, today - timedelta(days=FEED_PAST_DAYS),
                        today + timedelta(days=FEED_FUTURE_DAYS), days, workshop_ids=ids)
    return [o for o in found if o.for_user(user.id)]
