"""Every mutation: the schema's side only (inputs to domain values, refusals to userErrors); the rules
are in the resolvers they call."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from ordergraph.models import enums
from ordergraph.resolvers import (
    cancellation,
    fulfillment_steps,
    inventory,
    notification_preferences,
    order_changes,
    placement,
    return_requests,
    shipping_change,
    tracking,
)
from ordergraph.resolvers.errors import Refusal
from ordergraph.schema.bulk_exports import BulkExportMutations
from ordergraph.schema.common import UserError
from ordergraph.schema.companies import CompanyMutations
from ordergraph.schema.company_orders import CompanyOrderMutations
from ordergraph.schema.customer import CustomerPayload, NotificationPreferencesInput
from ordergraph.schema.customer_changes import CustomerMutations
from ordergraph.schema.fulfillment_changes import (
    ConfirmPickupInput,
    FulfillmentOrderPayload,
    MarkReadyForPickupInput,
    RecordShipmentEventInput,
    ShipFulfillmentOrderInput,
    ShipmentPayload,
    StartFulfillmentInput,
)
from ordergraph.schema.info import Info
from ordergraph.schema.invoices import InvoiceMutations
from ordergraph.schema.location import AdjustInventoryInput, InventoryLevelPayload
from ordergraph.schema.node import parse_global_id
from ordergraph.schema.notification_settings import NotificationMutations
from ordergraph.schema.order_changes import (
    AddOrderNoteInput,
    CancelOrderInput,
    HoldOrderInput,
    OrderEventPayload,
    OrderPayload,
    ReleaseOrderHoldInput,
    UpdateOrderShippingInput,
)
from ordergraph.schema.placement import PlaceOrderInput, PlaceOrderPayload
from ordergraph.schema.return_changes import (
    ApproveReturnInput,
    ReceiveReturnInput,
    RejectReturnInput,
    RequestReturnInput,
    ReturnPayload,
)
from ordergraph.schema.stock_in import StockInMutations
from ordergraph.schema.webhooks import WebhookMutations

P = TypeVar("P")


async def answer(payload: Callable[[Any, list[UserError]], P], action: Callable[[], Awaitable[Any]]) -> P:
    """Runs a change; a refused change is the payload's userErrors (its transaction rolled back whole)."""
    try:
        return payload(await action(), [])
    except Refusal as refusal:
        return payload(None, [UserError(field=refusal.field, message=refusal.message, code=refusal.code)])


async def _update_notification_preferences(info: Info, input: NotificationPreferencesInput) -> Any:
    from ordergraph.schema.notification_settings import moment_choices_input, quiet_hours_input

    quiet, clear = quiet_hours_input(input.quiet_hours_start, input.quiet_hours_end)
    return await notification_preferences.update_notification_preferences(
        info.context,
        email=input.email,
        sms=input.sms,
        phone=input.phone,
        moments=moment_choices_input(input.moments),
        time_zone=input.time_zone,
        quiet_hours=quiet,
        clear_quiet_hours=clear,
    )


def _order_id(global_id: strawberry.ID) -> int:
    return parse_global_id(global_id, "Order")[1]


def _order_payload(order: Any, errors: list[UserError]) -> OrderPayload:
    return OrderPayload(order=order, user_errors=errors)


def _fulfillment_order_id(global_id: strawberry.ID) -> int:
    return parse_global_id(global_id, "FulfillmentOrder")[1]


def _fulfillment_payload(
    step: fulfillment_steps.FulfillmentStep | None, errors: list[UserError]
) -> FulfillmentOrderPayload:
    return FulfillmentOrderPayload(
        fulfillment_order=step.fulfillment_order if step else None,
        order=step.order if step else None,
        user_errors=errors,
    )


def _return_id(global_id: strawberry.ID) -> int:
    return parse_global_id(global_id, "Return")[1]


def _return_payload(ret: Any, errors: list[UserError]) -> ReturnPayload:
    return ReturnPayload(return_=ret, user_errors=errors)


