"""Markets and money through the API: CZ, SA and AE orders priced in their currency with VAT inside the prices,
tax per rate, and every later amount (cancellation, capture, refund) adding no tax on top; refusals that change
nothing; and the US unchanged in a shop that also holds the other markets."""

import sqlalchemy as sa
from conftest import Api
from market_factories import market_shop  # noqa: F401
from test_placement import NY_ADDRESS, snapshot

from ordergraph.models import Order, Payment, PaymentTransaction
from ordergraph.schema.node import encode_global_id, parse_global_id

ORDER_FIELDS = """
  id number promisedDeliveryBy pricesIncludeTax
  market { code currency pricesIncludeTax countries }
  subtotal { amount currency } shippingTotal { amount currency } taxTotal { amount currency }
  total { amount currency }
  taxLines { rate taxableAmount { amount } tax { amount } total { amount currency } }
  shippingAddress { name line1 line2 city region postalCode country phone }
  pickupPoint { externalId }
  lines { id sku quantity taxClass taxRate tax { amount } unitPrice { amount currency } }
  fulfillmentOrders { id location { name } lines { quantity orderLine { sku } } }
"""
PLACE = (
    "mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) {"
    " order {" + ORDER_FIELDS + "} userErrors { field message code } } }"
)
CANCEL = """mutation Cancel($input: CancelOrderInput!) {
  cancelOrder(input: $input) { order { cancelledTotal: total { amount } } userErrors { field message code } } }"""
START = """mutation Start($input: StartFulfillmentInput!) {
  startFulfillment(input: $input) { userErrors { field message code } } }"""
SHIP = """mutation Ship($input: ShipFulfillmentOrderInput!) {
  shipFulfillmentOrder(input: $input) { shipment { id } userErrors { field message code } } }"""
EVENT = """mutation Event($input: RecordShipmentEventInput!) {
  recordShipmentEvent(input: $input) { userErrors { field message code } } }"""
REQUEST_RETURN = """mutation Return($input: RequestReturnInput!) {
  requestReturn(input: $input) { return { id status } userErrors { field message code } } }"""
RECEIVE = """mutation Receive($input: ReceiveReturnInput!) {
  receiveReturn(input: $input) {
    return {
      refundAmount { amount currency }
      taxLines { rate taxableAmount { amount } tax { amount } total { amount } }
    }
    userErrors { field message code } } }"""
APPROVE = """mutation Approve($input: ApproveReturnInput!) {
  approveReturn(input: $input) { userErrors { field message code } } }"""

PRAHA_ADDRESS = {
    "name": "Jiří Šťastný",
    "line1": "Vinohradská 12",
    "city": "Praha",
    "postalCode": "120 00",
    "country": "CZ",
}
RIYADH_ADDRESS = {
    "name": "محمد العتيبي",
    "line1": "شارع الملك فهد 123",
    "city": "الرياض",
    "postalCode": "",
    "country": "SA",
    "phone": "0501234567",
}
DUBAI_ADDRESS = {
    "name": "فاطمة الكعبي",
    "line1": "شارع الوصل 7",
    "city": "دبي",
    "postalCode": "00000",
    "country": "AE",
}


def order_input(lines, method, *, address=None, key="k-1", **extra) -> dict:
    return {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "deliveryMethodCode": method,
        "shippingAddress": address,
        "paymentToken": "tok_visa",
        "idempotencyKey": key,
        **extra,
    }


