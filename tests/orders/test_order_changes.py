"""Changes after placement: cancel, change shipping, hold, notes and inventory adjustments, with the line,
payment and stock ledgers reconciled after each."""

from collections import defaultdict

import sqlalchemy as sa
from conftest import Api
from test_placement import NY_ADDRESS, order_input, place, reserved, snapshot

from ordergraph.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryAdjustment,
    InventoryLevel,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentTransaction,
)
from ordergraph.models.enums import FulfillmentOrderStatus
from ordergraph.schema.node import decode_global_id, encode_global_id

CHICAGO_ADDRESS = {
    "name": "Alice",
    "line1": "1 Lake St",
    "city": "Chicago",
    "region": "IL",
    "postalCode": "60601",
    "country": "US",
}
HOLDING = (FulfillmentOrderStatus.OPEN, FulfillmentOrderStatus.IN_PROGRESS, FulfillmentOrderStatus.READY_FOR_PICKUP)


def db_id(global_id: str) -> int:
    return decode_global_id(global_id)[1]


async def assert_ledgers_reconcile(shop: Api, order_global_id: str) -> Order:
    """Lines: ordered = open + cancelled + shipped. Payment: each column is its ledger's sum, and what stays
    authorised equals what is still owed. Stock: every reservation is an open fulfillment line."""
    order_id = db_id(order_global_id)
    async with shop.db.read() as session:
        order = await session.get(Order, order_id)
        lines = (await session.exec(sa.select(OrderLine).where(OrderLine.order_id == order_id))).scalars().all()
        open_units = defaultdict(int)
        rows = await session.exec(
            sa.select(FulfillmentOrderLine.order_line_id, FulfillmentOrderLine.quantity)
            .join(FulfillmentOrder)
            .where(FulfillmentOrder.order_id == order_id, FulfillmentOrder.status.in_(HOLDING))
        )
        for line_id, quantity in rows.all():
            open_units[line_id] += quantity
        for line in lines:
            assert line.quantity == open_units[line.id] + line.quantity_cancelled + line.quantity_shipped, line
        payments = (await session.exec(sa.select(Payment).where(Payment.order_id == order_id))).scalars().all()
        for payment in payments:
            sums = dict(
                (
                    await session.exec(
                        sa.select(PaymentTransaction.kind, sa.func.sum(PaymentTransaction.amount_minor))
                        .where(PaymentTransaction.payment_id == payment.id)
                        .group_by(PaymentTransaction.kind)
                    )
                ).all()
            )
            assert (payment.authorized_minor, payment.captured_minor, payment.voided_minor, payment.refunded_minor) == (
                sums.get("AUTHORIZATION", 0),
                sums.get("CAPTURE", 0),
                sums.get("VOID", 0),
                sums.get("REFUND", 0),
            )
        still_authorised = sum(p.authorized_minor - p.voided_minor - p.refunded_minor for p in payments)
        assert still_authorised == order.total_minor - order.cancelled_minor
        reservations = (
            await session.exec(
                sa.select(FulfillmentOrder.location_id, OrderLine.sku, sa.func.sum(FulfillmentOrderLine.quantity))
                .select_from(FulfillmentOrderLine)
                .join(FulfillmentOrder)
                .join(OrderLine)
                .where(FulfillmentOrder.status.in_(HOLDING))
                .group_by(FulfillmentOrder.location_id, OrderLine.sku)
            )
        ).all()
        expected = {(location, sku): total for location, sku, total in reservations}
        levels = (await session.exec(sa.select(InventoryLevel))).scalars().all()
        assert {(level.location_id, level.sku): level.reserved for level in levels if level.reserved} == expected
    return order


