"""Parcel lockers and pickup points through the API: placement to a point (its address and the recipient are
the order's shipping address), every refusal changing nothing, shipping and tracking to the point."""

from datetime import timedelta

from conftest import Api
from factories import NOW
from market_factories import market_shop  # noqa: F401
from test_placement import snapshot

from ordergraph.schema.node import encode_global_id

PLACE = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  order {
    id status total { amount currency }
    shippingAddress { name line1 line2 city region postalCode country phone }
    fulfillmentOrders { id location { name } }
  }
  userErrors { field code message }
} }
"""

SHIPMENTS = """
query($id: ID!) { node(id: $id) { ... on Order {
  status
  shipments { id status carrier events { status location }
              pickupPoint { externalId kind name address { line1 city postalCode country } } }
} } }
"""


def point(shop: Api, external_id: str) -> str:
    return encode_global_id("PickupPoint", shop.world.pickup_points[external_id])


def box_input(
    shop: Api, *, method: str = "CZ_BOX", external_id: str | None = "PB-PRG-001", key: str = "box-1", **extra
):
    return {
        "lines": [{"sku": "BOOK", "quantity": 1}],
        "deliveryMethodCode": method,
        **({"pickupPointId": point(shop, external_id)} if external_id else {}),
        "paymentToken": "tok_visa",
        "idempotencyKey": key,
        **extra,
    }


async def place(shop: Api, variables: dict, customer: str = "jiri") -> dict:
    body = (await shop.post(PLACE, {"input": variables}, token=shop.token("customer", customer))).json()
    assert "errors" not in body, body
    return body["data"]["placeOrder"]


async def test_an_order_to_a_parcel_locker_ships_to_the_lockers_address(market_shop: Api) -> None:  # noqa: F811
    placed = await place(market_shop, box_input(market_shop, recipient={"phone": "601 123 456"}))
    assert placed["userErrors"] == []
    order = placed["order"]
    assert order["total"] == {"amount": "408.00", "currency": "CZK"}  # 349,00 + 59,00, VAT inside
    assert order["shippingAddress"] == {
        "name": "Jiří Šťastný",
        "line1": "Václavské náměstí 1",
        "line2": "ParcelBox Václavské náměstí (demo) · PARCELBOX PB-PRG-001",
        "city": "Praha",
        "region": "10",
        "postalCode": "110 00",
        "country": "CZ",
        "phone": "+420601123456",
    }
    assert [fo["location"]["name"] for fo in order["fulfillmentOrders"]] == ["Prodejna Brno"]

    agent = market_shop.token("agent")
    (fo,) = order["fulfillmentOrders"]
    for operation, variables in (
        ("StartFulfillment", {"fulfillmentOrderId": fo["id"]}),
        ("ShipFulfillmentOrder", {"fulfillmentOrderId": fo["id"], "carrier": "METRO", "trackingNumber": "M-1"}),
    ):
        body = await market_shop.run(operation, {"input": variables}, token=agent)
        assert "errors" not in body, body
        assert next(iter(body["data"].values()))["userErrors"] == [], body
    shipped = (await market_shop.post(SHIPMENTS, {"id": order["id"]}, token=agent)).json()["data"]["node"]
    (shipment,) = shipped["shipments"]
    assert shipment["pickupPoint"] == {
        "externalId": "PB-PRG-001",
        "kind": "PARCEL_LOCKER",
        "name": "ParcelBox Václavské náměstí (demo)",
        "address": {"line1": "Václavské náměstí 1", "city": "Praha", "postalCode": "110 00", "country": "CZ"},
    }
    delivered = await market_shop.run(
        "RecordShipmentEvent",
        {
            "input": {
                "shipmentId": shipment["id"],
                "carrierEventId": "m-1",
                "status": "DELIVERED",
                "occurredAt": (NOW + timedelta(hours=20)).isoformat(),
                "location": "ParcelBox Václavské náměstí (demo)",
            }
        },
        token=agent,
    )
    assert "errors" not in delivered, delivered
    tracked = (await market_shop.post(SHIPMENTS, {"id": order["id"]}, token=agent)).json()["data"]["node"]
    assert tracked["status"] == "DELIVERED"
    assert tracked["shipments"][0]["status"] == "DELIVERED"
    assert tracked["shipments"][0]["pickupPoint"]["externalId"] == "PB-PRG-001"


async def test_a_pickup_point_needs_no_phone_and_the_recipient_name_is_kept(market_shop: Api) -> None:  # noqa: F811
    placed = await place(
        market_shop,
        box_input(market_shop, method="CZ_POINT", external_id="VM-PRG-001", recipient={"name": "Jana Šťastná"}),
    )
    assert placed["userErrors"] == []
    address = placed["order"]["shippingAddress"]
    assert (address["name"], address["line1"], address["phone"]) == ("Jana Šťastná", "Vinohradská 50", None)


async def test_an_address_method_keeps_no_pickup_point(market_shop: Api) -> None:  # noqa: F811
    placed = await place(
        market_shop,
        {
            "lines": [{"sku": "SKU-1", "quantity": 1}],
            "deliveryMethodCode": "STANDARD",
            "shippingAddress": {
                "name": "Alice Shopper",
                "line1": "10 Main St",
                "city": "New York",
                "region": "NY",
                "postalCode": "10001",
                "country": "US",
            },
            "pickupPointId": point(market_shop, "PB-PRG-001"),  # ignored: STANDARD ships to the address
            "paymentToken": "tok_visa",
            "idempotencyKey": "us-1",
        },
        customer="alice",
    )
    assert placed["userErrors"] == []
    assert placed["order"]["shippingAddress"]["line1"] == "10 Main St"


REFUSALS = [
    ("no point", {"external_id": None, "recipient": {"phone": "601123456"}}, "PICKUP_POINT_INVALID", ["pickupPointId"]),
    (
        "another network's point",
        {"external_id": "VM-PRG-001", "recipient": {"phone": "601123456"}},
        "PICKUP_POINT_INVALID",
        ["pickupPointId"],
    ),
    (
        "an inactive point",
        {"external_id": "PB-PRG-099", "recipient": {"phone": "601123456"}},
        "PICKUP_POINT_INVALID",
        ["pickupPointId"],
    ),
    ("no phone for a locker", {}, "PHONE_REQUIRED", ["recipient", "phone"]),
    ("a phone that is no phone", {"recipient": {"phone": "12345"}}, "INVALID_PHONE", ["recipient", "phone"]),
]


async def test_refusals_are_coded_and_change_nothing(market_shop: Api) -> None:  # noqa: F811
    before = await snapshot(market_shop)
    for name, extra, code, field in REFUSALS:
        placed = await place(market_shop, box_input(market_shop, key=f"bad-{name}", **extra))
        assert placed["order"] is None, name
        assert [(e["code"], e["field"]) for e in placed["userErrors"]] == [(code, field)], name
    assert await snapshot(market_shop) == before


async def test_a_pickup_point_id_of_another_type_is_an_invalid_id(market_shop: Api) -> None:  # noqa: F811
    variables = box_input(market_shop, recipient={"phone": "601123456"})
    variables["pickupPointId"] = encode_global_id("Location", market_shop.world.locations["praha"])
    body = (await market_shop.post(PLACE, {"input": variables}, token=market_shop.token("customer", "jiri"))).json()
    payload = body.get("data", {}) and body["data"]["placeOrder"]
    codes = [e["code"] for e in payload["userErrors"]] if payload else [e["extensions"]["code"] for e in body["errors"]]
    assert codes == ["INVALID_ID"]


CHANGE = """
mutation($input: UpdateOrderShippingInput!) { updateOrderShipping(input: $input) {
  order { total { amount currency } shippingAddress { name line1 postalCode phone } }
  userErrors { field code }
} }
"""


async def test_changing_to_another_point_reprices_and_readdresses(market_shop: Api) -> None:  # noqa: F811
    order = (await place(market_shop, box_input(market_shop, recipient={"phone": "601 123 456"})))["order"]
    token = market_shop.token("customer", "jiri")

    async def change(**fields: object) -> dict:
        body = (await market_shop.post(CHANGE, {"input": {"orderId": order["id"], **fields}}, token=token)).json()
        assert "errors" not in body, body
        return body["data"]["updateOrderShipping"]

    before = await snapshot(market_shop)
    refused = await change(pickupPointId=point(market_shop, "PB-PRG-099"))
    assert refused == {"order": None, "userErrors": [{"field": ["pickupPointId"], "code": "PICKUP_POINT_INVALID"}]}
    refused = await change(deliveryMethodCode="CZ_POINT")  # the order's locker is not a VYDEJNA point
    assert refused["userErrors"] == [{"field": ["pickupPointId"], "code": "PICKUP_POINT_INVALID"}]
    assert await snapshot(market_shop) == before

    changed = await change(deliveryMethodCode="CZ_POINT", pickupPointId=point(market_shop, "VM-PRG-001"))
    assert changed["userErrors"] == []
    assert changed["order"]["total"] == {"amount": "398.00", "currency": "CZK"}  # 349,00 + 49,00
    assert changed["order"]["shippingAddress"] == {
        "name": "Jiří Šťastný",
        "line1": "Vinohradská 50",
        "postalCode": "120 00",
        "phone": "+420601123456",  # the recipient stays as it was
    }
