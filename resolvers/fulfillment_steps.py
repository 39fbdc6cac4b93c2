"""Fulfillment steps for store and warehouse staff (agents), by docs/domain.md's lifecycle:

    shipped:  OPEN → IN_PROGRESS → SHIPPED → DELIVERED (delivery comes from carrier events, resolvers.tracking)
    pickup:   OPEN → IN_PROGRESS → READY_FOR_PICKUP → PICKED_UP

When units leave their location (shipped, or picked up) they leave its on-hand stock together with their
reservation, the line ledger counts them shipped (and, for pickup, delivered), and the payment for them is
captured: their price, their line tax and their share of shipping and its tax, the last fulfillment order
to leave taking what is left of the authorisation (the rounding remainder). A held order's fulfillment
orders cannot start, ship or be handed over. A refused step changes nothing.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import (
    DeliveryMethod,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryAdjustment,
    InventoryLevel,
    Location,
    Order,
    OrderLine,
    PickupPoint,
    Shipment,
    ShipmentEvent,
)
from ordergraph.models.columns import id_of, utcnow
from ordergraph.models.enums import (
    ActorKind,
    ApprovalState,
    DeliveryKind,
    EventType,
    EventVisibility,
    FulfillmentOrderStatus,
    ShipmentStatus,
)
from ordergraph.models.money import share, to_decimal
from ordergraph.models.routing import Method, estimated_delivery
from ordergraph.models.tax import added_tax
from ordergraph.resolvers import payments
from ordergraph.resolvers.access import require_agent
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.events import SYSTEM, actor_of, append_event, change
from ordergraph.resolvers.order_state import fulfillment_orders, order_for_change, order_lines, refresh_order_status
from ordergraph.resolvers.ports.carrier import UnknownCarrier
from ordergraph.resolvers.sourcing import locate

# Fulfillment orders whose units are still at their location (reserved there, not yet paid for).
HOLDING = frozenset(
    {FulfillmentOrderStatus.OPEN, FulfillmentOrderStatus.IN_PROGRESS, FulfillmentOrderStatus.READY_FOR_PICKUP}
)
MAX_TRACKING_NUMBER = 64


@dataclass(frozen=True, slots=True)
class FulfillmentStep:
    fulfillment_order: FulfillmentOrder
    order: Order


@dataclass(frozen=True, slots=True)
class ShipmentStep:
    shipment: Shipment
    order: Order


async def start_fulfillment(ctx: RequestContext, fulfillment_order_id: int) -> FulfillmentStep:
    """OPEN → IN_PROGRESS: staff start picking and packing."""
    viewer = require_agent(ctx.viewer, "start fulfillment")
    async with change(ctx.write) as session:
        fo, order = await _for_change(session, ctx, fulfillment_order_id)
        _not_on_hold(order, "started")
        _expect(fo, FulfillmentOrderStatus.OPEN, "start")
        fo.status, fo.updated_at = FulfillmentOrderStatus.IN_PROGRESS, ctx.clock()
        session.add(fo)
        await refresh_order_status(session, order)
        location = await session.get_one(Location, fo.location_id)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.FULFILLMENT_STARTED,
            message=f"Your items are being prepared at {location.name}.",
            visibility=EventVisibility.CUSTOMER,
            actor=actor_of(viewer),
        )
    return FulfillmentStep(fo, order)


async def ship_fulfillment_order(
    ctx: RequestContext, fulfillment_order_id: int, *, carrier: str, tracking_number: str
) -> ShipmentStep:
    """IN_PROGRESS → SHIPPED with a carrier and tracking number: a shipment in LABEL_CREATED with its tracking
    URL and estimated delivery; the units leave stock and their payment is captured. Naturally idempotent:
    shipping a shipped fulfillment order again with the same carrier and tracking number answers its shipment."""
    viewer = require_agent(ctx.viewer, "ship fulfillment orders")
    tracking_number = tracking_number.strip()
    if not tracking_number or len(tracking_number) > MAX_TRACKING_NUMBER:
        raise Refusal(
            "INVALID_INPUT", f"A tracking number holds 1 to {MAX_TRACKING_NUMBER} characters.", ["trackingNumber"]
        )
    try:
        carrier_port = ctx.ports.carriers.carrier(carrier.strip())
    except UnknownCarrier as unknown:
        raise Refusal("UNKNOWN_CARRIER", str(unknown), ["carrier"]) from None
    now = ctx.clock()
    async with change(ctx.write) as session:
        fo, order = await _for_change(session, ctx, fulfillment_order_id)
        replay = await _same_shipment(session, fo, carrier_port.name, tracking_number)
        if replay is not None:
            return ShipmentStep(replay, order)
        _not_on_hold(order, "shipped")
        if fo.kind is not DeliveryKind.SHIP:
            raise Refusal(
                "INVALID_TRANSITION",
                "This fulfillment order is collected in store: it is not shipped.",
                ["fulfillmentOrderId"],
            )
        _expect(fo, FulfillmentOrderStatus.IN_PROGRESS, "ship")
        location = await session.get_one(Location, fo.location_id)
        shipment = Shipment(
            order_id=id_of(order),
            fulfillment_order_id=id_of(fo),
            carrier=carrier_port.name,
            tracking_number=tracking_number,
            tracking_url=carrier_port.tracking_url(tracking_number),
            status=ShipmentStatus.LABEL_CREATED,
            shipped_at=now,
            estimated_delivery_at=await _estimated_delivery(session, order, location, now),
        )
        session.add(shipment)
        await session.flush()
        session.add(
            ShipmentEvent(
                shipment_id=id_of(shipment),
                status=ShipmentStatus.LABEL_CREATED,
                occurred_at=now,
                description=f"Label created by {location.name}",
                carrier=shipment.carrier,
            )
        )
        fo.status, fo.updated_at = FulfillmentOrderStatus.SHIPPED, now
        session.add(fo)
        captured = await _leave(session, ctx, order, fo, location, delivered=False, actor=actor_of(viewer))
        await refresh_order_status(session, order)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.SHIPMENT_CREATED,
            message=f"Shipped with {shipment.carrier}, tracking number {tracking_number}."
            + await _point_note(session, order),
            visibility=EventVisibility.CUSTOMER,
            actor=actor_of(viewer),
        )
        append_captured_event(session, order, captured)
    return ShipmentStep(shipment, order)


async def mark_ready_for_pickup(ctx: RequestContext, fulfillment_order_id: int) -> FulfillmentStep:
    """IN_PROGRESS → READY_FOR_PICKUP: the units wait at the store's counter (still reserved there)."""
    viewer = require_agent(ctx.viewer, "mark orders ready for pickup")
    async with change(ctx.write) as session:
        fo, order = await _for_change(session, ctx, fulfillment_order_id)
        _not_on_hold(order, "handed over")
        _pickup_only(fo)
        _expect(fo, FulfillmentOrderStatus.IN_PROGRESS, "mark ready for pickup")
        fo.status, fo.updated_at = FulfillmentOrderStatus.READY_FOR_PICKUP, ctx.clock()
        session.add(fo)
        await refresh_order_status(session, order)
        location = await session.get_one(Location, fo.location_id)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.READY_FOR_PICKUP,
            message=f"Ready for pickup at {location.name}.",
            visibility=EventVisibility.CUSTOMER,
            actor=actor_of(viewer),
        )
    return FulfillmentStep(fo, order)


