"""Carrier tracking: applying a carrier's event to a shipment. Agents record events through
`recordShipmentEvent`; a carrier's webhook (server.carrier_webhooks) through `track_carrier_event`, which finds
the shipment by its tracking number and calls `apply_carrier_event` the same way, inside its own change().

Rules (docs/domain.md, Shipment: LABEL_CREATED → IN_TRANSIT → OUT_FOR_DELIVERY → DELIVERED, EXCEPTION on the way):
- every event carries the carrier's event id: a replay of (carrier, event id) is acknowledged and ignored;
- a shipment never moves backwards: an event behind the shipment's progress (the furthest step any of its
  events reached) is kept in its history but moves nothing, and DELIVERED is final;
- EXCEPTION can come between the steps (an exception older than the latest event recorded moves nothing);
  the next carrier event moves the shipment on from it: one beyond its progress, or one at its progress
  that happened after the exception (a new attempt);
- on DELIVERED the fulfillment order is DELIVERED and its units count as delivered in the line ledger; the
  order's status is derived again after every event.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import FulfillmentOrder, FulfillmentOrderLine, Order, OrderLine, Shipment, ShipmentEvent
from ordergraph.models.columns import id_of
from ordergraph.models.enums import (
    ActorKind,
    EventType,
    EventVisibility,
    FulfillmentOrderStatus,
    OrderStatus,
    ShipmentStatus,
)
from ordergraph.resolvers.access import require_agent
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.events import WriteSession, actor_of, append_event, change
from ordergraph.resolvers.order_state import refresh_order_status

# How far along each forward status is; EXCEPTION has no place of its own.
PROGRESS = {
    ShipmentStatus.LABEL_CREATED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.OUT_FOR_DELIVERY: 2,
    ShipmentStatus.DELIVERED: 3,
}
_EVENT_TYPES = {
    ShipmentStatus.IN_TRANSIT: (EventType.SHIPMENT_IN_TRANSIT, "Your parcel is on its way."),
    ShipmentStatus.OUT_FOR_DELIVERY: (EventType.SHIPMENT_OUT_FOR_DELIVERY, "Your parcel is out for delivery."),
    ShipmentStatus.DELIVERED: (EventType.SHIPMENT_DELIVERED, "Your parcel was delivered."),
    ShipmentStatus.EXCEPTION: (EventType.SHIPMENT_EXCEPTION, "The carrier reported a problem with your parcel."),
}
MAX_TEXT = 500
MAX_EVENT_ID = 128


@dataclass(frozen=True, slots=True)
class CarrierEvent:
    carrier_event_id: str
    status: ShipmentStatus
    occurred_at: datetime
    description: str | None = None
    location: str | None = None


class Outcome(StrEnum):
    MOVED = "MOVED"  # the shipment's status changed
    KEPT = "KEPT"  # recorded in its history, status unchanged (behind its progress, or the same step again)
    DUPLICATE = "DUPLICATE"  # a replay of an event already recorded: nothing changed


@dataclass(frozen=True, slots=True)
class Tracked:
    shipment: Shipment
    order: Order
    outcome: Outcome


async def record_shipment_event(ctx: RequestContext, shipment_id: int, event: CarrierEvent) -> Tracked:
    """recordShipmentEvent: an agent records a carrier's event (the carrier's own event id included)."""
    viewer = require_agent(ctx.viewer, "record shipment events")
    event = validated(event)
    async with change(ctx.write) as session:
        tracked = await apply_carrier_event(session, shipment_id, event, actor=actor_of(viewer))
    return tracked


async def track_carrier_event(write: WriteSession, carrier: str, tracking_number: str, event: CarrierEvent) -> Tracked:
    """A carrier reports an event for one of its tracking numbers (the carrier's name as the carrier port spells
    it). A tracking number we never shipped with is NOT_FOUND: the carrier may have scanned the parcel before the
    shipment was recorded, and tries again later."""
    event = validated(event)
    tracking_number = tracking_number.strip()
    async with change(write) as session:
        shipment = await find_shipment(session, carrier, tracking_number) if tracking_number else None
        if shipment is None:
            raise Refusal(
                "NOT_FOUND", f"No {carrier} shipment with tracking number {tracking_number!r}.", ["trackingNumber"]
            )
        tracked = await apply_carrier_event(session, id_of(shipment), event, actor=(ActorKind.CARRIER, carrier))
    return tracked


def validated(event: CarrierEvent) -> CarrierEvent:
    """The event with its text trimmed and its time in UTC, or a refusal naming the field."""
    event_id = event.carrier_event_id.strip()
    if not event_id or len(event_id) > MAX_EVENT_ID:
        raise Refusal("INVALID_INPUT", f"carrierEventId holds 1 to {MAX_EVENT_ID} characters.", ["carrierEventId"])
    if event.status is ShipmentStatus.LABEL_CREATED:
        raise Refusal(
            "INVALID_INPUT", "A label is created by shipping the fulfillment order, not by a carrier event.", ["status"]
        )
    texts = {}
    for name in ("description", "location"):
        text = (getattr(event, name) or "").strip() or None
        if text is not None and len(text) > MAX_TEXT:
            raise Refusal("INVALID_INPUT", f"{name} holds at most {MAX_TEXT} characters.", [name])
        texts[name] = text
    occurred = event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(tzinfo=UTC)
    return CarrierEvent(event_id, event.status, occurred.astimezone(UTC), texts["description"], texts["location"])


async def find_shipment(session: AsyncSession, carrier: str, tracking_number: str) -> Shipment | None:
    """The shipment a carrier's webhook speaks of, by its carrier and tracking number."""
    query = (
        select(Shipment)
        .where(Shipment.carrier == carrier, Shipment.tracking_number == tracking_number)
        .order_by(col(Shipment.id))
    )
    return (await session.exec(query)).first()


