"""Joint inspections for calibration: a manager names two or more inspectors, each fills their own copy of the
workshop's inspection (the usual form, outbox and API), none sees the others' answers until all have submitted;
then the calibration report says how far they agreed, and the manager makes one copy — or a reconciled copy —
the workshop's official inspection. The other copies stay as records (status `calibration`): never in trends,
rankings, plans or corrective actions. The maths is quality.agreement's."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median_low

from sqlmodel import Session, select

import clock
from accounts.models import User, Workshop
from accounts.service import can_see_workshop, is_manager, may_inspect
from audit.service import record as audit
from checklists.schemes import scheme_from_dict
from inspections.answering import AnswerInput, save_answers
from inspections.models import Answer, Calibration, Inspection, InspectionStatus, Photo
from inspections.scoring import NA
from inspections.service import InspectionError, answer_value
from inspections.starting import start_inspection
from inspections.submission import became_official
from quality.agreement import NOT_APPLICABLE, Agreement, biases, panel_agreement, spread

MIN_INSPECTORS = 2
MAX_INSPECTORS = 10


class CalibrationError(ValueError):
    """code names what is wrong; names the inspectors concerned (as typed), so the message can name them."""

    def __init__(self, code: str, message: str, *, names: list[str] | None = None, status: int = 422,
                 field: str = "inspectors"):
        super().__init__(message)
        self.code, self.names, self.status, self.field = code, names or [], status, field


def may_start(*, session: Session, user: User, workshop: Workshop) -> bool:
    return is_manager(user) and can_see_workshop(session=session, user=user, workshop_id=workshop.id)


def candidates(*, session: Session, workshop: Workshop) -> list[User]:
    """Who may be named for a joint inspection of this workshop: active users who may inspect it."""
    users = session.exec(select(User).where(User.active).order_by(User.display_name, User.username)).all()
    return [u for u in users if may_inspect(u) and can_see_workshop(session=session, user=u, workshop_id=workshop.id)]


def start_calibration(*, session: Session, user: User, workshop: Workshop, usernames: list[str],
                      checklist_key: str | None = None) -> Calibration:
    """One draft per named inspector against the same checklist version, grouped under a new calibration."""
    if not may_start(session=session, user=user, workshop=workshop):
        raise CalibrationError("not_allowed", "only a quality manager may start a joint inspection", status=403)
    names = list(dict.fromkeys(n.strip() for n in usernames if n and n.strip()))
    if len(names) < MIN_INSPECTORS:
        raise CalibrationError("too_few", f"a joint inspection needs at least {MIN_INSPECTORS} inspectors",
                               names=names)
    if len(names) > MAX_INSPECTORS:
        raise CalibrationError("too_many", f"a joint inspection takes at most {MAX_INSPECTORS} inspectors",
                               names=names)
    found = {u.username: u for u in session.exec(select(User).where(User.username.in_(names)))}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise CalibrationError("unknown_inspector", f"no such user: {', '.join(unknown)}", names=unknown)
    outside = [n for n in names if not can_see_workshop(session=session, user=found[n], workshop_id=workshop.id)]
    if outside:
        raise CalibrationError("out_of_scope", f"not in this workshop's scope: {', '.join(outside)}",
                               names=[_named(found[n]) for n in outside])
    barred = [n for n in names if not (found[n].active and may_inspect(found[n]))]
    if barred:
        raise CalibrationError("may_not_inspect", f"may not inspect: {', '.join(barred)}",
                               names=[_named(found[n]) for n in barred])
    copies = []
    try:  # the usual start, as each inspector: the same checks and the same version for all
        for name in names:
            copies.append(start_inspection(session=session, user=found[name], workshop=workshop,
                                           checklist_key=checklist_key))
    except InspectionError as exc:
        raise CalibrationError(exc.code, str(exc), status=exc.status, field="checklist") from exc
    calibration = Calibration(workshop_id=workshop.id, version_id=copies[0].version_id, started_by_id=user.id)
    session.add(calibration)
    session.flush()
    for copy in copies:
        copy.calibration_id = calibration.id
    session.flush()
    audit(session, actor=user, action="calibration.start", object_type="calibration", object_id=calibration.id,
          new={"workshop": workshop.code, "checklist_version_id": calibration.version_id,
               "inspectors": names, "inspections": [c.id for c in copies]})
    return calibration


def _named(user: User) -> str:
    return f"{user.display_name}（{user.username}）" if user.display_name != user.username else user.username


@dataclass(frozen=True)
class ItemRow:
    key: str
    text: str
    category_key: str
    values: list[object]  # each copy's answer in panel order: a level, "na", or None (not answered)
    spread: float | None

    @property
    def agreed(self) -> bool:
        """Everyone who answered gave the same answer (N/A against a score is a disagreement too)."""
        return len({v for v in self.values if v is not None}) <= 1


@dataclass(frozen=True)
class CategoryRow:
    key: str
    name: str
    agreement: Agreement


@dataclass(frozen=True)
class Report:
    items: list[ItemRow]
    categories: list[CategoryRow]
    overall: Agreement
    bias: list[float | None]  # per copy in panel order, in the scheme's units; + scores higher than the others
    unit: str  # level | points | pass_rate | count


@dataclass(frozen=True)
class CalibrationState:
    calibration: Calibration
    copies: list[Inspection]  # the panel, in the order named
    reconciled: Inspection | None
    official: Inspection | None

    @property
    def complete(self) -> bool:
        """Every copy submitted: the answers may now be compared."""
        return all(c.locked for c in self.copies)

    @property
    def decided(self) -> bool:
        return self.official is not None

    def on_panel(self, user: User) -> bool:
        return any(c.inspector_id == user.id for c in self.copies)

    def copy_of(self, user: User) -> Inspection | None:
        return next((c for c in self.copies if c.inspector_id == user.id), None)


def may_view(*, session: Session, user: User, calibration: Calibration) -> bool:
    return can_see_workshop(session=session, user=user, workshop_id=calibration.workshop_id)


def state_of(session: Session, calibration: Calibration) -> CalibrationState:
    rows = session.exec(select(Inspection).where(Inspection.calibration_id == calibration.id)
                        .order_by(Inspection.id)).all()
    copies = [r for r in rows if not r.reconciled]
    reconciled = next((r for r in rows if r.reconciled), None)
    official = next((r for r in rows if r.status == InspectionStatus.submitted), None)
    return CalibrationState(calibration, copies, reconciled, official)


def calibrations_of(session: Session, workshop: Workshop) -> list[CalibrationState]:
    found = session.exec(select(Calibration).where(Calibration.workshop_id == workshop.id)
                         .order_by(Calibration.started_at.desc(), Calibration.id.desc())).all()
    return [state_of(session, c) for c in found]


def report(state: CalibrationState) -> Report:
    """The panel's agreement item by item, per category and overall, and each inspector's bias."""
    version = state.calibration.version
    scheme = scheme_from_dict(version.scheme)
    levels = sorted(o.value for o in scheme.options)
    answers = [{a.item_id: a for a in copy.answers} for copy in state.copies]
    items, categories, every = [], [], []
    for category in version.categories:
        rows = []
        for item in category.items:
            values = [_value(by_item.get(item.id)) for by_item in answers]
            rows.append(values)
            items.append(ItemRow(item.key, item.text, category.key, values, spread(values)))
        every.extend(rows)
        categories.append(CategoryRow(category.key, category.name, panel_agreement(rows, levels)))
    scores = {str(i): [None if v in (None, NOT_APPLICABLE) else v for v in (row[i] for row in every)]
              for i in range(len(state.copies))}
    bias = biases(scores)
    if scheme.type == "levels":
        unit, factor = ("points" if scheme.named else "level"), 1.0
    elif scheme.type == "deduction":
        unit, factor = "count", 1.0
    else:  # pass/fail: the share of items passed, in percentage points
        unit, factor = "pass_rate", 100.0
    return Report(items, categories, panel_agreement(every, levels),
                  [None if bias[str(i)] is None else bias[str(i)] * factor for i in range(len(state.copies))], unit)


def _value(answer: Answer | None) -> object:
    if answer is None:
        return None
    value = answer_value(answer)
    return NOT_APPLICABLE if value == NA else value


def _decidable(session: Session, user: User, state: CalibrationState) -> None:
    if not (is_manager(user) and can_see_workshop(session=session, user=user,
                                                  workshop_id=state.calibration.workshop_id)):
        raise CalibrationError("not_allowed", "only a quality manager may decide a joint inspection", status=403)
    if state.decided:
        raise CalibrationError("decided", "this joint inspection already has its official inspection", status=409)
    if not state.complete:
        raise CalibrationError("incomplete", "not every inspector has submitted yet", status=409,
                               names=[c.inspector.display_name for c in state.copies if not c.locked])


def choose_official(*, session: Session, user: User, calibration: Calibration, inspection_id: int) -> Inspection:
    """The manager makes one submitted copy the workshop's official inspection; the others stay records."""
    state = state_of(session, calibration)
    _decidable(session, user, state)
    if state.reconciled is not None:
        raise CalibrationError("reconciling", "a reconciled copy is in progress: submit it instead", status=409)
    chosen = next((c for c in state.copies if c.id == inspection_id), None)
    if chosen is None:
        raise CalibrationError("unknown_copy", f"inspection {inspection_id} is not a copy of this joint inspection",
                               field="inspection")
    chosen.status = InspectionStatus.submitted
    calibration.decided_by_id, calibration.decided_at = user.id, clock.now()
    session.flush()
    became_official(session=session, inspection=chosen)
    audit(session, actor=user, action="calibration.official", object_type="calibration", object_id=calibration.id,
          new={"inspection": chosen.id, "inspector": chosen.inspector.username})
    return chosen