async def confirm_pickup(ctx: RequestContext, fulfillment_order_id: int) -> FulfillmentStep:
    """READY_FOR_PICKUP → PICKED_UP: the customer collected the units; they leave stock, count as shipped and
    delivered, and their payment is captured."""
    viewer = require_agent(ctx.viewer, "confirm pickups")
    now = ctx.clock()
    async with change(ctx.write) as session:
        fo, order = await _for_change(session, ctx, fulfillment_order_id)
        _not_on_hold(order, "handed over")
        _pickup_only(fo)
        _expect(fo, FulfillmentOrderStatus.READY_FOR_PICKUP, "confirm the pickup of")
        # updated_at is when it was collected: the return window runs from it (resolvers.return_requests).
        fo.status, fo.updated_at = FulfillmentOrderStatus.PICKED_UP, now
        session.add(fo)
        location = await session.get_one(Location, fo.location_id)
        captured = await _leave(session, ctx, order, fo, location, delivered=True, actor=actor_of(viewer))
        await refresh_order_status(session, order)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.PICKED_UP,
            message=f"Collected at {location.name}.",
            visibility=EventVisibility.CUSTOMER,
            actor=actor_of(viewer),
        )
        append_captured_event(session, order, captured)
    return FulfillmentStep(fo, order)


