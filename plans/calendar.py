"""A user's plan occurrences as an iCalendar (RFC 5545) document, through the `icalendar` library: one all-day
event per occurrence spanning its window, so a phone's calendar shows the week's inspections. Pure: the caller
passes the occurrences and how to name and link them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from plans.recurrence import State
from plans.service import Occurrence

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