def start_reconciled(*, session: Session, user: User, calibration: Calibration) -> Inspection:
    """The manager's own copy, filled in from the panel: per item the median score (the lower of two middles),
    N/A where most said N/A, every note with its author, flagged if anyone flagged it, and every photo. The
    manager changes what the panel got wrong and submits it: that is the official inspection."""
    state = state_of(session, calibration)
    _decidable(session, user, state)
    if state.reconciled is not None:
        return state.reconciled
    # started when the panel started: it records that walk of the floor (a plan's window sees it there too)
    reconciled = Inspection(workshop_id=calibration.workshop_id, version_id=calibration.version_id,
                            inspector_id=user.id, calibration_id=calibration.id, reconciled=True,
                            started_at=calibration.started_at)
    session.add(reconciled)
    session.flush()
    answers = [{a.item_id: a for a in copy.answers} for copy in state.copies]
    changes = []
    for category in calibration.version.categories:
        for item in category.items:
            given = [by_item[item.id] for by_item in answers if item.id in by_item]
            if not given:
                continue
            scored = [a.score for a in given if not a.not_applicable and a.score is not None]
            value = NA if len(scored) * 2 < len(given) or not scored else median_low(scored)
            notes = "\n".join(f"{copy.inspector.display_name}：{a.note}" for copy, by_item in
                              zip(state.copies, answers, strict=True) if (a := by_item.get(item.id)) and a.note)
            changes.append(AnswerInput(item_key=item.key, value=value, note=notes[:2000],
                                       flagged=any(a.flagged for a in given)))
    refused = [r for r in save_answers(session=session, user=user, inspection=reconciled, changes=changes)
               if isinstance(r, InspectionError)]
    if refused:
        raise refused[0]
    for photo in session.exec(select(Photo).where(Photo.inspection_id.in_([c.id for c in state.copies]))
                              .order_by(Photo.id)).all():
        session.add(Photo(inspection_id=reconciled.id, item_id=photo.item_id, sha256=photo.sha256,
                          width=photo.width, height=photo.height, byte_size=photo.byte_size,
                          uploaded_by_id=photo.uploaded_by_id))
    session.flush()
    audit(session, actor=user, action="calibration.reconcile", object_type="calibration", object_id=calibration.id,
          new={"inspection": reconciled.id})
    return reconciled