# --- the shared steps -------------------------------------------------------------------------------------


async def _for_change(
    session: AsyncSession, ctx: RequestContext, fulfillment_order_id: int
) -> tuple[FulfillmentOrder, Order]:
    """The fulfillment order and its order, the order locked first (every change to an order queues there)."""
    order_id = (
        await session.exec(select(FulfillmentOrder.order_id).where(FulfillmentOrder.id == fulfillment_order_id))
    ).first()
    if order_id is None:
        raise Refusal("NOT_FOUND", "No such fulfillment order.", ["fulfillmentOrderId"])
    order = await order_for_change(session, ctx.viewer, order_id)
    fo = (
        await session.exec(
            select(FulfillmentOrder)
            .where(FulfillmentOrder.id == fulfillment_order_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    return fo, order


def _not_on_hold(order: Order, what: str) -> None:
    if order.approval_state is ApprovalState.PENDING:  # a business order waiting for its company's approver (#21)
        raise Refusal(
            "AWAITING_APPROVAL",
            f"Order {order.number} awaits its company's approval: its fulfillment cannot be {what}.",
            ["fulfillmentOrderId"],
        )
    if order.on_hold:
        raise Refusal(
            "ORDER_ON_HOLD",
            f"Order {order.number} is on hold: its fulfillment cannot be {what}.",
            ["fulfillmentOrderId"],
        )


def _pickup_only(fo: FulfillmentOrder) -> None:
    if fo.kind is not DeliveryKind.PICKUP:
        raise Refusal(
            "INVALID_TRANSITION", "This fulfillment order is shipped, not collected in store.", ["fulfillmentOrderId"]
        )


def _expect(fo: FulfillmentOrder, status: FulfillmentOrderStatus, action: str) -> None:
    if fo.status is not status:
        raise Refusal(
            "INVALID_TRANSITION",
            f"Cannot {action} a fulfillment order that is {_words(fo.status)} (it must be {_words(status)}).",
            ["fulfillmentOrderId"],
        )


def _words(status: FulfillmentOrderStatus) -> str:
    return status.lower().replace("_", " ")


async def _same_shipment(
    session: AsyncSession, fo: FulfillmentOrder, carrier: str, tracking_number: str
) -> Shipment | None:
    """The shipment this exact request made before, if it is a replay."""
    if fo.status not in (FulfillmentOrderStatus.SHIPPED, FulfillmentOrderStatus.DELIVERED):
        return None
    shipment = (await session.exec(select(Shipment).where(Shipment.fulfillment_order_id == fo.id))).first()
    if shipment is not None and shipment.carrier == carrier and shipment.tracking_number == tracking_number:
        return shipment
    return None


async def _point_note(session: AsyncSession, order: Order) -> str:
    """For an order to a pickup point or parcel locker: where the parcel will wait ("" otherwise)."""
    if order.pickup_point_id is None:
        return ""
    point = await session.get(PickupPoint, order.pickup_point_id)
    return f" It will wait at {point.name} ({point.external_id})." if point else ""


async def _estimated_delivery(
    session: AsyncSession, order: Order, location: Location, shipped_at: datetime
) -> datetime | None:
    """By the order's delivery method's transit calendar (models.routing), counted from now."""
    method = await session.get(DeliveryMethod, order.delivery_method_code)
    if method is None or method.kind is not DeliveryKind.SHIP:
        return None
    destination = None
    if order.ship_country:
        destination = await locate(
            session,
            country=order.ship_country,
            postal_code=order.ship_postal_code,
            region=order.ship_region,
            city=order.ship_city,
        )
    return estimated_delivery(Method.of(method), shipped_at, location.timezone, destination)


async def _leave(
    session: AsyncSession,
    ctx: RequestContext,
    order: Order,
    fo: FulfillmentOrder,
    location: Location,
    *,
    delivered: bool,
    actor: tuple[ActorKind, str | None],
) -> int:
    """The fulfillment order's units leave their location: out of on-hand stock with their reservation, into the
    line ledger, and paid for. Returns the amount captured."""
    fo_lines = list(
        (
            await session.exec(
                select(FulfillmentOrderLine)
                .where(FulfillmentOrderLine.fulfillment_order_id == fo.id)
                .order_by(col(FulfillmentOrderLine.id))
            )
        ).all()
    )
    lines = {id_of(line): line for line in await order_lines(session, id_of(order))}
    leaving: dict[int, int] = defaultdict(int)
    for fo_line in fo_lines:
        leaving[fo_line.order_line_id] += fo_line.quantity
    others_holding = any(
        other.id != fo.id and other.status in HOLDING for other in await fulfillment_orders(session, id_of(order))
    )

    amount = capture_amount(
        order, list(lines.values()), leaving
    )  # before the ledger moves: it counts units left before
    capturable = payments.capturable_minor(await payments.payments_of(session, order))
    amount = min(amount, capturable) if others_holding else capturable  # the last to leave takes the remainder

    for line_id, quantity in leaving.items():
        line = lines[line_id]
        line.quantity_shipped += quantity
        if delivered:
            line.quantity_delivered += quantity
        session.add(line)
    await _take_out_of_stock(
        session,
        {lines[i].sku: q for i, q in leaving.items()},
        fo.location_id,
        order=order,
        reason=f"{'picked up' if delivered else 'shipped'}: order {order.number}",
        actor=actor,
    )
    # Captured (and invoiced) once the ledger counts the units as left, and after the stock rows are locked:
    # every change takes stock locks before the invoice number's counter (resolvers.invoices), so none deadlock.
    captured = 0
    if amount > 0:
        captured = await payments.capture(session, ctx.ports.payments, order, amount, fulfillment_order_id=fo.id)
    return captured


def capture_amount(order: Order, lines: list[OrderLine], leaving: dict[int, int]) -> int:
    """What the units `leaving` (order line id → units) are worth, taken before they are counted as shipped:
    their price, their line's tax by cumulative share of its units (so the shares of a line add up to its
    tax), and by cumulative share of the order's units not cancelled, shipping with the tax on it. Where prices
    include tax, the tax is inside them and adds nothing (`added_tax`)."""
    included = order.prices_include_tax
    by_id = {line.id: line for line in lines}
    value = 0
    for line_id, quantity in leaving.items():
        line = by_id[line_id]
        before = line.quantity_shipped
        value += line.unit_price_minor * quantity
        value += added_tax(
            share(line.tax_minor, before + quantity, line.quantity) - share(line.tax_minor, before, line.quantity),
            included=included,
        )
    shipping = order.shipping_minor + added_tax(
        order.tax_minor - sum(line.tax_minor for line in lines), included=included
    )
    active = sum(line.quantity - line.quantity_cancelled for line in lines)
    left_before = sum(line.quantity_shipped for line in lines)
    units = sum(leaving.values())
    if active > 0 and shipping:
        value += share(shipping, min(left_before + units, active), active) - share(
            shipping, min(left_before, active), active
        )
    return value


async def _take_out_of_stock(
    session: AsyncSession,
    quantities: dict[str, int],
    location_id: int,
    *,
    order: Order,
    reason: str,
    actor: tuple[ActorKind, str | None],
) -> None:
    """On-hand and reserved both fall by what leaves, in (sku) order like every other stock write; the
    inventory ledger records it."""
    for sku in sorted(quantities):
        quantity = quantities[sku]
        if quantity <= 0:
            continue
        session.add(
            InventoryAdjustment(
                sku=sku,
                location_id=location_id,
                on_hand_delta=-quantity,
                reserved_delta=-quantity,
                reason=reason,
                order_id=order.id,
                actor_kind=actor[0],
                actor_name=actor[1],
            )
        )
        result = await session.exec(
            sa.update(InventoryLevel)
            .where(
                col(InventoryLevel.sku) == sku,
                col(InventoryLevel.location_id) == location_id,
                col(InventoryLevel.reserved) >= quantity,
            )
            .values(
                on_hand=InventoryLevel.on_hand - quantity,
                reserved=InventoryLevel.reserved - quantity,
                updated_at=utcnow(),
            )
        )
        if result.rowcount != 1:
            raise RuntimeError(
                f"order {order.number}: {quantity} × {sku} leaving location {location_id} were not reserved there"
            )


def append_captured_event(session: AsyncSession, order: Order, captured: int) -> None:
    if captured > 0:
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.PAYMENT_CAPTURED,
            actor=SYSTEM,
            message=f"{to_decimal(captured, order.currency)} {order.currency} captured.",
            visibility=EventVisibility.INTERNAL,
        )
