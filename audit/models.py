from datetime import datetime

from sqlmodel import Field, SQLModel

import clock


class AuditEvent(SQLModel, table=True):
    """One change to a quality record, append-only (database triggers refuse UPDATE and DELETE) and chained:
    sha256 = SHA-256(prev_sha256 ‖ canonical row), so a row changed or removed behind the database's back
    breaks the chain at that row (`flask audit verify`)."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=clock.now, index=True)
    # No foreign key: the trail must outlive anything it talks about, and names are kept as they were then.
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(default="", max_length=120)
    action: str = Field(max_length=48, index=True)
    object_type: str = Field(max_length=32, index=True)
    object_id: str = Field(max_length=64, index=True)
    old_value: str | None = None  # JSON
    new_value: str | None = None  # JSON
    reason: str | None = None
    prev_sha256: str = Field(max_length=64)
    sha256: str = Field(max_length=64, unique=True)
