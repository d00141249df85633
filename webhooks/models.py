"""Event webhooks: an admin subscribes a URL per plant to events; each event makes one delivery per subscribed
endpoint, written in the same transaction as the change it reports (nothing is announced that did not happen, and
nothing that happened is lost if the queue is down), then posted by the task queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import clock


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    plant_id: int = Field(foreign_key="plant.id", index=True)
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=200)
    secret: str = Field(max_length=80)  # "whsec_" + base64 of 32 random bytes (Standard Webhooks)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=clock.now)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: pending → sending → delivered, or back to pending with the next attempt's time,
    or failed once the attempts are spent (a redelivery makes it pending again). The body is kept exactly as
    signed: a retry sends the same bytes with the same `webhook-id`, so a receiver can drop what it already has."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    event_id: str = Field(max_length=40)
    event: str = Field(max_length=40)
    body: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=clock.now, index=True)
    claimed_at: datetime | None = None
    last_status: int | None = None
    last_error: str = Field(default="", max_length=500)
    delivered_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.now)


class WebhookAttempt(SQLModel, table=True):
    """Each POST made: the delivery log an admin reads (when, the answer's status or the error, how long)."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    at: datetime = Field(default_factory=clock.now)
    status: int | None = None
    error: str = Field(default="", max_length=500)
    duration_ms: int = 0
