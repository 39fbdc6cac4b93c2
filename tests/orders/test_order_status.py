"""derive_order_status against docs/domain.md's precedence table, row by row and where rows compete."""

import pytest

from ordergraph.models.enums import FulfillmentOrderStatus as FO
from ordergraph.models.enums import OrderStatus
from ordergraph.models.status import LineQuantities as L
from ordergraph.models.status import derive_order_status

# (case, on hold, lines, fulfillment order statuses, expected)
TABLE = [
    ("1 every unit cancelled", False, [L(2, cancelled=2)], [FO.CANCELLED], OrderStatus.CANCELLED),
    ("1 beats a hold", True, [L(1, cancelled=1)], [FO.CANCELLED], OrderStatus.CANCELLED),
    ("2 held before anything started", True, [L(2)], [FO.OPEN], OrderStatus.ON_HOLD),
    ("2 hold beats in progress", True, [L(2)], [FO.IN_PROGRESS], OrderStatus.ON_HOLD),
    ("2 hold beats partly shipped", True, [L(2, shipped=1)], [FO.SHIPPED, FO.OPEN], OrderStatus.ON_HOLD),
    (
        "3 every delivered unit returned",
        False,
        [L(2, shipped=2, delivered=2, returned=2)],
        [FO.DELIVERED],
        OrderStatus.RETURNED,
    ),
    (
        "3 with the rest cancelled",
        False,
        [L(3, cancelled=1, shipped=2, delivered=2, returned=2)],
        [FO.DELIVERED],
        OrderStatus.RETURNED,
    ),
    (
        "4 partly returned stays delivered",
        False,
        [L(2, shipped=2, delivered=2, returned=1)],
        [FO.DELIVERED],
        OrderStatus.DELIVERED,
    ),
    (
        "4 every unit delivered",
        False,
        [L(1, shipped=1, delivered=1), L(2, shipped=2, delivered=2)],
        [FO.DELIVERED],
        OrderStatus.DELIVERED,
    ),
    (
        "4 delivered with a cancelled line",
        False,
        [L(1, shipped=1, delivered=1), L(2, cancelled=2)],
        [FO.DELIVERED],
        OrderStatus.DELIVERED,
    ),
    (
        "3 not before everything is delivered",
        False,
        [L(1, shipped=1, delivered=1, returned=1), L(1, shipped=1)],
        [FO.DELIVERED, FO.SHIPPED],
        OrderStatus.SHIPPED,
    ),
    ("5 every unit left", False, [L(2, shipped=2)], [FO.SHIPPED], OrderStatus.SHIPPED),
    (
        "5 some delivered, the rest on its way",
        False,
        [L(1, shipped=1, delivered=1), L(1, shipped=1)],
        [FO.DELIVERED, FO.SHIPPED],
        OrderStatus.SHIPPED,
    ),
    ("6 some units left", False, [L(1, shipped=1), L(1)], [FO.SHIPPED, FO.IN_PROGRESS], OrderStatus.PARTIALLY_SHIPPED),
    ("7 pickup ready", False, [L(1)], [FO.READY_FOR_PICKUP], OrderStatus.READY_FOR_PICKUP),
    (
        "7 ready beats in progress",
        False,
        [L(1), L(1)],
        [FO.READY_FOR_PICKUP, FO.IN_PROGRESS],
        OrderStatus.READY_FOR_PICKUP,
    ),
    ("8 in progress", False, [L(1), L(1)], [FO.IN_PROGRESS, FO.OPEN], OrderStatus.PROCESSING),
    ("9 confirmed", False, [L(3)], [FO.OPEN], OrderStatus.CONFIRMED),
    (
        "9 with a cancelled fulfillment order",
        False,
        [L(2, cancelled=1)],
        [FO.CANCELLED, FO.OPEN],
        OrderStatus.CONFIRMED,
    ),
    # An order split between a shipment and a store pickup:
    (
        "split: shipped half, pickup ready",
        False,
        [L(1, shipped=1), L(1)],
        [FO.SHIPPED, FO.READY_FOR_PICKUP],
        OrderStatus.PARTIALLY_SHIPPED,
    ),
    (
        "split: shipped half, pickup being picked",
        False,
        [L(1, shipped=1), L(1)],
        [FO.SHIPPED, FO.IN_PROGRESS],
        OrderStatus.PARTIALLY_SHIPPED,
    ),
    (
        "split: delivered half, pickup ready",
        False,
        [L(1, shipped=1, delivered=1), L(1)],
        [FO.DELIVERED, FO.READY_FOR_PICKUP],
        OrderStatus.PARTIALLY_SHIPPED,
    ),
    (
        "split: picked up half, parcel on its way",
        False,
        [L(1, shipped=1, delivered=1), L(1, shipped=1)],
        [FO.PICKED_UP, FO.SHIPPED],
        OrderStatus.SHIPPED,
    ),
    (
        "split: both handed over",
        False,
        [L(1, shipped=1, delivered=1), L(1, shipped=1, delivered=1)],
        [FO.PICKED_UP, FO.DELIVERED],
        OrderStatus.DELIVERED,
    ),
    (
        "split: parcel cancelled, pickup ready",
        False,
        [L(1, cancelled=1), L(1)],
        [FO.CANCELLED, FO.READY_FOR_PICKUP],
        OrderStatus.READY_FOR_PICKUP,
    ),
]


@pytest.mark.parametrize(("case", "on_hold", "lines", "statuses", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_derive_order_status(
    case: str, on_hold: bool, lines: list[L], statuses: list[FO], expected: OrderStatus
) -> None:
    assert derive_order_status(on_hold=on_hold, lines=lines, fulfillment_statuses=statuses) is expected


# Business orders above their company's approval threshold (#21): row 2, after CANCELLED and before the hold.
APPROVAL_TABLE = [
    ("awaiting approval", False, [L(2)], [FO.OPEN], OrderStatus.AWAITING_APPROVAL),
    ("awaiting approval beats a hold", True, [L(2)], [FO.OPEN], OrderStatus.AWAITING_APPROVAL),
    (
        "awaiting approval, one line cancelled",
        False,
        [L(1), L(1, cancelled=1)],
        [FO.OPEN],
        OrderStatus.AWAITING_APPROVAL,
    ),
    ("cancelled beats awaiting approval", False, [L(2, cancelled=2)], [FO.CANCELLED], OrderStatus.CANCELLED),
]


@pytest.mark.parametrize(
    ("case", "on_hold", "lines", "statuses", "expected"), APPROVAL_TABLE, ids=[row[0] for row in APPROVAL_TABLE]
)
def test_derive_status_awaiting_approval(
    case: str, on_hold: bool, lines: list[L], statuses: list[FO], expected: OrderStatus
) -> None:
    assert (
        derive_order_status(on_hold=on_hold, lines=lines, fulfillment_statuses=statuses, awaiting_approval=True)
        is expected
    )


def test_every_status_is_reachable() -> None:
    assert {row[-1] for row in TABLE + APPROVAL_TABLE} == set(OrderStatus)
