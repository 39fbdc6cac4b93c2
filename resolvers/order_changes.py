"""Agents' changes that need no stock or money: holds and notes.

A hold has a HoldReason, which the customer reads (the ORDER_HELD event is CUSTOMER-visible and its message is
built from the code alone), and may have an internal note, which only agents read (on the event, and as the
order's `holdReason` while it is held). The free-text `reason` is that note. A hold needs one or the other: a
code other than OTHER, or a note."""

from collections.abc import Mapping

from ordergraph.models import Order, OrderEvent
from ordergraph.models.enums import EventType, EventVisibility, HoldReason, OrderStatus
from ordergraph.resolvers.access import require_agent
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.events import actor_of, append_event, change
from ordergraph.resolvers.order_state import order_for_change, refresh_order_status

MAX_NOTE_LENGTH = 2000
_FINISHED = {OrderStatus.CANCELLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED}


# What the customer reads after "Order … is on hold": the code in words, nothing else.
HOLD_TEXTS: Mapping[HoldReason, str] = {
    HoldReason.PAYMENT_REVIEW: " while we verify the payment",
    HoldReason.ADDRESS_VERIFICATION: " while we confirm the delivery address",
    HoldReason.STOCK_CHECK: " while we check the stock of an item",
    HoldReason.CUSTOMER_REQUEST: " at your request",
    HoldReason.OTHER: "",
}
# What an agent reads as the order's `holdReason` when the hold has no note.
HOLD_LABELS: Mapping[HoldReason, str] = {
    HoldReason.PAYMENT_REVIEW: "Payment review",
    HoldReason.ADDRESS_VERIFICATION: "Address verification",
    HoldReason.STOCK_CHECK: "Stock check",
    HoldReason.CUSTOMER_REQUEST: "Customer request",
    HoldReason.OTHER: "Other",
}


def internal_note(text: str | None, field: str) -> str | None:
    """A note for agents as it is kept: trimmed, None when blank; longer than a note may be is refused."""
    text = (text or "").strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise Refusal("INVALID_INPUT", f"A note holds at most {MAX_NOTE_LENGTH} characters.", [field])
    return text or None


async def hold_order(
    ctx: RequestContext, order_id: int, reason: str | None, reason_code: HoldReason | None = None
) -> Order:
    """Stops fulfillment: a held order's fulfillment orders cannot start or ship."""
    viewer = require_agent(ctx.viewer, "hold orders")
    code = reason_code or HoldReason.OTHER
    note = internal_note(reason, "reason")
    if note is None and code is HoldReason.OTHER:
        raise Refusal(
            "INVALID_INPUT", "Say why the order is held: a reasonCode other than OTHER, or a reason.", ["reason"]
        )
    async with change(ctx.write) as session:
        order = await order_for_change(session, viewer, order_id)
        if order.on_hold:
            raise Refusal("ORDER_ON_HOLD", f"Order {order.number} is already on hold.", ["orderId"])
        if order.status in _FINISHED:
            raise Refusal(
                "NOT_HOLDABLE", f"Order {order.number} is {order.status.lower()}: nothing is left to hold.", ["orderId"]
            )
        order.hold_reason, order.hold_reason_code = note or HOLD_LABELS[code], code
        await refresh_order_status(session, order)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.ORDER_HELD,
            message=f"Order {order.number} is on hold{HOLD_TEXTS[code]}.",
            visibility=EventVisibility.CUSTOMER,
            actor=actor_of(viewer),
            reason_code=code,
            internal_note=note,
        )
    return order


async def release_order_hold(ctx: RequestContext, order_id: int) -> Order:
    viewer = require_agent(ctx.viewer, "release holds")
    async with change(ctx.write) as session:
        order = await order_for_change(session, viewer, order_id)
        if not order.on_hold:
            raise Refusal("NOT_ON_HOLD", f"Order {order.number} is not on hold.", ["orderId"])
        # The customer heard of an agent's hold (it has a code), not of one from fraud screening at placement.
        told = order.hold_reason_code is not None
        order.hold_reason, order.hold_reason_code = None, None
        await refresh_order_status(session, order)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.ORDER_HOLD_RELEASED,
            message=f"Order {order.number} is no longer on hold.",
            visibility=EventVisibility.CUSTOMER if told else EventVisibility.INTERNAL,
            actor=actor_of(viewer),
        )
    return order


async def add_order_note(ctx: RequestContext, order_id: int, message: str, visibility: EventVisibility) -> OrderEvent:
    """A note on the timeline: INTERNAL for agents only, CUSTOMER-visible for the customer too."""
    viewer = require_agent(ctx.viewer, "add notes")
    message = message.strip()
    if not message or len(message) > MAX_NOTE_LENGTH:
        raise Refusal("INVALID_INPUT", f"A note holds 1 to {MAX_NOTE_LENGTH} characters.", ["message"])
    async with change(ctx.write) as session:
        order = await order_for_change(session, viewer, order_id)
        event = append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.ORDER_NOTE_ADDED,
            message=message,
            visibility=visibility,
            actor=actor_of(viewer),
        )
    return event
