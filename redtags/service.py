"""Red tags: raise, decide, escalate. Who may do what is decided here, nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

import clock
from accounts.days import PlantDays
from accounts.models import User, Workshop
from accounts.service import can_inspect, visible_workshops
from actions.models import ActionEvent, ActionStatus, CorrectiveAction, Priority
from audit.service import record as audit
from database import begin_writing
from events import News, announce
from photos import PhotoError, store_image
from redtags.models import OUTCOME_NAMES_ZH, RedTag, TagOutcome, TagReason, TagStatus
from storage import Storage
from web import CLIENT_KEY

HOLDING_DAYS = (3, 7, 14, 30)  # offered on the form; 7 is the usual 6S practice
MAX_HOLDING_DAYS = 90
ESCALATION_DUE_DAYS = 3  # an escalated tag must be decided within this many days
MAX_SHORT = 200
MAX_NOTE = 2000


class RedTagError(ValueError):
    """code: not_allowed | what_required | location_required | text_too_long | bad_reason | bad_holding |
    photo_required | photo_<code> | bad_key | bad_outcome | wrong_status."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(message)
        self.code = code
        self.status = status


def may_tag(*, session: Session, user: User, workshop_id: int) -> bool:
    """Whoever may inspect the workshop raises tags and decides them (supervisors, managers)."""
    return can_inspect(session=session, user=user, workshop_id=workshop_id)


