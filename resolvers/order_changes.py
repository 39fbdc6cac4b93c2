"""Agents' changes that need no stock or money: holds and notes."""

from ordergraph.models import Order, OrderEvent
from ordergraph.models.enums import EventType, EventVisibility, OrderStatus
from ordergraph.resolvers.access import require_agent
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.events import actor_of, append_event, change
from ordergraph.resolvers.order_state import order_for_change, refresh_order_status

MAX_NOTE_LENGTH = 2000
_FINISHED = {OrderStatus.CANCELLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED}


async def hold_order(ctx: RequestContext, order_id: int, reason: str) -> Order:
    """Stops fulfillment: a held order's fulfillment orders cannot start or ship."""
    viewer = require_agent(ctx.viewer, "hold orders")
    reason = reason.strip()
    if not reason:
        raise Refusal("INVALID_INPUT", "Say why the order is held.", ["reason"])
    async with change(ctx.write) as session:
        order = await order_for_change(session, viewer, order_id)
        if order.on_hold:
            raise Refusal("ORDER_ON_HOLD", f"Order {order.number} is already on hold.", ["orderId"])
        if order.status in _FINISHED:
            raise Refusal(
                "NOT_HOLDABLE", f"Order {order.number} is {order.status.lower()}: nothing is left to hold.", ["orderId"]
            )
        order.hold_reason = reason
        await refresh_order_status(session, order)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.ORDER_HELD,
            message=f"Order held: {reason}",
            visibility=EventVisibility.INTERNAL,
            actor=actor_of(viewer),
        )
    return order


async def release_order_hold(ctx: RequestContext, order_id: int) -> Order:
    viewer = require_agent(ctx.viewer, "release holds")
    async with change(ctx.write) as session:
        order = await order_for_change(session, viewer, order_id)
        if not order.on_hold:
            raise Refusal("NOT_ON_HOLD", f"Order {order.number} is not on hold.", ["orderId"])
        order.hold_reason = None
        await refresh_order_status(session, order)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.ORDER_HOLD_RELEASED,
            message="Hold released; fulfillment may go on.",
            visibility=EventVisibility.INTERNAL,
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
