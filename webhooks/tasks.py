"""Webhook deliveries on the task queue: each delivery queued once the transaction that made it commits, and a
sweep every minute for retries that fall due and anything the queue lost."""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from tasks import background, every
from webhooks.service import PENDING_KEY, deliver, open_session, sweep

log = logging.getLogger(__name__)
DELIVER_TASK, SWEEP_TASK = "webhooks.deliver", "webhooks.sweep"


@background(DELIVER_TASK, retries=0)  # retries are the delivery's own (its backoff), run by the sweep
def deliver_task(delivery_id: int) -> None:
    with open_session(current_app.extensions["engine"]) as session:
        deliver(session, delivery_id)


@background(SWEEP_TASK, retries=0)
def sweep_task() -> None:
    with open_session(current_app.extensions["engine"]) as session:
        posted = sweep(session)
    if posted:
        log.info("webhooks: %d deliveries posted by the sweep", posted)


every(SWEEP_TASK, minute="*")


def _queue_after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING_KEY, None)
    if ids and has_app_context() and "tasks" in current_app.extensions:
        for delivery_id in ids:
            current_app.extensions["tasks"].enqueue(DELIVER_TASK, delivery_id=delivery_id)


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def listen() -> None:
    """Queue deliveries when the transaction that made them commits (never before: the task would not find the
    row; never after a rollback: the event did not happen). Called by create_app; listening twice is harmless."""
    if not event.contains(Session, "after_commit", _queue_after_commit):
        event.listen(Session, "after_commit", _queue_after_commit)
        event.listen(Session, "after_rollback", _forget_after_rollback)
