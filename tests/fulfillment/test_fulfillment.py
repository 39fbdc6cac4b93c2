"""Fulfillment steps and carrier tracking through the API: startFulfillment, shipFulfillmentOrder,
recordShipmentEvent, markReadyForPickup and confirmPickup, with the order status, line ledger, stock,
captured payment and timeline checked after every step."""

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from conftest import Api
from factories import NOW
from test_order_changes import assert_ledgers_reconcile, db_id
from test_placement import place, reserved, snapshot

from ordergraph.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryAdjustment,
    InventoryLevel,
    Order,
    OrderLine,
    PaymentTransaction,
)
from ordergraph.models.enums import DeliveryKind, FulfillmentOrderStatus, ShipmentStatus
from ordergraph.models.routing import Destination, Method, estimated_delivery
from ordergraph.resolvers.tracking import next_status
from ordergraph.schema.node import encode_global_id

DETAIL = """
query($id: ID!) { node(id: $id) { ... on Order {
  status
  total { amount }
  lines { sku quantity quantityShipped quantityDelivered quantityCancelled }
  fulfillmentOrders { id status location { name } }
  shipments { id status carrier trackingNumber trackingUrl estimatedDeliveryAt deliveredAt events { status } }
  payments { status capturedAmount { amount } }
  timeline(first: 100) { edges { node { type visibility } } }
} } }
"""


async def detail(shop: Api, order_id: str, token: str | None = None) -> dict:
    body = (await shop.post(DETAIL, {"id": order_id}, token=token or shop.token("agent"))).json()
    assert "errors" not in body, body
    return body["data"]["node"]


def ledger(order: dict) -> dict[str, tuple[int, int]]:
    """Per SKU: (shipped, delivered)."""
    return {line["sku"]: (line["quantityShipped"], line["quantityDelivered"]) for line in order["lines"]}


def event_types(order: dict) -> list[str]:
    return [edge["node"]["type"] for edge in order["timeline"]["edges"]]


def captured(order: dict) -> tuple[str, str]:
    (payment,) = order["payments"]
    return payment["status"], payment["capturedAmount"]["amount"]


async def step(shop: Api, operation: str, variables: dict, *, token: str | None = None) -> dict:
    body = await shop.run(operation, {"input": variables}, token=token or shop.token("agent"))
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def split_order(shop: Api) -> tuple[str, str, str]:
    """One order split between a shipment from Newark and a pickup at Brooklyn.

    Routing never mixes shipping and pickup in one order, so the split is made by hand: a STANDARD order of
    2 × SKU-1 and 3 × SKU-2 is placed through the API (priced, authorised, reserved and routed to Newark
    whole), then one SKU-1 unit moves, with its reservation, into a PICKUP fulfillment order at Brooklyn.
    Everything after this is driven through the API. Returns (order, Newark FO, Brooklyn FO) global IDs."""
    order = (await place(shop, lines=(("SKU-1", 2), ("SKU-2", 3))))["order"]
    order_id = db_id(order["id"])
    newark, brooklyn = shop.world.locations["newark"], shop.world.locations["brooklyn"]
    async with shop.db.write() as session:
        (shipped,) = (
            (await session.exec(sa.select(FulfillmentOrder).where(FulfillmentOrder.order_id == order_id)))
            .scalars()
            .all()
        )
        sku1 = (
            await session.exec(sa.select(OrderLine).where(OrderLine.order_id == order_id, OrderLine.sku == "SKU-1"))
        ).scalar_one()
        fo_line = (
            await session.exec(
                sa.select(FulfillmentOrderLine).where(
                    FulfillmentOrderLine.fulfillment_order_id == shipped.id,
                    FulfillmentOrderLine.order_line_id == sku1.id,
                )
            )
        ).scalar_one()
        fo_line.quantity = 1
        pickup = FulfillmentOrder(
            order_id=order_id, location_id=brooklyn, kind=DeliveryKind.PICKUP, status=FulfillmentOrderStatus.OPEN
        )
        session.add(pickup)
        await session.flush()
        session.add(FulfillmentOrderLine(fulfillment_order_id=pickup.id, order_line_id=sku1.id, quantity=1))
        for location, delta in ((newark, -1), (brooklyn, 1)):
            await session.exec(
                sa.update(InventoryLevel)
                .where(InventoryLevel.sku == "SKU-1", InventoryLevel.location_id == location)
                .values(reserved=InventoryLevel.reserved + delta)
            )
        (await session.get(Order, order_id)).pickup_location_id = brooklyn
        ids = (
            order["id"],
            encode_global_id("FulfillmentOrder", shipped.id),
            encode_global_id("FulfillmentOrder", pickup.id),
        )
    await assert_ledgers_reconcile(shop, order["id"])
    return ids


