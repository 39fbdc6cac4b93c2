"""Who sees what, tested from outside: every rule of resolvers/access.py."""

import json

import pytest
from sqlmodel import select

from ordergraph.models import Customer, CustomerAddress, Order
from ordergraph.schema.node import encode_global_id

ORDER_QUERY = "query($id: ID!) { node(id: $id) { id ... on Order { number } } }"


def _codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_customer_sees_own_order(api):
    order_id = encode_global_id("Order", api.world.orders["alice"][0])
    body = (await api.post(ORDER_QUERY, {"id": order_id}, token=api.token("customer", "alice"))).json()
    assert body["data"]["node"]["id"] == order_id


@pytest.mark.parametrize(
    "type_name", ["Order", "Shipment", "Return", "Payment", "Customer", "OrderLine", "FulfillmentOrder"]
)
async def test_customer_probing_another_customers_ids_learns_nothing(api, type_name):
    alice = api.token("customer", "alice")
    other_id = {
        "Order": api.world.orders["bob"][0],
        "Shipment": api.world.shipments["bob"][0],
        "Return": api.world.returns["bob"][0],
        "Payment": api.world.payments["bob"][0],
        "Customer": api.world.customers["bob"],
        "OrderLine": api.world.order_lines["bob"][0],
        "FulfillmentOrder": api.world.fulfillment_orders["bob"][0],
    }[type_name]
    query = "query($id: ID!) { node(id: $id) { id } }"
    body = (await api.post(query, {"id": encode_global_id(type_name, other_id)}, token=alice)).json()
    assert body["data"] == {"node": None}
    assert "errors" not in body


async def test_an_unknown_id_and_a_forbidden_id_look_the_same(api):
    alice = api.token("customer", "alice")
    forbidden = await api.post(ORDER_QUERY, {"id": encode_global_id("Order", api.world.orders["bob"][0])}, token=alice)
    unknown = await api.post(ORDER_QUERY, {"id": encode_global_id("Order", 10**9)}, token=alice)
    assert forbidden.status_code == unknown.status_code == 200
    assert forbidden.json() == unknown.json()
    assert forbidden.json()["data"] == {"node": None}
    assert "errors" not in forbidden.json()


@pytest.mark.parametrize(
    "query",
    [
        "{ orders(first: 1) { totalCount } }",
        "{ customers(first: 1) { edges { node { id } } } }",
        "{ inventoryLevels(first: 1) { edges { node { sku } } } }",
    ],
)
async def test_customer_cannot_list_across_customers(api, query):
    body = (await api.post(query, token=api.token("customer", "alice"))).json()
    assert _codes(body) == ["FORBIDDEN"]
    assert body["data"] is None


async def test_customer_timeline_and_activity_hold_customer_visible_events_only(api):
    query = """query($id: ID!) { node(id: $id) { ... on Customer {
        activity(first: 100) { edges { node { visibility } } }
        orders(first: 50) { edges { node { timeline(first: 50) { edges { node { visibility } } } } } } } } }"""
    alice = api.world.customers["alice"]
    body = (
        await api.post(query, {"id": encode_global_id("Customer", alice)}, token=api.token("customer", "alice"))
    ).json()
    customer = body["data"]["node"]
    visibilities = {e["node"]["visibility"] for e in customer["activity"]["edges"]}
    for order in customer["orders"]["edges"]:
        visibilities |= {e["node"]["visibility"] for e in order["node"]["timeline"]["edges"]}
    assert visibilities == {"CUSTOMER"}


@pytest.mark.parametrize("query", ["{ me { id } }", "{ orders(first: 1) { totalCount } }", ORDER_QUERY])
async def test_no_token_is_unauthenticated(api, query):
    body = (await api.post(query, {"id": encode_global_id("Order", 1)})).json()
    assert _codes(body) == ["UNAUTHENTICATED"]


async def test_expired_token_is_unauthenticated(api):
    body = (await api.post("{ me { id } }", token=api.token("customer", "alice", ttl=-10))).json()
    assert _codes(body) == ["UNAUTHENTICATED"]
    assert "expired" in body["errors"][0]["message"]


async def test_token_signed_with_another_secret_is_unauthenticated(api):
    body = (
        await api.post("{ me { id } }", token=api.token("agent", secret="not-the-secret-of-this-server-at-all!!"))
    ).json()
    assert _codes(body) == ["UNAUTHENTICATED"]


async def test_products_need_no_token(api):
    body = (await api.post('{ products(skus: ["SKU-1"]) { sku name } }')).json()
    assert body["data"] == {"products": [{"sku": "SKU-1", "name": "Trail Runner"}]}
    assert "errors" not in body


async def test_agent_sees_any_customer_in_full(api):
    body = await api.run(
        "Customer360", {"id": encode_global_id("Customer", api.world.customers["bob"])}, token=api.token("agent")
    )
    customer = body["data"]["node"]
    assert customer["email"] == "bob@example.com"
    assert customer["addresses"]


