"""Findings → corrective actions → verified closure. Who may do what is decided here, nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import selectinload
from sqlmodel import Session, and_, func, select

import clock
import events
from accounts.days import PlantDays
from accounts.models import Role, User, Workshop
from accounts.service import can_inspect, can_see_workshop, is_manager, visible_workshops
from actions.models import (
    OPEN_STATUSES,
    ActionEvent,
    ActionStatus,
    CorrectiveAction,
    Finding,
    Priority,
    Severity,
)
from actions.stats import ActionRow, action_stats
from audit.service import record as audit
from checklists.schemes import DEFAULT_DUE_DAYS as SCHEME_DUE_DAYS
from checklists.schemes import scheme_from_dict
from database import begin_writing
from events import News, announce
from inspections.models import Inspection, InspectionStatus, is_finding_answer
from photos import PhotoError, store_image
from storage import Storage
from web import CLIENT_KEY

DEFAULT_DUE_DAYS = dict(zip((Severity.critical, Severity.normal), SCHEME_DUE_DAYS, strict=True))
MAX_TEXT = 2000


class ActionError(ValueError):
    """code: not_allowed | owner_out_of_scope | bad_due | bad_priority | text_too_long | wrong_status |
    photo_required | photo_<code> | comment_required | bad_key."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(message)
        self.code = code
        self.status = status


