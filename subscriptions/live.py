"""The subscription resolvers: who may watch what, then the hub's stream of events for it.

Each event is delivered with loaders of its own (made when it arrived, shared with the other local
subscribers it went to), so what a subscriber selects around it is read fresh for that event.
"""

from collections.abc import AsyncIterator

from ordergraph.models import Order, OrderEvent
from ordergraph.models.columns import utcnow
from ordergraph.models.enums import OrderStatus
from ordergraph.resolvers import companies
from ordergraph.resolvers.access import require_agent, require_authenticated
from ordergraph.resolvers.errors import ApiError, Forbidden, Unauthenticated
from ordergraph.subscriptions.context import LiveContext, current_delivery
from ordergraph.subscriptions.interests import AllOrders, CompanyOrders, CustomerOrders, Interest, OneOrder


class NotFound(ApiError):
    code = "NOT_FOUND"


async def my_order_updates(ctx: LiveContext, *, after: int | None) -> AsyncIterator[OrderEvent]:
    viewer = require_authenticated(ctx.viewer)
    if not viewer.is_customer:
        raise Forbidden("myOrderUpdates is a customer's own; agents watch orderEvents or orderUpdated.")
    # A company's admins and approvers also watch its orders (#21).
    member = await companies.membership(ctx)
    if member is not None and member.role in companies.SEES_COMPANY_ORDERS:
        return _events(ctx, CompanyOrders(viewer.customer_id, member.company_id), after)
    return _events(ctx, CustomerOrders(viewer.customer_id), after)


async def order_events(
    ctx: LiveContext, *, after: int | None, types: list[str], statuses: list[OrderStatus], customer_id: int | None
) -> AsyncIterator[OrderEvent]:
    require_agent(ctx.viewer, "watch every order's events")
    interest = AllOrders(types=frozenset(types), customer_id=customer_id, statuses=frozenset(statuses))
    return _events(ctx, interest, after)


async def order_updated(ctx: LiveContext, *, order_id: int, after: int | None) -> AsyncIterator[OrderEvent]:
    viewer = require_authenticated(ctx.viewer)
    if not (viewer.is_agent or viewer.is_customer):
        raise Forbidden("Only the order's customer or an agent may watch an order.")
    # Through the connection's loaders: a client opening several subscriptions at once costs one read.
    order: Order | None = await ctx.loaders.order.load(order_id)
    # Another customer's order is answered exactly as an unknown one.
    if order is None or (
        viewer.is_customer
        and order.customer_id != viewer.customer_id
        and not await companies.sees_company_order(ctx, order)  # a company's admins and approvers (#21)
    ):
        raise NotFound("No such order.")
    return _events(ctx, OneOrder(order_id, customer_visible_only=viewer.is_customer), after)


async def _events(ctx: LiveContext, interest: Interest, after: int | None) -> AsyncIterator[OrderEvent]:
    async for delivery in ctx.hub.stream(interest, after):
        # The token was checked when the socket opened; nothing more is sent once it has expired.
        if ctx.viewer.expires_at is not None and utcnow() >= ctx.viewer.expires_at:
            raise Unauthenticated("The token has expired: reconnect with a new one.")
        if await interest.admits(delivery.event, delivery.loaders):
            ctx.loaders = delivery.loaders
            current_delivery.set(delivery)
            yield delivery.event
