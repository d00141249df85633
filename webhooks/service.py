"""Event webhooks: endpoints, events, deliveries. Who may (admins) is asked by the views; this module keeps the
rules of the records.

A message follows Standard Webhooks (standardwebhooks.com; signed with its reference library): the body is
`{"id", "type", "timestamp", "plant", "data"}`; the headers `webhook-id` (the event's id, the same on every retry
and redelivery), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
(`v1,` + Base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>")), the secret being the Base64 after `whsec_`).

Deliveries are rows written with the change (emit), posted after the commit by the queue (deliver), and found
again every minute by a sweep: a retry after 1 min, 5 min, 30 min, 2 h, 8 h, then failed. Sending is claimed with
a conditional UPDATE, so a delivery goes out once even when the queue and the sweep reach it together; a claim
not finished within CLAIM_TIMEOUT (the worker died) is taken up again."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select
from standardwebhooks import Webhook

import clock
import events
from accounts.models import Plant
from audit.service import record as audit
from database import writing
from outbound import open_url
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

EVENTS = ("inspection.submitted", "finding.created", "report.issued", "action.overdue", "action.verified",
          "red_tag.escalated", "plan.occurrence_skipped", "plan.occurrence_missed")
TEST_EVENT = "webhook.test"  # sent from the admin screen to one endpoint: "does my receiver hear us?"
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=8))
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 10
CLAIM_TIMEOUT = timedelta(seconds=TIMEOUT_SECONDS * 6)
SWEEP_BATCH = 200
PENDING_KEY = "webhook_deliveries"  # session.info: deliveries to queue once the transaction commits
USER_AGENT = "6S-Inspect-Webhooks/1"


class WebhookError(ValueError):
    def __init__(self, field: str, message: str, code: str):
        super().__init__(message)
        self.field, self.code = field, code


def _utc(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


# ---- endpoints

def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _checked(url: str, events: Iterable[str], description: str) -> tuple[str, list[str], str]:
    url, description = (url or "").strip(), (description or "").strip()
    if not url.startswith(("http://", "https://")) or len(url) > 500 or any(c.isspace() for c in url):
        raise WebhookError("url", "the address starts with http:// or https:// (at most 500 characters)", "url")
    chosen = list(dict.fromkeys(e for e in events if e))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise WebhookError("events", f"unknown events: {', '.join(unknown)}", "unknown_event")
    if not chosen:
        raise WebhookError("events", "choose at least one event", "events_required")
    if len(description) > 200:
        raise WebhookError("description", "at most 200 characters", "description")
    return url, chosen, description


def create_endpoint(*, session: Session, actor, plant: Plant, url: str, events: Iterable[str],
                    description: str = "") -> WebhookEndpoint:
    url, chosen, description = _checked(url, events, description)
    endpoint = WebhookEndpoint(plant_id=plant.id, url=url, events=chosen, description=description,
                               secret=new_secret(), created_by_id=actor.id)
    session.add(endpoint)
    session.flush()
    audit(session, actor=actor, action="webhook.create", object_type="webhook_endpoint", object_id=endpoint.id,
          new={"plant": plant.code, "url": url, "events": chosen})
    return endpoint


def change_endpoint(*, session: Session, actor, endpoint: WebhookEndpoint, url: str, events: Iterable[str],
                    description: str, active: bool) -> None:
    url, chosen, description = _checked(url, events, description)
    old = {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
    endpoint.url, endpoint.events, endpoint.description, endpoint.active = url, chosen, description, active
    session.add(endpoint)
    audit(session, actor=actor, action="webhook.change", object_type="webhook_endpoint", object_id=endpoint.id,
          old=old, new={"url": url, "events": chosen, "active": active})


def rotate_secret(*, session: Session, actor, endpoint: WebhookEndpoint) -> None:
    endpoint.secret = new_secret()
    session.add(endpoint)
    audit(session, actor=actor, action="webhook.rotate_secret", object_type="webhook_endpoint",
          object_id=endpoint.id)


# ---- events

def _message(event_id: str, event: str, plant: Plant, data: dict) -> str:
    return json.dumps({"id": event_id, "type": event, "timestamp": clock.now().isoformat(timespec="seconds"),
                       "plant": plant.code, "data": data}, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True)


def init_app(app) -> None:
    """The plant's news (events.announced) becomes deliveries to its endpoints."""
    events.announced.connect(deliver_news)


def deliver_news(*, session: Session, news: list[events.News]) -> int:
    """One delivery per subscribed endpoint for each piece of news; the endpoints are looked up once per plant and
    event however much news there is (the daily run announces every overdue action at once)."""
    listening: dict[tuple[int, str], list[WebhookEndpoint]] = {}
    made = 0
    for item in news:
        if item.event not in EVENTS:
            raise ValueError(f"unknown webhook event {item.event!r}")
        key = (item.plant_id, item.event)
        if key not in listening:
            listening[key] = subscribed(session, item.plant_id, item.event)
        if listening[key]:
            made += len(emit(session, plant_id=item.plant_id, event=item.event, data=item.data,
                             endpoints=listening[key], event_id=item.event_id))
    return made


def subscribed(session: Session, plant_id: int, event: str) -> list[WebhookEndpoint]:
    """The plant's active endpoints that take `event` (a caller emitting many events asks once)."""
    return [e for e in session.exec(select(WebhookEndpoint).where(
        WebhookEndpoint.plant_id == plant_id, WebhookEndpoint.active)).all() if event in e.events]