async def apply_carrier_event(
    session: AsyncSession,
    shipment_id: int,
    event: CarrierEvent,
    *,
    actor: tuple[ActorKind, str | None],
) -> Tracked:
    """Applies one carrier event inside the caller's change: the order is locked first, so events for one
    order are applied one at a time (and a replay racing its original finds it recorded)."""
    order = (
        await session.exec(
            select(Order)
            .join(Shipment, col(Shipment.order_id) == col(Order.id))
            .where(Shipment.id == shipment_id)
            .with_for_update(of=Order)
        )
    ).first()
    if order is None:
        raise Refusal("NOT_FOUND", "No such shipment.", ["shipmentId"])
    shipment = (
        await session.exec(select(Shipment).where(Shipment.id == shipment_id).execution_options(populate_existing=True))
    ).one()
    seen = (
        await session.exec(
            select(ShipmentEvent).where(
                ShipmentEvent.carrier == shipment.carrier, ShipmentEvent.carrier_event_id == event.carrier_event_id
            )
        )
    ).first()
    if seen is not None:
        if seen.shipment_id != shipment.id:
            raise Refusal(
                "INVALID_INPUT",
                f"{shipment.carrier} event {event.carrier_event_id} belongs to another shipment.",
                ["carrierEventId"],
            )
        return Tracked(shipment, order, Outcome.DUPLICATE)

    history = list((await session.exec(select(ShipmentEvent).where(ShipmentEvent.shipment_id == shipment.id))).all())
    session.add(
        ShipmentEvent(
            shipment_id=id_of(shipment),
            status=event.status,
            occurred_at=event.occurred_at,
            description=event.description,
            location=event.location,
            carrier=shipment.carrier,
            carrier_event_id=event.carrier_event_id,
        )
    )
    target = next_status(shipment.status, [(e.status, e.occurred_at) for e in history], event.status, event.occurred_at)
    if target is None:
        await session.flush()
        return Tracked(shipment, order, Outcome.KEPT)

    shipment.status = target
    if target is ShipmentStatus.DELIVERED:
        shipment.delivered_at = event.occurred_at
        await _deliver(session, shipment)
    session.add(shipment)
    was = order.status
    await refresh_order_status(session, order)
    event_type, message = _EVENT_TYPES[target]
    detail = "; ".join(text for text in (event.description, event.location) if text)
    append_event(
        session,
        order=order,
        customer_id=order.customer_id,
        type=event_type,
        actor=actor,
        message=f"{message} ({shipment.carrier} {shipment.tracking_number}{': ' + detail if detail else ''})",
        visibility=EventVisibility.CUSTOMER,
        shipment_id=id_of(shipment),
    )
    if order.status is OrderStatus.DELIVERED and was is not OrderStatus.DELIVERED:
        # The last parcel: told once, apart from that parcel's own delivery.
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.ORDER_DELIVERED,
            actor=actor,
            message=f"Order {order.number}: everything has been delivered.",
            visibility=EventVisibility.CUSTOMER,
        )
    return Tracked(shipment, order, Outcome.MOVED)


def next_status(
    current: ShipmentStatus,
    history: list[tuple[ShipmentStatus, datetime]],
    status: ShipmentStatus,
    occurred_at: datetime,
) -> ShipmentStatus | None:
    """Where an event takes a shipment, or None when it moves nothing (pure; `history` is what was recorded)."""
    if current is ShipmentStatus.DELIVERED:
        return None
    progress = max((PROGRESS[s] for s, _ in history if s in PROGRESS), default=0)
    latest = max((at for _, at in history), default=None)
    if status is ShipmentStatus.EXCEPTION:
        stale = latest is not None and occurred_at < latest
        return None if stale or current is ShipmentStatus.EXCEPTION else ShipmentStatus.EXCEPTION
    rank = PROGRESS[status]
    if rank > progress:
        return status
    if current is ShipmentStatus.EXCEPTION and rank == progress:
        # The carrier tries again (the step it had reached, reported after the exception): moves on.
        excepted_at = max((at for s, at in history if s is ShipmentStatus.EXCEPTION), default=occurred_at)
        return status if occurred_at >= excepted_at else None
    return None


async def _deliver(session: AsyncSession, shipment: Shipment) -> None:
    """The fulfillment order is DELIVERED; its units count as delivered."""
    assert shipment.delivered_at is not None  # set by the caller on the DELIVERED event
    fo = await session.get_one(FulfillmentOrder, shipment.fulfillment_order_id)
    fo.status, fo.updated_at = FulfillmentOrderStatus.DELIVERED, shipment.delivered_at
    session.add(fo)
    fo_lines = (
        await session.exec(select(FulfillmentOrderLine).where(FulfillmentOrderLine.fulfillment_order_id == fo.id))
    ).all()
    for fo_line in fo_lines:
        line = await session.get_one(OrderLine, fo_line.order_line_id)
        line.quantity_delivered += fo_line.quantity
        session.add(line)
