"""The customer result cache (schema/result_cache.py): a customer's repeated query costs one SQL statement, and
no answer is served after a change it does not show has committed.

Freshness is checked against the truth: the same document with a comment added is another cache key, so it
always executes."""

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import Api
from contract import document
from factories import NOW
from test_fulfillment import detail, step
from test_placement import NEW_ADDRESS, order_input, place
from test_returns import REJECT, line_ids

from ordergraph.models import OrderEvent
from ordergraph.schema.node import encode_global_id
from ordergraph.schema.result_cache import Entry, ResultStore
from ordergraph.server.carrier_webhooks import SIGNATURE_HEADER, signature

HISTORY = document("MyOrderHistory")
ACCOUNT = """
query MyAccount($id: ID!) {
  me {
    notificationPreferences { email sms phone }
    orderCount
    lifetimeValue { amount currency }
    activity(first: 50) { edges { node { type message } } }
  }
  node(id: $id) { ... on Order {
    status
    holdReason
    canCancel
    canChangeShipping
    shippingAddress { line1 postalCode }
    payments { status capturedAmount { amount } refundedAmount { amount } }
    fulfillmentOrders { status location { name } }
    shipments { status events { status description } }
    returns { status labelUrl refundAmount { amount } lines { quantity reason } }
    timeline(first: 50) { edges { node { type message actor { kind name } } } }
  } }
}
"""
TIMELINE = "query($id: ID!) { node(id: $id) { ... on Order { timeline(first: 9) { edges { node { visibility } } } } } }"
SHIPMENTS = "query($id: ID!) { node(id: $id) { ... on Order { shipments { id } } } }"
RETURNS = "query($id: ID!) { node(id: $id) { ... on Order { returns { id status } } } }"

_uncached = itertools.count()