async def ship_everything(shop: Api, order_global_id: str) -> None:
    """Stands in for the fulfillment mutations (a later issue): the order's fulfillment orders leave."""
    order_id = db_id(order_global_id)
    async with shop.db.write() as session:
        fos = (
            (await session.exec(sa.select(FulfillmentOrder).where(FulfillmentOrder.order_id == order_id)))
            .scalars()
            .all()
        )
        for fo in fos:
            fo.status = FulfillmentOrderStatus.SHIPPED
        for line in (await session.exec(sa.select(OrderLine).where(OrderLine.order_id == order_id))).scalars().all():
            line.quantity_shipped = line.quantity - line.quantity_cancelled


async def test_a_partial_cancel_releases_stock_and_voids_its_share(shop: Api) -> None:
    order = (await place(shop, lines=(("SKU-1", 3), ("SKU-2", 2))))["order"]
    sku1 = order["lines"][0]["id"]
    body = await shop.run(
        "CancelMyOrder",
        {"input": {"orderId": order["id"], "lines": [{"orderLineId": sku1, "quantity": 2}]}},
        token=shop.token("customer", "alice"),
    )
    result = body["data"]["cancelOrder"]
    assert result["userErrors"] == []
    assert [(line["quantity"], line["quantityCancelled"]) for line in result["order"]["lines"]] == [(3, 2), (2, 0)]
    assert result["order"]["status"] == "CONFIRMED"
    assert await reserved(shop, "SKU-1", "newark") == (100, 1)
    stored = await assert_ledgers_reconcile(shop, order["id"])
    # 2 × 120.00 and its 4 % tax: 249.60 no longer owed, voided from the authorisation.
    assert stored.cancelled_minor == 24_960


async def test_cancelling_everything_restores_stock_exactly_and_voids_the_rest(shop: Api) -> None:
    before = await snapshot(shop)
    order = (await place(shop, lines=(("SKU-1", 3), ("SKU-2", 2))))["order"]
    first = order["lines"][0]["id"]
    token = shop.token("customer", "alice")
    await shop.run(
        "CancelMyOrder",
        {"input": {"orderId": order["id"], "lines": [{"orderLineId": first, "quantity": 1}]}},
        token=token,
    )
    body = await shop.run(
        "AgentCancelOrder", {"input": {"orderId": order["id"], "reason": "customer called"}}, token=shop.token("agent")
    )
    result = body["data"]["cancelOrder"]["order"]
    assert result["status"] == "CANCELLED"
    assert [(line["quantity"], line["quantityCancelled"]) for line in result["lines"]] == [(3, 3), (2, 2)]
    assert result["payments"] == [{"status": "VOIDED", "refundedAmount": {"amount": "0.00", "currency": "USD"}}]
    stored = await assert_ledgers_reconcile(shop, order["id"])
    assert stored.cancelled_minor == stored.total_minor
    assert (await snapshot(shop))["reserved"] == before["reserved"]
    # The agent's reason is an internal note: the customer's timeline tells the code (OTHER: nothing more).
    timeline = (await shop.run("MyOrderDetail", {"id": order["id"]}, token=token))["data"]["node"]["timeline"]
    assert [edge["node"]["message"] for edge in timeline["edges"]][-1] == f"Order {order['number']} cancelled."
    again = await shop.run("CancelMyOrder", {"input": {"orderId": order["id"]}}, token=token)
    assert again["data"]["cancelOrder"]["userErrors"][0]["code"] == "NOT_CANCELLABLE"


async def test_cancel_refusals(shop: Api) -> None:
    order = (await place(shop, lines=(("SKU-1", 2),)))["order"]
    line = order["lines"][0]["id"]
    token = shop.token("customer", "alice")
    cases = [
        ("INVALID_QUANTITY", {"lines": [{"orderLineId": line, "quantity": 0}]}),
        ("INVALID_QUANTITY", {"lines": [{"orderLineId": line, "quantity": 3}]}),
        ("INVALID_INPUT", {"lines": []}),
    ]
    for code, change in cases:
        body = await shop.run("CancelMyOrder", {"input": {"orderId": order["id"], **change}}, token=token)
        assert [e["code"] for e in body["data"]["cancelOrder"]["userErrors"]] == [code], change
    await ship_everything(shop, order["id"])
    shipped = await shop.run(
        "CancelMyOrder",
        {"input": {"orderId": order["id"], "lines": [{"orderLineId": line, "quantity": 1}]}},
        token=token,
    )
    assert shipped["data"]["cancelOrder"]["userErrors"][0]["code"] == "ALREADY_SHIPPED"
    whole = await shop.run("CancelMyOrder", {"input": {"orderId": order["id"]}}, token=token)
    assert whole["data"]["cancelOrder"]["userErrors"][0]["code"] == "NOT_CANCELLABLE"


