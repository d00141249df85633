"""Plan reminders for the daily run: which occurrences open tomorrow, close today, are overdue or were missed
yesterday, each plant by its own today; who hears about which (the plan's named inspectors, else the workshop's
supervisors; overdue and missed ones also its managers); and the text for group-chat robots. The daily run
(daily.cli) puts them in the e-mail digest and in each plant's robots beside the overdue actions."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from accounts.days import PlantDays
from accounts.models import Plant, Role, User, UserPlant, UserWorkshop, Workshop
from chatbots import plain_in_markdown
from events import News, announce
from plans.models import InspectionPlan
from plans.occurrences import Occurrence, occurrences
from plans.recurrence import State

KINDS = ("opens_tomorrow", "closes_today", "overdue", "missed")
HEADINGS = {"opens_tomorrow": "明天开始", "closes_today": "今天截止", "overdue": "已超期，可补检", "missed": "昨天漏检"}
LOOK_BACK_DAYS = 366  # an overdue window lasts until the next one opens: up to a year for a yearly plan


@dataclass(frozen=True)
class ReminderRow:
    kind: str
    occurrence_id: str
    plant_id: int
    plant_name: str
    workshop_id: int
    workshop_name: str
    opens_on: date
    closes_on: date
    late_until: date | None
    inspector_ids: tuple[int, ...]
    today: date  # at the row's plant, when the run looked

    def line(self, base_url: str, markdown: bool = False) -> str:
        window = f"{self.opens_on:%m-%d}" + (f" – {self.closes_on:%m-%d}" if self.closes_on != self.opens_on else "")
        late = f"，可补检至 {self.late_until:%m-%d}" if self.kind == "overdue" and self.late_until else ""
        name = plain_in_markdown(self.workshop_name) if markdown else self.workshop_name
        return f"{name}：窗口 {window}{late}  {base_url}/occurrences/{self.occurrence_id}"


def _kind(found: Occurrence, today: date) -> str | None:
    window = found.window
    if found.state == State.upcoming and window.opens_on == today + timedelta(days=1):
        return "opens_tomorrow"
    if found.state == State.due and window.closes_on == today:
        return "closes_today"
    if found.state == State.overdue:
        return "overdue"
    if found.state == State.missed:
        became = window.next_opens_on if found.allow_late and window.next_opens_on else \
            window.closes_on + timedelta(days=1)
        return "missed" if became == today else None
    return None


def announce_missed(session: Session, rows: list[ReminderRow]) -> int:
    """`plan.occurrence_missed` for each occurrence missed (the day after its window, or its late period,
    closed), once: the event id is made of the occurrence's. Returns how many deliveries were made."""
    workshops = {w.id: w.code for w in session.exec(select(Workshop))}
    return announce(session, *(News(
        row.plant_id, "plan.occurrence_missed",
        {"occurrence": row.occurrence_id, "workshop": workshops[row.workshop_id],
         "opens_on": row.opens_on.isoformat(), "closes_on": row.closes_on.isoformat(),
         "late_until": row.late_until.isoformat() if row.late_until else None},
        event_id="evt_missed_" + hashlib.sha256(row.occurrence_id.encode()).hexdigest()[:28])
        for row in rows if row.kind == "missed"))


def reminder_rows(session: Session, days: PlantDays) -> list[ReminderRow]:
    plans = list(session.exec(select(InspectionPlan)))
    if not plans:
        return []
    dates = days.dates() or {days.latest(): []}
    found = occurrences(session, plans, min(dates) - timedelta(days=LOOK_BACK_DAYS),
                        max(dates) + timedelta(days=1), days)
    workshops = {w.id: w for w in session.exec(select(Workshop))}
    plants = {p.id: p for p in session.exec(select(Plant))}
    rows = []
    for each in found:
        workshop = workshops[each.workshop_id]
        today = days.of(workshop)
        kind = _kind(each, today)
        if kind is None:
            continue
        rows.append(ReminderRow(kind, each.id, workshop.plant_id, plants[workshop.plant_id].name, workshop.id,
                                workshop.name, each.window.opens_on, each.window.closes_on, each.late_until,
                                each.inspector_ids, today))
    return sorted(rows, key=lambda r: (r.plant_id, KINDS.index(r.kind), r.opens_on, r.workshop_name))


def people_for(session: Session, rows: list[ReminderRow]) -> dict[int, list[ReminderRow]]:
    """User id → the rows they hear about: a plan's named inspectors, or (none named) the supervisors given the
    workshop; managers of the workshop (through it or its plant) hear about overdue and missed ones."""
    if not rows:
        return {}
    users = {u.id: u for u in session.exec(select(User).where(User.active))}
    by_workshop: dict[int, set[int]] = defaultdict(set)
    for grant in session.exec(select(UserWorkshop)):
        by_workshop[grant.workshop_id].add(grant.user_id)
    by_plant: dict[int, set[int]] = defaultdict(set)
    for grant in session.exec(select(UserPlant)):
        by_plant[grant.plant_id].add(grant.user_id)
    heard: dict[int, list[ReminderRow]] = defaultdict(list)
    for row in rows:
        if row.inspector_ids:
            inspectors = set(row.inspector_ids)
        else:
            inspectors = {i for i in by_workshop[row.workshop_id] if i in users and users[i].role == Role.supervisor}
        managers = {i for i in by_workshop[row.workshop_id] | by_plant[row.plant_id]
                    if i in users and users[i].role == Role.manager} if row.kind in ("overdue", "missed") else set()
        for user_id in sorted((inspectors | managers) & set(users)):
            heard[user_id].append(row)
    return dict(heard)


def by_heading(rows: list[ReminderRow]) -> list[tuple[str, list[ReminderRow]]]:
    """The rows under their headings, in KINDS order; headings without rows left out."""
    grouped = [(HEADINGS[kind], [r for r in rows if r.kind == kind]) for kind in KINDS]
    return [(heading, mine) for heading, mine in grouped if mine]


def chat_text(rows: list[ReminderRow], base_url: str) -> str:
    """Markdown for a plant's group chat."""
    lines: list[str] = []
    for heading, mine in by_heading(rows):
        lines.append(f"**{heading}（{len(mine)}）**")
        lines += [f"- {r.line(base_url, markdown=True)}" for r in mine]
    return "\n".join(lines)


def mail_text(rows: list[ReminderRow], base_url: str) -> list[str]:
    lines: list[str] = []
    for heading, mine in by_heading(rows):
        lines += [f"{heading}：", *[f"· {r.plant_name} · {r.line(base_url)}" for r in mine], ""]
    return lines
