"""What the product page would promise for any cart, destination and moment is what placement then does:
both read the same stock and run the same routing (a hypothesis property over carts, places and times)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import sqlalchemy as sa
from conftest import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_order_changes import db_id
from test_placement import order_input

from ordergraph.models import DeliveryMethod, FulfillmentOrder, Location
from ordergraph.models.routing import CartLine, Method, RoutePlan, route
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
}
cart_lines = st.lists(
    st.tuples(st.sampled_from(["SKU-1", "SKU-2", "MUG"]), st.integers(1, 4), st.booleans()), min_size=1, max_size=3
)
moments = st.integers(0, 7 * 24 * 60 - 1).map(
    lambda minutes: datetime(2026, 11, 16, tzinfo=UTC) + timedelta(minutes=minutes)
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=cart_lines,
    postal_code=st.sampled_from(sorted(POSTAL_CODES)),
    now=moments,
    method_code=st.sampled_from(["STANDARD", "NEXT_DAY", "SAME_DAY", "ONE_HOUR", "WEEKEND", "PICKUP"]),
    store=st.sampled_from(["brooklyn", "studio"]),
)
async def test_placement_does_what_routing_promised(shop: Api, lines, postal_code, now, method_code, store) -> None:
    shop.set_clock(now)
    city, region = POSTAL_CODES[postal_code]
    address = {"line1": "5 Test Rd", "city": city, "region": region, "postalCode": postal_code, "country": "US"}
    requested = [
        {"sku": sku, "quantity": q, **({"customization": "AB"} if custom and sku == "MUG" else {})}
        for sku, q, custom in lines
    ]
    pickup = shop.world.locations[store] if method_code == "PICKUP" else None
    async with shop.db.read() as session:
        method = await session.get(DeliveryMethod, method_code)
        destination = (
            at_location(await session.get(Location, pickup))
            if pickup
            else await locate(session, country="US", postal_code=postal_code)
        )
        cart = [
            CartLine(n, line["sku"], line["quantity"], "customization" in line) for n, line in enumerate(requested, 1)
        ]
        promised = route(
            cart,
            await stock_sources(session, {line.sku for line in cart}),
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