async def respond(shop: Api, query: str, variables: dict, token: str) -> tuple[bytes, list[str]]:
    """The response's bytes and the SQL statements (transaction control left out) it took."""
    with shop.statements() as executed:
        response = await shop.post(query, variables, token=token)
    assert response.status_code == 200, response.text
    return response.content, [s for s in executed if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


async def answer(shop: Api, query: str, variables: dict, token: str) -> tuple[dict, list[str]]:
    content, statements = await respond(shop, query, variables, token)
    return json.loads(content), statements


def is_version_read(statement: str) -> bool:
    return "order_event" in statement and "shipment_event" in statement


async def truth(shop: Api, query: str, variables: dict, token: str) -> dict:
    """What executing the query returns now (a comment makes it a key never seen before)."""
    body, _ = await answer(shop, f"{query}\n# uncached {next(_uncached)}", variables, token)
    return body


async def cached(shop: Api, query: str, variables: dict, token: str) -> dict:
    """The query's data, answered the second time from the cache: one statement, the customer's version."""
    await answer(shop, query, variables, token)
    body, statements = await answer(shop, query, variables, token)
    assert "errors" not in body, body
    assert len(statements) == 1, statements
    assert is_version_read(statements[0]), statements
    return body["data"]


class Unlimited:
    """A cost limiter that never throttles: the freshness checks ask far more than a customer's budget allows."""

    async def take(self, caller: str, cost: int, bucket: object) -> float:
        return 0.0


class Views:
    """What a customer's SPA shows of one order: their history and the order with its timeline."""

    def __init__(self, shop: Api, customer: str, order_id: str) -> None:
        shop.app.state.services.guard.cost_limiter = Unlimited()
        self.shop = shop
        self.token = shop.token("customer", customer)
        self.queries = [(HISTORY, {"first": 20}), (ACCOUNT, {"id": order_id})]

    async def changed_by(self, what: str, change: Awaitable[object]) -> None:
        """Cache the views, make the change, and check the next answers are the truth, and show the change."""
        before = [await cached(self.shop, query, variables, self.token) for query, variables in self.queries]
        await change
        changed = False
        for (query, variables), shown in zip(self.queries, before, strict=True):
            served = (await self.shop.post(query, variables, token=self.token)).json()["data"]
            assert served == (await truth(self.shop, query, variables, self.token))["data"], what
            changed = changed or served != shown
        assert changed, f"{what}: the customer's views do not show it"


async def agent(shop: Api, operation: str, variables: dict) -> dict:
    payload = await step(shop, operation, variables)
    assert payload["userErrors"] == [], payload
    return payload


async def customer(shop: Api, operation: str, variables: dict, who: str = "alice") -> dict:
    body = await shop.run(operation, {"input": variables}, token=shop.token("customer", who))
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert payload["userErrors"] == [], payload
    return payload


async def returns(shop: Api, order_id: str, quantities: dict[str, int]) -> dict:
    ids = await line_ids(shop, order_id)
    lines = [{"orderLineId": ids[sku], "quantity": q, "reason": "SIZE_OR_FIT"} for sku, q in quantities.items()]
    return await customer(shop, "RequestReturn", {"orderId": order_id, "method": "MAIL", "lines": lines})


async def test_a_repeated_query_is_answered_from_the_cache_with_one_statement_and_the_same_bytes(shop: Api) -> None:
    await place(shop)
    token = shop.token("customer", "alice")
    first, executed = await respond(shop, HISTORY, {"first": 20}, token)
    assert len(executed) > 1
    again, executed = await respond(shop, HISTORY, {"first": 20}, token)
    assert len(executed) == 1, executed
    assert is_version_read(executed[0]), executed
    assert "errors" not in json.loads(first)
    assert json.loads(first)["extensions"]["cost"]["actualQueryCost"] > 0
    assert again == first  # data and the reported cost alike


async def test_cached_answers_still_spend_the_callers_cost_budget(shop: Api) -> None:
    await place(shop)
    limiter, spent = shop.app.state.services.guard.cost_limiter, []

    class Recording:
        async def take(self, caller: str, cost: int, bucket: object) -> float:
            spent.append(cost)
            return await limiter.take(caller, cost, bucket)

    shop.app.state.services.guard.cost_limiter = Recording()
    await cached(shop, HISTORY, {"first": 20}, shop.token("customer", "alice"))
    assert len(spent) == 2
    assert spent[0] == spent[1] > 0


async def test_every_change_a_customer_can_see_is_answered_fresh_the_next_time(shop: Api) -> None:
    order_id = (await place(shop, lines=(("SKU-1", 2), ("SKU-2", 1))))["order"]["id"]
    alice = Views(shop, "alice", order_id)
    order = {"orderId": order_id}
    note = {**order, "message": "Gift wrapped.", "visibility": "CUSTOMER"}
    await alice.changed_by("a customer-visible note", agent(shop, "AddOrderNote", note))
    await alice.changed_by("a hold", agent(shop, "HoldOrder", {**order, "reason": "Address check"}))
    await alice.changed_by("a hold released", agent(shop, "ReleaseOrderHold", order))
    await alice.changed_by(
        "a shipping change", customer(shop, "ChangeMyShipping", {**order, "shippingAddress": NEW_ADDRESS})
    )
    await alice.changed_by(
        "notification preferences",
        customer(shop, "UpdateMyNotificationPreferences", {"sms": True, "phone": "+12125550123"}),
    )
    (fulfillment_order,) = [fo for fo in (await detail(shop, order_id))["fulfillmentOrders"] if fo["status"] == "OPEN"]
    started = {"fulfillmentOrderId": fulfillment_order["id"]}
    await alice.changed_by("fulfillment started", agent(shop, "StartFulfillment", started))
    shipped = agent(shop, "ShipFulfillmentOrder", {**started, "carrier": "UPS", "trackingNumber": "1ZCACHE"})
    await alice.changed_by("a shipment", shipped)
    scan = {"shipmentId": await _shipment_id(shop, order_id), "status": "IN_TRANSIT"}
    await alice.changed_by("a carrier event", agent(shop, "RecordShipmentEvent", {**scan, "carrierEventId": "scan-1"}))
    # The same step again moves nothing and writes no order event, but the customer sees it in the history.
    await alice.changed_by(
        "a carrier event that moves nothing",
        agent(
            shop,
            "RecordShipmentEvent",
            {**scan, "carrierEventId": "scan-2", "description": "Arrived at the Secaucus hub"},
        ),
    )
    await alice.changed_by(
        "delivery", agent(shop, "RecordShipmentEvent", {**scan, "status": "DELIVERED", "carrierEventId": "scan-3"})
    )
    await alice.changed_by("a return approved at once", returns(shop, order_id, {"SKU-2": 1}))
    # Worth more than returns approved without an agent: it waits.
    await alice.changed_by("a return request", returns(shop, order_id, {"SKU-1": 1}))
    (approved,) = await _return_ids(shop, order_id, "APPROVED")
    (waiting,) = await _return_ids(shop, order_id, "REQUESTED")
    await alice.changed_by("a return approved", agent(shop, "ApproveReturn", {"returnId": waiting}))
    await alice.changed_by("a return received and refunded", agent(shop, "ReceiveReturn", {"returnId": approved}))
    await alice.changed_by("another return request", returns(shop, order_id, {"SKU-1": 1}))
    (waiting,) = await _return_ids(shop, order_id, "REQUESTED")
    await alice.changed_by("a return rejected", _reject(shop, waiting))


async def test_orders_placed_cancelled_and_collected_are_answered_fresh(shop: Api) -> None:
    first = (await place(shop))["order"]["id"]
    alice = Views(shop, "alice", first)
    on_behalf = order_input(key="agent-1", customerId=encode_global_id("Customer", shop.world.customers["alice"]))
    await alice.changed_by("an order placed by an agent for the customer", agent(shop, "PlaceOrderOnBehalf", on_behalf))
    pickup = order_input(
        key="k-pickup",
        method="PICKUP",
        address=None,
        pickupLocationId=encode_global_id("Location", shop.world.locations["brooklyn"]),
    )
    await alice.changed_by("an order placed by the customer", customer(shop, "PlaceOrder", pickup))
    await alice.changed_by("a cancellation", customer(shop, "CancelMyOrder", {"orderId": first}))

    newest = (await shop.run("MyOrderHistory", {"first": 1}, token=alice.token))["data"]["me"]["orders"]["edges"]
    pickup_id = newest[0]["node"]["id"]
    at_store = Views(shop, "alice", pickup_id)
    (fulfillment_order,) = (await detail(shop, pickup_id))["fulfillmentOrders"]
    handover = {"fulfillmentOrderId": fulfillment_order["id"]}
    await at_store.changed_by("fulfillment started", agent(shop, "StartFulfillment", handover))
    await at_store.changed_by("ready for pickup", agent(shop, "MarkReadyForPickup", handover))
    await at_store.changed_by("collected", agent(shop, "ConfirmPickup", handover))


async def test_a_carrier_webhook_is_answered_fresh(open_shop: Callable[..., AbstractAsyncContextManager[Api]]) -> None:
    async with open_shop(carrier_webhook_secrets="UPS=ups-secret") as shop:
        order_id = (await place(shop))["order"]["id"]
        (fulfillment_order,) = (await detail(shop, order_id))["fulfillmentOrders"]
        await agent(shop, "StartFulfillment", {"fulfillmentOrderId": fulfillment_order["id"]})
        await agent(
            shop,
            "ShipFulfillmentOrder",
            {"fulfillmentOrderId": fulfillment_order["id"], "carrier": "UPS", "trackingNumber": "1ZHOOK"},
        )
        alice = Views(shop, "alice", order_id)

        async def carrier_posts(event_id: str, status: str) -> None:
            body = json.dumps(
                {
                    "carrierEventId": event_id,
                    "trackingNumber": "1ZHOOK",
                    "status": status,
                    "occurredAt": (NOW + timedelta(hours=1)).isoformat(),
                    "location": "Newark, NJ",
                }
            ).encode()
            response = await shop.client.post(
                "/webhooks/carriers/UPS",
                content=body,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature(body, "ups-secret")},
            )
            assert response.status_code == 200, response.text

        await alice.changed_by("a carrier's webhook", carrier_posts("hook-1", "IN_TRANSIT"))
        await alice.changed_by("a carrier's webhook that moves nothing", carrier_posts("hook-2", "IN_TRANSIT"))


