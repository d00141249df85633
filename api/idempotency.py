"""`Idempotency-Key` on the API's POSTs (the IETF httpapi draft's header): a client that retries after a timeout
sends the same key and gets the first answer back — one inspection started, not two. The key is the caller's
(per user); the same key with another request is refused (422), a request still being answered is 409 with
Retry-After. Answers are kept for a day; a 5xx is not kept, so the retry runs again.

A worker can die between the claim and the answer. The claim names its holder (host, process and the process's
start), and the view's own commit marks the claim "carried out" in the same transaction, so a retry knows which
of two things happened: nothing was done (the key is released at once when the holder is known dead, after two
minutes when it ran on another host) or it was done and only the answer was lost (the retry is told so, 409
`idempotency_answer_lost`, and the thing is never done twice)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import delete, event, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

import clock
from api.models import IdempotencyKey
from api.problems import PROBLEM_JSON, problem, problem_body
from database import begin_writing, db
from liveness import holder_known_dead, holder_mark

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
        unanswered = found is not None and found.status is None
        holder_gone = unanswered and (holder_known_dead(found.holder)
                                      or _utc(found.created_at) < now - ABANDONED_AFTER)
        if holder_gone and found.committed_at is not None and found.request_sha256 == fingerprint:
            _keep_answer_lost(found)
        elif found is None or holder_gone:
            if found is not None:
                session.delete(found)
                session.flush()
            session.add(IdempotencyKey(user_id=user.id, key=key, request_sha256=fingerprint, created_at=now,
                                       holder=holder_mark()))
            session.commit()
            _mark_when_carried_out(session, user.id, key)
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


ANSWER_LOST_DETAIL = ("this request was carried out, but the server stopped before it answered: look the result "
                      "up instead of sending the request again")


def _keep_answer_lost(row: IdempotencyKey) -> None:
    row.status, row.content_type = 409, PROBLEM_JSON
    row.body = json.dumps(problem_body(409, ANSWER_LOST_DETAIL, "idempotency_answer_lost"), ensure_ascii=False)


def _mark_when_carried_out(session, user_id: int, key: str) -> None:
    """The view's commit, if it changed anything, marks the claim carried out in the same transaction."""
    session.info["idempotency_claim"] = (user_id, key)

    def noted_writes(session, _context):
        session.info["idempotency_wrote"] = True

    def mark(session):
        claim = session.info.get("idempotency_claim")
        if claim is None or not (session.info.get("idempotency_wrote") or session.new or session.dirty
                                 or session.deleted):
            return
        session.execute(update(IdempotencyKey).where(
            IdempotencyKey.user_id == claim[0], IdempotencyKey.key == claim[1], IdempotencyKey.status.is_(None)
        ).values(committed_at=clock.now()))

    event.listen(session, "after_flush", noted_writes)
    event.listen(session, "before_commit", mark)


def keep_answer(response):
    """After the view: the answer kept under the claimed key (a 5xx lets the key go, so a retry runs again)."""
    claimed = g.pop("idempotency", None)
    if claimed is None:
        return response
    session = db()
    session.rollback()  # what the view meant to keep it has committed; anything else is not the answer
    session.info.pop("idempotency_claim", None)
    begin_writing(session)
    user_id, key = claimed
    row = session.exec(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                    IdempotencyKey.key == key)).first()
    if row is not None:
        if (response.status_code >= 500 or response.is_streamed) and row.committed_at is not None:
            _keep_answer_lost(row)
        elif response.status_code >= 500 or response.is_streamed:
            session.delete(row)
        else:
            row.status, row.body = response.status_code, response.get_data(as_text=True)
            row.content_type = response.content_type
        session.commit()
    return response
