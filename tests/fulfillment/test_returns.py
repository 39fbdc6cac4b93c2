"""Returns through the API: requestReturn's eligibility (and returnableLines agreeing with it), approval and
rejection, receipt with restocking and refunds of partial captures, and the printable label."""

import io
from datetime import timedelta

import pypdf
import sqlalchemy as sa
from conftest import Api
from factories import NOW
from test_fulfillment import detail, split_order, step
from test_order_changes import db_id
from test_placement import place, reserved

from ordergraph.models import Order, Payment, Return
from ordergraph.models.enums import ReturnMethod
from ordergraph.resolvers.access import Role, Viewer
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.return_labels import label_path, return_label
from ordergraph.schema.node import encode_global_id

MY_ORDER = """
query($id: ID!) { node(id: $id) { ... on Order {
  status
  returnableLines { orderLine { sku } quantity }
  lines { sku quantityDelivered quantityReturned }
  payments { status capturedAmount { amount } refundedAmount { amount } }
  returns { id status method refundAmount { amount } lines { orderLine { sku } quantity reason } }
  timeline(first: 100) { edges { node { type } } }
} } }
"""


async def my_order(shop: Api, order_id: str, customer: str = "alice") -> dict:
    body = (await shop.post(MY_ORDER, {"id": order_id}, token=shop.token("customer", customer))).json()
    assert "errors" not in body, body
    return body["data"]["node"]


REJECT = (
    "mutation($input: RejectReturnInput!) { rejectReturn(input: $input) { return { status } userErrors { code } } }"
)


def returnable(order: dict) -> dict[str, int]:
    return {line["orderLine"]["sku"]: line["quantity"] for line in order["returnableLines"]}


def payment(order: dict) -> tuple[str, str, str]:
    (p,) = order["payments"]
    return p["status"], p["capturedAmount"]["amount"], p["refundedAmount"]["amount"]


async def deliver(shop: Api, order_id: str, *, event_id: str = "d") -> None:
    """Every fulfillment order of a shipped order starts, ships and is delivered, through the API."""
    for n, fo in enumerate((await detail(shop, order_id))["fulfillmentOrders"]):
        await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo["id"]})
        shipped = await step(
            shop, "ShipFulfillmentOrder", {"fulfillmentOrderId": fo["id"], "carrier": "UPS", "trackingNumber": f"1Z{n}"}
        )
        delivered = await step(
            shop,
            "RecordShipmentEvent",
            {"shipmentId": shipped["shipment"]["id"], "status": "DELIVERED", "carrierEventId": f"{event_id}-{n}"},
        )
        assert delivered["shipment"]["status"] == "DELIVERED"


async def request(
    shop: Api, order_id: str, lines: list[tuple[str, int]], *, method: str = "MAIL", token: str | None = None, **extra
) -> dict:
    """requestReturn for (sku, quantity) lines of the order, as the customer unless a token is given."""
    ids = await line_ids(shop, order_id)
    variables = {
        "orderId": order_id,
        "method": method,
        **extra,
        "lines": [{"orderLineId": ids[sku], "quantity": q, "reason": "SIZE_OR_FIT"} for sku, q in lines],
    }
    body = await shop.run("RequestReturn", {"input": variables}, token=token or shop.token("customer", "alice"))
    assert "errors" not in body, body
    return body["data"]["requestReturn"]


async def line_ids(shop: Api, order_id: str) -> dict[str, str]:
    body = (
        await shop.post(
            "query($id: ID!) { node(id: $id) { ... on Order { lines { id sku } } } }",
            {"id": order_id},
            token=shop.token("agent"),
        )
    ).json()
    return {line["sku"]: line["id"] for line in body["data"]["node"]["lines"]}


async def return_count(shop: Api) -> int:
    async with shop.db.read() as session:
        return (await session.exec(sa.select(sa.func.count()).select_from(Return))).one()[0]


def context(shop: Api, viewer: Viewer) -> RequestContext:
    services = shop.app.state.services
    return RequestContext(
        viewer=viewer,
        loaders=None,
        read=shop.db.read,
        write=shop.db.write,
        ports=services.ports,
        clock=services.clock,
        max_page_size=100,
        return_window=timedelta(days=30),
        return_auto_approve_max_minor=5_000,
        client_address=None,
    )


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


