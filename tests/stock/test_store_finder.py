"""The store finder for anyone (public fields; staff see more), opening hours and closures set by agents, and
their bad input refused without a change."""

from datetime import timedelta

import pytest
from conftest import Api
from factories import NOW
from stock_helpers import location_id, stock_state

WEEKDAYS_10_TO_18 = [{"weekday": day, "intervals": [{"opens": "10:00", "closes": "18:00"}]} for day in range(1, 6)]


async def set_hours(shop: Api, key: str, days: list, **extra) -> dict:
    body = await shop.run(
        "SetLocationOpeningHours",
        {"input": {"locationId": location_id(shop, key), "days": days, **extra}},
        token=shop.token("agent"),
    )
    assert "errors" not in body, body
    return body["data"]["setLocationOpeningHours"]


async def closure(shop: Api, operation: str, key: str, day: str, reason: str | None = None) -> dict:
    body = await shop.run(
        operation,
        {"input": {"locationId": location_id(shop, key), "date": day, "reason": reason}},
        token=shop.token("agent"),
    )
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def find(shop: Api, filter: dict | None, *, token: str | None = None, operation: str = "StoreFinder") -> list:
    body = await shop.run(operation, {"filter": filter, "first": 5}, token=token)
    assert "errors" not in body, body
    return body["data"]["locations"]


async def test_anyone_finds_pickup_stores_nearest_first_with_hours_and_services(shop: Api) -> None:
    found = await find(shop, {"pickup": True, "near": {"country": "US", "postalCode": "10001"}})
    assert [(r["location"]["name"], r["distanceKm"]) for r in found] == [
        ("Chelsea Studio", 0.0),
        ("Brooklyn Store", pytest.approx(6.05, abs=0.05)),
    ]
    studio = found[0]["location"]
    assert studio["services"] == ["PICKUP", "RETURNS_DROP_OFF", "CUSTOMIZATION"]
    assert studio["address"]["postalCode"] == "10001"
    assert (studio["openingHours"], studio["closures"]) == ([], [])  # no hours set yet

    await set_hours(
        shop,
        "studio",
        [
            *WEEKDAYS_10_TO_18,
            {"weekday": 6, "intervals": [{"opens": "10:00", "closes": "13:00"}, {"opens": "14:00", "closes": "17:00"}]},
        ],
    )
    tomorrow = (NOW + timedelta(days=1)).date().isoformat()
    await closure(shop, "AddLocationClosure", "studio", tomorrow, "Stock count")
    studio = (await find(shop, {"pickup": True, "near": {"country": "US", "postalCode": "10001"}}))[0]["location"]
    assert [(d["weekday"], [(i["opens"], i["closes"]) for i in d["intervals"]]) for d in studio["openingHours"]] == [
        *[(day, [("10:00", "18:00")]) for day in range(1, 6)],
        (6, [("10:00", "13:00"), ("14:00", "17:00")]),
        (7, []),
    ]
    assert studio["closures"] == [{"date": tomorrow, "reason": "Stock count"}]


async def test_filters_and_staff_detail(shop: Api) -> None:
    warehouses = await find(shop, {"kind": ["WAREHOUSE", "DISTRIBUTION_CENTER"]})
    assert [(r["location"]["name"], r["distanceKm"]) for r in warehouses] == [
        ("Chicago DC", None),
        ("Newark Warehouse", None),
    ]
    assert [r["location"]["name"] for r in await find(shop, {"returnsDropOff": False, "pickup": False})] == [
        "Chicago DC",
        "LA Fulfilment Partner",
        "Newark Warehouse",
    ]
    near_la = await find(shop, {"near": {"country": "US", "city": "Los Angeles"}, "kind": ["THIRD_PARTY"]})
    assert [r["location"]["name"] for r in near_la] == ["LA Fulfilment Partner"]

    filter = {"pickup": True, "near": {"country": "US", "postalCode": "11201"}}
    public = (await find(shop, filter, operation="StoreDetail"))[0]["location"]
    assert public["name"] == "Brooklyn Store"
    assert (public["code"], public["ships"], public["inventoryLevels"]) == (None, None, None)
    customer = (await find(shop, filter, operation="StoreDetail", token=shop.token("customer", "alice")))[0]
    assert customer["location"]["inventoryLevels"] is None
    staff = (await find(shop, filter, operation="StoreDetail", token=shop.token("agent")))[0]["location"]
    assert (staff["code"], staff["ships"]) == ("BK-ST", True)
    assert [(e["node"]["sku"], e["node"]["onHand"]) for e in staff["inventoryLevels"]["edges"]] == [("SKU-1", 5)]


