"""`Idempotency-Key` on the API's POSTs (the IETF httpapi draft's header): a client that retries after a timeout
sends the same key and gets the first answer back — one inspection started, not two. The key is the caller's
(per user); the same key with another request is refused (422), a request still being answered is 409 with
Retry-After. Answers are kept for a day; a 5xx is not kept, so the retry runs again."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

import clock
from api.models import IdempotencyKey
from api.problems import problem
from database import begin_writing, db

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(days=1)
ABANDONED_AFTER = timedelta(minutes=2)  # a claim never answered (the worker died): the key may be used again
MAX_KEY = 255


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives back naive UTC


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def replay_or_claim(user):
    """Before the view: the kept answer to this key, a refusal, or None (the key is now claimed: go on)."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or not getattr(user, "is_authenticated", False):
        return None
    key = key.strip()
    if not 0 < len(key) <= MAX_KEY:
        return problem(400, f"{HEADER} must be 1 to {MAX_KEY} characters", "bad_idempotency_key",
                       items=[HEADER])
    fingerprint, now = _fingerprint(), clock.now()
    # the request's own session, committed at once: the claim must be visible to a retry running beside this
    # request, and on SQLite a second writing session would wait for this request's own lock
    session = db()
    begin_writing(session)
    try:
        session.exec(delete(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                  IdempotencyKey.created_at < now - KEPT_FOR))
        found = session.exec(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                          IdempotencyKey.key == key)).first()
        if found is None or (found.status is None and _utc(found.created_at) < now - ABANDONED_AFTER):
            if found is not None:
                session.delete(found)
                session.flush()
            session.add(IdempotencyKey(user_id=user.id, key=key, request_sha256=fingerprint, created_at=now))
            session.commit()
            g.idempotency = (user.id, key)
            return None
        session.commit()
    except IntegrityError:  # the same key claimed a moment ago by a request running beside this one
        session.rollback()
        return problem(409, "a request with this Idempotency-Key is being answered: retry shortly",
                       "idempotency_in_progress", headers={"Retry-After": "1"})
    if found.request_sha256 != fingerprint:
        return problem(422, f"this {HEADER} was used for another request", "idempotency_key_reused",
                       items=[HEADER])
    if found.status is None:
        return problem(409, "a request with this Idempotency-Key is being answered: retry shortly",
                       "idempotency_in_progress", headers={"Retry-After": "1"})
    replayed = current_app.response_class(found.body or "", status=found.status, content_type=found.content_type)
    replayed.headers["Idempotent-Replayed"] = "true"
    return replayed


def keep_answer(response):
    """After the view: the answer kept under the claimed key (a 5xx lets the key go, so a retry runs again)."""
    claimed = g.pop("idempotency", None)
    if claimed is None:
        return response
    session = db()
    session.rollback()  # what the view meant to keep it has committed; anything else is not the answer
    begin_writing(session)
    user_id, key = claimed
    row = session.exec(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                    IdempotencyKey.key == key)).first()
    if row is not None:
        if response.status_code >= 500 or response.is_streamed:
            session.delete(row)
        else:
            row.status, row.body = response.status_code, response.get_data(as_text=True)
            row.content_type = response.content_type
        session.commit()
    return response