def due_days(scheme: dict | None) -> dict[Severity, int]:
    """Days to fix by severity: the version's `action_due_days` (e.g. {"critical": 1, "normal": 7}) or the
    defaults. Bad values fall back to the default for that severity."""
    configured = (scheme or {}).get("action_due_days") or {}
    days = dict(DEFAULT_DUE_DAYS)
    for severity in Severity:
        value = configured.get(severity.value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 365:
            days[severity] = value
    return days


def count_findings(*, session: Session, inspection: Inspection, today: date) -> int:
    """events.findings_due: record them; the inspection's findings counted."""
    return len(record_findings(session=session, inspection=inspection, today=today))


def init_app(app) -> None:
    events.findings_due.connect(count_findings)
    events.inspection_form_shown.connect(open_actions_beside_items)


def open_actions_beside_items(session: Session, inspection: Inspection, user) -> dict:
    """The form, on the floor: by each item, the earlier findings' actions still open, and which this user may
    verify there."""
    found = open_actions_for_items(session=session, workshop_id=inspection.workshop_id, before=inspection)
    return {"open_actions": found, "verifiable": verifiable_keys(session=session, user=user,
                                                                 workshop_id=inspection.workshop_id, actions=found)}


def record_findings(*, session: Session, inspection: Inspection, today: date) -> list[Finding]:
    """At submit: a finding and an open (unassigned) action for every item scored at or below the threshold or
    flagged by the inspector.
    Run again after a correction, it adds only what is new (an item corrected down to a finding); a finding
    whose item was corrected up keeps its action, to be verified or returned as usual."""
    version = inspection.version
    scheme = scheme_from_dict(version.scheme)
    days = due_days(version.scheme)
    answers = {answer.item_id: answer for answer in inspection.answers}
    existing = set(session.exec(select(Finding.item_id).where(Finding.inspection_id == inspection.id)).all())
    findings = []
    for category in version.categories:
        for item in category.items:
            answer = answers.get(item.id)
            if not is_finding_answer(answer, scheme) or item.id in existing:
                continue
            severity = Severity.critical if item.critical else Severity.normal
            finding = Finding(inspection_id=inspection.id, item_id=item.id, item_key=item.key,
                              workshop_id=inspection.workshop_id, severity=severity, score=answer.score,
                              flagged=answer.flagged, note=answer.note)
            session.add(finding)
            session.flush()
            session.add(CorrectiveAction(
                finding_id=finding.id, workshop_id=inspection.workshop_id, due_on=today + timedelta(days[severity]),
                priority=Priority.high if severity == Severity.critical else Priority.medium))
            findings.append(finding)
    session.flush()
    _announce_findings(session, inspection, findings)
    return findings


def _announce_findings(session: Session, inspection: Inspection, findings: list[Finding]) -> None:
    if not findings:
        return
    actions = {a.finding_id: a for a in session.exec(select(CorrectiveAction).where(
        CorrectiveAction.finding_id.in_([f.id for f in findings])))}
    texts = {item.id: item.text for category in inspection.version.categories for item in category.items}
    announce(session, *(News(inspection.workshop.plant_id, "finding.created", {
        "finding": finding.id, "inspection": inspection.id, "workshop": inspection.workshop.code,
        "item": finding.item_key, "item_text": texts.get(finding.item_id), "score": finding.score,
        "flagged": finding.flagged, "severity": finding.severity.value, "note": finding.note,
        "action": actions[finding.id].id, "due_on": actions[finding.id].due_on.isoformat()})
        for finding in findings))


# ---- who may ----

def may_manage(*, session: Session, user: User, action: CorrectiveAction) -> bool:
    """Assign and reassign: a manager, or whoever may inspect that workshop (its supervisors)."""
    return can_inspect(session=session, user=user, workshop_id=action.workshop_id)


def may_work_on(*, session: Session, user: User, action: CorrectiveAction) -> bool:
    """Start and finish: the owner, or a manager in scope."""
    in_scope = can_see_workshop(session=session, user=user, workshop_id=action.workshop_id)
    return in_scope and (action.owner_id == user.id or is_manager(user))


def may_verify(*, session: Session, user: User, action: CorrectiveAction) -> bool:
    """A manager in scope, or the next inspector: someone who inspected the workshop after the finding. Never
    the owner checking their own work (unless a manager)."""
    if not can_see_workshop(session=session, user=user, workshop_id=action.workshop_id):
        return False
    if is_manager(user):
        return True
    if user.id == action.owner_id or not can_inspect(session=session, user=user, workshop_id=action.workshop_id):
        return False
    found_at = action.finding.inspection.submitted_at if action.finding else action.created_at
    later = select(Inspection.id).where(Inspection.workshop_id == action.workshop_id,
                                        Inspection.inspector_id == user.id, Inspection.started_at > found_at)
    return session.exec(later).first() is not None


def verifiable_keys(*, session: Session, user: User, workshop_id: int,
                    actions: dict[str, CorrectiveAction]) -> set[str]:
    """may_verify for every open action of one workshop at once (the inspection form shows them all): the scope
    and role checks once, and one query for the user's latest inspection there instead of one per action."""
    if not actions or not can_see_workshop(session=session, user=user, workshop_id=workshop_id):
        return set()
    if is_manager(user):
        return set(actions)
    if not can_inspect(session=session, user=user, workshop_id=workshop_id):
        return set()
    latest = session.exec(select(func.max(Inspection.started_at)).where(
        Inspection.workshop_id == workshop_id, Inspection.inspector_id == user.id)).one()
    if latest is None:
        return set()
    latest = clock.as_utc(latest)
    return {key for key, action in actions.items() if action.owner_id != user.id and action.finding is not None
            and latest > clock.as_utc(action.finding.inspection.submitted_at)}


def eligible_owners(*, session: Session, workshop_id: int) -> list[User]:
    """Active users who can see the workshop and are not read-only auditors."""
    users = session.exec(select(User).where(User.active, User.role != Role.auditor).order_by(User.display_name))
    return [u for u in users if can_see_workshop(session=session, user=u, workshop_id=workshop_id)]


# ---- moves ----

def _event(session: Session, user: User, action: CorrectiveAction, to: ActionStatus, comment: str = "",
           inspection_id: int | None = None, old=None, new=None, client_key: str | None = None) -> None:
    previous = action.status
    action.status = to
    action.updated_at = clock.now()
    session.add(ActionEvent(action_id=action.id, user_id=user.id, from_status=previous, to_status=to,
                            comment=comment, inspection_id=inspection_id, client_key=client_key))
    session.flush()
    audit(session, actor=user, action=f"action.{to.value}", object_type="corrective_action", object_id=action.id,
          old={"status": previous.value, **(old or {})}, new={"status": to.value, **(new or {})},
          reason=comment or None)
    if action.finding_id is not None:  # the inspection's report prints its findings' actions
        finding = session.get(Finding, action.finding_id)
        events.record_changed.send(session, inspection=session.get(Inspection, finding.inspection_id))


def _text(value: str | None, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise ActionError("text_too_long", f"{field} is longer than {MAX_TEXT} characters")
    return value


def assign(*, session: Session, user: User, action: CorrectiveAction, owner_id: int | None, due_on: date | None,
           priority: str, action_text: str, today: date | None = None) -> CorrectiveAction:
    """Owner, due date (a day at the action's plant, from yesterday to a year ahead), priority and what to do."""
    if not may_manage(session=session, user=user, action=action):
        raise ActionError("not_allowed", "only a manager or the workshop's supervisor assigns actions", 403)
    if action.status == ActionStatus.verified:
        raise ActionError("wrong_status", "a verified action is closed", 409)
    owner = session.get(User, owner_id) if owner_id else None
    if owner is None or owner.id not in {u.id for u in eligible_owners(session=session,
                                                                      workshop_id=action.workshop_id)}:
        raise ActionError("owner_out_of_scope", "the owner must be an active user who works in this workshop")
    today = today or clock.today(clock.zone_of(action.workshop.plant))
    if due_on is None or due_on < today - timedelta(days=1) or due_on > today + timedelta(days=366):
        raise ActionError("bad_due", "the due date must be within a year from today")
    try:
        priority = Priority(priority)
    except ValueError as exc:
        raise ActionError("bad_priority", "priority is high, medium or low") from exc
    text = _text(action_text, "the action")
    old = {"owner": action.owner_id, "due_on": action.due_on.isoformat(), "priority": action.priority.value,
           "action_text": action.action_text}
    action.owner_id, action.due_on, action.priority, action.action_text = owner.id, due_on, priority, text
    new = {"owner": owner.id, "due_on": due_on.isoformat(), "priority": priority.value, "action_text": text}
    if old != new:
        action.updated_at = clock.now()
        session.flush()
        audit(session, actor=user, action="action.assign", object_type="corrective_action", object_id=action.id,
              old=old, new=new)
    return action


def start(*, session: Session, user: User, action: CorrectiveAction) -> CorrectiveAction:
    if not may_work_on(session=session, user=user, action=action):
        raise ActionError("not_allowed", "only the owner or a manager works on an action", 403)
    if action.status not in (ActionStatus.open, ActionStatus.returned):
        raise ActionError("wrong_status", f"an action that is {action.status.value} cannot be started", 409)
    _event(session, user, action, ActionStatus.in_progress)
    return action


def mark_done(*, session: Session, user: User, action: CorrectiveAction, photo: bytes | None, comment: str,
              store: Storage, client_key: str | None = None) -> CorrectiveAction:
    """Fixed, with an after-photo (re-encoded, EXIF gone, stored by hash like every photo).

    client_key is the form's own key: the same form sent again (the tablet's outbox after a lost network, a double
    tap) finds the move it made the first time instead of being refused as "already done"."""
    if not may_work_on(session=session, user=user, action=action):
        raise ActionError("not_allowed", "only the owner or a manager works on an action", 403)
    if client_key is not None:
        if not CLIENT_KEY.fullmatch(client_key):
            raise ActionError("bad_key", "the form's key is not one this app gives: reload the page")
        sent_before = session.exec(select(ActionEvent).where(ActionEvent.client_key == client_key)).first()
        if sent_before is not None:
            if sent_before.action_id != action.id or sent_before.user_id != user.id:
                raise ActionError("bad_key", "the form's key belongs to another move: reload the page", 409)
            return action
    if action.status not in OPEN_STATUSES:
        raise ActionError("wrong_status", f"an action that is {action.status.value} cannot be done", 409)
    if action.red_tag_id is not None:
        raise ActionError("wrong_status", "a red tag's action closes when the tag's outcome is recorded", 409)
    comment = _text(comment, "the comment")
    if not photo:
        raise ActionError("photo_required", "a done action needs an after-photo")
    try:
        stored = store_image(photo, store)
    except PhotoError as exc:
        raise ActionError(f"photo_{exc.code}", str(exc)) from exc
    if session.info.get("reads_first"):  # the photo was decoded outside the write lock: look again under it
        begin_writing(session)
        session.refresh(action)
        if action.status not in OPEN_STATUSES:
            raise ActionError("wrong_status", f"an action that is {action.status.value} cannot be done", 409)
    action.after_photo_sha256, action.done_comment, action.done_at = stored.sha256, comment, clock.now()
    _event(session, user, action, ActionStatus.done, comment, new={"after_photo": stored.sha256},
           client_key=client_key)
    return action


def verify(*, session: Session, user: User, action: CorrectiveAction, comment: str = "",
           inspection_id: int | None = None) -> CorrectiveAction:
    if not may_verify(session=session, user=user, action=action):
        raise ActionError("not_allowed", "only a manager or the next inspector verifies an action", 403)
    if action.status != ActionStatus.done:
        raise ActionError("wrong_status", "only a done action is verified", 409)
    action.closed_at, action.closed_by_id = clock.now(), user.id
    _event(session, user, action, ActionStatus.verified, _text(comment, "the comment"), inspection_id)
    workshop = session.get(Workshop, action.workshop_id)
    announce(session, News(workshop.plant_id, "action.verified", {
        "action": action.id, "workshop": workshop.code, "finding": action.finding_id, "red_tag": action.red_tag_id,
        "verified_by": user.username, "verified_at": action.closed_at.isoformat(), "comment": comment or ""}))
    return action


def send_back(*, session: Session, user: User, action: CorrectiveAction, comment: str,
              inspection_id: int | None = None) -> CorrectiveAction:
    """Returned: not fixed after all. Says why, always."""
    if not may_verify(session=session, user=user, action=action):
        raise ActionError("not_allowed", "only a manager or the next inspector returns an action", 403)
    if action.status != ActionStatus.done:
        raise ActionError("wrong_status", "only a done action is returned", 409)
    comment = _text(comment, "the comment")
    if len(comment) < 2:
        raise ActionError("comment_required", "say what is still wrong")
    _event(session, user, action, ActionStatus.returned, comment, inspection_id)
    return action


# ---- lists ----

@dataclass(frozen=True)
class ActionCounts:
    open: int
    overdue: int
    done: int  # waiting for verification


def visible_actions(user: User):
    """A SELECT of the actions this user may see (through their workshops)."""
    workshops = visible_workshops(user).with_only_columns(Workshop.id)
    return select(CorrectiveAction).where(CorrectiveAction.workshop_id.in_(workshops.scalar_subquery()))


def with_details(query):
    """Load each action's finding (item, workshop), red tag, workshop and owner with the list (a handful of
    queries, not 4 per row)."""
    finding = selectinload(CorrectiveAction.finding)
    return query.options(finding.selectinload(Finding.item), finding.selectinload(Finding.workshop),
                         selectinload(CorrectiveAction.owner), selectinload(CorrectiveAction.red_tag),
                         selectinload(CorrectiveAction.workshop))


def action_filter(query, status: str | None, days: PlantDays):
    """Actions by status; "overdue" is past the due date at each action's own plant."""
    if status == "overdue":
        return query.where(CorrectiveAction.status.in_(OPEN_STATUSES),
                           days.before(CorrectiveAction.due_on, CorrectiveAction.workshop_id))
    if status == "open":
        return query.where(CorrectiveAction.status.in_(OPEN_STATUSES))
    if status in ("done", "verified"):
        return query.where(CorrectiveAction.status == status)
    return query


def counts_for(*, session: Session, user: User, days: PlantDays) -> ActionCounts:
    """Home screen: the actions the user owns (the plants' figures: counts_by_plant)."""
    sub = visible_actions(user).where(CorrectiveAction.owner_id == user.id).subquery()
    row = session.exec(select(
        func.count().filter(sub.c.status.in_([s.value for s in OPEN_STATUSES])),
        func.count().filter(and_(sub.c.status.in_([s.value for s in OPEN_STATUSES]),
                                 days.before(sub.c.due_on, sub.c.workshop_id))),
        func.count().filter(sub.c.status == ActionStatus.done.value),
    ).select_from(sub)).one()
    return ActionCounts(*row)


def counts_by_plant(*, session: Session, user: User, days: PlantDays) -> dict[int, ActionCounts]:
    """Home screen of whoever oversees workshops: each plant's overdue and waiting-to-verify actions, in one query."""
    open_values = [s.value for s in OPEN_STATUSES]
    rows = session.exec(
        select(Workshop.plant_id,
               func.count().filter(CorrectiveAction.status.in_(open_values)),
               func.count().filter(and_(CorrectiveAction.status.in_(open_values),
                                       days.before(CorrectiveAction.due_on, CorrectiveAction.workshop_id))),
               func.count().filter(CorrectiveAction.status == ActionStatus.done.value))
        .select_from(CorrectiveAction).join(Workshop, Workshop.id == CorrectiveAction.workshop_id)
        .where(CorrectiveAction.id.in_(visible_actions(user).with_only_columns(CorrectiveAction.id)
                                       .scalar_subquery()))
        .group_by(Workshop.plant_id)).all()
    return {plant_id: ActionCounts(*counts) for plant_id, *counts in rows}


def open_actions_for_items(*, session: Session, workshop_id: int, before: Inspection) -> dict[str, CorrectiveAction]:
    """For the next inspection: the unverified actions of this workshop by item key, from earlier inspections."""
    rows = session.exec(
        select(CorrectiveAction).join(Finding).join(Inspection, Inspection.id == Finding.inspection_id)
        .options(selectinload(CorrectiveAction.finding).selectinload(Finding.inspection),
                 selectinload(CorrectiveAction.owner))
        .where(CorrectiveAction.workshop_id == workshop_id, CorrectiveAction.status != ActionStatus.verified,
               Inspection.status == InspectionStatus.submitted, Inspection.id != before.id)
        .order_by(CorrectiveAction.id)
    ).all()
    return {action.finding.item_key: action for action in rows}


def events_of(session: Session, action: CorrectiveAction) -> list[ActionEvent]:
    return session.exec(select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)).all()



def stats_for(*, session: Session, workshop_ids: list[int], today: date, since=None, until=None):
    """Open, overdue, waiting, closed in the period and the mean days to close for these workshops (of one plant:
    `today` is the date there)."""

    if not workshop_ids:
        return action_stats([], today, since, until)
    rows = session.exec(select(CorrectiveAction.status, CorrectiveAction.created_at, CorrectiveAction.due_on,
                               CorrectiveAction.closed_at).where(CorrectiveAction.workshop_id.in_(workshop_ids))).all()
    return action_stats([ActionRow(str(status), clock.as_utc(created), due, clock.as_utc(closed))
                         for status, created, due, closed in rows], today, since, until)
