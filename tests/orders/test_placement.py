"""placeOrder through the API: pricing, routing, payment, fraud, every refusal, idempotency and the stock race."""

import asyncio

import sqlalchemy as sa
from conftest import Api

from ordergraph.models import InventoryAdjustment, InventoryLevel, Order, OrderEvent, Payment, PaymentTransaction
from ordergraph.schema.node import encode_global_id

NY_ADDRESS = {
    "name": "Alice Shopper",
    "line1": "10 Main St",
    "city": "New York",
    "region": "NY",
    "postalCode": "10001",
    "country": "US",
}
NEW_ADDRESS = {
    "name": "Newbie",
    "line1": "77 Elsewhere Ave",
    "city": "Brooklyn",
    "region": "NY",
    "postalCode": "11201",
    "country": "US",
}


def order_input(
    lines=(("SKU-1", 1),), *, method="STANDARD", address=NY_ADDRESS, key="k-1", token="tok_visa", **extra
) -> dict:
    return {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "deliveryMethodCode": method,
        "shippingAddress": address,
        "paymentToken": token,
        "idempotencyKey": key,
        **extra,
    }


async def place(shop: Api, customer: str = "alice", **kw) -> dict:
    body = await shop.run("PlaceOrder", {"input": order_input(**kw)}, token=shop.token("customer", customer))
    assert "errors" not in body, body
    return body["data"]["placeOrder"]


async def snapshot(shop: Api) -> dict:
    """Everything a refused placement must leave as it was."""
    async with shop.db.read() as session:
        counts = {}
        for table in (Order, OrderEvent, Payment, PaymentTransaction, InventoryAdjustment):
            counts[table.__tablename__] = (await session.exec(sa.select(sa.func.count()).select_from(table))).one()[0]
        levels = (
            await session.exec(
                sa.select(InventoryLevel.sku, InventoryLevel.location_id, InventoryLevel.reserved).order_by(
                    InventoryLevel.id
                )
            )
        ).all()
    return {**counts, "reserved": [tuple(row) for row in levels]}


async def reserved(shop: Api, sku: str, location: str) -> tuple[int, int]:
    async with shop.db.read() as session:
        level = (
            await session.exec(
                sa.select(InventoryLevel).where(
                    InventoryLevel.sku == sku, InventoryLevel.location_id == shop.world.locations[location]
                )
            )
        ).scalar_one()
    return level.on_hand, level.reserved


async def test_a_customer_order_is_priced_reserved_routed_and_authorised(shop: Api) -> None:
    result = await place(shop, lines=(("SKU-1", 2), ("SKU-2", 3)))
    assert result["userErrors"] == []
    order = result["order"]
    assert order["status"] == "CONFIRMED"
    assert order["channel"] == "WEB"
    # 2 × 120.00 + 3 × 12.50 = 277.50; shipping 5.99; NY tax 4 %: 9.60 + 1.50 + 0.24
    assert order["total"] == {"amount": "294.83", "currency": "USD"}
    assert [(line["sku"], line["lineTotal"]["amount"]) for line in order["lines"]] == [
        ("SKU-1", "240.00"),
        ("SKU-2", "37.50"),
    ]
    # Newark holds both lines; Brooklyn is nearer but has no socks: one location beats a split.
    assert await reserved(shop, "SKU-1", "newark") == (100, 2)
    assert await reserved(shop, "SKU-2", "newark") == (200, 3)
    assert order["promisedDeliveryBy"] == "2026-11-26T01:00:00+00:00"  # Friday 10:00 → Mon, Tue, Wed by 20:00 New York

    async with shop.db.read() as session:
        events = (
            await session.exec(sa.select(OrderEvent.type, OrderEvent.visibility).order_by(OrderEvent.sequence))
        ).all()
        ledger = (await session.exec(sa.select(PaymentTransaction.kind, PaymentTransaction.amount_minor))).all()
    assert [tuple(e) for e in events] == [
        ("ORDER_PLACED", "CUSTOMER"),
        ("PAYMENT_AUTHORIZED", "INTERNAL"),
        ("ORDER_ROUTED", "INTERNAL"),
    ]
    assert [tuple(row) for row in ledger] == [("AUTHORIZATION", 29_483)]


