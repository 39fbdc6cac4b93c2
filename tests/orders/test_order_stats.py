"""orderStats against totals computed independently here, in Python, from the orders themselves."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from conftest import Api
from test_placement import order_input, place

from ordergraph.models import FulfillmentOrder, FulfillmentOrderLine, Order, OrderLine
from ordergraph.models.enums import FulfillmentOrderStatus
from ordergraph.schema.node import decode_global_id, encode_global_id

FROM, TO = "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"


def minor(money: dict) -> int:
    return int(Decimal(money["amount"]) * 100)


async def busy_shop(shop: Api) -> None:
    """Orders of both channels, a split order, a partial cancellation and a hold."""
    first = (await place(shop, lines=(("SKU-1", 2), ("SKU-2", 1))))["order"]
    (await place(shop, "bob", lines=(("LAST", 1), ("TV", 1)), key="split"))["order"]  # Chicago + Newark
    bob = encode_global_id("Customer", shop.world.customers["bob"])
    on_behalf = await shop.run(
        "PlaceOrderOnBehalf",
        {"input": order_input(lines=(("SKU-2", 4),), key="agent-1", customerId=bob)},
        token=shop.token("agent"),
    )
    assert on_behalf["data"]["placeOrder"]["userErrors"] == []
    await shop.run(
        "AgentCancelOrder",
        {"input": {"orderId": first["id"], "lines": [{"orderLineId": first["lines"][0]["id"], "quantity": 1}]}},
        token=shop.token("agent"),
    )
    held = (await place(shop, "bob", lines=(("MUG", 1),), key="held"))["order"]
    await shop.run("HoldOrder", {"input": {"orderId": held["id"], "reason": "check"}}, token=shop.token("agent"))


async def expected_by_order(shop: Api) -> list[Order]:
    async with shop.db.read() as session:
        return list((await session.exec(sa.select(Order))).scalars().all())


async def test_revenue_by_day_and_status_matches_the_orders(shop: Api) -> None:
    await busy_shop(shop)
    body = await shop.run("RevenueByDayAndStatus", {"from": FROM, "to": TO}, token=shop.token("analyst"))
    assert "errors" not in body, body
    stats = body["data"]["orderStats"]
    orders = await expected_by_order(shop)
    async with shop.db.read() as session:
        lines = (await session.exec(sa.select(OrderLine))).scalars().all()
    units = defaultdict(int)
    for line in lines:
        units[line.order_id] += line.quantity - line.quantity_cancelled
    expected = defaultdict(lambda: [0, 0, 0])
    for order in orders:
        key = (order.placed_at.date().isoformat(), order.status.value, order.currency)
        expected[key][0] += 1
        expected[key][1] += units[order.id]
        expected[key][2] += order.total_minor - order.cancelled_minor
    got = {
        (g["day"], g["status"], g["currency"]): [g["orderCount"], g["unitCount"], minor(g["revenue"])]
        for g in stats["groups"]
    }
    assert got == dict(expected)
    assert {g["status"] for g in stats["groups"]} == {"CONFIRMED", "ON_HOLD"}
    for group in stats["groups"]:
        average = Decimal(minor(group["revenue"])) / group["orderCount"]
        assert minor(group["averageOrderValue"]) == int(average.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert stats["totals"]["orderCount"] == len(orders) == 4
    assert stats["totals"]["unitCount"] == sum(units.values())
    assert [minor(m) for m in stats["totals"]["revenue"]] == [sum(o.total_minor - o.cancelled_minor for o in orders)]


async def test_revenue_by_location_shares_a_split_order(shop: Api) -> None:
    await busy_shop(shop)
    body = await shop.run("RevenueByChannelAndLocation", {"from": FROM, "to": TO}, token=shop.token("analyst"))
    groups = body["data"]["orderStats"]["groups"]
    orders = {o.id: o for o in await expected_by_order(shop)}
    async with shop.db.read() as session:
        rows = (
            await session.exec(
                sa.select(
                    FulfillmentOrder.order_id,
                    FulfillmentOrder.location_id,
                    FulfillmentOrderLine.quantity,
                    OrderLine.unit_price_minor,
                )
                .join(FulfillmentOrderLine, FulfillmentOrderLine.fulfillment_order_id == FulfillmentOrder.id)
                .join(OrderLine, OrderLine.id == FulfillmentOrderLine.order_line_id)
                .where(FulfillmentOrder.status != FulfillmentOrderStatus.CANCELLED)
            )
        ).all()
    value = defaultdict(int)
    for order_id, location_id, quantity, price in rows:
        value[(order_id, location_id)] += quantity * price
    order_value = defaultdict(int)
    for (order_id, _), v in value.items():
        order_value[order_id] += v
    expected = defaultdict(lambda: [0, 0])
    for (order_id, location_id), v in value.items():
        order = orders[order_id]
        net = Decimal(order.total_minor - order.cancelled_minor)
        revenue_share = int((net * v / order_value[order_id]).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        key = (order.channel.value, location_id)
        expected[key][0] += 1
        expected[key][1] += revenue_share
    got = {
        (g["channel"], decode_global_id(g["location"]["id"])[1]): [g["orderCount"], minor(g["revenue"])] for g in groups
    }
    assert got == dict(expected)
    # The split order counts at Chicago (LAST) and at Newark (TV), each with its share of the revenue.
    chicago, newark = shop.world.locations["chicago"], shop.world.locations["newark"]
    # Its total is 50.00 + 1,500.00 + 5.99 shipping + 4 % tax = 1,618.23; Chicago's share is 50/1,550 of it.
    assert got[("WEB", chicago)] == [1, 5_220]
    assert got[("WEB", newark)][0] == 2


async def test_customers_may_not_aggregate(shop: Api) -> None:
    body = await shop.run("RevenueByDayAndStatus", {"from": FROM, "to": TO}, token=shop.token("customer", "alice"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