async def _shipment_id(shop: Api, order_id: str) -> str:
    body = (await shop.post(SHIPMENTS, {"id": order_id}, token=shop.token("agent"))).json()
    (shipment,) = body["data"]["node"]["shipments"]
    return shipment["id"]


async def _reject(shop: Api, return_id: str) -> None:
    rejection = {"input": {"returnId": return_id, "reason": "Worn"}}
    body = (await shop.post(REJECT, rejection, token=shop.token("agent"))).json()
    assert body["data"]["rejectReturn"]["userErrors"] == [], body


async def _return_ids(shop: Api, order_id: str, status: str) -> list[str]:
    body = (await shop.post(RETURNS, {"id": order_id}, token=shop.token("agent"))).json()
    return [r["id"] for r in body["data"]["node"]["returns"] if r["status"] == status]


_gated: ContextVar[bool] = ContextVar("gated", default=False)


class Gate:
    """Stands in for the app's database reads (sessions and the loaders' connections alike): the request marked
    gated stops before its n-th read until let go."""

    def __init__(self) -> None:
        self.stop_at = 0
        self.reads = 0
        self.arrived = asyncio.Event()
        self.go = asyncio.Event()

    def arm(self, stop_at: int) -> None:
        self.stop_at, self.reads = stop_at, 0
        self.arrived.clear()
        self.go.clear()

    def wrapping(self, read: Callable) -> Callable:
        @contextlib.asynccontextmanager
        async def gated() -> AsyncIterator:
            if _gated.get():
                self.reads += 1
                if self.reads == self.stop_at:
                    self.arrived.set()
                    await self.go.wait()
            async with read() as handle:
                yield handle

        return gated


