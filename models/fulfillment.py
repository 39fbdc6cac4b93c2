from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.enums import DeliveryKind, FulfillmentOrderStatus, ShipmentStatus

# Units still at a location that has not let them go: cancellable, re-routable (docs/domain.md: CANCELLED from
# OPEN or IN_PROGRESS).
NOT_YET_LEFT = frozenset({FulfillmentOrderStatus.OPEN, FulfillmentOrderStatus.IN_PROGRESS})


class FulfillmentOrder(SQLModel, table=True):
    """The part of an order one location fulfils: shipped to the customer, or picked up there."""

    __tablename__ = "fulfillment_order"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    order_id: int = Field(sa_type=BigIntId, foreign_key="orders.id", index=True)
    location_id: int = Field(sa_type=BigIntId, foreign_key="location.id", index=True)
    kind: DeliveryKind = Field(sa_type=enum_column(DeliveryKind))
    status: FulfillmentOrderStatus = Field(sa_type=enum_column(FulfillmentOrderStatus))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FulfillmentOrderLine(SQLModel, table=True):
    __tablename__ = "fulfillment_order_line"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    fulfillment_order_id: int = Field(sa_type=BigIntId, foreign_key="fulfillment_order.id", index=True)
    order_line_id: int = Field(sa_type=BigIntId, foreign_key="order_line.id", index=True)
    quantity: int = Field(gt=0)


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    order_id: int = Field(sa_type=BigIntId, foreign_key="orders.id", index=True)
    fulfillment_order_id: int = Field(sa_type=BigIntId, foreign_key="fulfillment_order.id", index=True)
    carrier: str
    tracking_number: str | None = None
    tracking_url: str | None = None
    status: ShipmentStatus = Field(sa_type=enum_column(ShipmentStatus))
    shipped_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    estimated_delivery_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ShipmentEvent(SQLModel, table=True):
    """A carrier tracking event. `carrier_event_id` makes a replayed webhook a no-op."""

    __tablename__ = "shipment_event"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    shipment_id: int = Field(sa_type=BigIntId, foreign_key="shipment.id", index=True)
    status: ShipmentStatus = Field(sa_type=enum_column(ShipmentStatus))
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    description: str | None = None
    location: str | None = None
    carrier: str
    carrier_event_id: str | None = None

    __table_args__ = (sa.UniqueConstraint("carrier", "carrier_event_id", name="uq_shipment_event_carrier_event"),)