async def test_a_customer_cannot_change_or_cancel_another_customers_order(shop: Api) -> None:
    order = (await place(shop, "bob"))["order"]
    before = await snapshot(shop)
    alice = shop.token("customer", "alice")
    cancel = await shop.run("CancelMyOrder", {"input": {"orderId": order["id"]}}, token=alice)
    change = await shop.run(
        "ChangeMyShipping", {"input": {"orderId": order["id"], "deliveryMethodCode": "NEXT_DAY"}}, token=alice
    )
    # Refused exactly like an order that does not exist: probing learns nothing.
    assert cancel["data"]["cancelOrder"] == {
        "order": None,
        "userErrors": [{"field": ["orderId"], "message": "No such order.", "code": "NOT_FOUND"}],
    }
    assert change["data"]["updateOrderShipping"]["userErrors"][0]["code"] == "NOT_FOUND"
    unknown = await shop.run("CancelMyOrder", {"input": {"orderId": encode_global_id("Order", 999_999)}}, token=alice)
    assert unknown["data"]["cancelOrder"] == cancel["data"]["cancelOrder"]
    analyst = await shop.run("CancelMyOrder", {"input": {"orderId": order["id"]}}, token=shop.token("analyst"))
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await snapshot(shop) == before


async def test_dearer_shipping_authorises_the_difference(shop: Api) -> None:
    order = (await place(shop, lines=(("SKU-2", 2),)))["order"]
    body = await shop.run(
        "ChangeMyShipping",
        {"input": {"orderId": order["id"], "deliveryMethodCode": "NEXT_DAY"}},
        token=shop.token("customer", "alice"),
    )
    changed = body["data"]["updateOrderShipping"]["order"]
    assert body["data"]["updateOrderShipping"]["userErrors"] == []
    assert changed["deliveryMethod"]["code"] == "NEXT_DAY"
    # 25.00 + 14.99 shipping + 4 % tax (1.00 + 0.60) = 41.59; it was 25.00 + 5.99 + 1.00 + 0.24 = 32.23
    assert (order["total"]["amount"], changed["total"]["amount"]) == ("32.23", "41.59")
    assert changed["promisedDeliveryBy"] == "2026-11-24T01:00:00+00:00"  # Friday before 15:00 → Monday
    stored = await assert_ledgers_reconcile(shop, order["id"])
    assert stored.total_minor == 4_159


async def test_moving_an_order_to_pickup_re_routes_and_refunds_shipping(shop: Api) -> None:
    order = (await place(shop, lines=(("SKU-1", 1),), address=CHICAGO_ADDRESS))["order"]
    assert await reserved(shop, "SKU-1", "chicago") == (50, 1)
    store = encode_global_id("Location", shop.world.locations["brooklyn"])
    body = await shop.run(
        "AgentChangeShipping",
        {"input": {"orderId": order["id"], "deliveryMethodCode": "PICKUP", "pickupLocationId": store}},
        token=shop.token("agent"),
    )
    changed = body["data"]["updateOrderShipping"]["order"]
    assert changed["pickupLocation"]["name"] == "Brooklyn Store"
    assert changed["shippingAddress"] is None
    assert await reserved(shop, "SKU-1", "chicago") == (50, 0)
    assert await reserved(shop, "SKU-1", "brooklyn") == (5, 1)
    # Illinois 6.25 % on 120.00 + 5.99 was 133.86; New York 4 % on 120.00 with no shipping is 124.80.
    assert (order["total"]["amount"], changed["total"]["amount"]) == ("133.86", "124.80")
    await assert_ledgers_reconcile(shop, order["id"])