def _short(value: str | None, code: str, field: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise RedTagError(code, f"{field} is required")
    if len(value) > MAX_SHORT:
        raise RedTagError("text_too_long", f"{field} is longer than {MAX_SHORT} characters")
    return value


def _note(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > MAX_NOTE:
        raise RedTagError("text_too_long", f"the note is longer than {MAX_NOTE} characters")
    return value




def raise_tag(*, session: Session, user: User, workshop: Workshop, what: str, location: str, reason: str,
              holding_days: int | None, photo: bytes | None, store: Storage, today: date | None = None,
              quantity: str = "", note: str = "", client_key: str | None = None) -> RedTag:
    """A new tag, numbered RT-<workshop>-0001 upwards in that workshop. Everything is checked before the photo is
    stored, and the photo before the row is written.

    client_key is the form's own key: the same form sent again (a tablet retrying after a lost network, a double
    tap) returns the tag it raised the first time."""
    if not may_tag(session=session, user=user, workshop_id=workshop.id):
        raise RedTagError("not_allowed", "only someone who inspects this workshop raises red tags", 403)
    if client_key is not None and not CLIENT_KEY.fullmatch(client_key):
        raise RedTagError("bad_key", "the form's key is not one this app gives: reload the form")
    if client_key is not None:
        sent_before = session.exec(select(RedTag).where(RedTag.client_key == client_key)).first()
        if sent_before is not None:
            if sent_before.workshop_id != workshop.id or sent_before.raised_by_id != user.id:
                raise RedTagError("bad_key", "the form's key belongs to another tag: reload the form", 409)
            return sent_before
    what = _short(what, "what_required", "what is tagged")
    location = _short(location, "location_required", "the location")
    quantity = " ".join((quantity or "").split())[:40]
    note = _note(note)
    try:
        reason = TagReason(reason)
    except ValueError as exc:
        raise RedTagError("bad_reason", "choose a reason") from exc
    if holding_days is None or not 1 <= holding_days <= MAX_HOLDING_DAYS:
        raise RedTagError("bad_holding", f"the holding period is 1 to {MAX_HOLDING_DAYS} days")
    if not photo:
        raise RedTagError("photo_required", "a red tag needs a photo of the thing tagged")
    try:
        stored = store_image(photo, store)
    except PhotoError as exc:
        raise RedTagError(f"photo_{exc.code}", str(exc)) from exc
    begin_writing(session)  # the photo was decoded outside the write lock; the number is taken under it
    today = today or clock.today(clock.zone_of(workshop.plant))  # the holding period counts in the plant's days
    sequence = (session.exec(select(func.max(RedTag.sequence)).where(RedTag.workshop_id == workshop.id)).one()
                or 0) + 1
    tag = RedTag(workshop_id=workshop.id, sequence=sequence, number=f"RT-{workshop.code}-{sequence:04d}",
                 what=what, location=location, quantity=quantity, reason=reason, note=note,
                 photo_sha256=stored.sha256, tagged_on=today, hold_until=today + timedelta(days=holding_days),
                 raised_by_id=user.id, client_key=client_key)
    session.add(tag)
    session.flush()
    audit(session, actor=user, action="red_tag.raise", object_type="red_tag", object_id=tag.id,
          new={"number": tag.number, "what": what, "location": location, "reason": reason.value,
               "hold_until": tag.hold_until.isoformat(), "photo": stored.sha256})
    return tag


def escalated_action(session: Session, tag: RedTag) -> CorrectiveAction | None:
    return session.exec(select(CorrectiveAction).where(CorrectiveAction.red_tag_id == tag.id)).first()


def decide(*, session: Session, user: User, tag: RedTag, outcome: str, note: str) -> RedTag:
    """Record the outcome. An escalated tag's action closes with it: the decision is what the action asked for."""
    if not may_tag(session=session, user=user, workshop_id=tag.workshop_id):
        raise RedTagError("not_allowed", "only someone who inspects this workshop decides red tags", 403)
    if tag.status == TagStatus.decided:
        raise RedTagError("wrong_status", "this red tag is already decided", 409)
    try:
        outcome = TagOutcome(outcome)
    except ValueError as exc:
        raise RedTagError("bad_outcome", "choose an outcome") from exc
    note = _note(note)
    previous = tag.status
    tag.status, tag.outcome, tag.outcome_note = TagStatus.decided, outcome, note
    tag.decided_at, tag.decided_by_id = clock.now(), user.id
    session.flush()
    audit(session, actor=user, action="red_tag.decide", object_type="red_tag", object_id=tag.id,
          old={"status": previous.value}, new={"status": "decided", "outcome": outcome.value}, reason=note or None)
    action = escalated_action(session, tag)
    if action is not None and action.status != ActionStatus.verified:
        comment = f"红牌已处置：{OUTCOME_NAMES_ZH[outcome]}" + (f" · {note}" if note else "")
        old_status = action.status
        action.status, action.closed_at, action.closed_by_id, action.updated_at = (
            ActionStatus.verified, clock.now(), user.id, clock.now())
        session.add(ActionEvent(action_id=action.id, user_id=user.id, from_status=old_status,
                                to_status=ActionStatus.verified, comment=comment))
        session.flush()
        audit(session, actor=user, action="action.verified", object_type="corrective_action", object_id=action.id,
              old={"status": old_status.value}, new={"status": "verified", "red_tag": tag.number}, reason=comment)
    return tag


def escalate_due(*, session: Session, days: PlantDays) -> list[CorrectiveAction]:
    """Every held tag whose holding period has ended (at its own plant's date) becomes a corrective action (high
    priority, due in a few days, no owner yet). Run daily (`flask actions notify` does); twice changes nothing."""
    due = session.exec(select(RedTag).options(selectinload(RedTag.workshop))
                       .where(RedTag.status == TagStatus.held, days.before(RedTag.hold_until, RedTag.workshop_id))
                       .order_by(RedTag.id)).all()
    created = []
    for tag in due:
        action = CorrectiveAction(red_tag_id=tag.id, workshop_id=tag.workshop_id, priority=Priority.high,
                                  due_on=days.of(tag.workshop) + timedelta(days=ESCALATION_DUE_DAYS),
                                  action_text=f"红牌 {tag.number} 留置期已过，请决定处置：报废、退回、移位或保留")
        tag.status, tag.escalated_at = TagStatus.escalated, clock.now()
        session.add(action)
        session.flush()
        audit(session, actor=None, action="red_tag.escalate", object_type="red_tag", object_id=tag.id,
              old={"status": "held"}, new={"status": "escalated", "action": action.id})
        announce(session, News(tag.workshop.plant_id, "red_tag.escalated", {
            "red_tag": tag.number, "workshop": tag.workshop.code, "what": tag.what, "quantity": tag.quantity,
            "location": tag.location, "reason": tag.reason.value, "tagged_on": tag.tagged_on.isoformat(),
            "hold_until": tag.hold_until.isoformat(), "action": action.id, "due_on": action.due_on.isoformat()}))
        created.append(action)
    return created


# ---- the register ----

REGISTER_STATUSES = ("open", "overdue", "decided", "all")


def visible_tags(user: User):
    workshops = visible_workshops(user).with_only_columns(Workshop.id)
    return select(RedTag).where(RedTag.workshop_id.in_(workshops.scalar_subquery()))


def register_filter(query, status: str, days: PlantDays):
    if status == "open":
        return query.where(RedTag.status != TagStatus.decided)
    if status == "overdue":
        return query.where(RedTag.status != TagStatus.decided, days.before(RedTag.hold_until, RedTag.workshop_id))
    if status == "decided":
        return query.where(RedTag.status == TagStatus.decided)
    return query


@dataclass(frozen=True)
class TagCounts:
    held: int  # undecided, holding period running
    overdue: int  # undecided after the holding period (escalated or about to be)


def tag_counts(*, session: Session, workshop_ids, today: date) -> TagCounts:
    """Held and overdue tags of these workshops (of one plant: `today` is the date there)."""
    open_tags = select(func.count()).select_from(RedTag).where(RedTag.workshop_id.in_(workshop_ids),
                                                               RedTag.status != TagStatus.decided)
    overdue = open_tags.where(RedTag.hold_until < today)
    return TagCounts(held=session.exec(open_tags).one() - session.exec(overdue).one(),
                     overdue=session.exec(overdue).one())
