from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.enums import ActorKind, EventVisibility, NotificationChannel, NotificationStatus


class OrderEvent(SQLModel, table=True):
    """The append-only event log, written in the same transaction as the change it records (the outbox).

    `sequence` is the global order readers resume from. It is given to committed events in the order
    they are seen committed, never taken from a plain sequence at insert time (those can commit out
    of order); `order_id` is null for customer-level events.
    """

    __tablename__ = "order_event"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    sequence: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    order_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="orders.id")
    customer_id: int = Field(sa_type=BigIntId, foreign_key="customer.id")
    type: str
    message: str | None = None  # what happened, as everyone who may see the event may read it
    visibility: EventVisibility = Field(sa_type=enum_column(EventVisibility))
    # A cancellation's CancellationReason or a hold's HoldReason: customer-visible, as the message built from it.
    reason_code: str | None = Field(default=None, max_length=32)
    # What the agent (or the customer, cancelling) wrote: agents only, never in the message, an email or an SMS.
    internal_note: str | None = None
    actor_kind: ActorKind = Field(sa_type=enum_column(ActorKind))
    actor_name: str | None = None
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The parcel or the return the event is about, where it is about one (carrier events, return steps).
    shipment_id: int | None = Field(default=None, sa_type=BigIntId)
    return_id: int | None = Field(default=None, sa_type=BigIntId)

    __table_args__ = (
        sa.Index("ix_order_event_order_sequence", "order_id", "sequence"),
        sa.Index("ix_order_event_customer_sequence", "customer_id", "sequence"),
    )


class Notification(SQLModel, table=True):
    """One message to a customer for one event on one channel (server.notifier): never lost, and sent twice only
    when a process dies between the provider accepting it and recording SENT. PENDING rows are due at
    `next_attempt_at`; a claimed one is pushed a lease ahead while it is being sent."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    event_id: int = Field(sa_type=BigIntId, foreign_key="order_event.id")
    channel: NotificationChannel = Field(sa_type=enum_column(NotificationChannel))
    # What it tells (NotificationMoment): one event may be told twice, e.g. ready for pickup and, later, a reminder.
    moment: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    recipient: str
    status: NotificationStatus = Field(sa_type=enum_column(NotificationStatus))
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("event_id", "channel", "moment", name="uq_notification_event_channel_moment"),
        sa.Index("ix_notification_pending", "status", "next_attempt_at"),
    )


class EventRelay(SQLModel, table=True):
    """The outbox relay's published watermark: every event up to `published_sequence` has been handed to
    the broadcast channel. One row; a relay locks it while it publishes, so relays of several processes
    take turns and a crash before the watermark moves means the next relay publishes those events again."""

    __tablename__ = "event_relay"

    id: int = Field(default=1, primary_key=True)
    published_sequence: int = Field(default=0, sa_type=sa.BigInteger)


class NotificationWatermark(SQLModel, table=True):
    """How far the notifier has queued notifications: every event up to `queued_sequence` has its Notification
    rows. One row; a notifier locks it while it queues a batch, in the same transaction as the rows it adds, so
    notifiers of several processes take turns and no event is queued twice or skipped. The first notifier to start
    creates it at the relay's watermark: events already published then are history, not news."""

    __tablename__ = "notification_watermark"

    id: int = Field(default=1, primary_key=True)
    queued_sequence: int = Field(default=0, sa_type=sa.BigInteger)


class NotificationMomentPreference(SQLModel, table=True):
    """A customer's choice for one moment (NotificationMoment): a row only where it differs from their channel
    switches, which hold for every moment without one."""

    __tablename__ = "notification_moment_preference"

    customer_id: int = Field(sa_type=BigIntId, foreign_key="customer.id", primary_key=True)
    moment: str = Field(max_length=32, primary_key=True)
    email: bool = True
    sms: bool = True
