"""A save from a tablet that saw an older revision of an answer is a conflict only when it changes a field someone
else changed since: a note typed on a stale tablet while another changed the score is kept beside that score, not
refused (#37: it was refused as a conflict about scores, and the note was lost when the other value was kept)."""

from __future__ import annotations

from sqlmodel import Session, select

from inspections.models import AnswerChange

# An answer's fields a save may set, in this order: the value as stored ("0".."9", "na"), the note, the flag.
Fields = tuple[str | None, str | None, bool | None]


def untouched_since(at_base: Fields, current: Fields, sets: tuple[bool, bool, bool]) -> bool:
    """Each field the save sets still holds what the saving tablet saw (so nobody else changed it)."""
    seen_value, seen_note, seen_flag = at_base
    value, note, flag = current
    sets_value, sets_note, sets_flag = sets
    return ((not sets_value or value == seen_value) and (not sets_note or (note or "") == (seen_note or ""))
            and (not sets_flag or bool(flag) == bool(seen_flag)))


def merges_cleanly(session: Session, inspection_id: int, item_id: int, change, current: Fields) -> bool:
    """The stale save (its base_revision, and the value, note and flag it sets or leaves as None) touches only
    fields unchanged since the revision it saw, read from the answer's history."""
    if change.base_revision <= 0:
        return False  # the tablet saw no answer: whatever is there now is someone else's
    seen = session.exec(select(AnswerChange).where(
        AnswerChange.inspection_id == inspection_id, AnswerChange.item_id == item_id,
        AnswerChange.outcome == "applied", AnswerChange.revision == change.base_revision)).first()
    if seen is None:
        return False
    sets = (change.value is not None, change.note is not None, change.flagged is not None)
    return untouched_since((seen.new_value, seen.new_note, seen.new_flagged), current, sets)