async def test_a_change_committing_while_a_query_executes_is_never_hidden_by_its_answer(
    shop: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever read of the request a change commits before, the next answer shows it."""
    order_id = (await place(shop))["order"]["id"]
    token = shop.token("customer", "alice")
    shop.app.state.services.guard.cost_limiter = Unlimited()
    gate = Gate()
    # Every request of the test reads through it (one cache key: the same `read` for all).
    monkeypatch.setattr(shop.db, "read", gate.wrapping(shop.db.read))
    monkeypatch.setattr(shop.db, "read_connection", gate.wrapping(shop.db.read_connection))
    on_hold = False

    async def toggle_hold() -> None:  # the order's status changes; its events are INTERNAL ones
        nonlocal on_hold
        if on_hold:
            await agent(shop, "ReleaseOrderHold", {"orderId": order_id})
        else:
            await agent(shop, "HoldOrder", {"orderId": order_id, "reason": "Check"})
        on_hold = not on_hold

    async def gated_history() -> dict:
        _gated.set(True)
        return (await shop.post(HISTORY, {"first": 20}, token=token)).json()

    for stop_at in itertools.count(1):
        await toggle_hold()  # so that the gated request executes rather than hit the last answer
        gate.arm(stop_at)
        request, arrived = asyncio.create_task(gated_history()), asyncio.create_task(gate.arrived.wait())
        await asyncio.wait({request, arrived}, return_when=asyncio.FIRST_COMPLETED)
        if not arrived.done():
            arrived.cancel()
            assert "errors" not in await request
            break
        await toggle_hold()  # while the request waits at this read
        gate.go.set()
        assert "errors" not in await request
        served = (await shop.post(HISTORY, {"first": 20}, token=token)).json()
        fresh = (await truth(shop, HISTORY, {"first": 20}, token))["data"]
        assert served["data"] == fresh, f"a change committed before read {stop_at}"
    assert stop_at > 5  # the version, then the history's own reads


async def test_customers_never_see_each_others_answers(shop: Api) -> None:
    await place(shop, "alice")
    await place(shop, "bob", key="k-bob")
    alice = await cached(shop, HISTORY, {"first": 20}, shop.token("customer", "alice"))
    bob = await cached(shop, HISTORY, {"first": 20}, shop.token("customer", "bob"))
    assert (alice["me"]["name"], bob["me"]["name"]) == ("Alice Shopper", "Bob Shopper")
    assert alice["me"]["orders"]["edges"][0]["node"]["id"] != bob["me"]["orders"]["edges"][0]["node"]["id"]


async def test_other_variables_are_another_answer(shop: Api) -> None:
    await place(shop)
    await place(shop, key="k-2")
    token = shop.token("customer", "alice")
    one = await cached(shop, HISTORY, {"first": 1}, token)
    two = await cached(shop, HISTORY, {"first": 2}, token)
    assert [len(page["me"]["orders"]["edges"]) for page in (one, two)] == [1, 2]
    assert (await cached(shop, HISTORY, {"first": 1}, token)) == one


async def test_mutations_are_never_cached(shop: Api) -> None:
    token = shop.token("customer", "alice")
    for _ in range(2):
        body = await shop.run("UpdateMyNotificationPreferences", {"input": {"email": False}}, token=token)
        assert body["data"]["updateNotificationPreferences"]["userErrors"] == []
    async with shop.db.read() as session:
        events = (await session.exec(sa.select(sa.func.count()).select_from(OrderEvent))).one()[0]
    assert events == 2
    # A refusal changes nothing, so no version moves: it is looked up again all the same.
    unknown = {"input": {"orderId": encode_global_id("Order", 999_999)}}
    for _ in range(2):
        body, statements = await answer(shop, document("CancelMyOrder"), unknown, token)
        assert body["data"]["cancelOrder"]["userErrors"][0]["code"] == "NOT_FOUND"
        assert statements
        assert not any(is_version_read(s) for s in statements), statements


async def test_agents_are_never_answered_from_the_cache(shop: Api) -> None:
    order_id = (await place(shop))["order"]["id"]
    mine = await cached(shop, TIMELINE, {"id": order_id}, shop.token("customer", "alice"))
    assert {edge["node"]["visibility"] for edge in mine["node"]["timeline"]["edges"]} == {"CUSTOMER"}
    for _ in range(2):
        body, statements = await answer(shop, TIMELINE, {"id": order_id}, shop.token("agent"))
        assert "INTERNAL" in {edge["node"]["visibility"] for edge in body["data"]["node"]["timeline"]["edges"]}
        assert statements
        assert not any(is_version_read(s) for s in statements), statements


async def test_answers_with_errors_are_never_cached(shop: Api) -> None:
    refused = '{ me { name } node(id: "not-an-id") { id } }'
    for _ in range(2):
        body, statements = await answer(shop, refused, {}, shop.token("customer", "alice"))
        assert body["data"]["me"]["name"] == "Alice Shopper"
        assert body["errors"][0]["extensions"]["code"] == "INVALID_ID"
        assert len(statements) > 1, statements


async def test_what_follows_the_clock_or_stock_is_never_cached(shop: Api) -> None:
    order_id = (await place(shop))["order"]["id"]
    (fulfillment_order,) = (await detail(shop, order_id))["fulfillmentOrders"]
    handover = {"fulfillmentOrderId": fulfillment_order["id"]}
    await agent(shop, "StartFulfillment", handover)
    await agent(shop, "ShipFulfillmentOrder", {**handover, "carrier": "UPS", "trackingNumber": "1ZCLOCK"})
    await agent(
        shop,
        "RecordShipmentEvent",
        {"shipmentId": await _shipment_id(shop, order_id), "status": "DELIVERED", "carrierEventId": "clock-1"},
    )
    token = shop.token("customer", "alice")
    detail_of_order = ("MyOrderDetail", {"id": order_id})
    availability = ("ProductAvailability", {"skus": ["SKU-2"], "postalCode": "10001"})
    for operation, variables in (detail_of_order, availability):
        await answer(shop, document(operation), variables, token)
        _, statements = await answer(shop, document(operation), variables, token)
        assert len(statements) > 1, operation

    # The return window closes with nothing committed; stock moves without an order event.
    shop.set_clock(NOW + timedelta(days=31))
    body, _ = await answer(shop, document("MyOrderDetail"), {"id": order_id}, token)
    assert body["data"]["node"]["returnableLines"] == []
    newark = encode_global_id("Location", shop.world.locations["newark"])
    await agent(shop, "AdjustInventory", {"sku": "SKU-2", "locationId": newark, "delta": -50, "reason": "Count"})
    body, _ = await answer(shop, document("ProductAvailability"), availability[1], token)
    assert body["data"]["products"][0]["availability"]["totalAvailable"] == 280 - 50


def test_the_store_keeps_the_most_recently_used_entries_within_its_bounds() -> None:
    store = ResultStore(max_entries=2, max_bytes=100)
    entry = Entry((1, 0), {"me": None}, 40)
    for key in "abc":
        store.put((key,), entry)
    assert store.get(("a",)) is None
    assert store.get(("b",)) is entry
    store.put(("d",), entry)  # b was used last: c goes
    assert [store.get((key,)) is entry for key in "bcd"] == [True, False, True]
    store.put(("e",), Entry((1, 0), {}, 70))  # 40 + 70 > 100: the least recently used goes until it fits
    assert [store.get((key,)) is not None for key in "bde"] == [False, False, True]
    store.put(("f",), Entry((1, 0), {}, 101))  # larger than the whole store: not kept
    assert store.get(("f",)) is None
    assert store.get(("e",)) is not None
