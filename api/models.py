from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

import clock


class IdempotencyKey(SQLModel, table=True):
    """A POST made with an `Idempotency-Key` header and the answer it got: the same key again (a retry after a
    timeout) gets that answer back instead of doing the thing twice. status None: still being answered."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    key: str = Field(max_length=255)
    request_sha256: str = Field(max_length=64)  # method, path, query and body: the same key for another request
    status: int | None = None
    body: str | None = None
    content_type: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=clock.now, index=True)
    holder: str | None = Field(default=None, max_length=160)  # host:pid:process start of the worker answering
    committed_at: datetime | None = None  # the request's own change committed (its answer may yet be lost)
