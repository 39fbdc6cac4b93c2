"""The analysts' boundary (resolvers/access.py) in a shop where people wrote things: customisation text, agents'
notes with phone numbers and emails in them, hold, cancellation and rejection reasons, carriers' scan texts, an
SMS phone and a shipping phone. No path an analyst can take shows any of it, nor any name, email, phone or
street, and search is no oracle; agents see all of it on the same paths. Customers see their own free text and
never an internal text. Search terms are literal text everywhere they reach a LIKE pattern."""

import json

import pytest
from conftest import Api
from test_authorization import assert_analysts_get_none_of, personal_data
from test_fulfillment import step
from test_live_harness import LiveClient, serving_on_a_port
from test_placement import NY_ADDRESS, order_input
from test_returns import line_ids

from ordergraph.models import Customer

CUSTOMISATION = "For Zelda, 917-555-0142"
INTERNAL_NOTE = "Zelda called from 917-555-0123, reply to zelda.private@mail.example"
CUSTOMER_NOTE = "We will call you back on 917-555-0177"
HOLD_REASON = "Check with zelda.hold@mail.example first"
CUSTOMER_CANCEL_REASON = "Ordered twice, text me on 917-555-0188"
AGENT_CANCEL_REASON = "Card holder disputes it: 917-555-0199"
REJECT_REASON = "Worn; photos came from zelda.reject@mail.example"
SCAN_DESCRIPTION = "Left with neighbour Zelda at 12 Oak Lane"
SCAN_LOCATION = "12 Oak Lane, porch"
SMS_PHONE = "+19175550111"
SHIP_PHONE = "+19175550122"

FREE_TEXT = {
    CUSTOMISATION,
    INTERNAL_NOTE,
    CUSTOMER_NOTE,
    HOLD_REASON,
    CUSTOMER_CANCEL_REASON,
    AGENT_CANCEL_REASON,
    REJECT_REASON,
    SCAN_DESCRIPTION,
    SCAN_LOCATION,
}
# What the free text holds that must not leak even quoted in part.
QUOTED = {
    "917-555-0142",
    "917-555-0123",
    "zelda.private@mail.example",
    "917-555-0177",
    "zelda.hold@mail.example",
    "917-555-0188",
    "917-555-0199",
    "zelda.reject@mail.example",
    "12 Oak Lane",
}


async def placed(shop: Api, customer: str, key: str, lines: list[dict]) -> str:
    variables = order_input(key=key, address={**NY_ADDRESS, "phone": SHIP_PHONE})
    variables["lines"] = lines
    body = await shop.run("PlaceOrder", {"input": variables}, token=shop.token("customer", customer))
    assert "errors" not in body, body
    assert body["data"]["placeOrder"]["userErrors"] == [], body
    return body["data"]["placeOrder"]["order"]["id"]