async def test_analyst_gets_no_personal_data_by_any_path(api):
    analyst = api.token("analyst")
    customer = await api.run(
        "Customer360", {"id": encode_global_id("Customer", api.world.customers["alice"])}, token=analyst
    )
    c = customer["data"]["node"]
    assert (c["name"], c["email"], c["phone"], c["addresses"], c["notificationPreferences"]["phone"]) == (
        None,
        None,
        None,
        [],
        None,
    )
    assert all(o["node"]["shippingAddress"] is None for o in c["orders"]["edges"])
    assert all(
        a["node"]["actor"]["name"] is None for a in c["activity"]["edges"] if a["node"]["actor"]["kind"] == "CUSTOMER"
    )
    detail = await api.run(
        "AgentOrderDetail", {"id": encode_global_id("Order", api.world.orders["alice"][0])}, token=analyst
    )
    order = detail["data"]["node"]
    assert order["customer"] == {"id": c["id"], "name": None, "email": None, "phone": None}
    assert order["shippingAddress"] is None
    assert order["placedBy"] == {"kind": "CUSTOMER", "name": None}
    search = await api.run("SearchOrders", {"first": 5}, token=analyst)
    assert all(e["node"]["customer"]["email"] is None for e in search["data"]["orders"]["edges"])


async def test_analyst_cannot_search_customers_by_personal_data(api):
    body = await api.run("SearchCustomers", {"search": "alice"}, token=api.token("analyst"))
    assert _codes(body) == ["FORBIDDEN"]


async def test_me_is_null_for_staff(api):
    body = (await api.post("{ me { id } }", token=api.token("agent"))).json()
    assert body["data"] == {"me": None}
    assert "errors" not in body


ANALYST_PATHS = """
fragment Person on Customer {
  id name email phone
  addresses { ...Place }
  notificationPreferences { email sms phone }
  orders(first: 10) { edges { node { ...Sale } } }
  activity(first: 10) { edges { node { message actor { kind name } } } }
}
fragment Place on Address { name line1 line2 city region postalCode country phone }
fragment Sale on Order {
  id number shippingAddress { ...Place } placedBy { kind name } customer { id name email phone }
  timeline(first: 10) { edges { node { message actor { kind name } } } }
  returns { rmaNumber labelUrl order { shippingAddress { ...Place } } }
}
query Lists {
  customers(first: 10) { edges { node { ...Person } } }
  orders(first: 50) { edges { node { ...Sale } } }
}
query Node($id: ID!) {
  node(id: $id) { id ... on Customer { ...Person } ... on Order { ...Sale } ... on Return { order { ...Sale } } }
}
"""


async def _personal_data(api) -> set[str]:
    """Every name, email, phone and street the test world holds."""
    values: set[str] = set()
    async with api.db.read() as session:
        for customer in (await session.exec(select(Customer))).all():
            values |= {customer.name, customer.email, customer.phone, customer.sms_phone}
        for address in (await session.exec(select(CustomerAddress))).all():
            values |= {address.name, address.line1, address.line2, address.phone}
        for order in (await session.exec(select(Order))).all():
            values |= {order.ship_name, order.ship_line1, order.ship_line2, order.ship_phone}
    return {v for v in values if v}


async def test_analysts_never_receive_personal_data_through_any_path(api):
    """Every way an analyst can reach a customer or an order: lists, exports, search, `node` on each type,
    the agent console's documents and the BI documents; no response holds a name, email, phone or street."""
    analyst = api.token("analyst")
    personal = await _personal_data(api)
    assert len(personal) >= 8
    world = api.world
    node_ids = [encode_global_id("Customer", i) for i in world.customers.values()] + [
        encode_global_id(type_name, i)
        for type_name, ids in (
            ("Order", world.orders),
            ("Shipment", world.shipments),
            ("Return", world.returns),
            ("Payment", world.payments),
            ("FulfillmentOrder", world.fulfillment_orders),
        )
        for group in ids.values()
        for i in group
    ]

    async def every_path(token: str) -> list[dict]:
        requests = [{"operationName": "Lists"}] + [{"operationName": "Node", "variables": {"id": i}} for i in node_ids]
        bodies = [
            (
                await api.client.post(
                    "/graphql", json={"query": ANALYST_PATHS, **request}, headers={"Authorization": f"Bearer {token}"}
                )
            ).json()
            for request in requests
        ]
        assert all("errors" not in body for body in bodies), [body["errors"] for body in bodies if "errors" in body][:1]
        return bodies

    responses = await every_path(analyst)
    window = {"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    responses += [
        await api.run("OrdersExport", {"first": 500}, token=analyst),
        await api.run("RevenueByDayAndStatus", window, token=analyst),
        await api.run("RevenueByChannelAndLocation", window, token=analyst),
        await api.run("InventoryPosition", {"first": 100}, token=analyst),
        await api.run("SearchOrders", {"first": 100}, token=analyst),
    ]
    for customer_id in world.customers.values():
        responses.append(await api.run("Customer360", {"id": encode_global_id("Customer", customer_id)}, token=analyst))
    for group in world.orders.values():
        for order_id in group:
            responses.append(
                await api.run("AgentOrderDetail", {"id": encode_global_id("Order", order_id)}, token=analyst)
            )
    text = json.dumps(responses)
    assert '"data": null' not in text
    assert sorted(value for value in personal if value in text) == []
    # The same paths give an agent every one of them.
    agent_view = json.dumps(await every_path(api.token("agent")))
    assert sorted(value for value in personal if value not in agent_view) == []
