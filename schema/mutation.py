"""Every mutation: the schema's side only (inputs to domain values, refusals to userErrors); the rules
are in the resolvers they call."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from models import enums
from resolvers import cancellation, inventory, order_changes, placement, shipping_change
from resolvers.errors import Refusal
from schema.common import UserError
from schema.location import AdjustInventoryInput, InventoryLevelPayload
from schema.node import parse_global_id
from schema.order_changes import (
    AddOrderNoteInput,
    CancelOrderInput,
    HoldOrderInput,
    OrderEventPayload,
    OrderPayload,
    ReleaseOrderHoldInput,
    UpdateOrderShippingInput,
)
from schema.placement import PlaceOrderInput, PlaceOrderPayload

P = TypeVar("P")


async def answer(payload: Callable[[Any, list[UserError]], P], action: Callable[[], Awaitable[Any]]) -> P:
    """Runs a change; a refused change is the payload's userErrors (its transaction rolled back whole)."""
    try:
        return payload(await action(), [])
    except Refusal as refusal:
        return payload(None, [UserError(field=refusal.field, message=refusal.message, code=refusal.code)])


def _order_id(global_id: strawberry.ID) -> int:
    return parse_global_id(global_id, "Order")[1]


def _order_payload(order: Any, errors: list[UserError]) -> OrderPayload:
    return OrderPayload(order=order, user_errors=errors)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A customer orders for themself (WEB); an agent for `customerId` (AGENT).")
    async def place_order(self, info: strawberry.Info, input: PlaceOrderInput) -> PlaceOrderPayload:
        return await answer(
            lambda order, errors: PlaceOrderPayload(order=order, user_errors=errors),
            lambda: placement.place_order(info.context, input.to_domain()),
        )

    @strawberry.mutation(description="Address, delivery method or pickup store, until the order's fulfillment has left.")
    async def update_order_shipping(self, info: strawberry.Info, input: UpdateOrderShippingInput) -> OrderPayload:
        return await answer(
            _order_payload,
            lambda: shipping_change.update_order_shipping(
                info.context,
                _order_id(input.order_id),
                shipping_address=input.shipping_address.to_domain() if input.shipping_address else None,
                delivery_method_code=input.delivery_method_code,
                pickup_location_id=parse_global_id(input.pickup_location_id, "Location")[1] if input.pickup_location_id else None,
            ),
        )

    @strawberry.mutation(description="Cancels everything not yet shipped, or the given line quantities.")
    async def cancel_order(self, info: strawberry.Info, input: CancelOrderInput) -> OrderPayload:
        lines = None
        if input.lines is not None:
            lines = [(parse_global_id(line.order_line_id, "OrderLine")[1], line.quantity) for line in input.lines]
        return await answer(
            _order_payload, lambda: cancellation.cancel_order(info.context, _order_id(input.order_id), lines, input.reason)
        )

    @strawberry.mutation(description="Agents: stop fulfillment until the hold is released.")
    async def hold_order(self, info: strawberry.Info, input: HoldOrderInput) -> OrderPayload:
        return await answer(_order_payload, lambda: order_changes.hold_order(info.context, _order_id(input.order_id), input.reason))

    @strawberry.mutation(description="Agents: let fulfillment go on.")
    async def release_order_hold(self, info: strawberry.Info, input: ReleaseOrderHoldInput) -> OrderPayload:
        return await answer(_order_payload, lambda: order_changes.release_order_hold(info.context, _order_id(input.order_id)))

    @strawberry.mutation(description="Agents: a note on the order's timeline, INTERNAL or CUSTOMER-visible.")
    async def add_order_note(self, info: strawberry.Info, input: AddOrderNoteInput) -> OrderEventPayload:
        return await answer(
            lambda event, errors: OrderEventPayload(event=event, user_errors=errors),
            lambda: order_changes.add_order_note(
                info.context, _order_id(input.order_id), input.message, enums.EventVisibility(input.visibility)
            ),
        )

    @strawberry.mutation(description="Agents: move a location's on-hand stock by `delta`, with a reason.")
    async def adjust_inventory(self, info: strawberry.Info, input: AdjustInventoryInput) -> InventoryLevelPayload:
        return await answer(
            lambda level, errors: InventoryLevelPayload(inventory_level=level, user_errors=errors),
            lambda: inventory.adjust_inventory(
                info.context, sku=input.sku, location_id=parse_global_id(input.location_id, "Location")[1],
                delta=input.delta, reason=input.reason,
            ),
        )
