"""Issued reports: rendered once per state of the record, stored by hash, served unchanged, verifiable.

The record statement is the canonical JSON of what a report states about an inspection. Its SHA-256 (the
"record fingerprint") is printed in the PDF; the PDF file's own SHA-256 is stored with it. Either hash, given to
/verify, names the inspection and says whether what is held still matches.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from accounts.models import User
from actions.models import CorrectiveAction, Finding
from database import write_session
from events import News, announce
from inspections.markup import layers_of
from inspections.models import Inspection, ReportDocument
from inspections.photo_uploads import photos_by_item
from inspections.signatures import signatures_of
from inspections.submission import corrections_of
from reports.language import document_suffix
from storage import Storage, StoredFileError

REPORT_KINDS = ("full", "findings")


class ArchiveCorrupt(RuntimeError):
    """A stored report is missing or its bytes no longer match their hash: never serve it silently."""


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def record_statement(*, session: Session, inspection: Inspection) -> dict:
    """Everything a report states about a submitted inspection, as plain values in a fixed order."""
    version = inspection.version
    answers = {answer.item_id: answer for answer in inspection.answers}  # by id: no lazy load per answer
    photos = photos_by_item(session=session, inspection=inspection)
    layers = layers_of(session, [p.id for listed in photos.values() for p in listed])
    items = []
    for category in version.categories:
        for item in category.items:
            answer = answers.get(item.id)
            entry = {
                "key": item.key,
                "value": None if answer is None else ("na" if answer.not_applicable else answer.score),
                "note": answer.note if answer else "",
                "photos": [photo.sha256 for photo in photos.get(item.id, [])],
            }
            if answer is not None and answer.flagged:
                entry["flagged"] = True  # only when set: records from before flags keep their hash
            marked = {photo.sha256: layers[photo.id].sha256 for photo in photos.get(item.id, []) if photo.id in layers}
            if marked:
                entry["markup"] = marked  # only when drawn: records without markup keep their hash
            items.append(entry)
    statement = {
        "inspection": inspection.id,
        "plant": inspection.workshop.plant.code,
        "workshop": inspection.workshop.code,
        "inspector": inspection.inspector.username,
        "started_at": _iso(inspection.started_at),
        "submitted_at": _iso(inspection.submitted_at),
        "checklist": {"key": version.checklist.key, "version": version.number,
                      "content_sha256": version.content_sha256},
        "result": {
            "overall_percent": inspection.overall_percent, "grade": inspection.grade, "passed": inspection.passed,
            "categories": [[r.category_key, r.points, r.max_points, r.percent] for r in inspection.category_results],
        },
        "answers": items,
        "signatures": [{"role": str(s.role), "name": s.signer_name, "signed_at": _iso(s.signed_at),
                        "image_sha256": s.image_sha256,
                        # only for one signed on a tablet offline: earlier records keep their fingerprint
                        **({"signed_on_device_at": _iso(s.device_signed_at)} if s.device_signed_at else {})}
                       for s in signatures_of(session, inspection).values()],
    }
    # Only when there are any, so that records issued before corrections existed keep their fingerprint.
    corrections = corrections_of(session, inspection)
    if corrections:
        keys = {item.id: item.key for category in version.categories for item in category.items}
        statement["corrections"] = [
            {"item": keys[c.item_id], "by": c.user_id, "at": _iso(c.at), "reason": c.reason,
             "old": c.old_value, "new": c.new_value, "old_note": c.old_note, "new_note": c.new_note}
            for c in corrections]
    actions = actions_statement(session, inspection)
    if actions:
        statement["actions"] = actions
    return statement


def actions_statement(session: Session, inspection: Inspection) -> list[dict]:
    """The corrective actions of the inspection's findings as the report prints them (empty before #8's
    findings existed, so older records keep their fingerprint)."""

    rows = session.exec(select(CorrectiveAction, Finding).join(Finding, CorrectiveAction.finding_id == Finding.id)
                        .where(Finding.inspection_id == inspection.id).order_by(CorrectiveAction.id)).all()
    return [{"item": finding.item_key, "status": str(action.status),
             "owner": action.owner.username if action.owner else None, "due_on": action.due_on.isoformat(),
             "action": action.action_text, "after_photo": action.after_photo_sha256,
             "closed_at": _iso(action.closed_at)} for action, finding in rows]


def canonical_json(statement: dict) -> str:
    return json.dumps(statement, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint(statement: dict) -> str:
    return hashlib.sha256(canonical_json(statement).encode()).hexdigest()


def change_reason(previous: dict | None, current: dict) -> str:
    """issued (the first), signed (only signatures changed), actions (only the corrective actions moved),
    corrected (anything else changed)."""
    if previous is None:
        return "issued"
    without = lambda s, *keys: {k: v for k, v in s.items() if k not in keys}  # noqa: E731
    if without(previous, "signatures") == without(current, "signatures"):
        return "signed"
    if without(previous, "actions") == without(current, "actions"):
        return "actions"
    return "corrected"


def document_number(inspection_id: int, kind: str, sequence: int, language: str = "zh") -> str:
    """6S-12-3 (the third full report of inspection 12), 6S-12-F1 (its first findings summary), 6S-12-3-EN."""
    return f"6S-{inspection_id}-{'F' if kind == 'findings' else ''}{sequence}{document_suffix(language)}"


def number_of(document: ReportDocument) -> str:
    return document_number(document.inspection_id, document.kind, document.sequence, document.language)


def report_key(file_sha256: str) -> str:
    return f"reports/{file_sha256[:2]}/{file_sha256}.pdf"


def read_stored(store: Storage, document: ReportDocument) -> bytes:
    return read_report_file(store, document.file_sha256)


def read_report_file(store: Storage, file_sha256: str) -> bytes:
    """A stored PDF by its hash, checked: missing or altered is ArchiveCorrupt (naming it), never wrong bytes."""
    try:
        return store.get(report_key(file_sha256))
    except StoredFileError as exc:
        raise ArchiveCorrupt(str(exc)) from exc


def store_report_file(store: Storage, data: bytes, file_sha256: str) -> None:
    store.put(report_key(file_sha256), data, "application/pdf")


def latest_document(session: Session, inspection_id: int, kind: str, language: str = "zh") -> ReportDocument | None:
    return session.exec(
        select(ReportDocument)
        .where(ReportDocument.inspection_id == inspection_id, ReportDocument.kind == kind,
               ReportDocument.language == language)
        .order_by(ReportDocument.sequence.desc())
    ).first()


@dataclass(frozen=True)
class Issue:
    """What a render needs to print about the document it is making."""

    number: str
    sequence: int
    record_sha256: str
    record_json: str  # the canonical statement whose SHA-256 is record_sha256: the PDF carries it
    previous: ReportDocument | None
    reason: str


@dataclass(frozen=True)
class IssuedReport:
    document: ReportDocument
    pdf: bytes
    fresh: bool  # rendered by this call


def announce_issued(session: Session, inspection: Inspection, document: ReportDocument, number: str) -> None:
    """`report.issued`, in the transaction that stores the document."""
    announce(session, News(inspection.workshop.plant_id, "report.issued", {
        "document": number, "inspection": inspection.id, "workshop": inspection.workshop.code,
        "kind": document.kind, "language": document.language, "sequence": document.sequence, "reason": document.reason,
        "file_sha256": document.file_sha256, "record_sha256": document.record_sha256,
        "byte_size": document.byte_size, "verify": f"/verify/{document.file_sha256}"}))


def issue_report(
    *, engine: Engine, session: Session, inspection: Inspection, kind: str, store: Storage,
    render: Callable[[Issue], bytes], user: User | None = None, attempts: int = 3, language: str = "zh",
) -> IssuedReport:
    """The stored report for the record as it stands: the existing one, or a new one that supersedes it.

    Rendering happens outside any write transaction (it takes about half a second); the insert then checks that
    nobody issued one meanwhile. Two simultaneous first downloads therefore store one document.
    """
    statement = record_statement(session=session, inspection=inspection)
    record_sha256 = fingerprint(statement)
    for _attempt in range(attempts):
        latest = latest_document(session, inspection.id, kind, language)
        if latest is not None and latest.record_sha256 == record_sha256:
            return IssuedReport(latest, read_stored(store, latest), fresh=False)
        sequence = latest.sequence + 1 if latest else 1
        issue = Issue(number=document_number(inspection.id, kind, sequence, language), sequence=sequence,
                      record_sha256=record_sha256, record_json=canonical_json(statement), previous=latest,
                      reason=change_reason(json.loads(latest.record_json) if latest else None, statement))
        pdf = render(issue)
        file_sha256 = hashlib.sha256(pdf).hexdigest()
        store_report_file(store, pdf, file_sha256)
        try:
            with write_session(engine) as writer:
                if (current := latest_document(writer, inspection.id, kind, language)) is not None and (
                        latest is None or current.id != latest.id):
                    raise _ChainMoved
                document = ReportDocument(
                    inspection_id=inspection.id, kind=kind, language=language, sequence=sequence,
                    previous_id=latest.id if latest else None, reason=issue.reason, record_sha256=record_sha256,
                    record_json=canonical_json(statement), file_sha256=file_sha256, byte_size=len(pdf),
                    created_by_id=user.id if user else None,
                )
                writer.add(document)
                writer.flush()
                announce_issued(writer, inspection, document, issue.number)
        except (_ChainMoved, IntegrityError):
            session.rollback()  # someone else issued one meanwhile: end our read snapshot and look again
            continue
        return IssuedReport(document, pdf, fresh=True)
    raise RuntimeError(f"could not issue a report for inspection {inspection.id} after {attempts} attempts")


class _ChainMoved(Exception):
    pass


@dataclass(frozen=True)
class Verification:
    document: ReportDocument
    inspection: Inspection
    matched: str  # "file": the PDF's own hash; "record": the fingerprint printed in it
    latest: ReportDocument  # the newest document of the same inspection and kind
    file_intact: bool  # the stored bytes still match the hash
    record_intact: bool  # the inspection as held now still states what the latest document states
    # other documents that print the same record fingerprint (the findings summary, other languages)
    siblings: tuple[ReportDocument, ...] = ()

    @property
    def superseded(self) -> bool:
        return self.document.id != self.latest.id

    @property
    def printed(self) -> dict:
        """The result as this document printed it (its own record), never the inspection's figures of today."""
        return json.loads(self.document.record_json).get("result", {})