async def test_an_anonymous_visitor_lists_every_location_within_the_cost_limit(shop: Api) -> None:
    body = await shop.run("StoreFinder", {})  # no filter, the default page: affordable without signing in
    assert "errors" not in body, body
    assert [r["location"]["name"] for r in body["data"]["locations"]] == [
        "Brooklyn Store",
        "Chelsea Studio",
        "Chicago DC",
        "LA Fulfilment Partner",
        "Newark Warehouse",
    ]


async def test_stores_keeps_answering_as_before(shop: Api) -> None:
    body = (
        await shop.post(
            '{ stores(country: "US", postalCode: "11201") { distanceKm location { name openingHours { weekday } } } }'
        )
    ).json()
    assert [r["location"]["name"] for r in body["data"]["stores"]] == ["Brooklyn Store", "Chelsea Studio"]


@pytest.mark.parametrize(
    ("near", "code"),
    [
        ({"country": "ZZ"}, "UNKNOWN_COUNTRY"),
        ({"country": "US", "postalCode": "00000"}, "UNKNOWN_POSTAL_CODE"),
        ({"country": "US", "postalCode": "1" * 30}, "BAD_USER_INPUT"),
    ],
)
async def test_an_unknown_place_is_a_coded_error(shop: Api, near, code) -> None:
    body = await shop.run("StoreFinder", {"filter": {"near": near}, "first": 5})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code


BAD_HOURS = [
    ({"timezone": "Mars/Olympus_Mons"}, WEEKDAYS_10_TO_18, "UNKNOWN_TIME_ZONE"),
    ({}, [{"weekday": 1, "intervals": [{"opens": "18:00", "closes": "10:00"}]}], "INVALID_HOURS"),
    ({}, [{"weekday": 1, "intervals": [{"opens": "10:00", "closes": "10:00"}]}], "INVALID_HOURS"),
    (
        {},
        [{"weekday": 2, "intervals": [{"opens": "09:00", "closes": "13:00"}, {"opens": "12:30", "closes": "17:00"}]}],
        "INVALID_HOURS",
    ),
    ({}, [{"weekday": 0, "intervals": []}], "INVALID_WEEKDAY"),
    ({}, [{"weekday": 8, "intervals": []}], "INVALID_WEEKDAY"),
    ({}, [{"weekday": 3, "intervals": []}, {"weekday": 3, "intervals": []}], "DUPLICATE_WEEKDAY"),
    ({}, [{"weekday": 1, "intervals": [{"opens": "9am", "closes": "18:00"}]}], "INVALID_TIME"),
    ({}, [{"weekday": 1, "intervals": [{"opens": "24:00", "closes": "24:30"}]}], "INVALID_TIME"),
]


@pytest.mark.parametrize(("extra", "days", "code"), BAD_HOURS)
async def test_bad_opening_hours_are_refused_and_change_nothing(shop: Api, extra, days, code) -> None:
    await set_hours(shop, "brooklyn", WEEKDAYS_10_TO_18)
    before = await stock_state(shop)
    result = await set_hours(shop, "brooklyn", days, **extra)
    assert [e["code"] for e in result["userErrors"]] == [code]
    assert result["location"] is None
    assert await stock_state(shop) == before


async def test_hours_replace_the_week_and_the_time_zone_and_only_agents_set_them(shop: Api) -> None:
    set_ = await set_hours(
        shop,
        "brooklyn",
        [{"weekday": 7, "intervals": [{"opens": "12:00", "closes": "16:00"}]}],
        timezone="America/Chicago",
    )
    assert set_["userErrors"] == []
    assert set_["location"]["timezone"] == "America/Chicago"
    assert [d["intervals"] for d in set_["location"]["openingHours"]][:6] == [[]] * 6
    removed = await set_hours(shop, "brooklyn", [])
    assert removed["location"]["openingHours"] == []
    before = await stock_state(shop)
    for token, code in (
        (None, "UNAUTHENTICATED"),
        (shop.token("customer", "alice"), "FORBIDDEN"),
        (shop.token("analyst"), "FORBIDDEN"),
    ):
        body = await shop.run(
            "SetLocationOpeningHours",
            {"input": {"locationId": location_id(shop, "brooklyn"), "days": WEEKDAYS_10_TO_18}},
            token=token,
        )
        assert body["errors"][0]["extensions"]["code"] == code
    assert await stock_state(shop) == before