async def test_an_agent_places_on_behalf_of_a_customer(shop: Api) -> None:
    customer_id = encode_global_id("Customer", shop.world.customers["bob"])
    body = await shop.run(
        "PlaceOrderOnBehalf", {"input": order_input(customerId=customer_id)}, token=shop.token("agent")
    )
    order = body["data"]["placeOrder"]["order"]
    assert order["channel"] == "AGENT"
    assert order["placedBy"] == {"kind": "AGENT", "name": "Test agent"}
    missing = await shop.run("PlaceOrderOnBehalf", {"input": order_input(key="k-2")}, token=shop.token("agent"))
    assert missing["data"]["placeOrder"]["userErrors"][0]["code"] == "INVALID_INPUT"


async def test_customers_order_only_for_themselves_and_analysts_not_at_all(shop: Api) -> None:
    before = await snapshot(shop)
    bob = encode_global_id("Customer", shop.world.customers["bob"])
    as_alice = await shop.run(
        "PlaceOrder", {"input": order_input(customerId=bob)}, token=shop.token("customer", "alice")
    )
    as_analyst = await shop.run("PlaceOrder", {"input": order_input()}, token=shop.token("analyst"))
    anonymous = await shop.run("PlaceOrder", {"input": order_input()})
    assert as_alice["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert as_analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await snapshot(shop) == before


REFUSALS = [
    ("INVALID_QUANTITY", {"lines": [{"sku": "SKU-1", "quantity": 0}]}),
    ("INVALID_QUANTITY", {"lines": [{"sku": "SKU-1", "quantity": 1000}]}),
    ("INVALID_QUANTITY", {"lines": [{"sku": "SKU-1", "quantity": -3}]}),
    ("INVALID_INPUT", {"lines": []}),
    ("INVALID_INPUT", {"lines": [{"sku": "SKU-2", "quantity": 1}] * 101}),
    ("INVALID_INPUT", {"idempotencyKey": "  "}),
    ("UNKNOWN_SKU", {"lines": [{"sku": "NOPE", "quantity": 1}]}),
    ("NOT_CUSTOMIZABLE", {"lines": [{"sku": "SKU-1", "quantity": 1, "customization": "AB"}]}),
    ("ADDRESS_REQUIRED", {"shippingAddress": None}),
    ("INVALID_ADDRESS", {"shippingAddress": {**NY_ADDRESS, "country": "USA"}}),
    ("PICKUP_LOCATION_INVALID", {"deliveryMethodCode": "PICKUP", "shippingAddress": None}),
    ("DELIVERY_METHOD_UNAVAILABLE", {"deliveryMethodCode": "DRONE"}),
    (
        "DELIVERY_METHOD_UNAVAILABLE",
        {
            "deliveryMethodCode": "SAME_DAY",
            "shippingAddress": {**NY_ADDRESS, "postalCode": "05602", "region": "VT", "city": "Montpelier"},
        },
    ),
    ("DELIVERY_METHOD_UNAVAILABLE", {"shippingAddress": {**NY_ADDRESS, "country": "FR", "region": None}}),
    ("INSUFFICIENT_STOCK", {"lines": [{"sku": "LAST", "quantity": 11}]}),
    ("INSUFFICIENT_STOCK", {"lines": [{"sku": "MUG", "quantity": 21, "customization": "AB"}]}),
    ("PAYMENT_DECLINED", {"paymentToken": "tok_declined"}),
    ("PAYMENT_DECLINED", {"paymentToken": "tok_insufficient_funds"}),
]


async def test_every_refusal_has_its_code_and_changes_nothing(shop: Api) -> None:
    token = shop.token("customer", "alice")
    before = await snapshot(shop)
    for code, change in REFUSALS:
        body = await shop.run("PlaceOrder", {"input": {**order_input(), **change}}, token=token)
        assert "errors" not in body, (code, body)
        result = body["data"]["placeOrder"]
        assert result["order"] is None, code
        assert [e["code"] for e in result["userErrors"]] == [code], (change, result)
        assert result["userErrors"][0]["message"]
    assert await snapshot(shop) == before


async def test_same_day_after_the_cut_off_is_unavailable_but_standard_goes_on(shop: Api) -> None:
    from datetime import UTC, datetime

    shop.set_clock(datetime(2026, 11, 20, 18, 0, tzinfo=UTC))  # 13:00 in New York, after SAME_DAY's noon cut-off
    late = await place(shop, method="SAME_DAY")
    assert late["userErrors"][0]["code"] == "DELIVERY_METHOD_UNAVAILABLE"
    standard = await place(shop, key="k-2")
    assert standard["order"]["status"] == "CONFIRMED"


async def test_pickup_reserves_at_the_chosen_store(shop: Api) -> None:
    store = encode_global_id("Location", shop.world.locations["brooklyn"])
    result = await place(shop, method="PICKUP", address=None, pickupLocationId=store)
    order = result["order"]
    assert order["pickupLocation"]["name"] == "Brooklyn Store"
    assert order["shippingAddress"] is None
    assert order["total"]["amount"] == "124.80"  # no shipping; tax at the store's NY rate
    assert await reserved(shop, "SKU-1", "brooklyn") == (5, 1)
    assert order["promisedDeliveryBy"] == "2026-11-20T17:00:00+00:00"  # two hours after 10:00 New York


async def test_customised_lines_go_to_the_studio(shop: Api) -> None:
    body = await shop.run(
        "PlaceOrder",
        {
            "input": {
                **order_input(),
                "lines": [{"sku": "MUG", "quantity": 2, "customization": "A.S."}, {"sku": "MUG", "quantity": 1}],
            }
        },
        token=shop.token("customer", "alice"),
    )
    assert body["data"]["placeOrder"]["userErrors"] == []
    assert await reserved(shop, "MUG", "studio") == (20, 3)  # one location can do both lines: no split
    assert await reserved(shop, "MUG", "newark") == (30, 0)


async def test_a_new_customers_large_order_to_a_new_address_waits_on_hold(shop: Api) -> None:
    result = await place(shop, "newbie", lines=(("TV", 1),), address=NEW_ADDRESS)
    order = result["order"]
    assert order["status"] == "ON_HOLD"
    assert await reserved(shop, "TV", "newark") == (10, 1)  # the hold keeps the reservation
    async with shop.db.read() as session:
        types = (await session.exec(sa.select(OrderEvent.type).order_by(OrderEvent.sequence))).scalars().all()
        authorised = (await session.exec(sa.select(Payment.authorized_minor))).scalars().all()
    assert types == ["ORDER_PLACED", "PAYMENT_AUTHORIZED", "ORDER_HELD", "ORDER_ROUTED"]
    assert authorised == [order_total_minor(order)]
    # The same order to the address the customer already keeps is not held.
    known = await place(shop, "newbie", lines=(("TV", 1),), key="k-2")
    assert known["order"]["status"] == "CONFIRMED"


def order_total_minor(order: dict) -> int:
    return int(order["total"]["amount"].replace(".", ""))


async def test_an_idempotency_key_returns_the_same_order_and_refuses_a_different_one(shop: Api) -> None:
    first = await place(shop)
    again = await place(shop)
    assert again["order"]["id"] == first["order"]["id"]
    other = await place(shop, lines=(("SKU-2", 1),))
    assert other["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    by_bob = await place(shop, "bob")  # keys are per caller
    assert by_bob["order"]["id"] != first["order"]["id"]
    assert await reserved(shop, "SKU-1", "brooklyn") == (5, 2)  # the nearest store holds it


async def test_racing_requests_with_one_key_make_one_order(shop: Api) -> None:
    results = await asyncio.gather(*(place(shop) for _ in range(8)))
    assert len({r["order"]["id"] for r in results}) == 1
    async with shop.db.read() as session:
        assert (await session.exec(sa.select(sa.func.count()).select_from(Order))).one()[0] == 1
    assert await reserved(shop, "SKU-1", "brooklyn") == (5, 1)


async def test_fifty_buyers_for_the_last_ten_units(shop: Api) -> None:
    attempts = [place(shop, "bob", lines=(("LAST", 1),), key=f"last-{n}") for n in range(50)]
    results = await asyncio.gather(*attempts)
    placed = [r for r in results if r["order"]]
    refused = [r["userErrors"][0]["code"] for r in results if not r["order"]]
    assert len(placed) == 10
    assert refused == ["INSUFFICIENT_STOCK"] * 40
    assert await reserved(shop, "LAST", "chicago") == (10, 10)


async def test_concurrent_orders_with_overlapping_lines_do_not_deadlock(shop: Api) -> None:
    forwards = (("SKU-1", 1), ("SKU-2", 1))
    backwards = (("SKU-2", 1), ("SKU-1", 1))
    results = await asyncio.gather(
        *(place(shop, "bob", lines=forwards if n % 2 else backwards, key=f"o-{n}") for n in range(20))
    )
    assert all(r["userErrors"] == [] for r in results)
    assert await reserved(shop, "SKU-1", "newark") == (100, 20)
    assert await reserved(shop, "SKU-2", "newark") == (200, 20)
