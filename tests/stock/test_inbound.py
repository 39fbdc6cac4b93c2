"""Stock coming in: announcing inbound shipments raises incoming, receiving (in part, with damage) moves units on
hand, every movement is in the ledger, the product page says when stock is back; bad input changes nothing."""

from datetime import date, timedelta

import pytest
from conftest import Api
from factories import NOW
from stock_helpers import count, ledger, level, location_id, stock_state

from ordergraph.models import InventoryAdjustment
from ordergraph.schema.node import encode_global_id

EXPECTED = (NOW + timedelta(days=5)).date().isoformat()


async def create(shop: Api, lines, *, key: str = "newark", expected: str = EXPECTED, **extra) -> dict:
    body = await shop.run(
        "CreateInboundShipment",
        {
            "input": {
                "locationId": location_id(shop, key),
                "kind": "PURCHASE_ORDER",
                "expectedOn": expected,
                "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
                **extra,
            }
        },
        token=shop.token("agent"),
    )
    assert "errors" not in body, body
    return body["data"]["createInboundShipment"]


async def receive(shop: Api, shipment_id: str, lines) -> dict:
    body = await shop.run(
        "ReceiveInboundShipment",
        {
            "input": {
                "shipmentId": shipment_id,
                "lines": [{"sku": sku, "received": received, "damaged": damaged} for sku, received, damaged in lines],
            }
        },
        token=shop.token("agent"),
    )
    assert "errors" not in body, body
    return body["data"]["receiveInboundShipment"]


async def back_in_stock(shop: Api, sku: str) -> dict:
    body = await shop.run("StorePickupPromise", {"skus": [sku], "country": "US", "postalCode": "10001"})
    assert "errors" not in body, body
    return body["data"]["products"][0]["availability"]


async def test_an_inbound_shipment_received_in_two_parts_moves_units_on_hand(shop: Api) -> None:
    before = await level(shop, "MUG", "newark")
    assert before is not None
    assert (before.on_hand, before.incoming) == (30, 0)
    created = await create(shop, [("MUG", 40), ("TV", 5)], reference="PO-1001")
    assert created["userErrors"] == []
    shipment = created["inboundShipment"]
    assert (shipment["status"], shipment["reference"], shipment["expectedOn"]) == ("OPEN", "PO-1001", EXPECTED)
    assert [(line["sku"], line["outstanding"]) for line in shipment["lines"]] == [("MUG", 40), ("TV", 5)]
    mug = await level(shop, "MUG", "newark")
    assert (mug.on_hand, mug.incoming) == (30, 40)

    part = await receive(shop, shipment["id"], [("MUG", 25, 3)])
    assert part["userErrors"] == []
    assert part["inboundShipment"]["status"] == "PARTIALLY_RECEIVED"
    assert part["inboundShipment"]["receivedAt"] is None
    lines = {line["sku"]: line for line in part["inboundShipment"]["lines"]}
    assert (lines["MUG"]["received"], lines["MUG"]["damaged"], lines["MUG"]["outstanding"]) == (25, 3, 12)
    mug = await level(shop, "MUG", "newark")
    assert (mug.on_hand, mug.incoming) == (55, 12)  # damaged units never reach on hand

    rest = await receive(shop, shipment["id"], [("MUG", 12, 0), ("TV", 5, 0)])
    assert rest["userErrors"] == []
    assert rest["inboundShipment"]["status"] == "RECEIVED"
    assert rest["inboundShipment"]["receivedAt"] is not None
    mug, tv = await level(shop, "MUG", "newark"), await level(shop, "TV", "newark")
    assert (mug.on_hand, mug.incoming, tv.on_hand, tv.incoming) == (67, 0, 15, 0)

    movements = [
        (row.on_hand_delta, row.incoming_delta, row.damaged_delta, row.reason)
        for row in await ledger(shop, "MUG")
        if row.inbound_shipment_id is not None
    ]
    assert movements == [
        (0, 40, 0, "inbound PO-1001 announced"),
        (25, -25, 0, "inbound PO-1001 received"),
        (0, -3, 3, "inbound PO-1001 damaged on receipt"),
        (12, -12, 0, "inbound PO-1001 received"),
    ]
    # The ledger adds up to the level's movements.
    assert sum(m[0] for m in movements) == 67 - 30
    assert sum(m[1] for m in movements) == 0


async def test_the_product_page_says_when_stock_is_back(shop: Api) -> None:
    agent = shop.token("agent")
    gone = await shop.run(
        "AdjustInventory",
        {"input": {"sku": "LAST", "locationId": location_id(shop, "chicago"), "delta": -10, "reason": "count"}},
        token=agent,
    )
    assert gone["data"]["adjustInventory"]["userErrors"] == []
    assert (await back_in_stock(shop, "LAST"))["backInStockBy"] is None  # nothing on its way
    later = (NOW + timedelta(days=9)).date().isoformat()
    await create(shop, [("LAST", 4)], key="la", expected=later)
    first = await create(shop, [("LAST", 6)], key="newark")
    availability = await back_in_stock(shop, "LAST")
    assert (availability["stockStatus"], availability["backInStockBy"]) == ("OUT_OF_STOCK", EXPECTED)

    await receive(shop, first["inboundShipment"]["id"], [("LAST", 6, 0)])
    availability = await back_in_stock(shop, "LAST")
    assert availability["totalAvailable"] == 6
    assert availability["backInStockBy"] is None  # in stock again