async def test_only_delivered_units_within_the_window_and_not_yet_in_a_return(shop: Api) -> None:
    order_id = (await place(shop, lines=(("SKU-1", 2), ("SKU-2", 3))))["order"]["id"]
    assert returnable(await my_order(shop, order_id)) == {}
    undelivered = await request(shop, order_id, [("SKU-2", 1)])
    assert [e["code"] for e in undelivered["userErrors"]] == ["NOT_RETURNABLE"]
    assert undelivered["return"] is None

    await deliver(shop, order_id)
    shop.set_clock(NOW + timedelta(days=5))
    assert returnable(await my_order(shop, order_id)) == {"SKU-1": 2, "SKU-2": 3}
    before = await return_count(shop)
    refusals = [
        ([("SKU-1", 3)], {}, "INVALID_QUANTITY"),  # more than the line has
        ([("SKU-1", 0)], {}, "INVALID_QUANTITY"),
        ([("SKU-2", 2), ("SKU-2", 2)], {}, "INVALID_QUANTITY"),  # 4 of a line of 3, over two entries
        ([("SKU-2", 1)], {"method": "STORE_DROP_OFF"}, "DROP_OFF_LOCATION_INVALID"),
        (
            [("SKU-2", 1)],
            {
                "method": "STORE_DROP_OFF",
                "dropOffLocationId": encode_global_id("Location", shop.world.locations["newark"]),
            },
            "DROP_OFF_LOCATION_INVALID",
        ),
        (
            [("SKU-2", 1)],
            {"dropOffLocationId": encode_global_id("Location", shop.world.locations["brooklyn"])},
            "INVALID_INPUT",
        ),
        ([], {}, "INVALID_INPUT"),
    ]
    for lines, extra, code in refusals:
        refused = await request(shop, order_id, lines, **extra)
        assert [e["code"] for e in refused["userErrors"]] == [code], (lines, extra)
    assert await return_count(shop) == before

    # 2 socks: 25.00 + 1.00 tax, within the 50.00 auto-approval limit.
    first = await request(shop, order_id, [("SKU-2", 2)])
    assert first["userErrors"] == []
    assert first["return"]["status"] == "APPROVED"
    assert first["return"]["method"] == "MAIL"
    assert first["return"]["refundAmount"] is None  # known once received
    assert first["return"]["lines"] == [
        {
            "orderLine": {"id": (await line_ids(shop, order_id))["SKU-2"], "sku": "SKU-2"},
            "quantity": 2,
            "reason": "SIZE_OR_FIT",
        }
    ]
    assert returnable(await my_order(shop, order_id)) == {"SKU-1": 2, "SKU-2": 1}
    contract = await shop.run("MyOrderDetail", {"id": order_id}, token=shop.token("customer", "alice"))
    assert {line["orderLine"]["sku"]: line["quantity"] for line in contract["data"]["node"]["returnableLines"]} == {
        "SKU-1": 2,
        "SKU-2": 1,
    }
    again = await request(shop, order_id, [("SKU-2", 2)])  # a second return for the same units
    assert [e["code"] for e in again["userErrors"]] == ["NOT_RETURNABLE"]
    assert "1 unit(s) of SKU-2" in again["userErrors"][0]["message"]
    last = await request(shop, order_id, [("SKU-2", 1)])
    assert last["return"]["status"] == "APPROVED"
    assert returnable(await my_order(shop, order_id)) == {"SKU-1": 2}

    # A customer on another customer's order: refused like an unknown order. Analysts cannot at all.
    bob = await request(shop, order_id, [("SKU-1", 1)], token=shop.token("customer", "bob"))
    assert bob == {
        "return": None,
        "userErrors": [{"field": ["orderId"], "message": "No such order.", "code": "NOT_FOUND"}],
    }
    analyst = await shop.run(
        "RequestReturn", {"input": {"orderId": order_id, "method": "MAIL", "lines": []}}, token=shop.token("analyst")
    )
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # 30 days after delivery the window closes, for returnableLines and requestReturn alike.
    shop.set_clock(NOW + timedelta(days=31))
    assert returnable(await my_order(shop, order_id)) == {}
    late = await request(shop, order_id, [("SKU-1", 1)])
    assert [e["code"] for e in late["userErrors"]] == ["RETURN_WINDOW_CLOSED"]
    # An agent may return on the customer's behalf, under the same rule.
    shop.set_clock(NOW + timedelta(days=29))
    by_agent = await request(shop, order_id, [("SKU-1", 2)], token=shop.token("agent"))
    assert by_agent["return"]["status"] == "REQUESTED"  # 249.60 is above the auto-approval limit
    assert returnable(await my_order(shop, order_id)) == {}