async def gql(shop: Api, query: str, variables: dict, token: str) -> dict:
    response = await shop.post(query, variables, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def place(shop: Api, customer: str, **kw) -> dict:
    data = await gql(shop, PLACE, {"input": order_input(**kw)}, shop.token("customer", customer))
    return data["placeOrder"]


def point_id(shop: Api, external_id: str) -> str:
    return encode_global_id("PickupPoint", shop.world.pickup_points[external_id])


async def ledger(shop: Api, order_id: str) -> list[tuple[str, int]]:
    """The order's payment transactions, oldest first: (kind, amount)."""
    async with shop.db.read() as session:
        rows = (
            await session.exec(
                sa.select(PaymentTransaction.kind, PaymentTransaction.amount_minor)
                .join(Payment, Payment.id == PaymentTransaction.payment_id)
                .where(Payment.order_id == parse_global_id(order_id, "Order")[1])
                .order_by(PaymentTransaction.id)
            )
        ).all()
    return [(str(kind), amount) for kind, amount in rows]


async def stored_order(shop: Api, order_id: str) -> Order:
    async with shop.db.read() as session:
        return await session.get_one(Order, parse_global_id(order_id, "Order")[1])


async def place_cz_locker_order(shop: Api) -> dict:
    result = await place(
        shop,
        "jiri",
        lines=(("BOOT", 2), ("BOOK", 3)),
        method="CZ_BOX",
        pickupPointId=point_id(shop, "PB-PRG-001"),
        recipient={"phone": "601 123 456"},
    )
    assert result["userErrors"] == [], result
    return result["order"]


async def test_a_czech_locker_order_has_vat_inside_its_prices_per_rate(market_shop: Api) -> None:  # noqa: F811
    order = await place_cz_locker_order(market_shop)
    assert order["market"] == {"code": "CZ", "currency": "CZK", "pricesIncludeTax": True, "countries": ["CZ"]}
    assert order["pricesIncludeTax"] is True
    assert order["subtotal"] == {"amount": "7045.00", "currency": "CZK"}
    assert order["shippingTotal"]["amount"] == "59.00"
    assert order["taxTotal"]["amount"] == "1163.40"
    assert order["total"] == {"amount": "7104.00", "currency": "CZK"}
    boot, book = order["lines"]
    assert (boot["taxClass"], boot["taxRate"], boot["tax"]["amount"]) == ("STANDARD", "0.21", "1040.98")
    assert (book["taxClass"], book["taxRate"], book["tax"]["amount"]) == ("REDUCED", "0.12", "112.18")
    assert boot["unitPrice"] == {"amount": "2999.00", "currency": "CZK"}
    assert order["taxLines"] == [
        {
            "rate": "0.21",
            "taxableAmount": {"amount": "5005.78"},
            "tax": {"amount": "1051.22"},
            "total": {"amount": "6057.00", "currency": "CZK"},
        },
        {
            "rate": "0.12",
            "taxableAmount": {"amount": "934.82"},
            "tax": {"amount": "112.18"},
            "total": {"amount": "1047.00", "currency": "CZK"},
        },
    ]
    assert order["pickupPoint"] == {"externalId": "PB-PRG-001"}
    address = order["shippingAddress"]
    assert (address["line1"], address["city"], address["postalCode"], address["country"]) == (
        "Václavské náměstí 1",
        "Praha",
        "110 00",
        "CZ",
    )
    assert (address["name"], address["phone"]) == ("Jiří Šťastný", "+420601123456")
    assert {fo["location"]["name"] for fo in order["fulfillmentOrders"]} == {"Sklad Praha", "Prodejna Brno"}
    # After Friday's 14:00 cut-off: leaves Monday, one carrier day, by 20:00 Prague time.
    assert order["promisedDeliveryBy"] == "2026-11-24T19:00:00+00:00"
    async with market_shop.db.read() as session:
        row = (await session.exec(sa.select(Order))).scalars().one()
    assert (row.market_code, row.currency, row.prices_include_tax, row.shipping_tax_rate_ppm) == (
        "CZ",
        "CZK",
        True,
        210_000,
    )


async def test_czech_cancellation_capture_and_refund_add_no_tax_and_match_the_ledger(market_shop: Api) -> None:  # noqa: F811
    await cz_lifecycle(market_shop)


async def cz_lifecycle(shop: Api) -> dict:
    """Places the Czech locker order, cancels a book, ships both parcels, delivers them and refunds a boot,
    checking every amount against the payment ledger; returns the order as placed."""
    order = await place_cz_locker_order(shop)
    customer, agent = shop.token("customer", "jiri"), shop.token("agent")
    boot, book = order["lines"]
    assert await ledger(shop, order["id"]) == [("AUTHORIZATION", 710_400)]

    cancel = {"orderId": order["id"], "lines": [{"orderLineId": book["id"], "quantity": 1}]}
    assert (await gql(shop, CANCEL, {"input": cancel}, customer))["cancelOrder"]["userErrors"] == []
    assert (await stored_order(shop, order["id"])).cancelled_minor == 34_900  # the gross price, no tax on top
    assert (await ledger(shop, order["id"]))[-1] == ("VOID", 34_900)

    by_location = {fo["location"]["name"]: fo["id"] for fo in order["fulfillmentOrders"]}
    shipments = []
    for name, captured in (("Sklad Praha", 602_750), ("Prodejna Brno", 72_750)):
        fo = by_location[name]
        assert (await gql(shop, START, {"input": {"fulfillmentOrderId": fo}}, agent))["startFulfillment"][
            "userErrors"
        ] == []
        shipped = (
            await gql(
                shop,
                SHIP,
                {"input": {"fulfillmentOrderId": fo, "carrier": "METRO", "trackingNumber": f"MT-{captured}"}},
                agent,
            )
        )["shipFulfillmentOrder"]
        assert shipped["userErrors"] == []
        shipments.append(shipped["shipment"]["id"])
        assert (await ledger(shop, order["id"]))[-1] == ("CAPTURE", captured)
    captures = [amount for kind, amount in await ledger(shop, order["id"]) if kind == "CAPTURE"]
    assert sum(captures) == 710_400 - 34_900

    for n, shipment in enumerate(shipments):
        event = {"shipmentId": shipment, "status": "DELIVERED", "carrierEventId": f"ev-{n}"}
        assert (await gql(shop, EVENT, {"input": event}, agent))["recordShipmentEvent"]["userErrors"] == []

    wanted = {
        "orderId": order["id"],
        "method": "MAIL",
        "lines": [{"orderLineId": boot["id"], "quantity": 1, "reason": "SIZE_OR_FIT"}],
    }
    requested = (await gql(shop, REQUEST_RETURN, {"input": wanted}, customer))["requestReturn"]
    assert requested["userErrors"] == [], requested
    # 2 999,00 CZK is above the Czech market's automatic approval limit (1 200,00 CZK).
    assert requested["return"]["status"] == "REQUESTED"
    return_id = requested["return"]["id"]
    assert (await gql(shop, APPROVE, {"input": {"returnId": return_id}}, agent))["approveReturn"]["userErrors"] == []
    received = (await gql(shop, RECEIVE, {"input": {"returnId": return_id}}, agent))["receiveReturn"]
    assert received["userErrors"] == []
    assert received["return"]["refundAmount"] == {"amount": "2999.00", "currency": "CZK"}
    assert received["return"]["taxLines"] == [
        {
            "rate": "0.21",
            "taxableAmount": {"amount": "2478.51"},
            "tax": {"amount": "520.49"},
            "total": {"amount": "2999.00"},
        }
    ]
    assert (await ledger(shop, order["id"]))[-1] == ("REFUND", 299_900)
    assert (await stored_order(shop, order["id"])).refunded_minor == 299_900
    return order


CHANGE = (
    "mutation Change($input: UpdateOrderShippingInput!) { updateOrderShipping(input: $input) {"
    " order {" + ORDER_FIELDS + "} userErrors { field message code } } }"
)


async def test_a_saudi_order_has_no_postal_code_and_a_sunday_to_thursday_carrier(market_shop: Api) -> None:  # noqa: F811
    shop = market_shop
    result = await place(shop, "mohammed", lines=(("BOOT", 1),), method="SA_STANDARD", address=RIYADH_ADDRESS)
    assert result["userErrors"] == [], result
    order = result["order"]
    assert order["total"] == {"amount": "474.00", "currency": "SAR"}
    assert order["taxTotal"]["amount"] == "61.83"  # 58.57 in the boot, 3.26 in the shipping
    assert [line["tax"]["amount"] for line in order["lines"]] == ["58.57"]
    assert [(t["rate"], t["tax"]["amount"], t["total"]["amount"]) for t in order["taxLines"]] == [
        ("0.15", "61.83", "474.00")
    ]
    # Friday is no carrier day in Saudi Arabia: it leaves Sunday, two carrier days.
    assert order["promisedDeliveryBy"] == "2026-11-24T17:00:00+00:00"
    address = order["shippingAddress"]
    assert (address["name"], address["line1"], address["city"]) == ("محمد العتيبي", "شارع الملك فهد 123", "الرياض")
    assert (address["postalCode"], address["phone"]) == ("", "+966501234567")

    jeddah = {**RIYADH_ADDRESS, "city": "جدة", "line1": "طريق الملك عبدالعزيز 5"}
    changed = (
        await gql(shop, CHANGE, {"input": {"orderId": order["id"], "shippingAddress": jeddah}}, shop.token("agent"))
    )["updateOrderShipping"]
    assert changed["userErrors"] == [], changed
    assert changed["order"]["total"] == order["total"]
    assert changed["order"]["taxTotal"] == order["taxTotal"]
    assert changed["order"]["shippingAddress"]["city"] == "جدة"
    assert await ledger(shop, order["id"]) == [("AUTHORIZATION", 47_400)]


async def test_an_emirati_order_stores_no_postal_code_and_reprices_within_its_market(market_shop: Api) -> None:  # noqa: F811
    shop = market_shop
    result = await place(shop, "fatima", lines=(("BOOT", 2),), method="AE_STANDARD", address=DUBAI_ADDRESS)
    assert result["userErrors"] == [], result
    order = result["order"]
    assert order["total"] == {"amount": "893.00", "currency": "AED"}
    assert order["taxTotal"]["amount"] == "42.52"  # 41.81 in the boots, 0.71 in the shipping
    assert order["shippingAddress"]["postalCode"] == ""  # "00000" means none: the UAE has no postal codes
    # Friday and Saturday are no carrier days: it leaves Sunday, one carrier day, by 20:00 in Dubai.
    assert order["promisedDeliveryBy"] == "2026-11-23T16:00:00+00:00"

    abu_dhabi = {**DUBAI_ADDRESS, "city": "أبوظبي", "line1": "شارع الكورنيش 1"}
    changed = (
        await gql(shop, CHANGE, {"input": {"orderId": order["id"], "shippingAddress": abu_dhabi}}, shop.token("agent"))
    )["updateOrderShipping"]
    assert changed["userErrors"] == [], changed
    assert changed["order"]["total"] == order["total"]
    assert changed["order"]["shippingAddress"]["city"] == "أبوظبي"

    before = await snapshot(shop)
    riyadh = {**RIYADH_ADDRESS, "phone": None}
    moved = (
        await gql(shop, CHANGE, {"input": {"orderId": order["id"], "shippingAddress": riyadh}}, shop.token("agent"))
    )["updateOrderShipping"]
    assert [(e["code"], e["field"]) for e in moved["userErrors"]] == [
        ("DELIVERY_METHOD_UNAVAILABLE", ["shippingAddress", "country"])
    ]
    assert await snapshot(shop) == before
    assert (await stored_order(shop, order["id"])).ship_city == "أبوظبي"


REFUSALS = [
    # (customer, lines, method, address, code, field)
    ("fatima", (("BOOK", 1),), "AE_STANDARD", DUBAI_ADDRESS, "PRICE_MISSING", ["lines", "0", "sku"]),
    ("mohammed", (("BOOT", 1), ("BOOK", 1)), "SA_STANDARD", RIYADH_ADDRESS, "TAX_RATE_MISSING", ["lines", "1", "sku"]),
    ("alice", (("SKU-1", 1),), "CZ_STANDARD", PRAHA_ADDRESS, "PRICE_MISSING", ["lines", "0", "sku"]),
    ("jiri", (("BOOT", 1),), "STANDARD", PRAHA_ADDRESS, "DELIVERY_METHOD_UNAVAILABLE", ["deliveryMethodCode"]),
    ("alice", (("BOOT", 1),), "CZ_STANDARD", NY_ADDRESS, "DELIVERY_METHOD_UNAVAILABLE", ["deliveryMethodCode"]),
    (
        "jiri",
        (("BOOT", 1),),
        "CZ_STANDARD",
        {**PRAHA_ADDRESS, "country": "FR", "postalCode": "75001", "city": "Paris"},
        "DELIVERY_METHOD_UNAVAILABLE",
        ["shippingAddress", "country"],
    ),
]


async def test_what_a_market_cannot_price_or_tax_is_refused_and_changes_nothing(market_shop: Api) -> None:  # noqa: F811
    shop = market_shop
    before = await snapshot(shop)
    for n, (customer, lines, method, address, code, field) in enumerate(REFUSALS):
        result = await place(shop, customer, lines=lines, method=method, address=address, key=f"r-{n}")
        assert result["order"] is None
        assert [(e["code"], e["field"]) for e in result["userErrors"]] == [(code, field)], (n, result)
    assert await snapshot(shop) == before


US_FIELDS = """
  status subtotal { amount currency } shippingTotal { amount } taxTotal { amount } total { amount currency }
  promisedDeliveryBy pricesIncludeTax market { code }
  taxLines { rate taxableAmount { amount } tax { amount } total { amount } }
  lines { sku quantity taxClass taxRate tax { amount } unitPrice { amount } }
  shippingAddress { name line1 city region postalCode country phone }
"""
US_PLACE = (
    "mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { order {"
    + US_FIELDS
    + "} userErrors { code } } }"
)


async def test_a_us_order_is_the_same_in_a_shop_with_every_market(shop: Api, market_shop: Api) -> None:  # noqa: F811
    variables = {"input": order_input((("SKU-1", 2), ("SKU-2", 3)), "STANDARD", address=NY_ADDRESS)}
    alone = await gql(shop, US_PLACE, variables, shop.token("customer", "alice"))
    among = await gql(market_shop, US_PLACE, variables, market_shop.token("customer", "alice"))
    assert alone == among
    order = alone["placeOrder"]["order"]
    assert order["total"] == {"amount": "294.83", "currency": "USD"}
    assert (order["market"], order["pricesIncludeTax"]) == ({"code": "US"}, False)
    # Tax on top: the tax lines' totals add up to the total, their taxes to the tax total.
    assert order["taxLines"] == [
        {
            "rate": "0.04",
            "taxableAmount": {"amount": "283.49"},
            "tax": {"amount": "11.34"},
            "total": {"amount": "294.83"},
        }
    ]
