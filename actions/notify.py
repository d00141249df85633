"""The daily digest of overdue actions: e-mail to each owner and to the managers of the workshop, and a signed
JSON POST per plant (for a relay to WeCom or DingTalk). Run daily: `flask --app app actions notify`.

"Overdue" and "today" are each plant's own: a row is overdue when its due date is before today at its plant. A
plant's webhook is delivered once per day at that plant; a person's e-mail once per day at the furthest-ahead of
the plants in it (the date its subject carries)."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

import clock
from accounts.days import PlantDays
from accounts.models import Plant, Role, User, UserPlant, UserWorkshop, Workshop
from accounts.robots import as_robot, robots_of
from actions.models import OPEN_STATUSES, CorrectiveAction, Finding, NotificationDelivery
from chatbots import plain_in_markdown
from events import News, announce
from outbound import open_url
from plans.reminders import chat_text, mail_text


@dataclass(frozen=True)
class OverdueRow:
    action_id: int
    plant_code: str
    plant_name: str
    workshop_id: int
    workshop_name: str
    item_text: str
    owner_id: int | None
    owner_name: str
    due_on: date
    today: date  # at the row's plant, when the run counted it


@dataclass(frozen=True)
class Recipient:
    user_id: int
    name: str
    email: str


@dataclass
class Digest:
    to: Recipient
    rows: list[OverdueRow] = field(default_factory=list)
    plans: list = field(default_factory=list)  # plans.reminders.ReminderRow: inspections due, overdue, missed

    @property
    def day(self) -> date:
        """The digest's date: the furthest-ahead plant date among its rows."""
        return max([row.today for row in self.rows] + [row.today for row in self.plans])

    def subject(self) -> str:
        parts = ([f"{len(self.rows)} 项整改已逾期"] if self.rows else []) + \
            ([f"{len(self.plans)} 项检查提醒"] if self.plans else [])
        return f"6S 巡检：{'，'.join(parts)}（{self.day.isoformat()}）"

    def body(self, base_url: str) -> str:
        lines = [f"{self.to.name}，您好：", ""]
        if self.plans:

            lines += ["检查计划提醒：", ""] + mail_text(self.plans, base_url)
        if self.rows:
            lines += [f"截至 {self.day.isoformat()}，以下整改措施已过完成期限：", ""]
            lines += overdue_lines(self.rows, base_url)
            lines += ["", "请尽快整改并上传整改后照片。此邮件由系统每日发送，无需回复。"]
        else:
            lines += ["此邮件由系统每日发送，无需回复。"]
        return "\n".join(lines)


def overdue_lines(rows: list[OverdueRow], base_url: str) -> list[str]:
    lines = []
    for row in sorted(rows, key=lambda r: (r.due_on, r.action_id)):
        days = (row.today - row.due_on).days
        lines.append(f"· {row.plant_name} · {row.workshop_name}：{row.item_text}")
        lines.append(f"  责任人 {row.owner_name or '未指派'}，期限 {row.due_on.isoformat()}，逾期 {days} 天"
                     f"  {base_url}/actions/{row.action_id}")
    return lines


def build_digests(rows: list[OverdueRow], owners: dict[int, Recipient],
                  managers_by_workshop: dict[int, list[Recipient]], plans: dict[int, list] | None = None,
                  people: dict[int, Recipient] | None = None) -> list[Digest]:
    """One digest per person: the overdue actions they own, plus those of the workshops they manage, plus their
    plan reminders (`plans`: user id → rows, `people`: who they are). People without an e-mail address get none
    (the home screen shows them the count and 本周待检)."""
    digests: dict[int, Digest] = {}
    listed: set[tuple[int, int]] = set()  # (person, action): an owner who also manages the workshop, once
    for row in rows:
        persons = [owners[row.owner_id]] if row.owner_id in owners else []
        persons += managers_by_workshop.get(row.workshop_id, [])
        for person in persons:
            if (person.user_id, row.action_id) in listed:
                continue
            listed.add((person.user_id, row.action_id))
            digests.setdefault(person.user_id, Digest(person)).rows.append(row)
    for user_id, reminders in (plans or {}).items():
        person = (people or {}).get(user_id)
        if person is not None and reminders:
            digests.setdefault(user_id, Digest(person)).plans.extend(reminders)
    return [d for d in digests.values() if d.to.email]


def overdue_rows(session: Session, days: PlantDays) -> list[OverdueRow]:
    # the item (or red tag) and owner of every row come with it: a busy group's run was 3 lazy loads a row
    query = (select(CorrectiveAction, Workshop, Plant)
             .join(Workshop, CorrectiveAction.workshop_id == Workshop.id)
             .join(Plant, Workshop.plant_id == Plant.id)
             .where(CorrectiveAction.status.in_(OPEN_STATUSES),
                    days.before(CorrectiveAction.due_on, CorrectiveAction.workshop_id))
             .options(selectinload(CorrectiveAction.finding).selectinload(Finding.item),
                      selectinload(CorrectiveAction.red_tag), selectinload(CorrectiveAction.owner))
             .order_by(Plant.code, Workshop.code, CorrectiveAction.due_on))
    rows = []
    for action, workshop, plant in session.exec(query):  # findings' actions and escalated red tags alike
        rows.append(OverdueRow(action.id, plant.code, plant.name, workshop.id, workshop.name, action.subject,
                               action.owner_id, action.owner.display_name if action.owner else "", action.due_on,
                               days.of(plant)))
    return rows