async def test_shipping_cannot_change_once_it_has_left(shop: Api) -> None:
    order = (await place(shop))["order"]
    await ship_everything(shop, order["id"])
    token = shop.token("customer", "alice")
    body = await shop.run(
        "ChangeMyShipping", {"input": {"orderId": order["id"], "shippingAddress": CHICAGO_ADDRESS}}, token=token
    )
    assert body["data"]["updateOrderShipping"]["userErrors"][0]["code"] == "ALREADY_SHIPPED"
    detail = await shop.post(
        "query($id: ID!) { node(id: $id) { ... on Order { canCancel canChangeShipping } } }",
        {"id": order["id"]},
        token=token,
    )
    assert detail.json()["data"]["node"] == {"canCancel": False, "canChangeShipping": False}


async def test_what_the_spa_may_offer_follows_the_order(shop: Api) -> None:
    order = (await place(shop))["order"]
    token = shop.token("customer", "alice")
    query = """query($id: ID!) {
        node(id: $id) { ... on Order { canCancel canChangeShipping returnableLines { quantity } } }
    }"""
    assert (await shop.post(query, {"id": order["id"]}, token=token)).json()["data"]["node"] == {
        "canCancel": True,
        "canChangeShipping": True,
        "returnableLines": [],
    }
    await shop.run("CancelMyOrder", {"input": {"orderId": order["id"]}}, token=token)
    assert (await shop.post(query, {"id": order["id"]}, token=token)).json()["data"]["node"] == {
        "canCancel": False,
        "canChangeShipping": False,
        "returnableLines": [],
    }


async def test_an_agent_holds_and_releases(shop: Api) -> None:
    order = (await place(shop))["order"]
    agent = shop.token("agent")
    held = await shop.run("HoldOrder", {"input": {"orderId": order["id"], "reason": "address check"}}, token=agent)
    assert held["data"]["holdOrder"]["order"]["status"] == "ON_HOLD"
    assert held["data"]["holdOrder"]["order"]["holdReason"] == "address check"
    twice = await shop.run("HoldOrder", {"input": {"orderId": order["id"], "reason": "again"}}, token=agent)
    assert twice["data"]["holdOrder"]["userErrors"][0]["code"] == "ORDER_ON_HOLD"
    released = await shop.run("ReleaseOrderHold", {"input": {"orderId": order["id"]}}, token=agent)
    assert released["data"]["releaseOrderHold"]["order"] == {
        "id": order["id"],
        "status": "CONFIRMED",
        "holdReason": None,
    }
    again = await shop.run("ReleaseOrderHold", {"input": {"orderId": order["id"]}}, token=agent)
    assert again["data"]["releaseOrderHold"]["userErrors"][0]["code"] == "NOT_ON_HOLD"
    by_customer = await shop.run(
        "HoldOrder", {"input": {"orderId": order["id"], "reason": "x"}}, token=shop.token("customer", "alice")
    )
    assert by_customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_notes_reach_the_customer_only_when_customer_visible(shop: Api) -> None:
    order = (await place(shop))["order"]
    agent = shop.token("agent")
    internal = await shop.run(
        "AddOrderNote", {"input": {"orderId": order["id"], "message": "fraud check ok"}}, token=agent
    )
    public = await shop.run(
        "AddOrderNote",
        {"input": {"orderId": order["id"], "message": "Gift wrapped!", "visibility": "CUSTOMER"}},
        token=agent,
    )
    assert internal["data"]["addOrderNote"]["event"]["visibility"] == "INTERNAL"
    assert public["data"]["addOrderNote"]["event"]["type"] == "ORDER_NOTE_ADDED"
    assert public["data"]["addOrderNote"]["event"]["sequence"] > internal["data"]["addOrderNote"]["event"]["sequence"]
    query = "query($id: ID!) { node(id: $id) { ... on Order { timeline(first: 20) { edges { node { message } } } } } }"
    seen = (await shop.post(query, {"id": order["id"]}, token=shop.token("customer", "alice"))).json()
    messages = [edge["node"]["message"] for edge in seen["data"]["node"]["timeline"]["edges"]]
    assert "Gift wrapped!" in messages
    assert "fraud check ok" not in messages
    empty = await shop.run("AddOrderNote", {"input": {"orderId": order["id"], "message": "  "}}, token=agent)
    assert empty["data"]["addOrderNote"]["userErrors"][0]["code"] == "INVALID_INPUT"


