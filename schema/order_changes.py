"""Changing an order after placement: inputs and payloads."""

import strawberry

from ordergraph.models import enums
from ordergraph.schema.common import UserError
from ordergraph.schema.enums import CancellationReason, EventVisibility, HoldReason
from ordergraph.schema.event import OrderEvent
from ordergraph.schema.order import Order
from ordergraph.schema.pickup_point import RecipientInput
from ordergraph.schema.placement import AddressInput


@strawberry.input(
    description="What is not given stays as it was. pickupPointId (and recipient) for a method with a "
    "pickupPointNetwork."
)
class UpdateOrderShippingInput:
    order_id: strawberry.ID
    shipping_address: AddressInput | None = None
    delivery_method_code: str | None = None
    pickup_location_id: strawberry.ID | None = None
    pickup_point_id: strawberry.ID | None = None
    recipient: RecipientInput | None = None


@strawberry.input
class CancelLineInput:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.input(description="Without lines, everything not yet shipped is cancelled.")
class CancelOrderInput:
    order_id: strawberry.ID
    lines: list[CancelLineInput] | None = None
    reason: str | None = strawberry.field(
        default=None,
        description="The internal note: agents read it, the customer never does (not in the timeline, emails, "
        "texts or live events). From a customer, their own words, kept for agents.",
    )
    reason_code: CancellationReason | None = strawberry.field(
        default=None,
        description="What the customer is told (see CancellationReason). Default: CUSTOMER_REQUEST when the "
        "customer cancels, OTHER when an agent does.",
    )


@strawberry.input(description="A hold needs a reasonCode other than OTHER, or a reason (or both).")
class HoldOrderInput:
    order_id: strawberry.ID
    reason: str | None = strawberry.field(
        default=None,
        description="The internal note: agents read it (and as the order's holdReason while it is held), "
        "the customer never does.",
    )
    reason_code: HoldReason | None = strawberry.field(
        default=None, description="What the customer is told (see HoldReason). Default: OTHER."
    )


@strawberry.input
class ReleaseOrderHoldInput:
    order_id: strawberry.ID


@strawberry.input
class AddOrderNoteInput:
    order_id: strawberry.ID
    message: str
    visibility: EventVisibility = enums.EventVisibility.INTERNAL


@strawberry.type
class OrderPayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class OrderEventPayload:
    event: OrderEvent | None
    user_errors: list[UserError]