def announce_overdue(session: Session, rows: list[OverdueRow]) -> int:
    """The `action.overdue` webhook event, once per action and due date: the event id is made of both, so the next
    day's run (or a second run today) sends nothing new, and an action given a new due date that it misses again
    is a new event. Returns how many deliveries were made."""
    plants = {p.code: p for p in session.exec(select(Plant))}
    workshops = {w.id: w.code for w in session.exec(select(Workshop))}
    return announce(session, *(News(
        plants[row.plant_code].id, "action.overdue",
        {"action": row.action_id, "workshop": workshops[row.workshop_id], "subject": row.item_text,
         "owner": row.owner_name or None, "due_on": row.due_on.isoformat(),
         "days_overdue": (row.today - row.due_on).days},
        event_id=f"evt_action_overdue_{row.action_id}_{row.due_on:%Y%m%d}") for row in rows))


def recipients(session: Session, rows: list[OverdueRow]) -> tuple[dict, dict]:
    """Owners by id, and each workshop's managers (through a workshop or a plant grant)."""
    active = {u.id: u for u in session.exec(select(User).where(User.active))}
    person = lambda u: Recipient(u.id, u.display_name, (u.email or "").strip())  # noqa: E731
    owners = {r.owner_id: person(active[r.owner_id]) for r in rows if r.owner_id in active}
    managers_by_workshop: dict[int, list[Recipient]] = defaultdict(list)
    workshops = {w.id: w for w in session.exec(select(Workshop).where(Workshop.id.in_({r.workshop_id for r in rows})))}
    plant_grants = session.exec(select(UserPlant)).all()
    workshop_grants = session.exec(select(UserWorkshop)).all()
    for workshop_id, workshop in workshops.items():
        ids = {g.user_id for g in plant_grants if g.plant_id == workshop.plant_id}
        ids |= {g.user_id for g in workshop_grants if g.workshop_id == workshop_id}
        managers_by_workshop[workshop_id] = [person(active[i]) for i in sorted(ids)
                                             if i in active and active[i].role == Role.manager]
    return owners, managers_by_workshop


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int = 25
    sender: str = "6s@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False


def send_digests(digests: list[Digest], settings: MailSettings, base_url: str,
                 sent=lambda digest: None) -> list[tuple[Digest, str]]:
    """Send over one SMTP connection, calling sent(digest) after each accepted message. Returns the digests that
    could not be sent, each with why: a server that cannot be reached fails them all, a refused address only its
    own."""
    failed: list[tuple[Digest, str]] = []
    if not digests:
        return failed
    remaining = deque(digests)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.user:
                smtp.login(settings.user, settings.password)
            while remaining:
                digest = remaining.popleft()
                message = EmailMessage()
                message["Subject"], message["From"], message["To"] = digest.subject(), settings.sender, \
                    digest.to.email
                message.set_content(digest.body(base_url))
                try:
                    smtp.send_message(message)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                    failed.append((digest, _smtp_reason(exc)))
                    continue
                sent(digest)
    except (smtplib.SMTPException, OSError) as exc:  # the server is down, refuses us, or hung up half-way
        failed += [(digest, _smtp_reason(exc)) for digest in remaining]
    return failed


def _smtp_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{to}: {code} {text.decode(errors='replace')}" for to, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        return f"{exc.smtp_code} {error.decode(errors='replace') if isinstance(error, bytes) else error}"
    return f"{type(exc).__name__}: {exc}"


# ---- what was delivered: once a day per person and plant ----

@dataclass(frozen=True)
class Delivery:
    channel: str  # mail | webhook
    recipient: str  # user:<id> | plant:<code>
    address: str
    action_count: int
    day: date  # the day it is for (at the plant; a person's: their digest's date)

    @property
    def key(self) -> tuple[str, str, date]:
        """What deliveries are told apart by (as delivered_on returns them)."""
        return self.channel, self.recipient, self.day


def mail_delivery(digest: Digest) -> Delivery:
    return Delivery("mail", f"user:{digest.to.user_id}", digest.to.email, len(digest.rows), digest.day)


def webhook_delivery(plant: Plant, payload: dict) -> Delivery:
    return Delivery("webhook", f"plant:{plant.code}", plant.webhook_url or "", payload["count"],
                    date.fromisoformat(payload["date"]))