async def test_a_split_order_walks_through_every_step(shop: Api) -> None:
    order_id, newark_fo, brooklyn_fo = await split_order(shop)
    placed_events = ["ORDER_PLACED", "PAYMENT_AUTHORIZED", "ORDER_ROUTED"]
    assert await reserved(shop, "SKU-1", "newark") == (100, 1)
    assert await reserved(shop, "SKU-2", "newark") == (200, 3)
    assert await reserved(shop, "SKU-1", "brooklyn") == (5, 1)
    before = await detail(shop, order_id)
    assert before["status"] == "CONFIRMED"
    assert captured(before) == ("AUTHORIZED", "0.00")

    # 1. Newark starts picking.
    started = await step(shop, "StartFulfillment", {"fulfillmentOrderId": newark_fo})
    assert started == {"fulfillmentOrder": {"id": newark_fo, "status": "IN_PROGRESS"}, "userErrors": []}
    order = await detail(shop, order_id)
    assert order["status"] == "PROCESSING"
    assert event_types(order) == [*placed_events, "FULFILLMENT_STARTED"]
    assert ledger(order) == {"SKU-1": (0, 0), "SKU-2": (0, 0)}
    assert captured(order) == ("AUTHORIZED", "0.00")

    # 2. Brooklyn starts too.
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": brooklyn_fo})
    order = await detail(shop, order_id)
    assert order["status"] == "PROCESSING"
    assert event_types(order)[-1] == "FULFILLMENT_STARTED"

    # 3. Newark ships with UPS: its units leave stock and are paid for.
    shipped = await step(
        shop,
        "ShipFulfillmentOrder",
        {"fulfillmentOrderId": newark_fo, "carrier": "ups", "trackingNumber": " 1ZABC123 "},
    )
    assert shipped["userErrors"] == []
    assert shipped["shipment"]["status"] == "LABEL_CREATED"
    assert (shipped["shipment"]["carrier"], shipped["shipment"]["trackingNumber"]) == ("UPS", "1ZABC123")
    assert shipped["shipment"]["trackingUrl"] == "https://www.ups.com/track?tracknum=1ZABC123"
    # SKU-1: 120.00 + half its 9.60 tax; SKU-2: 37.50 + its 1.50 tax; shipping 5.99 + 0.24 tax by units, 4 of 5: 4.98.
    assert shipped["order"]["status"] == "PARTIALLY_SHIPPED"
    assert shipped["order"]["payments"] == [
        {"status": "PARTIALLY_CAPTURED", "capturedAmount": {"amount": "168.78", "currency": "USD"}}
    ]
    shipment_id = shipped["shipment"]["id"]
    order = await detail(shop, order_id)
    # Friday 10:00 in Newark, before the 17:00 cut-off: 3 carrier days (Mon, Tue, Wed) by 20:00 in New York.
    assert order["shipments"][0]["estimatedDeliveryAt"] == "2026-11-26T01:00:00+00:00"
    assert order["shipments"][0]["events"] == [{"status": "LABEL_CREATED"}]
    assert ledger(order) == {"SKU-1": (1, 0), "SKU-2": (3, 0)}
    assert await reserved(shop, "SKU-1", "newark") == (99, 0)
    assert await reserved(shop, "SKU-2", "newark") == (197, 0)
    assert await reserved(shop, "SKU-1", "brooklyn") == (5, 1)
    assert event_types(order)[-2:] == ["SHIPMENT_CREATED", "PAYMENT_CAPTURED"]
    await assert_ledgers_reconcile(shop, order_id)

    # 4. Brooklyn puts its unit on the pickup counter; a shipment has left, so the order stays partially shipped.
    ready = await step(shop, "MarkReadyForPickup", {"fulfillmentOrderId": brooklyn_fo})
    assert ready["fulfillmentOrder"]["status"] == "READY_FOR_PICKUP"
    order = await detail(shop, order_id)
    assert order["status"] == "PARTIALLY_SHIPPED"
    assert event_types(order)[-1] == "READY_FOR_PICKUP"
    assert ledger(order) == {"SKU-1": (1, 0), "SKU-2": (3, 0)}
    assert captured(order) == ("PARTIALLY_CAPTURED", "168.78")

    # 5. Carrier events: in transit, a replay, an exception, out for delivery, a late stale event, delivered.
    def event(event_id: str, status: str, hours: int) -> dict:
        return {
            "shipmentId": shipment_id,
            "carrierEventId": event_id,
            "status": status,
            "occurredAt": (NOW + timedelta(hours=hours)).isoformat(),
            "location": "Newark, NJ",
        }

    moved = await step(shop, "RecordShipmentEvent", event("e-1", "IN_TRANSIT", 2))
    assert moved["shipment"]["status"] == "IN_TRANSIT"
    assert moved["userErrors"] == []
    replay = await step(shop, "RecordShipmentEvent", event("e-1", "IN_TRANSIT", 2))
    assert replay == moved  # acknowledged, nothing recorded twice
    assert (await step(shop, "RecordShipmentEvent", event("e-2", "EXCEPTION", 20)))["shipment"]["status"] == "EXCEPTION"
    out = await step(shop, "RecordShipmentEvent", event("e-3", "OUT_FOR_DELIVERY", 60))
    assert out["shipment"]["status"] == "OUT_FOR_DELIVERY"  # the next carrier event moves it on
    late = await step(shop, "RecordShipmentEvent", event("e-0", "IN_TRANSIT", 1))
    assert late["shipment"]["status"] == "OUT_FOR_DELIVERY"  # never backwards, though kept in its history
    order = await detail(shop, order_id)
    assert order["status"] == "PARTIALLY_SHIPPED"
    assert ledger(order) == {"SKU-1": (1, 0), "SKU-2": (3, 0)}
    assert event_types(order)[-3:] == ["SHIPMENT_IN_TRANSIT", "SHIPMENT_EXCEPTION", "SHIPMENT_OUT_FOR_DELIVERY"]
    delivered = await step(shop, "RecordShipmentEvent", event("e-4", "DELIVERED", 70))
    assert delivered["shipment"]["status"] == "DELIVERED"
    assert delivered["shipment"]["deliveredAt"] == "2026-11-23T13:00:00+00:00"
    assert [e["status"] for e in delivered["shipment"]["events"]] == [
        "LABEL_CREATED",
        "IN_TRANSIT",
        "IN_TRANSIT",
        "EXCEPTION",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
    ]
    order = await detail(shop, order_id)
    assert order["status"] == "PARTIALLY_SHIPPED"  # the pickup unit has not left yet
    assert ledger(order) == {"SKU-1": (1, 1), "SKU-2": (3, 3)}
    assert {fo["id"]: fo["status"] for fo in order["fulfillmentOrders"]} == {
        newark_fo: "DELIVERED",
        brooklyn_fo: "READY_FOR_PICKUP",
    }
    assert event_types(order)[-1] == "SHIPMENT_DELIVERED"

    # 6. The customer collects the Brooklyn unit: it leaves stock and the rest of the payment is captured.
    collected = await step(shop, "ConfirmPickup", {"fulfillmentOrderId": brooklyn_fo})
    assert collected == {
        "fulfillmentOrder": {"id": brooklyn_fo, "status": "PICKED_UP"},
        "order": {"id": order_id, "status": "DELIVERED"},
        "userErrors": [],
    }
    order = await detail(shop, order_id)
    assert ledger(order) == {"SKU-1": (2, 2), "SKU-2": (3, 3)}
    # The remainder: 294.83 - 168.78 = 126.05 (120.00 + 4.80 tax + 1.25 of shipping with its tax).
    assert captured(order) == ("CAPTURED", "294.83")
    assert await reserved(shop, "SKU-1", "brooklyn") == (4, 0)
    assert event_types(order)[-2:] == ["PICKED_UP", "PAYMENT_CAPTURED"]
    await assert_ledgers_reconcile(shop, order_id)

    # The customer follows along, without the internal payment entries.
    mine = await detail(shop, order_id, token=shop.token("customer", "alice"))
    assert event_types(mine) == [
        "ORDER_PLACED",
        "FULFILLMENT_STARTED",
        "FULFILLMENT_STARTED",
        "SHIPMENT_CREATED",
        "READY_FOR_PICKUP",
        "SHIPMENT_IN_TRANSIT",
        "SHIPMENT_EXCEPTION",
        "SHIPMENT_OUT_FOR_DELIVERY",
        "SHIPMENT_DELIVERED",
        "PICKED_UP",
    ]
    async with shop.db.read() as session:
        captures = (
            await session.exec(
                sa.select(PaymentTransaction.amount_minor, PaymentTransaction.fulfillment_order_id)
                .where(PaymentTransaction.kind == "CAPTURE")
                .order_by(PaymentTransaction.id)
            )
        ).all()
        stock_ledger = (
            await session.exec(
                sa.select(
                    InventoryAdjustment.sku, InventoryAdjustment.on_hand_delta, InventoryAdjustment.reserved_delta
                )
                .where(InventoryAdjustment.on_hand_delta != 0)
                .order_by(InventoryAdjustment.id)
            )
        ).all()
    assert [tuple(c) for c in captures] == [(16_878, db_id(newark_fo)), (12_605, db_id(brooklyn_fo))]
    assert [tuple(row) for row in stock_ledger] == [("SKU-1", -1, -1), ("SKU-2", -3, -3), ("SKU-1", -1, -1)]


