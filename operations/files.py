"""Which stored files the records refer to, and whether each is there and intact."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlmodel import Session, select

from actions.models import CorrectiveAction
from inspections.models import PeriodReport, Photo, ReportDocument
from photos import photo_key, read_photo
from redtags.models import RedTag
from reports.archive import report_key
from storage import Storage, StoredFileError


def referenced_keys(session: Session) -> Iterator[tuple[str, str]]:
    """(key, what refers to it) for every stored file a record needs: photos with their thumbnails (answers,
    corrective actions, red tags) and issued reports (inspection and period reports)."""
    def photo(sha256: str, what: str):
        yield photo_key(sha256), what
        yield photo_key(sha256, thumbnail=True), what + " (thumbnail)"

    for photo_id, sha256 in session.exec(select(Photo.id, Photo.sha256).order_by(Photo.id)):
        yield from photo(sha256, f"photo {photo_id}")
    for action_id, sha256 in session.exec(select(CorrectiveAction.id, CorrectiveAction.after_photo_sha256)
                                          .where(CorrectiveAction.after_photo_sha256.is_not(None))
                                          .order_by(CorrectiveAction.id)):
        yield from photo(sha256, f"corrective action {action_id} after-photo")
    for number, sha256 in session.exec(select(RedTag.number, RedTag.photo_sha256).order_by(RedTag.id)):
        yield from photo(sha256, f"red tag {number}")
    for document_id, sha256 in session.exec(select(ReportDocument.id, ReportDocument.file_sha256)
                                            .order_by(ReportDocument.id)):
        yield report_key(sha256), f"report document {document_id}"
    for report_id, sha256 in session.exec(select(PeriodReport.id, PeriodReport.file_sha256).order_by(PeriodReport.id)):
        yield report_key(sha256), f"period report {report_id}"


THUMBNAIL = re.compile(r"photos/[0-9a-f]{2}/([0-9a-f]{64})\.thumb\.jpg")


def read_checked(store: Storage, key: str) -> bytes:
    """store.get, except that a thumbnail stored before hashes were recorded is made again from its photo
    (photos.read_photo) instead of being reported as damaged."""
    thumbnail = THUMBNAIL.fullmatch(key)
    return read_photo(store, thumbnail.group(1), thumbnail=True) if thumbnail else store.get(key)


@dataclass
class FileCheck:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def check_referenced(session: Session, store: Storage) -> FileCheck:
    """Read every file the records refer to from store, each checked against its hash (a thumbnail stored
    before hashes were recorded is made again from its photo, see photos.read_photo)."""
    result, seen = FileCheck(), set()
    for key, what in referenced_keys(session):
        if key in seen:  # the same photo or report under two records: one read
            continue
        seen.add(key)
        result.checked += 1
        try:
            read_checked(store, key)
        except StoredFileError as exc:
            result.problems.append(f"{exc} (needed by {what})")
    return result
