"""An inspection's own history, oldest first, for whoever reads its record (an auditor above all): every answer
change the server took or refused as a conflict, the submit, each signature, each photo, each correction with its
reason, and every report document issued. Read from the append-only rows that already say it (answer changes,
the audit trail, issued documents): nothing here is stored twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from accounts.models import User
from audit.models import AuditEvent
from checklists.models import ChecklistItem
from inspections.models import AnswerChange, Inspection, ReportDocument
from reports.archive import number_of


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str  # answer | conflict | report | the audit action (inspection.submit, inspection.sign, photo.add, …)
    who: str
    item: ChecklistItem | None = None
    old: str | None = None
    new: str | None = None
    note: str | None = None  # a note changed with the answer
    reason: str | None = None  # a correction's reason, a report's reason
    document: str | None = None  # a report's document number
    detail: dict | None = None  # what the audit event recorded


def inspection_history(*, session: Session, inspection: Inspection) -> list[HistoryEntry]:
    items = {item.id: item for category in inspection.version.categories for item in category.items}
    changes = session.exec(select(AnswerChange).where(AnswerChange.inspection_id == inspection.id)
                           .order_by(AnswerChange.id)).all()
    documents = session.exec(select(ReportDocument).where(ReportDocument.inspection_id == inspection.id)
                             .order_by(ReportDocument.id)).all()
    people = {c.user_id for c in changes} | {d.created_by_id for d in documents if d.created_by_id}
    names = dict(session.exec(select(User.id, User.display_name).where(User.id.in_(people))).all()) if people else {}
    entries: list[HistoryEntry] = []
    for change in changes:
        if change.outcome == "correction":
            continue  # told by its audit event, with the reason
        entries.append(HistoryEntry(
            at=change.at, kind="conflict" if change.outcome == "conflict" else "answer",
            who=names.get(change.user_id, "?"), item=items.get(change.item_id), old=change.old_value,
            new=change.new_value, note=change.new_note if change.new_note != change.old_note else None))
    for event in session.exec(select(AuditEvent).where(AuditEvent.object_type == "inspection",
                                                       AuditEvent.object_id == str(inspection.id))
                              .order_by(AuditEvent.id)):
        entries.append(HistoryEntry(at=event.at, kind=event.action, who=event.actor_name or "—",
                                    reason=event.reason, detail=json.loads(event.new_value or "null") or {}))
    for document in documents:
        entries.append(HistoryEntry(at=document.created_at, kind="report",
                                    who=names.get(document.created_by_id, "") if document.created_by_id else "",
                                    document=number_of(document), reason=document.reason))
    return sorted(entries, key=lambda e: e.at)