def emit(session: Session, *, plant_id: int, event: str, data: dict, endpoints: list[WebhookEndpoint] | None = None,
         event_id: str | None = None) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the plant subscribed to `event`, in the caller's transaction; queued
    once it commits (webhooks.tasks.listen). `event_id`: for an event a daily job may find again (an action
    overdue): an endpoint that already has it gets nothing new."""
    if event not in EVENTS and event != TEST_EVENT:
        raise ValueError(f"unknown webhook event {event!r}")
    if endpoints is None:
        endpoints = subscribed(session, plant_id, event)
    if endpoints and event_id is not None:
        had = set(session.exec(select(WebhookDelivery.endpoint_id).where(
            WebhookDelivery.event_id == event_id, WebhookDelivery.endpoint_id.in_([e.id for e in endpoints]))))
        endpoints = [e for e in endpoints if e.id not in had]
    if not endpoints:
        return []
    plant = session.get(Plant, plant_id)
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    body = _message(event_id, event, plant, data)
    made = [WebhookDelivery(endpoint_id=e.id, event_id=event_id, event=event, body=body) for e in endpoints]
    session.add_all(made)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).extend(d.id for d in made)
    return made


def send_test(*, session: Session, actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    audit(session, actor=actor, action="webhook.test", object_type="webhook_endpoint", object_id=endpoint.id)
    return emit(session, plant_id=endpoint.plant_id, event=TEST_EVENT, data={"endpoint": endpoint.id},
                endpoints=[endpoint])[0]


def redeliver(*, session: Session, actor, delivery: WebhookDelivery) -> None:
    """The same message (same id, same body; a new timestamp and signature) again, with a fresh set of attempts."""
    delivery.state, delivery.attempts, delivery.next_attempt_at = "pending", 0, clock.now()
    delivery.claimed_at = None
    session.add(delivery)
    audit(session, actor=actor, action="webhook.redeliver", object_type="webhook_delivery", object_id=delivery.id,
          new={"event": delivery.event, "event_id": delivery.event_id})
    session.info.setdefault(PENDING_KEY, []).append(delivery.id)


# ---- delivery

@dataclass(frozen=True)
class Outcome:
    status: int | None
    error: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def signed_headers(secret: str, event_id: str, event: str, body: bytes, moment: datetime) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": event_id,
            "webhook-timestamp": str(int(moment.timestamp())), "webhook-event": event,
            "webhook-signature": Webhook(secret).sign(event_id, moment, body)}


def post(url: str, headers: dict[str, str], body: bytes, timeout: float = TIMEOUT_SECONDS) -> Outcome:
    started = time.monotonic()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    try:
        with open_url(request, timeout=timeout) as response:
            response.read(4096)
            status, error = response.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, timed out, unreachable
        reason = getattr(exc, "reason", exc)
        status, error = None, f"{reason.__class__.__name__}: {reason}"[:500]
    return Outcome(status, error, int((time.monotonic() - started) * 1000))


def _claim(session: Session, delivery_id: int, now: datetime) -> bool:
    claimable = or_(and_(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now),
                    and_(WebhookDelivery.state == "sending", WebhookDelivery.claimed_at < now - CLAIM_TIMEOUT))
    claimed = session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, claimable)
                              .values(state="sending", claimed_at=now))
    session.commit()
    return claimed.rowcount == 1


def deliver(session: Session, delivery_id: int) -> Outcome | None:
    """Post one delivery if it is due and nobody else is posting it; None when there was nothing to do. The
    session is the caller's, made with expire_on_commit=False (see open_session)."""
    if not _claim(session, delivery_id, clock.now()):
        return None
    delivery = session.get(WebhookDelivery, delivery_id)
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    session.commit()  # no transaction (on SQLite: no write lock) held across the network
    body = delivery.body.encode()
    if not endpoint.active:
        outcome = Outcome(None, "the endpoint is disabled", 0)
    else:
        outcome = post(endpoint.url, signed_headers(endpoint.secret, delivery.event_id, delivery.event, body,
                                                    clock.now()), body, timeout=TIMEOUT_SECONDS)
    session.add(WebhookAttempt(delivery_id=delivery.id, status=outcome.status, error=outcome.error,
                               duration_ms=outcome.duration_ms))
    delivery.attempts += 1
    delivery.last_status, delivery.last_error, delivery.claimed_at = outcome.status, outcome.error, None
    if outcome.delivered:
        delivery.state, delivery.delivered_at = "delivered", clock.now()
    elif delivery.attempts >= MAX_ATTEMPTS or not endpoint.active:
        delivery.state = "failed"
    else:
        delivery.state, delivery.next_attempt_at = "pending", clock.now() + BACKOFF[delivery.attempts - 1]
    session.add(delivery)
    session.commit()
    return outcome


def open_session(engine) -> Session:

    return Session(writing(engine), expire_on_commit=False)


def due(session: Session, limit: int = SWEEP_BATCH) -> list[int]:
    now = clock.now()
    return list(session.exec(select(WebhookDelivery.id).where(or_(
        and_(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now),
        and_(WebhookDelivery.state == "sending", WebhookDelivery.claimed_at < now - CLAIM_TIMEOUT),
    )).order_by(WebhookDelivery.next_attempt_at).limit(limit)).all())


def sweep(session: Session) -> int:
    """Post every delivery that is due (retries, and any the queue lost); how many were posted."""
    return sum(1 for delivery_id in due(session) if deliver(session, delivery_id) is not None)


def log_of(session: Session, endpoint: WebhookEndpoint, limit: int = 100):
    """The endpoint's latest deliveries, newest first, each with its attempts."""
    deliveries = session.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                              .order_by(WebhookDelivery.id.desc()).limit(limit)).all()
    attempts: dict[int, list[WebhookAttempt]] = {}
    if deliveries:
        for attempt in session.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(
                [d.id for d in deliveries])).order_by(WebhookAttempt.id)):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [(d, attempts.get(d.id, [])) for d in deliveries]