RECORD_FILE = "record.json"  # the statement an issued PDF carries (PDF/A-3 associated file)


DOCUMENT_NUMBER = re.compile(r"\b6S-\d+-F?\d+(?:-EN|-ZHEN)?\b")


def number_inside(pdf_bytes: bytes) -> str | None:
    """The document number a PDF's metadata names (its keywords): only a hint to tell apart the documents that
    share one verified record (the full report and its summary); it decides nothing about authenticity."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
            keywords = str(pdf.docinfo.get("/Keywords", ""))
    except (pikepdf.PdfError, ValueError, KeyError, AttributeError):
        return None
    found = DOCUMENT_NUMBER.findall(keywords)
    return found[-1] if found else None


def fingerprint_inside(pdf_bytes: bytes) -> str | None:
    """The fingerprint of the record statement a PDF carries, computed here from what it carries (never read
    from its text): a report re-saved by a PDF tool has another file hash but still carries its record.
    None: not a PDF, or no record inside."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
            attached = pdf.attachments.get(RECORD_FILE)
            if attached is None:
                return None
            stream = attached.get_file().obj
            filters = stream.get("/Filter")
            names = [] if filters is None else (
                [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)])
            if "/DecodeParms" in stream:
                return None  # predictors: never how a record is written
            data = bounded_decode(stream.read_raw_bytes(), names, MAX_RECORD_BYTES)
    except (pikepdf.PdfError, ValueError, KeyError, AttributeError, TypeError):
        return None
    if data is None:
        return None
    try:
        statement = json.loads(data)
    except ValueError:
        return None
    return fingerprint(statement) if isinstance(statement, dict) else None