async def test_steps_the_lifecycle_does_not_allow_are_refused_and_change_nothing(shop: Api) -> None:
    order_id, newark_fo, brooklyn_fo = await split_order(shop)
    ship = {"fulfillmentOrderId": newark_fo, "carrier": "UPS", "trackingNumber": "1Z1"}
    before = await snapshot(shop)
    cases = [
        ("ShipFulfillmentOrder", ship, "INVALID_TRANSITION"),  # not started
        ("MarkReadyForPickup", {"fulfillmentOrderId": brooklyn_fo}, "INVALID_TRANSITION"),  # not started
        ("ConfirmPickup", {"fulfillmentOrderId": brooklyn_fo}, "INVALID_TRANSITION"),  # not ready
        ("MarkReadyForPickup", {"fulfillmentOrderId": newark_fo}, "INVALID_TRANSITION"),  # a shipped FO
        ("ShipFulfillmentOrder", {**ship, "fulfillmentOrderId": brooklyn_fo}, "INVALID_TRANSITION"),  # a pickup FO
        ("ShipFulfillmentOrder", {**ship, "carrier": "Pigeon"}, "UNKNOWN_CARRIER"),
        ("ShipFulfillmentOrder", {**ship, "trackingNumber": "  "}, "INVALID_INPUT"),
        ("StartFulfillment", {"fulfillmentOrderId": encode_global_id("FulfillmentOrder", 999_999)}, "NOT_FOUND"),
    ]
    for operation, variables, code in cases:
        result = await step(shop, operation, variables)
        assert [e["code"] for e in result["userErrors"]] == [code], (operation, variables)
        assert all(value is None for key, value in result.items() if key != "userErrors")
    assert await snapshot(shop) == before

    await step(shop, "StartFulfillment", {"fulfillmentOrderId": brooklyn_fo})
    await step(shop, "MarkReadyForPickup", {"fulfillmentOrderId": brooklyn_fo})
    again = await step(shop, "StartFulfillment", {"fulfillmentOrderId": brooklyn_fo})
    assert again["userErrors"][0]["code"] == "INVALID_TRANSITION"

    # A held order's fulfillment orders cannot start, ship or be handed over.
    agent = shop.token("agent")
    await shop.run("HoldOrder", {"input": {"orderId": order_id, "reason": "address check"}}, token=agent)
    before = await snapshot(shop)
    for operation, variables in (
        ("StartFulfillment", {"fulfillmentOrderId": newark_fo}),
        ("ConfirmPickup", {"fulfillmentOrderId": brooklyn_fo}),
    ):
        refused = await step(shop, operation, variables)
        assert refused["userErrors"][0]["code"] == "ORDER_ON_HOLD", operation
    await shop.run("ReleaseOrderHold", {"input": {"orderId": order_id}}, token=agent)
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": newark_fo})
    await shop.run("HoldOrder", {"input": {"orderId": order_id, "reason": "payment check"}}, token=agent)
    before = await snapshot(shop)
    held = await step(shop, "ShipFulfillmentOrder", ship)
    assert held["userErrors"][0]["code"] == "ORDER_ON_HOLD"
    assert await snapshot(shop) == before
    assert (await detail(shop, order_id))["status"] == "ON_HOLD"


