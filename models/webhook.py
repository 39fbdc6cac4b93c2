"""Outbound webhooks (#17): subscriptions an admin configures, one delivery per event and subscription queued from
the outbox (order_event) by server.webhooks, every attempt at it, and the subscription's own log.

Invariants:
- A delivery's `body` is computed once, when it is queued, and sent byte for byte on every attempt (and copied by a
  redelivery), so a signature over it always verifies and a receiver can compare repeats.
- PENDING deliveries of one subscription and one order are attempted in (`sequence`, `id`) order: a delivery is not
  claimed while an earlier one of the same pair is PENDING (server.webhooks).
- The secret is written at creation and rotation and returned by those mutations only; no field reads it.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.enums import WebhookDeliveryStatus, WebhookLogKind


class WebhookSubscription(SQLModel, table=True):
    """A receiver of events: `event_types` (OrderEvent types, a JSON list) after `start_sequence` (the newest event
    when it was created) get a delivery each, with the payload `document` (a GraphQL subscription document)
    computes, as an agent or, when `masked`, as an analyst. `failing_since` is the start of the current run of
    failed attempts (None after a success); a run longer than the failure window disables it."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    url: str = Field(max_length=2048)
    event_types: list[str] = Field(sa_type=sa.JSON)
    document: str
    masked: bool = False
    secret: str = Field(max_length=100)
    active: bool = True
    disabled_reason: str | None = None
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    start_sequence: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str | None = None


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription: PENDING rows are due at `next_attempt_at`; a claimed one is pushed a lease
    ahead while it is sent. `redelivery_of` names the delivery an admin asked to send again."""

    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    subscription_id: int = Field(sa_type=BigIntId, foreign_key="webhook_subscription.id")
    event_id: int = Field(sa_type=BigIntId, foreign_key="order_event.id")
    sequence: int = Field(sa_type=sa.BigInteger)
    order_id: int | None = Field(default=None, sa_type=BigIntId)
    event_type: str = Field(max_length=64)
    body: str
    status: WebhookDeliveryStatus = Field(sa_type=enum_column(WebhookDeliveryStatus))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Retries go on for the retry window from here (not from created_at: a delivery waiting behind a disabled
    # subscription or an earlier delivery has not been failing).
    first_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = None
    redelivery_of: int | None = Field(default=None, sa_type=BigIntId)

    __table_args__ = (
        sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_delivery_in_order", "subscription_id", "order_id", "status", "sequence"),
        sa.Index("ix_webhook_delivery_log", "subscription_id", "id"),
    )


class WebhookAttempt(SQLModel, table=True):
    """One request to the receiver: when, its status code (None when none came), latency, and the error."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    delivery_id: int = Field(sa_type=BigIntId, foreign_key="webhook_delivery.id", index=True)
    number: int
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    status_code: int | None = None
    latency_ms: int
    error: str | None = None


class WebhookLogEntry(SQLModel, table=True):
    """The subscription's own history, for admins: created, secret rotated, enabled, disabled (and why)."""

    __tablename__ = "webhook_log_entry"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    subscription_id: int = Field(sa_type=BigIntId, foreign_key="webhook_subscription.id", index=True)
    kind: WebhookLogKind = Field(sa_type=enum_column(WebhookLogKind))
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    detail: str | None = None
    actor: str | None = None


class WebhookWatermark(SQLModel, table=True):
    """How far deliveries are queued: every event up to `queued_sequence` has its deliveries. One row, locked while
    a batch's deliveries are added in the same transaction (as NotificationWatermark): no event is queued twice or
    skipped, with any number of processes. The first worker creates it at the relay's watermark."""

    __tablename__ = "webhook_watermark"

    id: int = Field(default=1, primary_key=True)
    queued_sequence: int = Field(default=0, sa_type=sa.BigInteger)
