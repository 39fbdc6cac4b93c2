"""updateOrderShipping: a new address, delivery method or pickup store, until the order's fulfillment has
left. The order is re-routed and re-reserved from scratch, shipping and tax are priced again, and the
payment difference is authorised, or voided (refunded) back."""

from decimal import Decimal

from sqlmodel import col, select

from ordergraph.models import (
    AddressFields,
    Customer,
    DeliveryMethod,
    FulfillmentOrderLine,
    Location,
    Order,
    PickupPoint,
)
from ordergraph.models.columns import utcnow
from ordergraph.models.enums import EventType, EventVisibility, FulfillmentOrderStatus
from ordergraph.models.fulfillment import NOT_YET_LEFT
from ordergraph.models.order import cancelled_value_minor
from ordergraph.models.routing import CartLine, Method
from ordergraph.models.tax import price_order, rate_ppm
from ordergraph.resolvers import payments
from ordergraph.resolvers.access import require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.destination import Recipient, destination_for
from ordergraph.resolvers.erasure import refuse_erased
from ordergraph.resolvers.errors import Forbidden, Refusal
from ordergraph.resolvers.events import SYSTEM, actor_of, append_event, change
from ordergraph.resolvers.markets import market_for_country
from ordergraph.resolvers.order_state import fulfillment_orders, order_for_change, order_lines, refresh_order_status
from ordergraph.resolvers.placement import shipping_columns
from ordergraph.resolvers.sourcing import plan_route, reserve_and_fulfil
from ordergraph.resolvers.stock import StockMove, release_stock