async def test_a_late_shipment_is_back_today_and_a_received_one_is_not_counted(shop: Api) -> None:
    await shop.run(
        "AdjustInventory",
        {"input": {"sku": "LAST", "locationId": location_id(shop, "chicago"), "delta": -10, "reason": "count"}},
        token=shop.token("agent"),
    )
    await create(shop, [("LAST", 2)], expected=(NOW - timedelta(days=3)).date().isoformat())
    assert (await back_in_stock(shop, "LAST"))["backInStockBy"] == NOW.date().isoformat()


REFUSED_CREATES = [
    ([("MUG", -1)], {}, "INVALID_QUANTITY"),
    ([("MUG", 0)], {}, "INVALID_QUANTITY"),
    ([("MUG", 1), ("MUG", 2)], {}, "DUPLICATE_LINE"),
    ([("NOPE", 1)], {}, "UNKNOWN_SKU"),
    ([], {}, "INVALID_INPUT"),
    ([("MUG", 1)], {"expected": "2031-01-01"}, "INVALID_DATE"),
    ([("MUG", 1)], {"key": "unknown"}, "NOT_FOUND"),
]


@pytest.mark.parametrize(("lines", "extra", "code"), REFUSED_CREATES)
async def test_bad_inbound_shipments_are_refused_and_change_nothing(shop: Api, lines, extra, code) -> None:
    before = await stock_state(shop)
    variables = {
        "locationId": location_id(shop, "newark"),
        "kind": "ADVANCE_SHIPPING_NOTICE",
        "expectedOn": extra.get("expected", EXPECTED),
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
    }
    if extra.get("key") == "unknown":
        variables["locationId"] = encode_global_id("Location", 987_654)
    body = await shop.run("CreateInboundShipment", {"input": variables}, token=shop.token("agent"))
    result = body["data"]["createInboundShipment"]
    assert result["inboundShipment"] is None
    assert [e["code"] for e in result["userErrors"]] == [code]
    assert await stock_state(shop) == before


async def test_receiving_more_than_was_sent_or_bad_lines_is_refused_and_changes_nothing(shop: Api) -> None:
    shipment = (await create(shop, [("MUG", 10), ("SKU-2", 5)]))["inboundShipment"]
    await receive(shop, shipment["id"], [("MUG", 4, 0)])
    before = await stock_state(shop)
    for lines, code in (
        ([("MUG", 7, 0)], "OVER_RECEIVED"),  # 6 still expected
        ([("MUG", 5, 2)], "OVER_RECEIVED"),  # damaged units count too
        ([("SKU-2", 5, 0), ("MUG", 7, 0)], "OVER_RECEIVED"),  # a good line does not go through alone
        ([("MUG", -1, 0)], "INVALID_QUANTITY"),
        ([("MUG", 1, -1)], "INVALID_QUANTITY"),
        ([("MUG", 0, 0)], "INVALID_QUANTITY"),
        ([("MUG", 1, 0), ("MUG", 1, 0)], "DUPLICATE_LINE"),
        ([("TV", 1, 0)], "UNKNOWN_SKU"),  # not on this shipment
    ):
        result = await receive(shop, shipment["id"], lines)
        assert [e["code"] for e in result["userErrors"]] == [code], lines
        assert result["inboundShipment"] is None
        assert await stock_state(shop) == before, lines
    unknown = await receive(shop, encode_global_id("InboundShipment", 987_654), [("MUG", 1, 0)])
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"]
    malformed = await shop.run(
        "ReceiveInboundShipment",
        {"input": {"shipmentId": location_id(shop, "newark"), "lines": [{"sku": "MUG", "received": 1}]}},
        token=shop.token("agent"),
    )
    assert malformed["errors"][0]["extensions"]["code"] == "INVALID_ID"
    assert await stock_state(shop) == before


async def test_only_agents_move_stock_in(shop: Api) -> None:
    before = await count(shop, InventoryAdjustment)
    variables = {
        "input": {
            "locationId": location_id(shop, "newark"),
            "kind": "PURCHASE_ORDER",
            "expectedOn": EXPECTED,
            "lines": [{"sku": "MUG", "quantity": 1}],
        }
    }
    for token, code in (
        (None, "UNAUTHENTICATED"),
        (shop.token("customer", "alice"), "FORBIDDEN"),
        (shop.token("analyst"), "FORBIDDEN"),
    ):
        body = await shop.run("CreateInboundShipment", variables, token=token)
        assert body["errors"][0]["extensions"]["code"] == code
    assert await count(shop, InventoryAdjustment) == before
    listed = await shop.run("InboundShipments", {"first": 10}, token=shop.token("analyst"))
    assert listed["data"]["inboundShipments"]["edges"] == []


async def test_inbound_shipments_list_filters_by_location_sku_and_open(shop: Api) -> None:
    done = (await create(shop, [("MUG", 2)]))["inboundShipment"]
    await receive(shop, done["id"], [("MUG", 2, 0)])
    open_one = (await create(shop, [("TV", 3)], key="chicago"))["inboundShipment"]
    agent = shop.token("agent")

    async def ids(filter: dict) -> list[str]:
        body = await shop.run("InboundShipments", {"first": 10, "filter": filter}, token=agent)
        return [edge["node"]["id"] for edge in body["data"]["inboundShipments"]["edges"]]

    assert await ids({}) == [open_one["id"], done["id"]]  # newest first
    assert await ids({"open": True}) == [open_one["id"]]
    assert await ids({"sku": "MUG"}) == [done["id"]]
    assert await ids({"locationId": [location_id(shop, "chicago")]}) == [open_one["id"]]
    assert date.fromisoformat(EXPECTED) > NOW.date()