async def test_a_split_order_is_returned_in_parts_with_refunds_restocking_and_labels(shop: Api) -> None:
    order_id, newark_fo, brooklyn_fo = await split_order(shop)
    for fo in (newark_fo, brooklyn_fo):
        await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo})
    shipped = await step(
        shop, "ShipFulfillmentOrder", {"fulfillmentOrderId": newark_fo, "carrier": "UPS", "trackingNumber": "1Z1"}
    )
    await step(
        shop,
        "RecordShipmentEvent",
        {"shipmentId": shipped["shipment"]["id"], "status": "DELIVERED", "carrierEventId": "d1"},
    )
    agent = shop.token("agent")

    # Only the shipped part has been paid for (168.78 captured); the pickup unit is not delivered yet.
    order = await my_order(shop, order_id)
    assert returnable(order) == {"SKU-1": 1, "SKU-2": 3}
    assert payment(order) == ("PARTIALLY_CAPTURED", "168.78", "0.00")
    not_yet = await request(shop, order_id, [("SKU-1", 2)])
    assert [e["code"] for e in not_yet["userErrors"]] == ["NOT_RETURNABLE"]

    # 1. One sock back by mail, auto-approved (12.50 + 0.50 tax): refunded out of the partial capture.
    socks = (await request(shop, order_id, [("SKU-2", 1)]))["return"]
    assert socks["status"] == "APPROVED"
    received = (await shop.run("ReceiveReturn", {"input": {"returnId": socks["id"]}}, token=agent))["data"][
        "receiveReturn"
    ]
    assert received["userErrors"] == []
    assert received["return"]["status"] == "REFUNDED"
    assert received["return"]["refundAmount"]["amount"] == "13.00"
    assert received["return"]["order"]["status"] == "PARTIALLY_SHIPPED"
    assert received["return"]["order"]["payments"] == [
        {"status": "PARTIALLY_REFUNDED", "refundedAmount": {"amount": "13.00", "currency": "USD"}}
    ]
    assert await reserved(shop, "SKU-2", "newark") == (198, 0)  # 197 after shipping, one back on the shelf

    # The pickup unit is collected afterwards: the rest of the authorisation is still captured in full.
    await step(shop, "MarkReadyForPickup", {"fulfillmentOrderId": brooklyn_fo})
    await step(shop, "ConfirmPickup", {"fulfillmentOrderId": brooklyn_fo})
    order = await my_order(shop, order_id)
    assert order["status"] == "DELIVERED"
    assert payment(order) == ("PARTIALLY_REFUNDED", "294.83", "13.00")
    assert returnable(order) == {"SKU-1": 2, "SKU-2": 2}

    # 2. Both trail runners by mail (249.60: waits for an agent); only one arrives.
    runners = (await request(shop, order_id, [("SKU-1", 2)]))["return"]
    assert runners["status"] == "REQUESTED"
    assert runners["method"] == "MAIL"
    pending = await shop.run("ReceiveReturn", {"input": {"returnId": runners["id"]}}, token=agent)
    assert pending["data"]["receiveReturn"]["userErrors"][0]["code"] == "INVALID_TRANSITION"  # not approved yet
    refused = await shop.run(
        "ApproveReturn", {"input": {"returnId": runners["id"]}}, token=shop.token("customer", "alice")
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    approved = (await shop.run("ApproveReturn", {"input": {"returnId": runners["id"]}}, token=agent))["data"][
        "approveReturn"
    ]
    assert approved["userErrors"] == []
    assert approved["return"]["status"] == "APPROVED"

    stored = await _stored_return(shop, runners["id"])
    assert label_path(stored) == f"/returns/{stored.rma_number}/label.pdf"
    url = approved["return"]["labelUrl"]
    assert url == label_path(stored)
    response = await shop.client.get(url, headers={"Authorization": f"Bearer {shop.token('customer', 'alice')}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    label = response.content
    pages, text = pdf_text(label)
    assert pages == 1
    assert label.startswith(b"%PDF-")
    assert stored.rma_number in text
    assert "RETURN LABEL" in text
    assert "Newark Warehouse" in text  # where the shipped unit came from receives the parcel
    assert "10 Main St" in text
    assert "New York, NY 10001" in text
    # Another customer learns nothing: the same answer as for an RMA number that does not exist.
    as_bob = await shop.client.get(url, headers={"Authorization": f"Bearer {shop.token('customer', 'bob')}"})
    unknown = await shop.client.get(
        "/returns/RMA-NOPE/label.pdf", headers={"Authorization": f"Bearer {shop.token('customer', 'alice')}"}
    )
    assert as_bob.status_code == unknown.status_code == 404
    assert as_bob.content == unknown.content
    assert (await shop.client.get(url)).status_code == 401

    line = (await line_ids(shop, order_id))["SKU-1"]
    for code, lines in (
        ("INVALID_QUANTITY", [{"orderLineId": line, "quantity": 3}]),
        ("INVALID_QUANTITY", [{"orderLineId": line, "quantity": 0}]),
        ("NOT_FOUND", [{"orderLineId": (await line_ids(shop, order_id))["SKU-2"], "quantity": 1}]),
    ):
        bad = await shop.run("ReceiveReturn", {"input": {"returnId": runners["id"], "lines": lines}}, token=agent)
        assert bad["data"]["receiveReturn"]["userErrors"][0]["code"] == code, lines
    one = await shop.run(
        "ReceiveReturn",
        {"input": {"returnId": runners["id"], "lines": [{"orderLineId": line, "quantity": 1}]}},
        token=agent,
    )
    ret = one["data"]["receiveReturn"]["return"]
    # 120.00 and half the line's 9.60 tax; shipping is not refunded.
    assert ret["status"] == "REFUNDED"
    assert ret["refundAmount"]["amount"] == "124.80"
    assert ret["order"]["payments"][0]["refundedAmount"]["amount"] == "137.80"
    assert await reserved(shop, "SKU-1", "newark") == (100, 0)
    order = await my_order(shop, order_id)
    assert {line["sku"]: line["quantityReturned"] for line in order["lines"]} == {"SKU-1": 1, "SKU-2": 1}
    assert order["status"] == "DELIVERED"
    assert returnable(order) == {"SKU-1": 1, "SKU-2": 2}  # the runner that never came back may still be returned

    # 3. The rest dropped off in Brooklyn: one sock damaged, so not restocked.
    brooklyn = encode_global_id("Location", shop.world.locations["brooklyn"])
    rest = (
        await request(shop, order_id, [("SKU-1", 1), ("SKU-2", 2)], method="STORE_DROP_OFF", dropOffLocationId=brooklyn)
    )["return"]
    assert rest["status"] == "REQUESTED"
    assert rest["dropOffLocation"]["name"] == "Brooklyn Store"
    assert rest["labelUrl"] is None
    stored = await _stored_return(shop, rest["id"])
    assert label_path(stored) is None  # the store scans the pass's code instead of a mailed label
    await shop.run("ApproveReturn", {"input": {"returnId": rest["id"]}}, token=agent)
    pages, text = pdf_text(await return_label(context(shop, Viewer(role=Role.AGENT)), stored.rma_number))
    assert pages == 1
    assert stored.rma_number in text
    assert "Brooklyn Store" in text
    assert "STORE DROP-OFF" in text
    ids = await line_ids(shop, order_id)
    body = await shop.run(
        "ReceiveReturn",
        {
            "input": {
                "returnId": rest["id"],
                "lines": [
                    {"orderLineId": ids["SKU-1"], "quantity": 1},
                    {"orderLineId": ids["SKU-2"], "quantity": 1},
                    {"orderLineId": ids["SKU-2"], "quantity": 1, "sellable": False},
                ],
            }
        },
        token=agent,
    )
    ret = body["data"]["receiveReturn"]["return"]
    # 124.80 for the runner (the rest of its tax), 26.00 for two socks with their 1.00 tax.
    assert ret["refundAmount"]["amount"] == "150.80"
    assert ret["order"]["status"] == "RETURNED"  # every delivered unit is back
    assert ret["order"]["payments"] == [
        {"status": "PARTIALLY_REFUNDED", "refundedAmount": {"amount": "288.60", "currency": "USD"}}
    ]
    assert await reserved(shop, "SKU-1", "brooklyn") == (5, 0)  # 4 after the pickup, one back
    assert await reserved(shop, "SKU-2", "brooklyn") == (1, 0)  # a new stock line there: one sellable sock
    order = await my_order(shop, order_id)
    assert returnable(order) == {}
    assert [e["node"]["type"] for e in order["timeline"]["edges"]][-4:] == [
        "RETURN_REQUESTED",
        "RETURN_APPROVED",
        "RETURN_RECEIVED",
        "REFUND_ISSUED",
    ]
    async with shop.db.read() as session:
        stored_order = await session.get(Order, db_id(order_id))
        (stored_payment,) = (
            (await session.exec(sa.select(Payment).where(Payment.order_id == stored_order.id))).scalars().all()
        )
    # Refunded no more than captured; what the customer paid in the end is the shipping they kept (5.99 + 0.24).
    assert stored_order.refunded_minor == stored_payment.refunded_minor == 28_860
    assert stored_payment.captured_minor - stored_payment.refunded_minor == 623


async def test_rejected_returns_free_their_units_and_steps_out_of_order_are_refused(shop: Api) -> None:
    order_id = (await place(shop, lines=(("SKU-1", 1),)))["order"]["id"]
    await deliver(shop, order_id)
    agent = shop.token("agent")
    ret = (await request(shop, order_id, [("SKU-1", 1)]))["return"]
    assert ret["status"] == "REQUESTED"
    assert returnable(await my_order(shop, order_id)) == {}
    blank = (await shop.post(REJECT, {"input": {"returnId": ret["id"], "reason": " "}}, token=agent)).json()
    assert blank["data"]["rejectReturn"] == {"return": None, "userErrors": [{"code": "INVALID_INPUT"}]}
    by_customer = (
        await shop.post(
            REJECT, {"input": {"returnId": ret["id"], "reason": "x"}}, token=shop.token("customer", "alice")
        )
    ).json()
    assert by_customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    rejected = (
        await shop.post(REJECT, {"input": {"returnId": ret["id"], "reason": "Worn outdoors"}}, token=agent)
    ).json()
    assert rejected["data"]["rejectReturn"] == {"return": {"status": "REJECTED"}, "userErrors": []}
    for operation in ("ApproveReturn", "ReceiveReturn"):
        body = await shop.run(operation, {"input": {"returnId": ret["id"]}}, token=agent)
        assert next(iter(body["data"].values()))["userErrors"][0]["code"] == "INVALID_TRANSITION", operation
    assert returnable(await my_order(shop, order_id)) == {"SKU-1": 1}
    timeline = [e["node"]["type"] for e in (await my_order(shop, order_id))["timeline"]["edges"]]
    assert timeline[-2:] == ["RETURN_REQUESTED", "RETURN_REJECTED"]
    unknown = await shop.run("ApproveReturn", {"input": {"returnId": encode_global_id("Return", 999_999)}}, token=agent)
    assert unknown["data"]["approveReturn"]["userErrors"][0]["code"] == "NOT_FOUND"


async def _stored_return(shop: Api, return_id: str) -> Return:
    async with shop.db.read() as session:
        return await session.get(Return, db_id(return_id))


def test_the_label_is_one_page_with_the_rma_number() -> None:
    from ordergraph.resolvers.return_labels import LabelItem, render_return_label

    data = render_return_label(
        rma_number="RMA-0000ABCD",
        method=ReturnMethod.MAIL,
        order_number="OG-1",
        ship_from=["Alice Shopper", "10 Main St", "New York, NY 10001", "US"],
        ship_to=["Newark Warehouse", "1 Commerce St", "Newark, NJ 07114", "US"],
        items=[LabelItem("SKU-1", "Trail Runner", n) for n in range(1, 12)],
    )
    pages, text = pdf_text(data)
    assert pages == 1
    assert "RMA-0000ABCD" in text
    assert "and 3 more line(s)" in text
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert reader.metadata.title == "RETURN LABEL RMA-0000ABCD"
