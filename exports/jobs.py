"""Large exports in the background: asked for on the screen, built by the task consumer with its progress in the
database, downloaded by the one who asked, removed after a day.

An export over LARGE_EXPORT_ROWS rows would hold a request open for minutes with nothing on screen. Asking for
it creates an ExportJob; the task writes the file under DATA_DIR/exports/ (to a temporary name, then renamed: a
consumer killed mid-file leaves no half file behind a "done"), telling rows_done as it goes; the screen polls it
and shows a bar, then the link.
Asking again for the same export while it is on its way, or done and not expired, is the same job.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlmodel import Session, select

import clock
from accounts.models import User
from database import write_session
from exports.models import ExportJob, ExportState
from exports.service import (
    Export,
    action_export,
    answer_export,
    inspection_export,
    parse_filter,
    red_tag_export,
)
from exports.writers import XLSX_MIMETYPE, write_csv, write_xlsx
from storage import storage
from tasks import after_commit, background, every

DATASETS = {"inspections": inspection_export, "answers": answer_export, "actions": action_export,
            "red-tags": red_tag_export}
FORMATS = ("csv", "xlsx")
FILTER_KEYS = ("plant", "workshop", "from", "to", "checklist", "version")
BUILD_TASK = "exports.build"
SWEEP_TASK = "exports.sweep"
KEEP_FOR = timedelta(days=1)
STUCK_AFTER = timedelta(minutes=10)  # a running job not heard of for this long lost its consumer: queue it again


def filters_of(args) -> dict[str, str]:
    """The filter as asked, only its known keys and only those given (the job's identity)."""
    return {key: args.get(key).strip() for key in FILTER_KEYS if (args.get(key) or "").strip()}


def build_export(*, session: Session, user: User, dataset: str, filters: dict[str, str]) -> Export:
    """The export for this user (raises ExportError on a bad filter or a plant outside the scope)."""
    return DATASETS[dataset](session=session, user=user, flt=parse_filter(filters))


def filename_for(export: Export, dataset: str, fmt: str) -> str:
    """Named after the time at the plant (the default zone when the export spans plants in several zones)."""
    zone = clock.zone_named(export.zones[0] if len(export.zones) == 1 else None)
    return f"6S-{dataset}-{clock.local(clock.now(), zone):%Y%m%d-%H%M}.{fmt}"


def export_key(job: ExportJob) -> str:
    return f"exports/export-{job.id}.{job.fmt}"


def request_export(*, session: Session, user: User, dataset: str, fmt: str, filters: dict[str, str],
                   rows_total: int) -> ExportJob:
    """The user's job for this export: the one on its way or still fresh, else a new one, queued at commit."""
    now = clock.now()
    for job in session.exec(select(ExportJob).where(
            ExportJob.user_id == user.id, ExportJob.dataset == dataset, ExportJob.fmt == fmt,
            ExportJob.state.in_((ExportState.queued, ExportState.running, ExportState.done)))
            .order_by(ExportJob.id.desc())):
        fresh = job.state != ExportState.done or clock.as_utc(job.expires_at) > now
        if job.filters == filters and fresh:
            return job
    job = ExportJob(user_id=user.id, dataset=dataset, fmt=fmt, filters=filters, rows_total=rows_total)
    session.add(job)
    session.flush()
    after_commit(session, BUILD_TASK, job_id=job.id)
    return job


def jobs_of(*, session: Session, user: User) -> list[ExportJob]:
    """The user's exports of the last day, newest first."""
    since = clock.now() - KEEP_FOR
    return list(session.exec(select(ExportJob).where(ExportJob.user_id == user.id, ExportJob.created_at >= since)
                             .order_by(ExportJob.id.desc())))


def _update(job_id: int, **fields: Any) -> None:
    with write_session(current_app.extensions["engine"]) as session:
        job = session.get(ExportJob, job_id)
        for name, value in fields.items():
            setattr(job, name, value)
        job.updated_at = clock.now()


@background(BUILD_TASK, retries=2, retry_delay=30)
def build_task(job_id: int) -> None:
    """Write the job's file. Idempotent: a job done (or expired) is left alone; one that was running when its
    consumer died starts again from the first row and replaces the half-written file."""
    engine = current_app.extensions["engine"]
    with Session(engine) as session:
        job = session.get(ExportJob, job_id)
        if job is None or job.state in (ExportState.done, ExportState.expired):
            return
        user = session.get(User, job.user_id)
        _update(job_id, state=ExportState.running, rows_done=0, error="")
        # written to a local file first (the writers need a file), then stored where every server can serve it
        work = Path(current_app.config["DATA_DIR"]) / "exports-work"
        work.mkdir(parents=True, exist_ok=True)
        partial = work / f"export-{job.id}.{uuid.uuid4().hex}.part"
        try:
            export = build_export(session=session, user=user, dataset=job.dataset, filters=job.filters)

            def progress(rows: int) -> None:
                _update(job_id, rows_done=rows, rows_total=max(rows, job.rows_total))

            if job.fmt == "csv":
                write_csv(export, str(partial), progress)
            else:
                write_xlsx(export, job.dataset, str(partial), progress)
            byte_size = partial.stat().st_size
            storage().put_file(export_key(job), partial,
                               XLSX_MIMETYPE if job.fmt == "xlsx" else "text/csv; charset=utf-8")
        except Exception as exc:
            # the message the user sees; the queue retries, and the last failure stays
            _update(job_id, state=ExportState.failed, error=f"{exc.__class__.__name__}: {exc}"[:500])
            raise
        finally:
            partial.unlink(missing_ok=True)
        finished = clock.now()
        _update(job_id, state=ExportState.done, filename=filename_for(export, job.dataset, job.fmt),
                byte_size=byte_size, finished_at=finished, expires_at=finished + KEEP_FOR)


@background(SWEEP_TASK, retries=0)
def sweep_task() -> None:
    """Remove the files of exports older than a day; queue again the jobs a dead consumer left behind."""
    now = clock.now()
    store = storage()
    with write_session(current_app.extensions["engine"]) as session:
        for job in session.exec(select(ExportJob).where(ExportJob.state == ExportState.done,
                                                        ExportJob.expires_at <= now)):
            store.delete(export_key(job))
            job.state = ExportState.expired
        stale = session.exec(select(ExportJob).where(
            ExportJob.state.in_((ExportState.queued, ExportState.running)),
            ExportJob.updated_at < now - STUCK_AFTER)).all()
        stale_ids = [job.id for job in stale]
    for job_id in stale_ids:
        current_app.extensions["tasks"].enqueue(BUILD_TASK, job_id=job_id)


every(SWEEP_TASK, minute="*/10")
