"""Event messages in the reading customer's language (#19).

An event's stored `message` is its English text, written with the change (it may hold facts known only then: a
location's name, a count of units, the carrier's words). A customer who reads another language gets the message
rendered from what the event points at instead: its type, its reason code, and its order, parcel or return as the
loaders hold them, through the same locale tables as the notifications (`event.*` keys,
resolvers.localization). English readers, agents and admins keep the stored text (analysts get none:
resolvers.access.event_message); an event type without a template (a note a person wrote, a preferences summary)
keeps it too. Rendering reads only batched loaders: a page of events costs a few statements, not one per event.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from ordergraph.loaders import Loaders
from ordergraph.models import Location, Order, OrderEvent, Return, ReturnLine, Shipment
from ordergraph.models.enums import EventType, ReturnMethod
from ordergraph.resolvers import localization as l10n

# The event types rendered from templates; the rest keep their stored text in every language.
_ORDER_TYPES = frozenset(
    {
        EventType.ORDER_PLACED,
        EventType.ORDER_HOLD_RELEASED,
        EventType.SHIPPING_CHANGED,
        EventType.FULFILLMENT_STARTED,
        EventType.SHIPMENT_CREATED,
        EventType.ORDER_DELIVERED,
        # Company orders' approvals (#21).
        EventType.ORDER_APPROVAL_REQUESTED,
        EventType.ORDER_APPROVED,
        EventType.ORDER_APPROVAL_REJECTED,
        EventType.ORDER_APPROVAL_EXPIRED,
    }
)
_SHIPMENT_TYPES = frozenset(
    {
        EventType.SHIPMENT_IN_TRANSIT,
        EventType.SHIPMENT_OUT_FOR_DELIVERY,
        EventType.SHIPMENT_DELIVERED,
        EventType.SHIPMENT_EXCEPTION,
    }
)
_REASON_TYPES = frozenset({EventType.ORDER_CANCELLED, EventType.LINES_CANCELLED, EventType.ORDER_HELD})
_PLACE_TYPES = frozenset({EventType.READY_FOR_PICKUP, EventType.PICKED_UP})
_RETURN_TYPES = frozenset(
    {
        EventType.RETURN_REQUESTED,
        EventType.RETURN_APPROVED,
        EventType.RETURN_REJECTED,
        EventType.RETURN_RECEIVED,
        EventType.REFUND_ISSUED,
    }
)
TEMPLATED = _ORDER_TYPES | _SHIPMENT_TYPES | _REASON_TYPES | _PLACE_TYPES | _RETURN_TYPES


async def customer_message(loaders: Loaders, customer_id: int, event: OrderEvent) -> str | None:
    """The event's message for the customer `customer_id` in their language; None when the stored text stands
    (they read English, the type has no template, or what it points at is gone)."""
    if event.type not in TEMPLATED or event.order_id is None:
        return None
    customer = await loaders.customer.load(customer_id)
    order: Order | None = await loaders.order.load(event.order_id)
    if customer is None or order is None:
        return None
    locale = l10n.locale_for(customer.locale, order.market_code)
    if locale == l10n.DEFAULT_LOCALE:
        return None
    return await _render(loaders, locale, EventType(event.type), event, order)


@dataclass(frozen=True, slots=True)
class _Text:
    """The texts of one locale about one order (its number fills `{number}`)."""

    locale: str
    number: str

    def __call__(self, key: str, **params: object) -> str:
        return l10n.text(self.locale, key, number=self.number, **params)


async def _render(loaders: Loaders, locale: str, kind: EventType, event: OrderEvent, order: Order) -> str | None:
    t = _Text(locale, order.number)
    if kind in _ORDER_TYPES:
        return t(f"event.{kind.value}")
    if kind is EventType.ORDER_HELD:
        key = f"event.ORDER_HELD.{event.reason_code}"
        return t(key if l10n.has_text(key) else "event.ORDER_HELD.OTHER")
    if kind in _REASON_TYPES:
        reason = f"reason.{event.reason_code}"
        return t(f"event.{kind.value}", reason=t(reason if l10n.has_text(reason) else "reason.OTHER"))
    if kind in _PLACE_TYPES:
        place: Location | None = (
            await loaders.location.load(order.pickup_location_id) if order.pickup_location_id else None
        )
        return t(f"event.{kind.value}", place=place.name) if place is not None else None
    if kind in _SHIPMENT_TYPES:
        shipment: Shipment | None = await loaders.shipment.load(event.shipment_id) if event.shipment_id else None
        if shipment is None:
            return None
        return t(f"event.{kind.value}", carrier=shipment.carrier, tracking=shipment.tracking_number)
    ret: Return | None = await loaders.return_.load(event.return_id) if event.return_id else None
    if ret is None:
        return None
    return await _return_message(loaders, t, kind, ret)


async def _return_message(loaders: Loaders, t: _Text, kind: EventType, ret: Return) -> str | None:
    rma = ret.rma_number
    if kind is EventType.RETURN_APPROVED:
        if ret.method is ReturnMethod.STORE_DROP_OFF:
            place = await loaders.location.load(ret.drop_off_location_id) if ret.drop_off_location_id else None
            if place is None:
                return None
            return t("event.RETURN_APPROVED.STORE_DROP_OFF", rma=rma, place=place.name)
        return t("event.RETURN_APPROVED.MAIL", rma=rma)
    if kind is EventType.RETURN_REJECTED:
        return t("event.RETURN_REJECTED", rma=rma, detail=ret.rejected_reason or "")
    if kind is EventType.REFUND_ISSUED:
        if ret.refund_minor is None:
            return None
        return t("event.REFUND_ISSUED", rma=rma, amount=l10n.money(ret.refund_minor, ret.currency, t.locale))
    lines: Sequence[ReturnLine] = await loaders.lines_by_return.load(ret.id)
    expected = sum(line.quantity for line in lines)
    if kind is EventType.RETURN_REQUESTED:
        return t("event.RETURN_REQUESTED", rma=rma, units=l10n.number(expected, t.locale))
    received = sum(line.quantity_received for line in lines)
    return t(
        "event.RETURN_RECEIVED",
        rma=rma,
        units=l10n.number(received, t.locale),
        expected=l10n.number(expected, t.locale),
    )
