"""Who sees what, tested from outside: every rule of resolvers/access.py."""

import io
import json
import re

import pypdf
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
        activity(first: 20) { edges { node { visibility } } }
        orders(first: 10) { edges { node { timeline(first: 10) { edges { node { visibility } } } } } } } } }"""
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
  orders(first: 5) { edges { node { ...Sale } } }
  activity(first: 20) { edges { node { type message internalNote visibility actor { kind name } } } }
}
fragment Place on Address { name line1 line2 city region postalCode country phone }
fragment Sale on Order {
  id number holdReason shippingAddress { ...Place } placedBy { kind name } customer { id name email phone }
  lines { sku customization }
  shipments { trackingNumber events { description location } }
  timeline(first: 30) { edges { node { type message internalNote visibility actor { kind name } } } }
  returns { rmaNumber labelUrl lines { orderLine { customization } } order { shippingAddress { ...Place } } }
}
query Customers { customers(first: 5) { edges { node { ...Person } } } }
query Orders { orders(first: 50) { edges { node { ...Sale } } } }
query ByNumber { orders(first: 50, sort: { field: NUMBER, direction: ASC }) { edges { node { ...Sale } } } }
query ByTotal { orders(first: 50, sort: { field: TOTAL, direction: DESC }) { edges { node { ...Sale } } } }
query Node($id: ID!) {
  node(id: $id) {
    id
    ... on Customer { ...Person }
    ... on Order { ...Sale }
    ... on Return { order { ...Sale } }
    ... on OrderLine { customization }
    ... on Shipment { events { description location } }
    ... on FulfillmentOrder { lines { orderLine { customization } } }
  }
}
"""

# Every object an agent can reach, by global ID (the same for both worlds: read from the graph, not the fixtures).
IDS = """
query Ids {
  customers(first: 100) { edges { node { id } } }
  orders(first: 100) {
    edges {
      node {
        id lines { id } shipments { id } returns { id rmaNumber labelUrl } payments { id } fulfillmentOrders { id }
      }
    }
  }
}
"""


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


async def personal_data(api) -> set[str]:
    """Every name, email, phone and street the database holds."""
    values: set[str] = set()
    async with api.db.read() as session:
        for customer in (await session.exec(select(Customer))).all():
            values |= {customer.name, customer.email, customer.phone, customer.sms_phone}
        for address in (await session.exec(select(CustomerAddress))).all():
            values |= {address.name, address.line1, address.line2, address.phone}
        for order in (await session.exec(select(Order))).all():
            values |= {order.ship_name, order.ship_line1, order.ship_line2, order.ship_phone}
    return {v for v in values if v}


def same_shape(term: str) -> str:
    """A string shaped like `term` (letters, digits and the rest where they are) that no record holds."""
    return re.sub(r"[0-9]", "7", re.sub(r"[a-z]", "q", re.sub(r"[A-Z]", "Q", term)))


async def search_probes(api) -> list[str]:
    """What an analyst would try to recover masked data with: each customer's exact email, prefixes of it, the
    name, the first name, the phone; and LIKE wildcards."""
    probes: list[str] = ["%", "_", "%@%", "\\", "a%", "_%_"]
    async with api.db.read() as session:
        for customer in (await session.exec(select(Customer))).all():
            local = customer.email.split("@")[0]
            probes += [customer.email, customer.email[:-3], f"{local}@", local, local[:2], customer.name]
            probes += [customer.name.split()[0], *(p for p in (customer.phone, customer.sms_phone) if p)]
    return list(dict.fromkeys(probes))


async def search(api, term: str, token: str) -> list[dict]:
    """The search paths: the agent console's order and customer search and the BI export, each with `term`; each
    error's `requestId` (new on every request) left out, so that two answers compare."""
    answers = [
        await api.run("SearchOrders", {"first": 100, "filter": {"search": term}}, token=token),
        await api.run("OrdersExport", {"first": 100, "filter": {"search": term}}, token=token),
        await api.run("SearchCustomers", {"search": term}, token=token),
    ]
    for answer in answers:
        for error in answer.get("errors", ()):
            assert error["extensions"].pop("requestId")
    return answers


class Unlimited:
    """A cost limiter that never throttles: the scan asks far more, and far faster, than any caller's budget."""

    async def take(self, caller: str, cost: int, bucket: object) -> float:
        return 0.0


async def assert_analysts_get_none_of(api, secrets: set[str]) -> None:
    """Every path an analyst can take to a value: lists, exports, search, sort keys, `node` on every type,
    timelines, activity, aggregates, the contract's documents, label documents, error messages. No answer holds
    any of `secrets` (names, emails, phones, streets, free text), and search answers a customer's email, a prefix
    of it or a name exactly as a random string of the same shape. The same paths give an agent every secret."""
    guard = api.app.state.services.guard
    kept, guard.cost_limiter = guard.cost_limiter, Unlimited()
    try:
        await _scan(api, secrets)
    finally:
        guard.cost_limiter = kept


