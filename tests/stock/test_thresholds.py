"""Per stock level: safety stock, reorder point and maximum set by agents, and inventoryLevels filtered by SKU,
location and those thresholds (the old first/after arguments keep working)."""

from datetime import timedelta

import pytest
from conftest import Api
from factories import NOW
from stock_helpers import level, location_id, stock_state


async def thresholds(shop: Api, sku: str, key: str, **values) -> dict:
    body = await shop.run(
        "SetInventoryThresholds",
        {"input": {"sku": sku, "locationId": location_id(shop, key), **values}},
        token=shop.token("agent"),
    )
    assert "errors" not in body, body
    return body["data"]["setInventoryThresholds"]


async def levels(shop: Api, filter: dict | None = None, *, first: int = 50) -> list[tuple[str, str]]:
    body = await shop.run("StockLevels", {"first": first, "filter": filter}, token=shop.token("analyst"))
    assert "errors" not in body, body
    return [(e["node"]["sku"], e["node"]["location"]["name"]) for e in body["data"]["inventoryLevels"]["edges"]]


async def test_thresholds_flag_levels_to_reorder_and_overstocked_ones(shop: Api) -> None:
    set_ = await thresholds(shop, "SKU-1", "brooklyn", safetyStock=1, reorderPoint=8, maximum=20)
    assert set_["userErrors"] == []
    brooklyn = set_["inventoryLevel"]
    assert (brooklyn["safetyStock"], brooklyn["reorderPoint"], brooklyn["maximum"]) == (1, 8, 20)
    assert (brooklyn["available"], brooklyn["belowReorderPoint"], brooklyn["overMaximum"]) == (4, True, False)
    await thresholds(shop, "MUG", "newark", reorderPoint=5, maximum=25)  # 30 on hand
    assert await levels(shop, {"belowReorderPoint": True}) == [("SKU-1", "Brooklyn Store")]
    assert await levels(shop, {"overMaximum": True}) == [("MUG", "Newark Warehouse")]

    # Stock on its way counts: an inbound of 10 lifts Brooklyn above its reorder point and over nothing.
    created = await shop.run(
        "CreateInboundShipment",
        {
            "input": {
                "locationId": location_id(shop, "brooklyn"),
                "kind": "PURCHASE_ORDER",
                "expectedOn": (NOW + timedelta(days=2)).date().isoformat(),
                "lines": [{"sku": "SKU-1", "quantity": 10}],
            }
        },
        token=shop.token("agent"),
    )
    assert created["data"]["createInboundShipment"]["userErrors"] == []
    assert await levels(shop, {"belowReorderPoint": True}) == []
    assert ("SKU-1", "Brooklyn Store") in await levels(shop, {"belowReorderPoint": False})

    # A level a location did not hold is made by setting its thresholds.
    made = await thresholds(shop, "TV", "brooklyn", reorderPoint=2)
    assert (made["inventoryLevel"]["onHand"], made["inventoryLevel"]["belowReorderPoint"]) == (0, True)
    assert await levels(shop, {"belowReorderPoint": True}) == [("TV", "Brooklyn Store")]


async def test_inventory_levels_filter_by_sku_and_location_and_keep_the_old_arguments(shop: Api) -> None:
    everything = await levels(shop)
    assert len(everything) == 10
    assert sorted(await levels(shop, {"sku": ["MUG"]})) == [("MUG", "Chelsea Studio"), ("MUG", "Newark Warehouse")]
    newark = await levels(shop, {"locationId": [location_id(shop, "newark")]})
    assert {sku for sku, _ in newark} == {"SKU-1", "SKU-2", "MUG", "TV"}
    assert await levels(shop, {"sku": ["SKU-1"], "locationId": [location_id(shop, "la")]}) == [
        ("SKU-1", "LA Fulfilment Partner")
    ]
    # first/after page as before.
    body = await shop.run("StockLevels", {"first": 4}, token=shop.token("agent"))
    page = body["data"]["inventoryLevels"]
    assert len(page["edges"]) == 4
    assert page["pageInfo"]["hasNextPage"]
    rest = await shop.run(
        "StockLevels", {"first": 50, "after": page["pageInfo"]["endCursor"]}, token=shop.token("agent")
    )
    assert len(rest["data"]["inventoryLevels"]["edges"]) == 6
    bad = await shop.run("StockLevels", {"first": 5, "filter": {"locationId": ["nope"]}}, token=shop.token("agent"))
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_ID"
    customer = await shop.run("StockLevels", {"first": 5}, token=shop.token("customer", "alice"))
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"safetyStock": -1}, "INVALID_QUANTITY"),
        ({"reorderPoint": -5}, "INVALID_QUANTITY"),
        ({"reorderPoint": 10, "maximum": 5}, "INVALID_THRESHOLDS"),
        ({"safetyStock": 6, "reorderPoint": 5}, "INVALID_THRESHOLDS"),
        ({"sku": "NOPE"}, "NOT_FOUND"),
    ],
)
async def test_bad_thresholds_are_refused_and_change_nothing(shop: Api, values, code) -> None:
    before = await stock_state(shop)
    body = await shop.run(
        "SetInventoryThresholds",
        {"input": {"sku": "SKU-1", "locationId": location_id(shop, "brooklyn"), **values}},
        token=shop.token("agent"),
    )
    result = body["data"]["setInventoryThresholds"]
    assert [e["code"] for e in result["userErrors"]] == [code]
    assert result["inventoryLevel"] is None
    assert await stock_state(shop) == before
    unchanged = await level(shop, "SKU-1", "brooklyn")
    assert (unchanged.safety_stock, unchanged.reorder_point, unchanged.maximum) == (0, None, None)