async def update_order_shipping(
    ctx: RequestContext,
    order_id: int,
    *,
    shipping_address: AddressFields | None,
    delivery_method_code: str | None,
    pickup_location_id: int | None,
    pickup_point_id: int | None = None,
    recipient: Recipient | None = None,
) -> Order:
    viewer = require_authenticated(ctx.viewer)
    if not (viewer.is_customer or viewer.is_agent):
        raise Forbidden("Analysts cannot change orders.")
    if (
        shipping_address is None
        and delivery_method_code is None
        and pickup_location_id is None
        and pickup_point_id is None
        and recipient is None
    ):
        raise Refusal("INVALID_INPUT", "Give a new address, delivery method or pickup store.", [])
    now = ctx.clock()
    async with change(ctx.write) as session:
        order = await order_for_change(session, viewer, order_id)
        refuse_erased(await session.get_one(Customer, order.customer_id))  # no new address for an erased customer
        live = [
            fo
            for fo in await fulfillment_orders(session, order_id)
            if fo.status is not FulfillmentOrderStatus.CANCELLED
        ]
        if not live:
            raise Refusal("NOT_CHANGEABLE", f"Order {order.number} has nothing left to deliver.", ["orderId"])
        if any(fo.status not in NOT_YET_LEFT for fo in live):
            raise Refusal(
                "ALREADY_SHIPPED",
                f"Part of order {order.number} has left; its shipping can no longer change.",
                ["orderId"],
            )

        method = await session.get(DeliveryMethod, delivery_method_code or order.delivery_method_code)
        if method is None:
            raise Refusal(
                "DELIVERY_METHOD_UNAVAILABLE", f"No delivery method {delivery_method_code}.", ["deliveryMethodCode"]
            )
        # What is not given stays as it was: the order's address, or its pickup store.
        where = await destination_for(
            session,
            method,
            shipping_address=shipping_address or order.shipping_address,
            pickup_location_id=pickup_location_id or order.pickup_location_id,
            pickup_point_id=pickup_point_id or order.pickup_point_id,
            recipient=recipient,
            customer_name=order.ship_name,
            customer_phone=order.ship_phone,
        )
        destination, store, address = where.destination, where.pickup, where.address
        # Prices and the payment are in the order's market: a destination in another market is not a change.
        market = await market_for_country(session, where.country)
        if market is None or market.code != order.market_code:
            raise Refusal(
                "DELIVERY_METHOD_UNAVAILABLE",
                f"Order {order.number} cannot be sent to {where.country}: it was placed in another market.",
                ["shippingAddress", "country"],
            )
        if method.market_code != market.code:
            raise Refusal(
                "DELIVERY_METHOD_UNAVAILABLE", f"{method.name} is not offered in {market.name}.", ["deliveryMethodCode"]
            )
        lines = await order_lines(session, order_id)
        country, region = where.tax_region
        rates = [_rate(ctx, country, region, line.tax_class or "STANDARD") for line in lines]
        shipping_rate = ctx.ports.tax.rate_for(country, region, market.shipping_tax_class)
        if shipping_rate is None:
            raise Refusal(
                "TAX_RATE_MISSING", f"No {market.shipping_tax_class} tax rate in {country}.", ["deliveryMethodCode"]
            )

        # Give back every reserved unit, then route what is still open as if it were a new order.
        fo_lines = (
            await session.exec(
                select(FulfillmentOrderLine).where(
                    col(FulfillmentOrderLine.fulfillment_order_id).in_([fo.id for fo in live])
                )
            )
        ).all()
        sku_of = {line.id: line.sku for line in lines}
        location_of = {fo.id: fo.location_id for fo in live}
        actor = actor_of(viewer)
        await release_stock(
            session,
            [StockMove(sku_of[fl.order_line_id], location_of[fl.fulfillment_order_id], fl.quantity) for fl in fo_lines],
            order_id=order_id,
            reason=f"re-routed: order {order.number}",
            actor=actor,
        )
        for fo in live:
            fo.status, fo.updated_at = FulfillmentOrderStatus.CANCELLED, utcnow()
            session.add(fo)
        routing = Method.of(method)
        cart = [
            CartLine(line.line_number, line.sku, line.quantity_open, bool(line.customization))
            for line in lines
            if line.quantity_open
        ]
        plan = await plan_route(session, cart, routing, destination, store, now)
        plan = await reserve_and_fulfil(session, order, lines, plan, routing, destination, store, now, actor)

        due_before = order.total_minor - order.cancelled_minor
        priced = price_order(
            [(line.unit_price_minor * line.quantity, rate) for line, rate in zip(lines, rates, strict=True)],
            method.price_minor,
            shipping_rate,
            included=order.prices_include_tax,
        )
        for line, rate, line_tax in zip(lines, rates, priced.line_tax_minor, strict=True):
            line.tax_minor, line.tax_rate_ppm = line_tax, rate_ppm(rate)
            session.add(line)
        order.shipping_minor, order.tax_minor, order.total_minor = (
            priced.shipping_minor,
            priced.tax_minor,
            priced.total_minor,
        )
        order.shipping_tax_rate_ppm = rate_ppm(shipping_rate)
        order.cancelled_minor = cancelled_value_minor(order, lines)
        order.delivery_method_code, order.pickup_location_id = method.code, store.id if store else None
        order.pickup_point_id = where.pickup_point.id if where.pickup_point else None
        for column, value in shipping_columns(address).items():
            setattr(order, column, value)
        order.promised_delivery_by = plan.promised_delivery_by
        difference = (order.total_minor - order.cancelled_minor) - due_before
        if difference > 0:
            await payments.settle_increase(session, ctx.ports.payments, order, difference)
        elif difference < 0:
            await payments.settle_reduction(session, ctx.ports.payments, order, -difference)
        await refresh_order_status(session, order)
        place = where.to
        if isinstance(place, Location | PickupPoint):
            summary = f"pickup at {place.name}" if isinstance(place, Location) else f"{method.name} to {place.name}"
        else:  # an address; some countries (AE) have no postal codes
            summary = f"{method.name} to {place.postal_code or place.city}"
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.SHIPPING_CHANGED,
            actor=actor,
            message=f"Shipping changed: {summary}.",
            visibility=EventVisibility.CUSTOMER,
        )
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.ORDER_ROUTED,
            actor=SYSTEM,
            message=f"Re-routed to {len(plan.allocations)} location(s).",
            visibility=EventVisibility.INTERNAL,
        )
    return order


def _rate(ctx: RequestContext, country: str, region: str | None, tax_class: str) -> Decimal:
    rate = ctx.ports.tax.rate_for(country, region, tax_class)
    if rate is None:
        raise Refusal("TAX_RATE_MISSING", f"No {tax_class} tax rate in {country}.", ["shippingAddress", "country"])
    return rate
