"""An export made in the background: asked for by one user, built by the task consumer, kept for a day."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

import clock


class ExportState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"  # retries are over: the error is shown, the user may ask again
    expired = "expired"  # the file was removed after a day


class ExportJob(SQLModel, table=True):
    __tablename__ = "export_job"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    dataset: str = Field(max_length=16)  # inspections | answers | actions | red-tags
    fmt: str = Field(max_length=8)  # csv | xlsx
    # the filter exactly as asked (plant, workshop, from, to, checklist, version): the same export asked twice
    # while the first is on its way or fresh is the same job
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=ExportState.queued, max_length=16)
    rows_total: int = 0  # counted when the job is asked for
    rows_done: int = 0
    filename: str = Field(default="", max_length=128)  # what the browser saves it as
    byte_size: int = 0
    error: str = ""
    created_at: datetime = Field(default_factory=clock.now)
    updated_at: datetime = Field(default_factory=clock.now)  # every progress report: a silent job is a dead one
    finished_at: datetime | None = None
    expires_at: datetime | None = None  # a day after it was finished

    @property
    def percent(self) -> int:
        if self.state == ExportState.done:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_total))
