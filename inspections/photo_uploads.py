"""Photos of an item: added to a draft (decoded in helper processes before the write lock), listed by item. Views
and the API both call these; none commits."""

from __future__ import annotations

from sqlmodel import Session, func, select

from accounts.models import User
from audit.service import record as audit
from database import begin_writing
from inspections.answering import change_key_of
from inspections.models import (
    Inspection,
    Photo,
)
from inspections.service import InspectionError, editable_item
from photos import PhotoError, store_image
from storage import Storage

MAX_PHOTOS_PER_ITEM = 10


def add_photo(
    *, session: Session, user: User, inspection: Inspection, item_key: str, data: bytes, store: Storage,
    change_key: str | None = None,
) -> Photo:
    """Validate, re-encode and store a photo for one item of a draft inspection (a replayed upload: once).

    The photo is decoded and stored before the write lock is asked for (in a request that reads first): a large
    photo takes a second of one core, and no other tablet's save waits behind it. What was read before is read
    again under the lock."""
    item = editable_item(user, inspection, item_key)
    change_key = change_key_of(change_key)
    seen = _photo_sent_before(session, user, inspection, change_key)
    if seen is not None:
        return seen
    _photo_room_left(session, inspection, item, item_key)
    try:
        stored = store_image(data, store)
    except PhotoError as exc:
        raise InspectionError(f"photo_{exc.code}", str(exc), items=[item_key]) from exc
    if session.info.get("reads_first"):
        begin_writing(session)
        session.refresh(inspection, attribute_names=["status"])
        item = editable_item(user, inspection, item_key)
        seen = _photo_sent_before(session, user, inspection, change_key)
        if seen is not None:
            return seen
        _photo_room_left(session, inspection, item, item_key)
    photo = Photo(inspection_id=inspection.id, item_id=item.id, sha256=stored.sha256, width=stored.width,
                  height=stored.height, byte_size=stored.byte_size, uploaded_by_id=user.id, change_key=change_key)
    session.add(photo)
    session.flush()
    audit(session, actor=user, action="photo.add", object_type="inspection", object_id=inspection.id,
          new={"item": item.key, "photo": photo.id, "sha256": photo.sha256})
    return photo


def _photo_sent_before(session: Session, user: User, inspection: Inspection, change_key: str | None) -> Photo | None:
    if not change_key:
        return None
    seen = session.exec(select(Photo).where(Photo.change_key == change_key)).first()
    if seen is not None and (seen.inspection_id, seen.uploaded_by_id) != (inspection.id, user.id):
        raise InspectionError("change_key_taken", "this change key was used for another upload", status=409,
                              items=["change_key"])
    return seen


def _photo_room_left(session: Session, inspection: Inspection, item, item_key: str) -> None:
    existing = session.exec(select(func.count()).select_from(Photo).where(
        Photo.inspection_id == inspection.id, Photo.item_id == item.id)).one()
    if existing >= MAX_PHOTOS_PER_ITEM:
        raise InspectionError("too_many_photos", f"at most {MAX_PHOTOS_PER_ITEM} photos per item", items=[item_key])


def photos_by_item(*, session: Session, inspection: Inspection) -> dict[int, list[Photo]]:
    grouped: dict[int, list[Photo]] = {}
    for photo in session.exec(select(Photo).where(Photo.inspection_id == inspection.id).order_by(Photo.id)):
        grouped.setdefault(photo.item_id, []).append(photo)
    return grouped