def delivered_on(session: Session, days) -> set[tuple[str, str, date]]:
    """What was delivered for any of these days."""
    rows = session.exec(select(NotificationDelivery.channel, NotificationDelivery.recipient, NotificationDelivery.day)
                        .where(NotificationDelivery.day.in_(set(days))))
    return {(channel, recipient, day) for channel, recipient, day in rows}


def record_delivery(session: Session, delivery: Delivery) -> None:
    """Kept at once, in the caller's short transaction: if the run dies later, what went out stays counted."""
    day = delivery.day
    known = session.exec(select(NotificationDelivery).where(
        NotificationDelivery.day == day, NotificationDelivery.channel == delivery.channel,
        NotificationDelivery.recipient == delivery.recipient)).first()
    if known is None:
        known = NotificationDelivery(day=day, channel=delivery.channel, recipient=delivery.recipient)
        session.add(known)
    known.address, known.action_count, known.delivered_at = delivery.address[:500], delivery.action_count, clock.now()


# ---- the webhook ----

def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>": the receiver recomputes it and refuses stale timestamps."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def post_webhook(url: str, secret: str, payload: dict, *, attempts: int = 4, backoff: float = 2.0,
                 sleep=time.sleep, now=time.time) -> tuple[bool, int, str]:
    """POST the JSON, signed; retry network errors and 5xx with exponential backoff (2, 4, 8 s); a 4xx is
    final. Returns (delivered, tries, last outcome)."""
    if not url.startswith(("http://", "https://")):
        return False, 0, "not an http(s) URL"
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    outcome = ""
    for attempt in range(1, attempts + 1):
        timestamp = str(int(now()))
        request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - http(s) only
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "6S-Inspect",
            "X-6S-Timestamp": timestamp, "X-6S-Signature": signature(secret, timestamp, body)})
        try:
            # http(s) only: the scheme is checked above
            with open_url(request, timeout=10) as response:
                return True, attempt, str(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            outcome = f"HTTP {exc.code}"
            if exc.code < 500:
                return False, attempt, outcome
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            outcome = str(getattr(exc, "reason", exc))
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    return False, attempts, outcome


def plant_payloads(session: Session, rows: list[OverdueRow], days: PlantDays,
                   base_url: str) -> list[tuple[Plant, dict]]:
    by_plant: dict[str, list[OverdueRow]] = defaultdict(list)
    for row in rows:
        by_plant[row.plant_code].append(row)
    plants = session.exec(select(Plant).where(Plant.webhook_url.is_not(None))).all()
    return [(plant, {
        "event": "actions.overdue", "date": days.of(plant).isoformat(), "timezone": plant.timezone,
        "plant": plant.code, "plant_name": plant.name,
        "count": len(by_plant[plant.code]),
        "actions": [{"id": r.action_id, "workshop": r.workshop_name, "item": r.item_text, "owner": r.owner_name,
                     "due_on": r.due_on.isoformat(), "url": f"{base_url}/actions/{r.action_id}"}
                    for r in by_plant[plant.code]],
    }) for plant in plants if plant.webhook_url and plant.webhook_secret and by_plant.get(plant.code)]


# ---- group-chat robots: plan reminders and overdue actions, one message (or a few) per robot and day ----

@dataclass(frozen=True)
class RobotMessage:
    robot_id: int
    robot: object  # chatbots.Robot
    plant_code: str
    day: date
    title: str
    text: str
    count: int

    def delivery(self) -> Delivery:
        return Delivery("robot", f"robot:{self.robot_id}", self.robot.url.split("?", 1)[0], self.count, self.day)


def robot_messages(session: Session, rows: list[OverdueRow], reminders: list, days: PlantDays,
                   base_url: str) -> list[RobotMessage]:

    plants = {p.id: p for p in session.exec(select(Plant))}
    stored = robots_of(session, plants)
    messages = []
    for plant_id, robots in stored.items():
        plant = plants[plant_id]
        mine = [r for r in reminders if r.plant_id == plant_id]
        overdue = [r for r in rows if r.plant_code == plant.code]
        if not mine and not overdue:
            continue
        parts = [chat_text(mine, base_url)] if mine else []
        if overdue:
            parts.append(f"**逾期整改（{len(overdue)}）**")
            parts += [f"- {plain_in_markdown(r.workshop_name)}：{plain_in_markdown(r.item_text)} · "
                      f"责任人 {plain_in_markdown(r.owner_name) or '未指派'} · "
                      f"逾期 {(r.today - r.due_on).days} 天  {base_url}/actions/{r.action_id}"
                      for r in sorted(overdue, key=lambda r: (r.due_on, r.action_id))]
        today = days.of(plant)
        for robot in robots:
            messages.append(RobotMessage(robot.id, as_robot(robot), plant.code, today,
                                         f"{plant.name} · 6S 巡检提醒 {today.isoformat()}", "\n".join(parts),
                                         len(mine) + len(overdue)))
    return messages
