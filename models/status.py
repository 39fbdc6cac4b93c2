"""The order's status, derived (never set by hand) from its approval, hold, line ledger and fulfillment orders."""

from collections.abc import Iterable
from dataclasses import dataclass

from ordergraph.models.enums import FulfillmentOrderStatus, OrderStatus


@dataclass(frozen=True, slots=True)
class LineQuantities:
    quantity: int
    cancelled: int = 0
    shipped: int = 0  # left the location: shipped, delivered or picked up
    delivered: int = 0  # delivered or picked up
    returned: int = 0


def derive_order_status(
    *,
    on_hold: bool,
    lines: Iterable[LineQuantities],
    fulfillment_statuses: Iterable[FulfillmentOrderStatus],
    awaiting_approval: bool = False,
) -> OrderStatus:
    """docs/domain.md's precedence table, first match wins. A business order waiting for its company's approver
    (`awaiting_approval`) comes right after CANCELLED: nothing of it may move until someone decides, whatever
    else holds it."""
    ordered = cancelled = shipped = delivered = returned = 0
    for line in lines:
        ordered += line.quantity
        cancelled += line.cancelled
        shipped += line.shipped
        delivered += line.delivered
        returned += line.returned
    statuses = set(fulfillment_statuses)
    active = ordered - cancelled

    if active == 0:
        return OrderStatus.CANCELLED
    if awaiting_approval:
        return OrderStatus.AWAITING_APPROVAL
    if on_hold:
        return OrderStatus.ON_HOLD
    if delivered == active and returned == delivered:
        return OrderStatus.RETURNED
    if delivered == active:
        return OrderStatus.DELIVERED
    if shipped == active:
        return OrderStatus.SHIPPED
    if shipped > 0:
        return OrderStatus.PARTIALLY_SHIPPED
    if FulfillmentOrderStatus.READY_FOR_PICKUP in statuses:
        return OrderStatus.READY_FOR_PICKUP
    if FulfillmentOrderStatus.IN_PROGRESS in statuses:
        return OrderStatus.PROCESSING
    return OrderStatus.CONFIRMED
