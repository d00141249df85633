"""The audit trail: record() in the same transaction as the change it describes; verify() walks the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlmodel import Session, select

import clock
from audit.models import AuditEvent

GENESIS = "0" * 64
# Any constant: PostgreSQL serialises appends with this transaction-scoped advisory lock (SQLite writers
# already hold the database's write lock, see database.writing).
_CHAIN_LOCK = 6_514_000


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def row_digest(prev_sha256: str, event: AuditEvent) -> str:
    canonical = json.dumps(
        [event.id, _iso(event.at), event.actor_id, event.actor_name, event.action, event.object_type,
         event.object_id, event.old_value, event.new_value, event.reason],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256((prev_sha256 + canonical).encode()).hexdigest()


def record(session: Session, *, actor, action: str, object_type: str, object_id, old=None, new=None,
           reason: str | None = None) -> AuditEvent:
    """Append one event (in the session's transaction). actor: a User, or None for the command line and the
    system."""
    return record_many(session, actor=actor, events=[Entry(action, object_type, object_id, old, new, reason)])[0]


@dataclass(frozen=True)
class Entry:
    """One event to append, as record() takes it."""

    action: str
    object_type: str
    object_id: object
    old: object = None
    new: object = None
    reason: str | None = None


def record_many(session: Session, *, actor, events: list[Entry]) -> list[AuditEvent]:
    """Append several events of one actor in order, in one statement: a category saved at once records an event
    per answer, and taking the chain's lock and reading its last link once per event was half of each save."""
    if not events:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = session.exec(select(AuditEvent.id, AuditEvent.sha256).order_by(AuditEvent.id.desc()).limit(1)).first()
    last_id, prev = (last[0], last[1]) if last else (0, GENESIS)
    at = clock.now()
    actor_id = getattr(actor, "id", None)
    actor_name = getattr(actor, "display_name", None) or getattr(actor, "username", None) or "系统/命令行"
    made = []
    for entry in events:
        last_id += 1
        event = AuditEvent(
            id=last_id, at=at, actor_id=actor_id, actor_name=actor_name, action=entry.action,
            object_type=entry.object_type, object_id=str(entry.object_id), old_value=_json(entry.old),
            new_value=_json(entry.new), reason=entry.reason, prev_sha256=prev, sha256="",
        )
        event.sha256 = prev = row_digest(prev, event)
        made.append(event)
    # A plain INSERT, not the ORM's unit of work: every answer save records an event while holding the chain's
    # lock, and the unit of work costs more than the statement. The events returned are not in the session.
    session.connection().execute(insert(AuditEvent.__table__), [event.model_dump() for event in made])
    return made


@dataclass(frozen=True)
class ChainReport:
    rows: int
    first_broken_id: int | None
    problem: str | None

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute every link, oldest first; names the first row whose link or content does not hold."""
    prev, expected_id, count = GENESIS, 1, 0
    for event in _in_order(session, batch):
        count += 1
        if event.id != expected_id:
            return ChainReport(count, event.id, f"row {expected_id} is missing (next is {event.id})")
        if event.prev_sha256 != prev:
            return ChainReport(count, event.id, "link to the previous row does not match")
        if row_digest(prev, event) != event.sha256:
            return ChainReport(count, event.id, "content does not match its hash (changed after it was written)")
        prev, expected_id = event.sha256, event.id + 1
    return ChainReport(count, None, None)


def _in_order(session: Session, batch: int) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = session.exec(select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id
        session.expunge_all()


def events_query(*, action: str | None = None, object_type: str | None = None, object_id: str | None = None,
                 actor_id: int | None = None, since: datetime | None = None, until: datetime | None = None,
                 limit: int | None = 200):
    """Newest first, filtered."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if limit is not None:
        query = query.limit(limit)
    return query


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def field_changes(old_value: str | None, new_value: str | None) -> list[tuple[str, str, str]]:
    """(field, old, new) for the fields an event changed, for people to read; unchanged fields are left out."""
    old = json.loads(old_value) if old_value else {}
    new = json.loads(new_value) if new_value else {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [("", _shown(old or None), _shown(new or None))]
    changed = [key for key in sorted(old.keys() | new.keys())
               if key not in old or key not in new or old[key] != new[key]]
    return [(key, _shown(old[key]) if key in old else "", _shown(new[key]) if key in new else "") for key in changed]