@strawberry.type
class Mutation(
    WebhookMutations,
    InvoiceMutations,
    CustomerMutations,
    StockInMutations,
    NotificationMutations,
    CompanyMutations,
    CompanyOrderMutations,
    BulkExportMutations,
):
    @strawberry.mutation(description="A customer orders for themself (WEB); an agent for `customerId` (AGENT).")
    async def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
        return await answer(
            lambda order, errors: PlaceOrderPayload(order=order, user_errors=errors),
            lambda: placement.place_order(info.context, input.to_domain()),
        )

    @strawberry.mutation(
        description="Address, delivery method, pickup store or pickup point, until the order's fulfillment has left."
    )
    async def update_order_shipping(self, info: Info, input: UpdateOrderShippingInput) -> OrderPayload:
        return await answer(
            _order_payload,
            lambda: shipping_change.update_order_shipping(
                info.context,
                _order_id(input.order_id),
                shipping_address=input.shipping_address.to_domain() if input.shipping_address else None,
                delivery_method_code=input.delivery_method_code,
                pickup_location_id=parse_global_id(input.pickup_location_id, "Location")[1]
                if input.pickup_location_id
                else None,
                pickup_point_id=parse_global_id(input.pickup_point_id, "PickupPoint")[1]
                if input.pickup_point_id
                else None,
                recipient=input.recipient.to_domain() if input.recipient else None,
            ),
        )

    @strawberry.mutation(description="Cancels everything not yet shipped, or the given line quantities.")
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> OrderPayload:
        lines = None
        if input.lines is not None:
            lines = [(parse_global_id(line.order_line_id, "OrderLine")[1], line.quantity) for line in input.lines]
        return await answer(
            _order_payload,
            lambda: cancellation.cancel_order(
                info.context, _order_id(input.order_id), lines, input.reason, input.reason_code
            ),
        )

    @strawberry.mutation(description="Agents: stop fulfillment until the hold is released.")
    async def hold_order(self, info: Info, input: HoldOrderInput) -> OrderPayload:
        return await answer(
            _order_payload,
            lambda: order_changes.hold_order(info.context, _order_id(input.order_id), input.reason, input.reason_code),
        )

    @strawberry.mutation(description="Agents: let fulfillment go on.")
    async def release_order_hold(self, info: Info, input: ReleaseOrderHoldInput) -> OrderPayload:
        return await answer(
            _order_payload, lambda: order_changes.release_order_hold(info.context, _order_id(input.order_id))
        )

    @strawberry.mutation(description="Customers: how they hear about their orders (email; SMS to a phone they give).")
    async def update_notification_preferences(self, info: Info, input: NotificationPreferencesInput) -> CustomerPayload:
        return await answer(
            lambda customer, errors: CustomerPayload(customer=customer, user_errors=errors),
            lambda: _update_notification_preferences(info, input),
        )

    @strawberry.mutation(description="Agents: a note on the order's timeline, INTERNAL or CUSTOMER-visible.")
    async def add_order_note(self, info: Info, input: AddOrderNoteInput) -> OrderEventPayload:
        return await answer(
            lambda event, errors: OrderEventPayload(event=event, user_errors=errors),
            lambda: order_changes.add_order_note(
                info.context, _order_id(input.order_id), input.message, enums.EventVisibility(input.visibility)
            ),
        )

    @strawberry.mutation(description="Agents: move a location's on-hand stock by `delta`, with a reason.")
    async def adjust_inventory(self, info: Info, input: AdjustInventoryInput) -> InventoryLevelPayload:
        return await answer(
            lambda level, errors: InventoryLevelPayload(inventory_level=level, user_errors=errors),
            lambda: inventory.adjust_inventory(
                info.context,
                sku=input.sku,
                location_id=parse_global_id(input.location_id, "Location")[1],
                delta=input.delta,
                reason=input.reason,
            ),
        )

    @strawberry.mutation(description="Staff: start picking and packing a fulfillment order (OPEN → IN_PROGRESS).")
    async def start_fulfillment(self, info: Info, input: StartFulfillmentInput) -> FulfillmentOrderPayload:
        return await answer(
            _fulfillment_payload,
            lambda: fulfillment_steps.start_fulfillment(
                info.context, _fulfillment_order_id(input.fulfillment_order_id)
            ),
        )

    @strawberry.mutation(
        description="Staff: hand a fulfillment order to a carrier (IN_PROGRESS → SHIPPED); its payment is captured."
    )
    async def ship_fulfillment_order(self, info: Info, input: ShipFulfillmentOrderInput) -> ShipmentPayload:
        return await answer(
            lambda step, errors: ShipmentPayload(
                shipment=step.shipment if step else None, order=step.order if step else None, user_errors=errors
            ),
            lambda: fulfillment_steps.ship_fulfillment_order(
                info.context,
                _fulfillment_order_id(input.fulfillment_order_id),
                carrier=input.carrier,
                tracking_number=input.tracking_number,
            ),
        )

    @strawberry.mutation(description="Staff: record a carrier's tracking event for a shipment.")
    async def record_shipment_event(self, info: Info, input: RecordShipmentEventInput) -> ShipmentPayload:
        shipment_id = parse_global_id(input.shipment_id, "Shipment")[1]
        event = tracking.CarrierEvent(
            carrier_event_id=input.carrier_event_id,
            status=enums.ShipmentStatus(input.status),
            occurred_at=input.occurred_at or info.context.clock(),
            description=input.description,
            location=input.location,
        )
        return await answer(
            lambda tracked, errors: ShipmentPayload(
                shipment=tracked.shipment if tracked else None,
                order=tracked.order if tracked else None,
                user_errors=errors,
            ),
            lambda: tracking.record_shipment_event(info.context, shipment_id, event),
        )

    @strawberry.mutation(
        description="Staff: a pickup fulfillment order waits at the store (IN_PROGRESS → READY_FOR_PICKUP)."
    )
    async def mark_ready_for_pickup(self, info: Info, input: MarkReadyForPickupInput) -> FulfillmentOrderPayload:
        return await answer(
            _fulfillment_payload,
            lambda: fulfillment_steps.mark_ready_for_pickup(
                info.context, _fulfillment_order_id(input.fulfillment_order_id)
            ),
        )

    @strawberry.mutation(
        description="Staff: the customer collected it (READY_FOR_PICKUP → PICKED_UP); its payment is captured."
    )
    async def confirm_pickup(self, info: Info, input: ConfirmPickupInput) -> FulfillmentOrderPayload:
        return await answer(
            _fulfillment_payload,
            lambda: fulfillment_steps.confirm_pickup(info.context, _fulfillment_order_id(input.fulfillment_order_id)),
        )

    @strawberry.mutation(
        description="Delivered units back, by MAIL or STORE_DROP_OFF: the customer on their own order, an agent on any."
    )
    async def request_return(self, info: Info, input: RequestReturnInput) -> ReturnPayload:
        drop_off = parse_global_id(input.drop_off_location_id, "Location")[1] if input.drop_off_location_id else None
        lines = [line.to_domain() for line in input.lines]
        return await answer(
            _return_payload,
            lambda: return_requests.request_return(
                info.context, _order_id(input.order_id), lines, enums.ReturnMethod(input.method), drop_off
            ),
        )

    @strawberry.mutation(description="Agents: approve a requested return (a MAIL return's label is issued).")
    async def approve_return(self, info: Info, input: ApproveReturnInput) -> ReturnPayload:
        return await answer(
            _return_payload, lambda: return_requests.approve_return(info.context, _return_id(input.return_id))
        )

    @strawberry.mutation(description="Agents: reject a requested or approved return, saying why.")
    async def reject_return(self, info: Info, input: RejectReturnInput) -> ReturnPayload:
        return await answer(
            _return_payload,
            lambda: return_requests.reject_return(info.context, _return_id(input.return_id), input.reason),
        )

    @strawberry.mutation(
        description="Agents: what came back, per line; sellable units are restocked and the received value refunded."
    )
    async def receive_return(self, info: Info, input: ReceiveReturnInput) -> ReturnPayload:
        lines = None if input.lines is None else [line.to_domain() for line in input.lines]
        return await answer(
            _return_payload, lambda: return_requests.receive_return(info.context, _return_id(input.return_id), lines)
        )
