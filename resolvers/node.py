"""`node(id:)`: any object the caller may see, and None for anything else (unknown or not theirs alike)."""

from typing import Any

from ordergraph.resolvers import companies
from ordergraph.resolvers.access import can_see_customer, require_authenticated
from ordergraph.resolvers.context import RequestContext


async def owner_of(ctx: RequestContext, type_name: str, obj: Any) -> int | None:
    """The customer an object belongs to; None for shared objects such as locations and pickup points."""
    loaders = ctx.loaders
    if type_name == "Customer":
        return obj.id
    if type_name == "Order":
        return obj.customer_id
    if type_name in ("OrderLine", "Shipment", "Return", "Payment", "FulfillmentOrder"):
        order = await loaders.order.load(obj.order_id)
        return order.customer_id
    return None


async def resolve_node(ctx: RequestContext, type_name: str, pk: int | str) -> Any | None:
    require_authenticated(ctx.viewer)
    if type_name in companies.NODE_TYPES:
        return await companies.resolve_node(ctx, type_name, int(pk))
    loader = {
        "Customer": ctx.loaders.customer,
        "Order": ctx.loaders.order,
        "OrderLine": ctx.loaders.order_line,
        "Shipment": ctx.loaders.shipment,
        "Return": ctx.loaders.return_,
        "Payment": ctx.loaders.payment,
        "FulfillmentOrder": ctx.loaders.fulfillment_order,
        "Location": ctx.loaders.location,
        "PickupPoint": ctx.loaders.pickup_point,
    }.get(type_name)
    if loader is None:
        return None
    obj = await loader.load(pk)
    if obj is None:
        return None
    owner = await owner_of(ctx, type_name, obj)
    if owner is not None and not can_see_customer(ctx.viewer, owner):
        # A company order (and what is under it) is also its company's admins' and approvers' (#21).
        order = obj if type_name == "Order" else None
        if type_name in ("OrderLine", "Shipment", "Return", "Payment", "FulfillmentOrder"):
            order = await ctx.loaders.order.load(obj.order_id)
        if order is None or not await companies.sees_company_order(ctx, order):
            return None
    return obj