async def test_closures_are_added_once_removed_and_never_in_the_past(shop: Api) -> None:
    day = (NOW + timedelta(days=3)).date().isoformat()
    added = await closure(shop, "AddLocationClosure", "brooklyn", day, "Refit")
    assert added["userErrors"] == []
    assert added["location"]["closures"] == [{"date": day, "reason": "Refit"}]
    before = await stock_state(shop)
    for operation, on, code in (
        ("AddLocationClosure", day, "DUPLICATE_CLOSURE"),
        ("AddLocationClosure", (NOW - timedelta(days=1)).date().isoformat(), "INVALID_DATE"),
        ("RemoveLocationClosure", (NOW + timedelta(days=4)).date().isoformat(), "NOT_FOUND"),
    ):
        refused = await closure(shop, operation, "brooklyn", on)
        assert [e["code"] for e in refused["userErrors"]] == [code], (operation, on)
        assert await stock_state(shop) == before
    removed = await closure(shop, "RemoveLocationClosure", "brooklyn", day)
    assert removed["userErrors"] == []
    assert removed["location"]["closures"] == []


async def test_a_null_given_to_an_argument_that_must_not_be_null_is_bad_input_not_an_internal_error(shop: Api) -> None:
    """`locations(first:)` is `Int! = 10`: validation lets a nullable `$first` through (the argument has a
    default), and an explicit null is then the caller's mistake, coded as such."""
    body = await shop.run("StoreFinder", {"filter": {"pickup": True}, "first": None})
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "first" in body["errors"][0]["message"]


async def test_a_list_of_locations_reads_their_stock_pages_in_one_statement(shop: Api) -> None:
    """Each location's page of stock levels is what inventoryLevels filtered to that location gives, page by page,
    and the list's pages cost one statement however many locations it holds."""
    agent = shop.token("agent")
    counts = {}
    for label, filter in (("one", {"kind": ["WAREHOUSE"]}), ("all", None)):
        with shop.statements() as executed:
            found = await find(shop, filter, operation="StoreDetail", token=agent)
        counts[label] = (len(found), len([s for s in executed if "FROM inventory_level" in s]))
    (one, one_reads), (every, every_reads) = counts["one"], counts["all"]
    assert (one, every) == (1, 5)
    assert one_reads == every_reads == 1

    query = """query($location: ID!, $after: String) {
      location: locations(first: 5) { location { id inventoryLevels(first: 1, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { sku onHand } } } } }
      alone: inventoryLevels(first: 1, after: $after, filter: {locationId: [$location]}) {
        pageInfo { hasNextPage endCursor } edges { node { sku onHand } } }
    }"""
    stocked = [r["location"]["id"] for r in found if r["location"]["inventoryLevels"]["edges"]]
    assert len(stocked) > 1
    pages = dict.fromkeys(stocked, 0)
    for location in stocked:
        after = None
        while True:
            body = (await shop.post(query, {"location": location, "after": after}, token=agent)).json()
            assert "errors" not in body, body
            listed = next(
                r["location"]["inventoryLevels"] for r in body["data"]["location"] if r["location"]["id"] == location
            )
            assert listed == body["data"]["alone"]
            pages[location] += 1
            if not listed["pageInfo"]["hasNextPage"]:
                break
            after = listed["pageInfo"]["endCursor"]
    assert max(pages.values()) > 1  # some location's stock took several pages

    # What the server did not write, on every location of the list: refused with a code, nothing read.
    for variables in (
        {"location": stocked[0], "after": "\u0000\u202e%_"},
        {"location": stocked[0], "after": "x" * 10_000},
    ):
        with shop.statements() as executed:
            body = (await shop.post(query, variables, token=agent)).json()
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"BAD_USER_INPUT"}, body
        assert not [s for s in executed if "FROM inventory_level" in s]