async def test_a_cancelled_fulfillment_order_cannot_start_or_ship(shop: Api) -> None:
    order = (await place(shop))["order"]
    fo = (await detail(shop, order["id"]))["fulfillmentOrders"][0]["id"]
    await shop.run("CancelMyOrder", {"input": {"orderId": order["id"]}}, token=shop.token("customer", "alice"))
    for operation, variables in (
        ("StartFulfillment", {"fulfillmentOrderId": fo}),
        ("ShipFulfillmentOrder", {"fulfillmentOrderId": fo, "carrier": "UPS", "trackingNumber": "1Z9"}),
    ):
        result = await step(shop, operation, variables)
        assert result["userErrors"][0]["code"] == "INVALID_TRANSITION", operation
        assert "cancelled" in result["userErrors"][0]["message"]


async def test_cancelling_what_has_not_left_captures_the_shipping_of_what_has(shop: Api) -> None:
    order_id, newark_fo, _ = await split_order(shop)
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": newark_fo})
    shipped = await step(
        shop, "ShipFulfillmentOrder", {"fulfillmentOrderId": newark_fo, "carrier": "UPS", "trackingNumber": "1Z1"}
    )
    assert shipped["userErrors"] == []
    assert captured(await detail(shop, order_id)) == ("PARTIALLY_CAPTURED", "168.78")
    # The pickup unit is cancelled: 120.00 and its 4.80 tax are voided; the 1.25 of shipping still authorised
    # for it is captured, since the order did ship (and pays its shipping once).
    cancelled = await shop.run("CancelMyOrder", {"input": {"orderId": order_id}}, token=shop.token("agent"))
    assert cancelled["data"]["cancelOrder"]["userErrors"] == []
    order = await detail(shop, order_id)
    assert order["status"] == "SHIPPED"
    # 294.83 placed, less the cancelled 124.80.
    assert order["total"]["amount"] == "294.83"
    assert captured(order) == ("CAPTURED", "170.03")
    assert event_types(order)[-3:] == ["LINES_CANCELLED", "PAYMENT_VOIDED", "PAYMENT_CAPTURED"]
    await assert_ledgers_reconcile(shop, order_id)