async def write_free_text(shop: Api) -> dict[str, str]:
    """Every kind of text people write, on orders of Alice and Bob; returns their global IDs by purpose."""
    alice, agent = shop.token("customer", "alice"), shop.token("agent")
    preferences = await shop.run(
        "UpdateMyNotificationPreferences", {"input": {"sms": True, "phone": SMS_PHONE}}, token=alice
    )
    assert preferences["data"]["updateNotificationPreferences"]["userErrors"] == [], preferences

    held = await placed(
        shop,
        "alice",
        "k-held",
        [{"sku": "MUG", "quantity": 1, "customization": CUSTOMISATION}, {"sku": "SKU-2", "quantity": 1}],
    )
    await step(shop, "AddOrderNote", {"orderId": held, "message": INTERNAL_NOTE})
    await step(shop, "AddOrderNote", {"orderId": held, "message": CUSTOMER_NOTE, "visibility": "CUSTOMER"})
    await step(shop, "HoldOrder", {"orderId": held, "reason": HOLD_REASON})

    cancelled = await placed(shop, "alice", "k-cancelled", [{"sku": "SKU-1", "quantity": 1}])
    await step(shop, "CancelMyOrder", {"orderId": cancelled, "reason": CUSTOMER_CANCEL_REASON}, token=alice)
    disputed = await placed(shop, "bob", "k-disputed", [{"sku": "SKU-2", "quantity": 2}])
    await step(shop, "AgentCancelOrder", {"orderId": disputed, "reason": AGENT_CANCEL_REASON}, token=agent)

    delivered = await placed(
        shop, "alice", "k-delivered", [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 1}]
    )
    order = (
        await shop.post(
            "query($id: ID!) { node(id: $id) { ... on Order { fulfillmentOrders { id } } } }",
            {"id": delivered},
            token=agent,
        )
    ).json()
    for n, fo in enumerate(order["data"]["node"]["fulfillmentOrders"]):
        await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo["id"]})
        shipped = await step(
            shop,
            "ShipFulfillmentOrder",
            {"fulfillmentOrderId": fo["id"], "carrier": "UPS", "trackingNumber": f"1ZFREE{n}"},
        )
        await step(
            shop,
            "RecordShipmentEvent",
            {
                "shipmentId": shipped["shipment"]["id"],
                "status": "DELIVERED",
                "carrierEventId": f"free-{n}",
                "description": SCAN_DESCRIPTION,
                "location": SCAN_LOCATION,
            },
        )
    lines = await line_ids(shop, delivered)
    for sku in ("SKU-2", "SKU-1"):  # the socks are approved at once (a label); the shoes wait for an agent
        requested = await step(
            shop,
            "RequestReturn",
            {
                "orderId": delivered,
                "method": "MAIL",
                "lines": [{"orderLineId": lines[sku], "quantity": 1, "reason": "SIZE_OR_FIT"}],
            },
            token=alice,
        )
        assert requested["userErrors"] == [], requested
    rejected = (
        await shop.post(
            "mutation($input: RejectReturnInput!) { rejectReturn(input: $input) { userErrors { code } } }",
            {"input": {"returnId": requested["return"]["id"], "reason": REJECT_REASON}},
            token=agent,
        )
    ).json()
    assert rejected["data"]["rejectReturn"]["userErrors"] == [], rejected
    return {"held": held, "cancelled": cancelled, "disputed": disputed, "delivered": delivered}


async def test_analysts_get_no_personal_data_and_no_free_text_through_any_path(shop: Api) -> None:
    """The scan of tests/access/test_authorization.py (every path, search as an oracle, label documents, and the agent
    control run) over a shop holding every kind of free text."""
    await write_free_text(shop)
    personal = await personal_data(shop)
    assert {SMS_PHONE, SHIP_PHONE, "Alice Shopper", "alice@shop.example", "10 Main St"} <= personal
    await assert_analysts_get_none_of(shop, personal | FREE_TEXT | QUOTED)


CUSTOMER_VIEW = """
query($id: ID!) { node(id: $id) { ... on Order {
  holdReason
  lines { customization }
  shipments { events { description location } }
  timeline(first: 50) { edges { node { type message visibility } } }
} } }
"""


