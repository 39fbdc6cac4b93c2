"""The product page's pickup promise: only from stores near the shopper, ready within the store's opening hours
(closures skipped), and exactly what placing that pickup then promises."""

from datetime import UTC, datetime
from uuid import uuid4

from conftest import Api
from test_placement import order_input

from ordergraph.models import InventoryLevel, Location
from ordergraph.models.enums import LocationKind

# (key, name, city, region, postal code, metro, latitude, longitude, timezone)
FAR_STORES = [
    ("boston", "Boston Store", "Boston", "MA", "02108", "Boston", 42.3576, -71.0684, "America/New_York"),
    ("sf", "San Francisco Store", "San Francisco", "CA", "94103", None, 37.7725, -122.4147, "America/Los_Angeles"),
    ("houston", "Houston Store", "Houston", "TX", "77002", "Houston", 29.7594, -95.3594, "America/Chicago"),
]


async def open_far_stores(shop: Api) -> None:
    """Stores in MA, CA and TX holding LAST, which no New York location has."""
    async with shop.db.write() as session:
        for key, name, city, region, postal, metro, lat, lon, tz in FAR_STORES:
            store = Location(
                code=key.upper(),
                name=name,
                kind=LocationKind.STORE,
                line1="1 Main St",
                city=city,
                region=region,
                postal_code=postal,
                country="US",
                metro_area=metro,
                latitude=lat,
                longitude=lon,
                timezone=tz,
                pickup=True,
                returns_drop_off=True,
            )
            session.add(store)
            await session.flush()
            shop.world.locations[key] = store.id
            session.add(InventoryLevel(sku="LAST", location_id=store.id, on_hand=5))


async def promise(shop: Api, sku: str, postal_code: str) -> dict:
    body = await shop.run("StorePickupPromise", {"skus": [sku], "country": "US", "postalCode": postal_code})
    assert "errors" not in body, body
    options = body["data"]["products"][0]["availability"]["deliveryOptions"]
    return next(o for o in options if o["method"]["code"] == "PICKUP")


async def place_pickup(shop: Api, sku: str, store_id: str) -> dict:
    body = await shop.run(
        "PlaceOrder",
        {
            "input": {
                **order_input(((sku, 1),), method="PICKUP", key=uuid4().hex),
                "shippingAddress": None,
                "pickupLocationId": store_id,
            }
        },
        token=shop.token("customer", "alice"),
    )
    assert "errors" not in body, body
    return body["data"]["placeOrder"]


async def test_a_miami_shopper_is_not_promised_pickup_from_stores_in_ma_ca_or_tx(shop: Api) -> None:
    await open_far_stores(shop)
    miami = await promise(shop, "LAST", "33131")
    assert (miami["available"], miami["pickupLocation"], miami["estimatedDeliveryBy"]) == (False, None, None)
    boston = await promise(shop, "LAST", "02108")
    assert boston["available"]
    assert boston["pickupLocation"]["name"] == "Boston Store"
    placed = await place_pickup(shop, "LAST", boston["pickupLocation"]["id"])
    assert placed["userErrors"] == []
    assert placed["order"]["promisedDeliveryBy"] == boston["estimatedDeliveryBy"]


async def test_pickup_is_promised_only_within_the_set_distance(open_shop) -> None:
    async with open_shop(pickup_max_distance_km=1) as shop:
        at_store = await promise(shop, "SKU-1", "11201")  # the Brooklyn Store's own postal code
        assert at_store["available"]
        assert at_store["pickupLocation"]["name"] == "Brooklyn Store"
        six_km_away = await promise(shop, "SKU-1", "10001")
        assert (six_km_away["available"], six_km_away["pickupLocation"]) == (False, None)


async def set_weekday_hours(shop: Api) -> None:
    body = await shop.run(
        "SetLocationOpeningHours",
        {
            "input": {
                "locationId": (await promise(shop, "SKU-1", "11201"))["pickupLocation"]["id"],
                "days": [{"weekday": d, "intervals": [{"opens": "10:00", "closes": "18:00"}]} for d in range(1, 6)],
            }
        },
        token=shop.token("agent"),
    )
    assert body["data"]["setLocationOpeningHours"]["userErrors"] == []


async def test_ready_by_follows_opening_hours_and_skips_closures(shop: Api) -> None:
    await set_weekday_hours(shop)
    # Friday 17:30 in New York: half an hour of work before closing, the rest on Monday from 10:00.
    shop.set_clock(datetime(2026, 11, 20, 22, 30, tzinfo=UTC))
    friday = await promise(shop, "SKU-1", "11201")
    assert friday["estimatedDeliveryBy"] == "2026-11-23T16:30:00+00:00"  # Monday 11:30 local
    closed = await shop.run(
        "AddLocationClosure",
        {"input": {"locationId": friday["pickupLocation"]["id"], "date": "2026-11-23", "reason": "Inventory"}},
        token=shop.token("agent"),
    )
    assert closed["data"]["addLocationClosure"]["userErrors"] == []
    skipped = await promise(shop, "SKU-1", "11201")
    assert skipped["estimatedDeliveryBy"] == "2026-11-24T16:30:00+00:00"  # Tuesday 11:30: Monday is closed
    placed = await place_pickup(shop, "SKU-1", skipped["pickupLocation"]["id"])
    assert placed["order"]["promisedDeliveryBy"] == skipped["estimatedDeliveryBy"]


async def test_an_order_placed_after_closing_is_ready_after_the_next_opening(shop: Api) -> None:
    await set_weekday_hours(shop)
    shop.set_clock(datetime(2026, 11, 18, 0, 30, tzinfo=UTC))  # Tuesday 19:30 in New York, closed since 18:00
    evening = await promise(shop, "SKU-1", "11201")
    assert evening["estimatedDeliveryBy"] == "2026-11-18T17:00:00+00:00"  # Wednesday 12:00: opens 10:00, 2 hours
    placed = await place_pickup(shop, "SKU-1", evening["pickupLocation"]["id"])
    assert placed["order"]["promisedDeliveryBy"] == evening["estimatedDeliveryBy"]