async def test_shipping_is_naturally_idempotent_and_staff_only(shop: Api) -> None:
    order = (await place(shop, lines=(("SKU-2", 2),)))["order"]
    fo = (await detail(shop, order["id"]))["fulfillmentOrders"][0]["id"]
    customer = shop.token("customer", "alice")
    refused = await shop.run("StartFulfillment", {"input": {"fulfillmentOrderId": fo}}, token=customer)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo})
    ship = {"fulfillmentOrderId": fo, "carrier": "FedEx", "trackingNumber": "FX42"}
    first = await step(shop, "ShipFulfillmentOrder", ship)
    again = await step(shop, "ShipFulfillmentOrder", ship)
    assert again == first
    assert first["order"]["status"] == "SHIPPED"
    # The only fulfillment order takes the whole authorisation: 25.00 + 5.99 + 4 % tax = 32.23.
    assert first["order"]["payments"][0] == {
        "status": "CAPTURED",
        "capturedAmount": {"amount": "32.23", "currency": "USD"},
    }
    other = await step(shop, "ShipFulfillmentOrder", {**ship, "trackingNumber": "FX43"})
    assert other["userErrors"][0]["code"] == "INVALID_TRANSITION"
    order_detail = await detail(shop, order["id"])
    assert len(order_detail["shipments"]) == 1
    assert event_types(order_detail).count("PAYMENT_CAPTURED") == 1
    assert await reserved(shop, "SKU-2", "newark") == (198, 0)
    await assert_ledgers_reconcile(shop, order["id"])
    shipment = order_detail["shipments"][0]["id"]
    event = {"shipmentId": shipment, "carrierEventId": "x", "status": "IN_TRANSIT"}
    assert (await shop.run("RecordShipmentEvent", {"input": event}, token=customer))["errors"][0]["extensions"][
        "code"
    ] == "FORBIDDEN"
    for code, change in (
        ("INVALID_INPUT", {"carrierEventId": " "}),
        ("INVALID_INPUT", {"status": "LABEL_CREATED"}),
        ("NOT_FOUND", {"shipmentId": encode_global_id("Shipment", 999_999)}),
    ):
        result = await step(shop, "RecordShipmentEvent", {**event, **change})
        assert [e["code"] for e in result["userErrors"]] == [code], change