# The record a report carries is some kilobytes (a 300-item inspection with every note: under 1 MB); anything that
# inflates past this is not ours and is never inflated further (a few KB of nested Flate can make gigabytes).
MAX_RECORD_BYTES = 4 * 1024 * 1024
MAX_FILTER_LAYERS = 2


def bounded_decode(raw: bytes, names: list[str], limit: int) -> bytes | None:
    """A PDF stream's bytes through its filters (names, in order), never holding more than `limit` bytes of output
    at any layer; None when it would grow past that, uses a filter other than Flate, or stacks more than
    MAX_FILTER_LAYERS."""

    if len(names) > MAX_FILTER_LAYERS or any(name != "/FlateDecode" for name in names):
        return None
    data = raw
    for _name in names:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(data, limit + 1)
        except zlib.error:
            return None
        if len(data) > limit or inflater.unconsumed_tail:
            return None
    return data if len(data) <= limit else None


def issued_file(session: Session, file_sha256: str) -> bool:
    return session.exec(select(ReportDocument.id).where(ReportDocument.file_sha256 == file_sha256)).first() is not None


def verify(*, session: Session, sha256: str, store: Storage, number: str | None = None) -> Verification | None:
    """What is held of the document with this file hash or record fingerprint. A record fingerprint is printed on
    every document made from that record (the full report, its findings summary, each language): `number` (the
    document number the QR code or the uploaded file names) says which; without it, the full report in Chinese,
    else the earliest, with the others named as siblings."""
    sha256 = sha256.strip().lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        return None
    document = session.exec(select(ReportDocument).where(ReportDocument.file_sha256 == sha256)).first()
    matched, siblings = "file", []
    if document is None:
        matched = "record"
        sharing = session.exec(select(ReportDocument).where(ReportDocument.record_sha256 == sha256)
                               .order_by(ReportDocument.id)).all()
        named = [d for d in sharing if number is not None and number_of(d) == number]
        preferred = sorted(sharing, key=lambda d: (d.kind != "full", d.language != "zh", d.id))
        document = (named or preferred or [None])[0]
        siblings = [d for d in sharing if document is not None and d.id != document.id]
    if document is None:
        return None
    inspection = session.get(Inspection, document.inspection_id)
    latest = latest_document(session, inspection.id, document.kind, document.language)
    try:
        read_stored(store, document)
        file_intact = True
    except ArchiveCorrupt:
        file_intact = False
    record_intact = fingerprint(record_statement(session=session, inspection=inspection)) == latest.record_sha256
    return Verification(document=document, inspection=inspection, matched=matched, latest=latest,
                        file_intact=file_intact, record_intact=record_intact, siblings=tuple(siblings))