async def _scan(api, secrets: set[str]) -> None:
    analyst, agent = api.token("analyst"), api.token("agent")

    ids = (await api.client.post("/graphql", json={"query": IDS}, headers={"Authorization": f"Bearer {agent}"})).json()
    assert "errors" not in ids, ids
    customer_ids = [e["node"]["id"] for e in ids["data"]["customers"]["edges"]]
    orders = [e["node"] for e in ids["data"]["orders"]["edges"]]
    node_ids = customer_ids + [
        i
        for order in orders
        for i in [
            order["id"],
            *(
                x["id"]
                for key in ("lines", "shipments", "returns", "payments", "fulfillmentOrders")
                for x in order[key]
            ),
        ]
    ]
    rma_numbers = [r["rmaNumber"] for order in orders for r in order["returns"]]
    labelled = [r["rmaNumber"] for order in orders for r in order["returns"] if r["labelUrl"]]
    assert labelled

    async def every_path(token: str) -> list[dict]:
        requests = [{"operationName": name} for name in ("Customers", "Orders", "ByNumber", "ByTotal")]
        requests += [{"operationName": "Node", "variables": {"id": i}} for i in node_ids]
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

    async def labels(token: str, rmas: list[str]) -> list[tuple[int, bytes]]:
        headers = {"Authorization": f"Bearer {token}"}
        return [
            ((r := await api.client.get(f"/returns/{rma}/label.pdf", headers=headers)).status_code, r.content)
            for rma in [*rmas, "RMA-NOPE"]
        ]

    responses = await every_path(analyst)
    window = {"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    responses += [
        await api.run("OrdersExport", {"first": 500}, token=analyst),
        await api.run("RevenueByDayAndStatus", window, token=analyst),
        await api.run("RevenueByChannelAndLocation", window, token=analyst),
        await api.run("InventoryPosition", {"first": 100}, token=analyst),
        await api.run("SearchOrders", {"first": 100}, token=analyst),
    ]
    for customer_id in customer_ids:
        responses.append(await api.run("Customer360", {"id": customer_id}, token=analyst))
    for order in orders:
        responses.append(await api.run("AgentOrderDetail", {"id": order["id"]}, token=analyst))
    text = json.dumps(responses, ensure_ascii=False)
    assert '"data": null' not in text
    assert sorted(value for value in secrets if value in text) == []

    # Error messages: every change is refused to analysts before anything is read, and quotes nothing.
    order_id = orders[0]["id"]
    refusals = [
        await api.run(operation, {"input": variables}, token=analyst)
        for operation, variables in (
            ("AgentCancelOrder", {"orderId": order_id, "reason": "x"}),
            ("HoldOrder", {"orderId": order_id, "reason": "x"}),
            ("AddOrderNote", {"orderId": order_id, "message": "x"}),
            ("AgentChangeShipping", {"orderId": order_id, "deliveryMethodCode": "STANDARD"}),
        )
    ]
    assert [[e["extensions"]["code"] for e in body["errors"]] for body in refusals] == [["FORBIDDEN"]] * 4
    assert sorted(value for value in secrets if value in json.dumps(refusals, ensure_ascii=False)) == []

    # Search is no oracle: whatever a term holds, an analyst's answer is that of a random string of its shape
    # (no match at all, or the same refusal), and it is never compared with personal data.
    probes = await search_probes(api)
    for term in probes:
        probed, control = await search(api, term, analyst), await search(api, same_shape(term), analyst)
        assert probed == control, term
        answer = json.dumps(probed, ensure_ascii=False)
        assert sorted(value for value in secrets if value in answer) == [], term
        orders_found = [body["data"]["orders"]["totalCount"] for body in probed[:1] if body.get("data")]
        assert orders_found in ([], [0]), term
    # Identifiers are what analysts may search for.
    number = (await api.run("AgentOrderDetail", {"id": orders[0]["id"]}, token=analyst))["data"]["node"]["number"]
    found = await api.run("SearchOrders", {"first": 5, "filter": {"search": number.lower()}}, token=analyst)
    assert [e["node"]["id"] for e in found["data"]["orders"]["edges"]] == [orders[0]["id"]]

    # Labels print the customer's name and address: refused to analysts, the same for every RMA number.
    refused = await labels(analyst, rma_numbers)
    assert {status for status, _ in refused} == {403}
    assert len({content for _, content in refused}) == 1
    assert json.loads(refused[0][1])["error"] == "FORBIDDEN"

    # The same paths give an agent every one of them.
    agent_view = json.dumps(await every_path(agent), ensure_ascii=False)
    agent_labels = await labels(agent, labelled)
    assert [status for status, _ in agent_labels] == [200] * len(labelled) + [404]
    label_text = "\n".join(pdf_text(content) for _, content in agent_labels[:-1])
    agent_view += label_text
    assert sorted(value for value in secrets if value not in agent_view) == []
    assert any(value in label_text for value in secrets)
    async with api.db.read() as session:
        customers = (await session.exec(select(Customer))).all()
    for customer in customers:  # agents do search by personal data
        (by_email, _, people) = await search(api, customer.email, agent)
        expected = (await api.run("Customer360", {"id": encode_global_id("Customer", customer.id)}, token=agent))[
            "data"
        ]["node"]["orderCount"]
        assert by_email["data"]["orders"]["totalCount"] == expected
        assert [e["node"]["email"] for e in people["data"]["customers"]["edges"]] == [customer.email]


async def test_analysts_never_receive_personal_data_through_any_path(api):
    """Every way an analyst can reach a customer or an order, in the read side's world (see
    tests/access/test_analyst_boundary.py for a world with free text in it)."""
    personal = await personal_data(api)
    assert len(personal) >= 8
    await assert_analysts_get_none_of(api, personal)