async def test_adjusting_inventory_keeps_a_ledger_and_never_goes_below_reserved(shop: Api) -> None:
    await place(shop, lines=(("LAST", 4),))
    agent = shop.token("agent")
    chicago = encode_global_id("Location", shop.world.locations["chicago"])
    counted = await shop.run(
        "AdjustInventory",
        {"input": {"sku": "LAST", "locationId": chicago, "delta": -5, "reason": "cycle count"}},
        token=agent,
    )
    level = counted["data"]["adjustInventory"]["inventoryLevel"]
    assert (level["onHand"], level["reserved"], level["available"]) == (5, 4, 1)
    below = await shop.run(
        "AdjustInventory",
        {"input": {"sku": "LAST", "locationId": chicago, "delta": -2, "reason": "damaged"}},
        token=agent,
    )
    assert below["data"]["adjustInventory"]["userErrors"][0]["code"] == "BELOW_RESERVED"
    for code, change in (
        ("INVALID_QUANTITY", {"delta": 0}),
        ("NOT_FOUND", {"sku": "NOPE"}),
        ("INVALID_INPUT", {"reason": " "}),
    ):
        body = await shop.run(
            "AdjustInventory",
            {"input": {"sku": "LAST", "locationId": chicago, "delta": 1, "reason": "x", **change}},
            token=agent,
        )
        assert body["data"]["adjustInventory"]["userErrors"][0]["code"] == code, change
    async with shop.db.read() as session:
        ledger = (
            await session.exec(
                sa.select(
                    InventoryAdjustment.on_hand_delta, InventoryAdjustment.reserved_delta, InventoryAdjustment.reason
                )
                .where(InventoryAdjustment.sku == "LAST")
                .order_by(InventoryAdjustment.id)
            )
        ).all()
    assert [tuple(row) for row in ledger][-1] == (-5, 0, "cycle count")
    assert sum(row[0] for row in ledger) == -5
    assert sum(row[1] for row in ledger) == 4
    refused = await shop.run(
        "AdjustInventory",
        {"input": {"sku": "LAST", "locationId": chicago, "delta": 1, "reason": "x"}},
        token=shop.token("customer", "alice"),
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_product_availability_promises_what_placement_stores(shop: Api) -> None:
    body = await shop.run("ProductAvailability", {"skus": ["SKU-1", "LAST"], "postalCode": "10001"})
    products = {p["sku"]: p["availability"] for p in body["data"]["products"]}
    sku1 = products["SKU-1"]
    assert sku1["totalAvailable"] == 205
    assert sku1["stockStatus"] == "IN_STOCK"
    options = {o["method"]["code"]: o for o in sku1["deliveryOptions"]}
    assert {code: o["available"] for code, o in options.items()} == {
        "STANDARD": True,
        "NEXT_DAY": True,
        "SAME_DAY": True,
        "ONE_HOUR": True,
        "WEEKEND": True,
        "PICKUP": True,
    }
    assert {o["location"]["name"]: o["pickupAvailable"] for o in sku1["locations"]}["Brooklyn Store"] is True
    last = {o["method"]["code"]: o["available"] for o in products["LAST"]["deliveryOptions"]}
    assert last["SAME_DAY"] is False
    assert last["PICKUP"] is False
    assert last["STANDARD"] is True
    for code in ("STANDARD", "NEXT_DAY", "SAME_DAY", "ONE_HOUR", "WEEKEND"):
        placed = await place(shop, method=code, key=f"promise-{code}")
        assert placed["order"]["promisedDeliveryBy"] == options[code]["estimatedDeliveryBy"], code
    assert order_input()["shippingAddress"] == NY_ADDRESS


async def test_finished_orders_cannot_be_held_or_re_shipped(shop: Api) -> None:
    agent = shop.token("agent")
    cancelled = (await place(shop))["order"]
    await shop.run("CancelMyOrder", {"input": {"orderId": cancelled["id"]}}, token=shop.token("customer", "alice"))
    change = await shop.run(
        "AgentChangeShipping", {"input": {"orderId": cancelled["id"], "deliveryMethodCode": "NEXT_DAY"}}, token=agent
    )
    assert change["data"]["updateOrderShipping"]["userErrors"][0]["code"] == "NOT_CHANGEABLE"
    shipped = (await place(shop, key="k-2"))["order"]
    async with shop.db.read() as session:
        fo_ids = (
            (
                await session.exec(
                    sa.select(FulfillmentOrder.id).where(FulfillmentOrder.order_id == db_id(shipped["id"]))
                )
            )
            .scalars()
            .all()
        )
    for fo_id in fo_ids:
        fo = encode_global_id("FulfillmentOrder", fo_id)
        await shop.run("StartFulfillment", {"input": {"fulfillmentOrderId": fo}}, token=agent)
        sent = await shop.run(
            "ShipFulfillmentOrder",
            {"input": {"fulfillmentOrderId": fo, "carrier": "UPS", "trackingNumber": f"1Z{fo_id}"}},
            token=agent,
        )
        assert sent["data"]["shipFulfillmentOrder"]["userErrors"] == []
    held = await shop.run("HoldOrder", {"input": {"orderId": shipped["id"], "reason": "too late"}}, token=agent)
    assert held["data"]["holdOrder"]["userErrors"][0]["code"] == "NOT_HOLDABLE"


async def test_a_customer_sets_how_they_hear_about_orders(shop: Api) -> None:
    token = shop.token("customer", "alice")
    no_phone = await shop.run("UpdateMyNotificationPreferences", {"input": {"sms": True}}, token=token)
    assert no_phone["data"]["updateNotificationPreferences"]["userErrors"][0]["code"] == "PHONE_REQUIRED"
    bad = await shop.run("UpdateMyNotificationPreferences", {"input": {"sms": True, "phone": "call me"}}, token=token)
    assert bad["data"]["updateNotificationPreferences"]["userErrors"][0]["code"] == "INVALID_PHONE"
    body = await shop.run(
        "UpdateMyNotificationPreferences",
        {"input": {"sms": True, "phone": "+1 (212) 555-0123", "email": False}},
        token=token,
    )
    result = body["data"]["updateNotificationPreferences"]
    assert result["userErrors"] == []
    assert result["customer"]["notificationPreferences"] == {"email": False, "sms": True, "phone": "+12125550123"}
    # Only what is given changes.
    again = await shop.run("UpdateMyNotificationPreferences", {"input": {"email": True}}, token=token)
    assert again["data"]["updateNotificationPreferences"]["customer"]["notificationPreferences"] == {
        "email": True,
        "sms": True,
        "phone": "+12125550123",
    }
    async with shop.db.read() as session:
        types = (await session.exec(sa.select(OrderEvent.type).where(OrderEvent.order_id.is_(None)))).scalars().all()
    assert types == ["NOTIFICATION_PREFERENCES_UPDATED"] * 2  # refusals left no event
    agent = await shop.run("UpdateMyNotificationPreferences", {"input": {"email": False}}, token=shop.token("agent"))
    assert agent["errors"][0]["extensions"]["code"] == "FORBIDDEN"