async def test_a_pickup_order_is_ready_then_collected(shop: Api) -> None:
    store = encode_global_id("Location", shop.world.locations["brooklyn"])
    order = (await place(shop, lines=(("SKU-1", 1),), method="PICKUP", address=None, pickupLocationId=store))["order"]
    fo = (await detail(shop, order["id"]))["fulfillmentOrders"][0]["id"]
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo})
    await step(shop, "MarkReadyForPickup", {"fulfillmentOrderId": fo})
    assert (await detail(shop, order["id"]))["status"] == "READY_FOR_PICKUP"
    collected = await step(shop, "ConfirmPickup", {"fulfillmentOrderId": fo})
    assert collected["order"]["status"] == "DELIVERED"
    order_detail = await detail(shop, order["id"])
    assert captured(order_detail) == ("CAPTURED", order["total"]["amount"])
    assert ledger(order_detail) == {"SKU-1": (1, 1)}
    assert order_detail["shipments"] == []
    assert await reserved(shop, "SKU-1", "brooklyn") == (4, 0)


def test_shipments_never_move_backwards_and_leave_exceptions_with_the_next_event() -> None:
    s = ShipmentStatus
    t = [NOW + timedelta(hours=h) for h in range(6)]
    label = [(s.LABEL_CREATED, t[0])]
    assert next_status(s.LABEL_CREATED, label, s.IN_TRANSIT, t[1]) is s.IN_TRANSIT
    assert next_status(s.LABEL_CREATED, label, s.DELIVERED, t[1]) is s.DELIVERED  # steps may be skipped
    moving = [*label, (s.OUT_FOR_DELIVERY, t[3])]
    assert next_status(s.OUT_FOR_DELIVERY, moving, s.IN_TRANSIT, t[4]) is None
    assert next_status(s.OUT_FOR_DELIVERY, moving, s.OUT_FOR_DELIVERY, t[4]) is None  # the same step again
    assert next_status(s.OUT_FOR_DELIVERY, moving, s.EXCEPTION, t[2]) is None  # older than what it knows
    assert next_status(s.OUT_FOR_DELIVERY, moving, s.EXCEPTION, t[4]) is s.EXCEPTION
    excepted = [*moving, (s.EXCEPTION, t[4])]
    assert next_status(s.EXCEPTION, excepted, s.OUT_FOR_DELIVERY, t[5]) is s.OUT_FOR_DELIVERY  # a new attempt
    assert next_status(s.EXCEPTION, excepted, s.IN_TRANSIT, t[5]) is None
    assert next_status(s.EXCEPTION, excepted, s.OUT_FOR_DELIVERY, t[3]) is None  # from before the exception
    assert next_status(s.EXCEPTION, excepted, s.DELIVERED, t[2]) is s.DELIVERED  # further on, however late it comes
    assert next_status(s.DELIVERED, [*excepted, (s.DELIVERED, t[5])], s.EXCEPTION, t[5] + timedelta(hours=1)) is None


def test_the_estimated_delivery_counts_carrier_days_from_when_the_parcel_leaves() -> None:
    standard = Method("STANDARD", DeliveryKind.SHIP, time(17), transit_days=3)
    new_york = Destination(40.75, -73.99, "New York", "America/New_York")
    # Friday 10:00 in Newark: leaves today, Mon, Tue, Wed → Wednesday 20:00 in New York.
    assert estimated_delivery(standard, NOW, "America/New_York", new_york) == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    # Friday 18:00, after the cut-off: leaves Monday, then Tue, Wed, Thu.
    late = NOW + timedelta(hours=8)
    assert estimated_delivery(standard, late, "America/New_York", new_york) == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    one_hour = Method("ONE_HOUR", DeliveryKind.SHIP, time(20), transit_hours=1, metro_only=True)
    assert estimated_delivery(one_hour, late, "America/New_York", new_york) == late + timedelta(hours=1)
