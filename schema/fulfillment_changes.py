"""Fulfillment steps and carrier tracking: inputs and payloads."""

from datetime import datetime

import strawberry

from ordergraph.schema.common import UserError
from ordergraph.schema.enums import ShipmentStatus
from ordergraph.schema.fulfillment import FulfillmentOrder, Shipment
from ordergraph.schema.order import Order


@strawberry.input
class StartFulfillmentInput:
    fulfillment_order_id: strawberry.ID


@strawberry.input
class ShipFulfillmentOrderInput:
    fulfillment_order_id: strawberry.ID
    carrier: str = strawberry.field(description="UPS, FedEx, USPS or METRO with the built-in carrier directory.")
    tracking_number: str


@strawberry.input(
    description="A carrier's tracking event. A replayed `carrierEventId` is acknowledged and ignored; "
    "an event behind the shipment's progress is kept in its history but moves nothing."
)
class RecordShipmentEventInput:
    shipment_id: strawberry.ID
    status: ShipmentStatus
    carrier_event_id: str = strawberry.field(description="The carrier's own id for this event, unique per carrier.")
    occurred_at: datetime | None = strawberry.field(default=None, description="When it happened; now when left out.")
    description: str | None = None
    location: str | None = None


@strawberry.input
class MarkReadyForPickupInput:
    fulfillment_order_id: strawberry.ID


@strawberry.input
class ConfirmPickupInput:
    fulfillment_order_id: strawberry.ID


@strawberry.type
class FulfillmentOrderPayload:
    fulfillment_order: FulfillmentOrder | None
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class ShipmentPayload:
    shipment: Shipment | None
    order: Order | None
    user_errors: list[UserError]
