"""Saving answers: one item (the tablet's save, the API's PUT), or many of one inspection at once (a category from
the plain form, a whole category N/A, a panel's reconciled copy) in a handful of statements rather than nine per
answer. One path decides for both, so a batch keeps every rule of a single save: who may, the score and note
checks, replays, conflicts and merges, revisions, the answer history and the audit trail. None commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

import clock
from accounts.models import User
from audit.service import Entry, record_many
from checklists.models import ChecklistItem
from database import begin_writing
from inspections.merging import merges_cleanly
from inspections.models import Answer, AnswerChange, Inspection, InspectionStatus
from inspections.scoring import NA, AnswerValue
from inspections.service import (
    InspectionError,
    answer_value,
    can_edit,
    check_answer,
    find_item,
    stored_value,
)
from observability import answer_saved

MAX_CHANGE_KEY = 64


@dataclass(frozen=True)
class AnswerInput:
    """One item's change: value None keeps the current score (a note-only change), note None the note, flagged None
    the flag. change_key (made by the tablet, one per change) makes a replay harmless; base_revision is the
    revision the tablet last saw."""

    item_key: str
    value: AnswerValue | None
    note: str | None = None
    change_key: str | None = None
    base_revision: int | None = None
    flagged: bool | None = None


def change_key_of(raw: str | None) -> str | None:
    """The tablet's key for one change, refused when too long — never cut: two keys sharing their first 64
    characters would make the second change look like a replay of the first, and it would be lost."""
    key = (raw or "").strip() or None
    if key is not None and len(key) > MAX_CHANGE_KEY:
        raise InspectionError("bad_change_key", f"change_key is longer than {MAX_CHANGE_KEY} characters",
                              items=["change_key"])
    return key


def save_answer(
    *, session: Session, user: User, inspection: Inspection, item_key: str, value: AnswerValue | None,
    note: str | None, change_key: str | None = None, base_revision: int | None = None, flagged: bool | None = None,
) -> Answer:
    """Save one answer (see AnswerInput); raises the InspectionError that refuses it.

    A replayed change key returns the answer as it is. A save on a stale revision that changes a field someone
    else changed since is refused as a conflict (409) and recorded, so both values stay in the history.
    """
    result = save_answers(session=session, user=user, inspection=inspection, changes=[AnswerInput(
        item_key=item_key, value=value, note=note, change_key=change_key, base_revision=base_revision,
        flagged=flagged)])[0]
    if isinstance(result, InspectionError):
        raise result
    return result


def save_answers(*, session: Session, user: User, inspection: Inspection, changes: Sequence[AnswerInput]
                 ) -> list[Answer | InspectionError]:
    """Save several answers of one inspection, each as save_answer would: each result is the saved answer or the
    InspectionError refusing that one (nothing of a refused one is written, except a conflict's history row).
    Raises at once when this user may not change the inspection at all.

    Saves of one answer are applied one after another, whatever the engine: the answers' rows are locked before
    anything is decided (SQLite writers already queue at the database's gate), and two first saves racing to
    create a row end with the loser saving again on top of the winner's answer.
    """
    keys = [change.item_key for change in changes]
    change_keys = [c.change_key.strip() for c in changes if c.change_key and c.change_key.strip()]
    if len(set(keys)) < len(keys) or len(set(change_keys)) < len(change_keys):
        # the same item (or change key) twice: each save must see the one before it
        return [save_answers(session=session, user=user, inspection=inspection, changes=[change])[0]
                for change in changes]
    found = _items(inspection, keys)  # a published version never changes: read before taking any lock
    begin_writing(session)
    if session.get_bind().dialect.name != "sqlite":
        # A submit holds the inspection's row while it scores the answers: wait for it and see its outcome, so no
        # answer changes under a score being computed.
        session.refresh(inspection, attribute_names=["status"], with_for_update={"read": True, "of": Inspection})
    elif session.info.get("reads_first"):
        session.refresh(inspection, attribute_names=["status"])  # read before the lock: read it again under it
    if not can_edit(user, inspection):
        if inspection.status != InspectionStatus.draft:
            raise InspectionError("locked", "this inspection is submitted and locked", status=409)
        raise InspectionError("not_allowed", "only the inspector can change this inspection", status=403)
    results: dict[int, Answer | InspectionError] = {}
    ready: dict[int, tuple[ChecklistItem, _Change]] = {}
    for position, change in enumerate(changes):
        item = found.get(change.item_key)
        try:
            if item is None:
                raise InspectionError("unknown_item", f"no item {change.item_key!r} in this checklist version",
                                      status=404)
            change_key = change_key_of(change.change_key)
            check_answer(inspection, item.key, change.value, change.note)
        except InspectionError as refused:
            results[position] = refused
            continue
        note = change.note.strip() if change.note is not None else None
        ready[position] = (item, _Change(change.value, note, change.flagged, change_key, change.base_revision))
    results.update(_apply(session, user, inspection, ready))
    return [results[position] for position in range(len(changes))]


def mark_category_not_applicable(*, session: Session, user: User, inspection: Inspection, category_key: str) -> int:
    """N/A for every item of a category in one action (no office area in this workshop). Returns the count."""
    category = next((c for c in inspection.version.categories if c.key == category_key), None)
    if category is None:
        raise InspectionError("unknown_item", f"no category {category_key!r}", status=404)
    results = save_answers(session=session, user=user, inspection=inspection, changes=[
        AnswerInput(item_key=item.key, value=NA, flagged=False) for item in category.items])
    refused = next((result for result in results if isinstance(result, InspectionError)), None)
    if refused is not None:
        raise refused
    return len(category.items)


def _items(inspection: Inspection, keys: list[str]) -> dict[str, ChecklistItem]:
    """The version's items with these keys: from the items the page already loaded, else in one query."""
    session = object_session(inspection)
    if len(keys) == 1 or session is None or "categories" not in inspect(inspection.version).unloaded:
        return {key: item for key in keys if (item := find_item(inspection, key)) is not None}
    return {item.key: item for item in session.exec(select(ChecklistItem).where(
        ChecklistItem.version_id == inspection.version_id, ChecklistItem.key.in_(keys)))}


@dataclass(frozen=True)
class _Change:
    value: AnswerValue | None
    note: str | None
    flagged: bool | None
    change_key: str | None
    base_revision: int | None


def _apply(session: Session, user: User, inspection: Inspection, ready: dict[int, tuple[ChecklistItem, _Change]]
           ) -> dict[int, Answer | InspectionError]:
    if not ready:
        return {}
    item_ids = [item.id for item, _change in ready.values()]
    # FOR UPDATE: on PostgreSQL a second save of these answers waits here until the first commits, then reads
    # what it wrote (no revision handed out twice, no change key applied twice); populate_existing, so an
    # answer this request loaded earlier is read again too. SQLite ignores FOR UPDATE.
    answers = {answer.item_id: answer for answer in session.exec(
        select(Answer).where(Answer.inspection_id == inspection.id, Answer.item_id.in_(item_ids))
        .with_for_update(of=Answer).execution_options(populate_existing=True))}
    change_keys = [change.change_key for _item, change in ready.values() if change.change_key]
    earlier = {seen.change_key: seen for seen in session.exec(
        select(AnswerChange).where(AnswerChange.change_key.in_(change_keys)))} if change_keys else {}
    results: dict[int, Answer | InspectionError] = {}
    history: list[tuple[int, dict]] = []  # (position, row): the answer history, conflicts included
    events: list[tuple[int, Entry]] = []
    created: dict[int, Answer] = {}
    now = clock.now()
    for position, (item, change) in ready.items():
        answer = answers.get(item.id)
        try:
            outcome = _decide(session, inspection, item, change, user, answer, earlier.get(change.change_key))
        except InspectionError as refused:
            results[position] = refused
            continue
        if isinstance(outcome, _Conflict):
            history.append((position, _history_row(
                inspection, item, change, user, now, "conflict", outcome.current,
                (stored_value(change.value), change.note, change.flagged), change.base_revision)))
            answer_saved("conflict")
            results[position] = InspectionError("conflict", "the answer was changed on another device",
                                                status=409, items=[item.key], current=answer)
            continue
        if outcome is not None:
            results[position] = outcome  # a replay, or a save that changes nothing: the answer as it is
            continue
        old = (stored_value(answer_value(answer)), answer.note, answer.flagged) if answer else (None, None, None)
        if answer is None:
            answer = created[position] = Answer(inspection_id=inspection.id, item_id=item.id, updated_by_id=user.id)
        _change_answer(answer, change, user, now)
        new = (stored_value(answer_value(answer)), answer.note, answer.flagged)
        history.append((position, _history_row(inspection, item, change, user, now, "applied", old, new,
                                               answer.revision)))
        events.append((position, Entry(
            "answer.save", "inspection", inspection.id,
            old={"item": item.key, "value": old[0], "note": old[1], "flagged": old[2]} if old[0] is not None else None,
            new={"item": item.key, "value": new[0], "note": new[1], "flagged": new[2], "revision": answer.revision})))
        results[position] = answer
    lost: set[int] = set()
    if created:
        try:
            with session.begin_nested():  # a savepoint: losing a race must not undo the whole transaction
                session.add_all(list(created.values()))
        except IntegrityError:
            lost = set(created)  # another save created one of these answers meanwhile: these go again, on top
    _write(session, user, [row for position, row in history if position not in lost],
           [entry for position, entry in events if position not in lost])
    for position, _entry in events:
        if position not in lost:
            answer_saved("applied")
    if lost:
        results.update(_apply(session, user, inspection, {position: ready[position] for position in lost}))
    return results


@dataclass(frozen=True)
class _Conflict:
    current: tuple  # the answer's value, note and flag as they stand


def _decide(session: Session, inspection: Inspection, item: ChecklistItem, change: _Change, user: User,
            answer: Answer | None, earlier: AnswerChange | None) -> Answer | _Conflict | None:
    """What one save does to the answer as it stands: the answer unchanged (a replay, or nothing new), a conflict
    to record, or None to apply the change. Raises the InspectionError refusing it."""
    if earlier is not None and (earlier.inspection_id, earlier.item_id, earlier.user_id) != (
            inspection.id, item.id, user.id):
        # a key is its maker's, for one item of one inspection: another's says nothing of theirs
        raise InspectionError("change_key_taken", "this change key was used for another change", status=409,
                              items=["change_key"])
    if earlier is not None and earlier.outcome is not None:
        answer_saved("duplicate")
        if earlier.outcome == "conflict":
            raise InspectionError("conflict", "the answer was changed on another device", status=409,
                                  items=[item.key], current=answer)
        return answer
    value, note, flagged = change.value, change.note, change.flagged
    if answer is None and value is None:
        if flagged:
            raise InspectionError("flag_needs_score", "choose a score before flagging the item", items=[item.key])
        raise InspectionError("note_needs_score", "choose a score or N/A before adding a note", items=[item.key])
    old_value = answer_value(answer) if answer else None
    old_note = answer.note if answer else None
    old_flagged = answer.flagged if answer else None
    new_flagged = old_flagged if flagged is None else flagged
    if new_flagged and (value if value is not None else old_value) == NA:
        raise InspectionError("flag_not_applicable", "an item marked N/A cannot be flagged as a finding",
                              items=[item.key])
    if (answer is not None and (value is None or old_value == value) and (note is None or note == old_note)
            and new_flagged == old_flagged):
        answer_saved("unchanged")
        return answer  # a repeated save writes nothing
    current = (stored_value(old_value), old_note, old_flagged)
    current_revision = answer.revision if answer else 0
    if change.base_revision not in (None, current_revision) and not merges_cleanly(
            session, inspection.id, item.id, change, current=current):
        return _Conflict(current)
    return None


def _change_answer(answer: Answer, change: _Change, user: User, now) -> None:
    if change.value is not None:
        answer.not_applicable = change.value == NA
        answer.score = None if change.value == NA else change.value
    if change.note is not None:
        answer.note = change.note
    if change.flagged is not None:
        answer.flagged = change.flagged
    answer.flagged = bool(answer.flagged)
    answer.updated_at = now
    answer.updated_by_id = user.id
    answer.revision = (answer.revision or 0) + 1


def _history_row(inspection: Inspection, item: ChecklistItem, change: _Change, user: User, now, outcome: str,
                 old: tuple, new: tuple, revision: int) -> dict:
    return {"inspection_id": inspection.id, "item_id": item.id, "change_key": change.change_key,
            "user_id": user.id, "at": now, "outcome": outcome, "old_value": old[0], "new_value": new[0],
            "old_note": old[1], "new_note": new[1], "old_flagged": old[2], "new_flagged": new[2],
            "revision": revision}


def _write(session: Session, user: User, history: list[dict], events: list[Entry]) -> None:
    """The answers' rows (the session's flush), then their history and audit events, one statement each."""
    session.flush()
    if history:
        session.connection().execute(insert(AnswerChange.__table__), history)
    record_many(session, actor=user, events=events)