async def test_customers_see_their_own_free_text_and_no_internal_text(shop: Api) -> None:
    orders = await write_free_text(shop)
    alice = shop.token("customer", "alice")
    views = {}
    for purpose in ("held", "cancelled", "delivered"):
        body = (await shop.post(CUSTOMER_VIEW, {"id": orders[purpose]}, token=alice)).json()
        assert "errors" not in body, body
        views[purpose] = body["data"]["node"]
    seen = json.dumps(views, ensure_ascii=False)
    # Their own words and what agents wrote for them.
    for text in (CUSTOMISATION, CUSTOMER_NOTE, REJECT_REASON, SCAN_DESCRIPTION, SCAN_LOCATION):
        assert text in seen, text
    # Never internal text, written for agents: the hold reason (holdReason is null while the order is held),
    # internal notes, and a cancellation's free-text reason (kept for agents, even when the customer wrote it).
    assert views["held"]["holdReason"] is None
    for text in (HOLD_REASON, INTERNAL_NOTE, CUSTOMER_CANCEL_REASON):
        assert text not in seen, text
    assert {e["node"]["visibility"] for view in views.values() for e in view["timeline"]["edges"]} == {"CUSTOMER"}
    # An agent sees the hold reason.
    agent_view = (await shop.post(CUSTOMER_VIEW, {"id": orders["held"]}, token=shop.token("agent"))).json()
    assert agent_view["data"]["node"]["holdReason"] == HOLD_REASON
    # Bob learns nothing of Alice's orders.
    bob = (await shop.post(CUSTOMER_VIEW, {"id": orders["held"]}, token=shop.token("customer", "bob"))).json()
    assert bob["data"] == {"node": None}
    assert "errors" not in bob
    # Alice's own label is hers to download; Bob's answer is that of an unknown RMA number.
    returns = (
        await shop.post(
            "query($id: ID!) { node(id: $id) { ... on Order { returns { rmaNumber labelUrl } } } }",
            {"id": orders["delivered"]},
            token=alice,
        )
    ).json()["data"]["node"]["returns"]
    (url,) = [r["labelUrl"] for r in returns if r["labelUrl"]]
    assert (await shop.client.get(url, headers={"Authorization": f"Bearer {alice}"})).status_code == 200
    as_bob = await shop.client.get(url, headers={"Authorization": f"Bearer {shop.token('customer', 'bob')}"})
    assert as_bob.status_code == 404


async def test_analysts_cannot_watch_live_events(shop: Api) -> None:
    """Live order events are for agents and each order's customer; an agent's feed carries the free text."""
    orders = await write_free_text(shop)
    analyst, agent = shop.token("analyst"), shop.token("agent")
    async with serving_on_a_port(shop.app) as url:
        async with LiveClient.connect(url, analyst) as client:
            for operation, variables in (
                ("LiveOrderEvents", {"after": "0"}),
                ("WatchOrder", {"id": orders["held"], "after": "0"}),
                ("MyOrderUpdates", {"after": "0"}),
            ):
                stream = await client.subscribe(operation, variables)
                refused = await stream.message()
                assert refused["type"] == "error", refused
                assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN", refused
        async with LiveClient.connect(url, agent) as client:
            feed = await client.subscribe("WatchOrder", {"id": orders["held"], "after": "0"})
            events = []
            while not events or events[-1]["type"] != "ORDER_HELD":
                events.append(await feed.next())
    assert [e["type"] for e in events][-3:] == ["ORDER_NOTE_ADDED", "ORDER_NOTE_ADDED", "ORDER_HELD"]


@pytest.mark.parametrize(
    ("term", "names"),
    [
        ("%", ["Percent 100% Sure"]),
        ("100%", ["Percent 100% Sure"]),
        ("%Sure", []),  # a wildcard would match "Percent 100% Sure"
        ("_", ["Under_Score"]),
        ("e_S", []),  # a wildcard would match "Alice Shopper", "Newbie Shopper" and "Under_Score"
        ("r_S", ["Under_Score"]),
        ("\\", ["Back\\Slash"]),
        ("k\\S", ["Back\\Slash"]),
        ("%%", []),
        ("shopper", ["Alice Shopper", "Bob Shopper", "Newbie Shopper"]),
    ],
)
async def test_search_terms_are_literal_text(shop: Api, term: str, names: list[str]) -> None:
    async with shop.db.write() as session:
        session.add_all(
            [
                Customer(name="Percent 100% Sure", email="percent@other.example"),
                Customer(name="Under_Score", email="under@other.example"),
                Customer(name="Back\\Slash", email="back@other.example"),
            ]
        )
    agent = shop.token("agent")
    customers = await shop.run("SearchCustomers", {"search": term}, token=agent)
    assert sorted(e["node"]["name"] for e in customers["data"]["customers"]["edges"]) == names
    await placed(shop, "alice", "k-1", [{"sku": "SKU-1", "quantity": 1}])
    orders = await shop.run("SearchOrders", {"first": 10, "filter": {"search": term}}, token=agent)
    expected = 1 if "Alice Shopper" in names else 0
    assert orders["data"]["orders"]["totalCount"] == expected
