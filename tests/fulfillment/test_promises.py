"""What the product page would promise for any cart, destination and moment is what placement then does:
both read the same stock and run the same routing (a hypothesis property over carts, places and times), and for
pickup the same store opening hours and closures; the page promises pickup only from a store near the shopper."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import sqlalchemy as sa
from conftest import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_order_changes import db_id
from test_placement import order_input

from ordergraph.models import DeliveryMethod, FulfillmentOrder, Location, LocationClosure
from ordergraph.models.routing import CartLine, Method, RoutePlan, great_circle_km, route
from ordergraph.resolvers.sourcing import at_location, locate, stock_sources
from ordergraph.schema.node import encode_global_id

POSTAL_CODES = {
    "10001": ("New York", "NY"),
    "11201": ("Brooklyn", "NY"),
    "07114": ("Newark", "NJ"),
    "60601": ("Chicago", "IL"),
    "90021": ("Los Angeles", "CA"),
    "05602": ("Montpelier", "VT"),
    "12345": ("Schenectady", "NY"),
    "33131": ("Miami", "FL"),
}
cart_lines = st.lists(
    st.tuples(st.sampled_from(["SKU-1", "SKU-2", "MUG"]), st.integers(1, 4), st.booleans()), min_size=1, max_size=3
)
moments = st.integers(0, 7 * 24 * 60 - 1).map(
    lambda minutes: datetime(2026, 11, 16, tzinfo=UTC) + timedelta(minutes=minutes)
)
DAY_HOURS = [[], [("09:00", "17:00")], [("10:00", "13:00"), ("14:00", "20:00")], [("07:00", "22:00")]]
# A store's week (None: no hours set, cut-offs only) and a date it is closed on (None: no closure).
weeks = st.none() | st.lists(st.sampled_from(DAY_HOURS), min_size=7, max_size=7)
closed_days = st.none() | st.integers(0, 9).map(lambda days: date(2026, 11, 16) + timedelta(days=days))


async def open_as(shop: Api, store: str, week: list | None, closed_on: date | None) -> None:
    """Gives `store` the week's hours (or none) and the one closure (or none), as an agent would."""
    days = [
        {"weekday": n, "intervals": [{"opens": o, "closes": c} for o, c in intervals]}
        for n, intervals in enumerate(week or [], start=1)
    ]
    location = encode_global_id("Location", shop.world.locations[store])
    body = await shop.run(
        "SetLocationOpeningHours", {"input": {"locationId": location, "days": days}}, token=shop.token("agent")
    )
    assert body["data"]["setLocationOpeningHours"]["userErrors"] == []
    async with shop.db.write() as session:
        await session.exec(sa.delete(LocationClosure))
        if closed_on is not None:
            session.add(LocationClosure(location_id=shop.world.locations[store], closed_on=closed_on))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=cart_lines,
    postal_code=st.sampled_from(sorted(POSTAL_CODES)),
    now=moments,
    method_code=st.sampled_from(["STANDARD", "NEXT_DAY", "SAME_DAY", "ONE_HOUR", "WEEKEND", "PICKUP"]),
    store=st.sampled_from(["brooklyn", "studio"]),
    week=weeks,
    closed_on=closed_days,
)
async def test_placement_does_what_routing_promised(
    shop: Api, lines, postal_code, now, method_code, store, week, closed_on
) -> None:
    shop.set_clock(now)
    await open_as(shop, store, week, closed_on)
    city, region = POSTAL_CODES[postal_code]
    address = {"line1": "5 Test Rd", "city": city, "region": region, "postalCode": postal_code, "country": "US"}
    requested = [
        {"sku": sku, "quantity": q, **({"customization": "AB"} if custom and sku == "MUG" else {})}
        for sku, q, custom in lines
    ]
    pickup = shop.world.locations[store] if method_code == "PICKUP" else None
    async with shop.db.read() as session:
        method = await session.get(DeliveryMethod, method_code)
        pickup_store = await session.get(Location, pickup) if pickup else None
        destination = (
            at_location(pickup_store) if pickup_store else await locate(session, country="US", postal_code=postal_code)
        )
        cart = [
            CartLine(n, line["sku"], line["quantity"], "customization" in line) for n, line in enumerate(requested, 1)
        ]
        promised = route(
            cart,
            await stock_sources(session, {line.sku for line in cart}, pickup=pickup_store, now=now),
            Method.of(method),
            destination,
            now=now,
            pickup_location_id=pickup,
        )
    extra = (
        {"pickupLocationId": encode_global_id("Location", pickup), "shippingAddress": None}
        if pickup
        else {"shippingAddress": address}
    )
    body = await shop.run(
        "PlaceOrder",
        {"input": {**order_input(method=method_code, key=uuid4().hex), "lines": requested, **extra}},
        token=shop.token("customer", "bob"),
    )
    result = body["data"]["placeOrder"]
    if not isinstance(promised, RoutePlan):
        assert [e["code"] for e in result["userErrors"]] == [promised.code]
        return
    assert result["userErrors"] == []
    assert datetime.fromisoformat(result["order"]["promisedDeliveryBy"]) == promised.promised_delivery_by
    async with shop.db.read() as session:
        locations = (
            (
                await session.exec(
                    sa.select(FulfillmentOrder.location_id).where(
                        FulfillmentOrder.order_id == db_id(result["order"]["id"])
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(locations) == sorted(promised.allocations)


PICKUP_MAX_DISTANCE_KM = 50  # the setting's default, which the shop is served with


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sku=st.sampled_from(["SKU-1", "MUG", "LAST"]),
    postal_code=st.sampled_from(sorted(POSTAL_CODES)),
    now=moments,
    store=st.sampled_from(["brooklyn", "studio"]),
    week=weeks,
    closed_on=closed_days,
)
async def test_the_pages_pickup_promise_is_what_placement_accepts(
    shop: Api, sku, postal_code, now, store, week, closed_on
) -> None:
    """The page's pickup option names a store near the shopper, and placing a pickup there is accepted with the
    very time promised; when the page offers no pickup, no store near the shopper would take it."""
    shop.set_clock(now)
    await open_as(shop, store, week, closed_on)
    body = await shop.run("StorePickupPromise", {"skus": [sku], "country": "US", "postalCode": postal_code})
    option = next(
        o for o in body["data"]["products"][0]["availability"]["deliveryOptions"] if o["method"]["code"] == "PICKUP"
    )
    async with shop.db.read() as session:
        shopper = await locate(session, country="US", postal_code=postal_code)
        stores = (await session.exec(sa.select(Location).where(Location.pickup))).scalars().all()
    near = {
        encode_global_id("Location", s.id)
        for s in stores
        if great_circle_km(s.latitude, s.longitude, shopper.latitude, shopper.longitude) <= PICKUP_MAX_DISTANCE_KM
    }
    if option["available"]:
        assert option["pickupLocation"]["id"] in near
        candidates = [option["pickupLocation"]["id"]]
    else:
        assert option["pickupLocation"] is None
        candidates = sorted(near)
    for candidate in candidates:
        placed = await shop.run(
            "PlaceOrder",
            {
                "input": {
                    **order_input(((sku, 1),), method="PICKUP", key=uuid4().hex),
                    "shippingAddress": None,
                    "pickupLocationId": candidate,
                }
            },
            token=shop.token("customer", "bob"),
        )
        result = placed["data"]["placeOrder"]
        if option["available"]:
            assert result["userErrors"] == []
            assert result["order"]["promisedDeliveryBy"] == option["estimatedDeliveryBy"]
        else:
            assert [e["code"] for e in result["userErrors"]] in (
                ["DELIVERY_METHOD_UNAVAILABLE"],
                ["INSUFFICIENT_STOCK"],
            )
    if postal_code == "33131":
        assert not option["available"]  # no store within reach of Miami
