"""graphql-transport-ws as GraphiQL, graphql-ws and Apollo clients speak it: the token under any case of its key,
persisted queries by hash (the manifest's, or registered like over HTTP), and every refusal an `error` message
whose errors carry `extensions.code`, never a bare `complete` nor a closed socket."""

import asyncio
import contextlib
import json
import uuid

import pytest
import websockets
from conftest import Api
from test_live_harness import PATIENCE_SECONDS, LiveClient, LiveStream, serving_on_a_port
from test_placement import order_input, place

from ordergraph.schema.limits import Bucket
from ordergraph.schema.trusted_documents import persisted_documents, sha256


def subscribe(client: LiveClient, payload: dict) -> LiveStream:
    """Sends a subscribe message with this payload as it is (LiveClient.subscribe sends a contract document)."""
    stream = LiveStream(client, str(next(client._ids)))
    client._streams[stream.id] = stream
    asyncio.get_running_loop().create_task(
        client.ws.send(json.dumps({"id": stream.id, "type": "subscribe", "payload": payload}))
    )
    return stream


def by_hash(name: str, *, with_text: bool = False, variables: dict | None = None) -> dict:
    body = persisted_documents()[name][1]
    payload = {"operationName": name, "variables": variables or {}}
    payload["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": sha256(body)}}
    if with_text:
        payload["query"] = body
    return payload


async def refusal(stream: LiveStream) -> list[str]:
    """The codes of the `error` message that ended the subscription (asserted to be one, and the last)."""
    message = await stream.message()
    assert message["type"] == "error", message
    assert isinstance(message["payload"], list), message
    assert message["payload"], message
    assert all(isinstance(error.get("extensions", {}).get("code"), str) for error in message["payload"]), message
    await asyncio.sleep(0.05)
    assert stream.messages.empty(), "nothing may follow the error"
    return [error["extensions"]["code"] for error in message["payload"]]


@contextlib.asynccontextmanager
async def raw_socket(url: str, connection_init: dict):
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps(connection_init))
        yield ws


@pytest.mark.parametrize("key", ["Authorization", "AUTHORIZATION", "authorization"])
async def test_the_token_is_read_under_any_case_of_its_key(shop: Api, key: str) -> None:
    """GraphiQL sends its Headers tab as the connection_init payload: {"Authorization": "Bearer …"}."""
    async with (
        serving_on_a_port(shop.app) as url,
        raw_socket(url, {"type": "connection_init", "payload": {key: f"Bearer {shop.token('agent')}"}}) as ws,
    ):
        reply = json.loads(await asyncio.wait_for(ws.recv(), PATIENCE_SECONDS))
        assert reply["type"] == "connection_ack", reply


async def test_a_subscription_runs_by_its_manifest_hash_alone(shop: Api) -> None:
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, shop.token("customer", "alice")) as spa:
        no_query = subscribe(spa, by_hash("MyOrderUpdates"))
        empty_query = subscribe(spa, {**by_hash("MyOrderUpdates"), "query": ""})  # as graphql-ws sends it
        with_text = subscribe(spa, by_hash("MyOrderUpdates", with_text=True))
        await asyncio.sleep(0.2)
        order = (await place(shop, key="k-1"))["order"]
        for stream in (no_query, empty_query, with_text):
            event = await stream.next()
            assert (event["type"], event["order"]["id"]) == ("ORDER_PLACED", order["id"])
            assert event["__typename"] == "OrderEvent"  # the manifest's document, as Apollo sends it


async def test_automatic_persisted_queries_register_over_the_socket_as_over_http(shop: Api) -> None:
    query = f"subscription Mine{uuid.uuid4().hex} {{ myOrderUpdates {{ sequence type order {{ id }} }} }}"
    digest = sha256(query)
    hashed = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, shop.token("customer", "alice")) as spa:
        assert await refusal(subscribe(spa, hashed)) == ["PERSISTED_QUERY_NOT_FOUND"]
        registering = subscribe(spa, {**hashed, "query": query})
        await asyncio.sleep(0.2)
        registered = subscribe(spa, hashed)
        await asyncio.sleep(0.2)
        order = (await place(shop, key="k-1"))["order"]
        for stream in (registering, registered):
            assert (await stream.next())["order"]["id"] == order["id"]
        # Registered over the socket, it runs over HTTP too.
        over_http = await shop.client.post(
            "/graphql", json={"extensions": hashed["extensions"]}, headers={"Accept": "application/json"}
        )
        assert over_http.json()["errors"][0]["extensions"]["code"] != "PERSISTED_QUERY_NOT_FOUND"


def costly() -> str:
    inner = "customer { orders(first: 100) { edges { node { id lines { sku } } } } }"
    return (
        "subscription Costly { myOrderUpdates { order { customer { orders(first: 100) { edges { node { "
        + inner
        + " } } } } } } }"
    )


def deep() -> str:
    body = "id"
    for _ in range(5):
        body = f"customer {{ orders(first: 1) {{ edges {{ node {{ {body} }} }} }} }}"
    return "subscription Deep { myOrderUpdates { order { " + body + " } } }"


CUSTOMER_REFUSALS = [
    ("GRAPHQL_VALIDATION_FAILED", {"query": "subscription Typo { myOrderUpdates { nonsense } }"}),
    ("GRAPHQL_PARSE_FAILED", {"query": "subscription Broken { myOrderUpdates {"}),
    ("TOO_MANY_TOKENS", {"query": "subscription Big { myOrderUpdates { " + "sequence " * 6_000 + "} }"}),
    ("DOCUMENT_TOO_LARGE", {"query": "subscription Huge { myOrderUpdates { sequence } }" + " " * 110_000}),
    ("QUERY_TOO_DEEP", {"query": deep()}),
    ("QUERY_TOO_DEEP", {"query": deep().replace("(first: 1)", "")}),  # connections without `first`
    ("QUERY_TOO_COSTLY", {"query": costly()}),
    ("FORBIDDEN", {"query": "subscription Everything { orderEvents { sequence } }"}),
    (
        "PERSISTED_QUERY_NOT_FOUND",
        {"query": "", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}},
    ),
    (
        "PERSISTED_QUERY_MISMATCH",
        {
            "query": "subscription Other { myOrderUpdates { type } }",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "cd" * 32}},
        },
    ),
    ("BAD_REQUEST", {"variables": {}}),
]


async def test_every_refusal_is_an_error_message_with_a_code_and_the_socket_stays(shop: Api) -> None:
    alice = shop.token("customer", "alice")
    others = (await place(shop, "bob", key="k-bob"))["order"]
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, alice) as spa:
        with shop.statements() as executed:
            for code, payload in CUSTOMER_REFUSALS:
                assert await refusal(subscribe(spa, payload)) == [code], payload.get("query", "")[:80]
        # Refused before anything ran: no resolver, no SQL.
        assert executed == []
        # Refusals that need the database: another customer's order is NOT_FOUND, like an unknown one.
        with shop.statements() as executed:
            watch = subscribe(spa, by_hash("WatchOrder", variables={"id": others["id"]}))
            assert await refusal(watch) == ["NOT_FOUND"]
        assert not [s for s in executed if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
        # The socket is still open and serving.
        mine = subscribe(spa, by_hash("MyOrderUpdates"))
        await asyncio.sleep(0.2)
        order = (await place(shop, key="k-1"))["order"]
        assert (await mine.next())["order"]["id"] == order["id"]


async def test_throttling_and_the_subscription_limit_are_coded_errors(shop: Api) -> None:
    class Throttled:
        async def take(self, caller: str, cost: int, bucket: Bucket) -> float:
            return 2.5

    guard = shop.app.state.services.guard
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, shop.token("agent")) as console:
        kept, guard.cost_limiter = guard.cost_limiter, Throttled()
        try:
            throttled = subscribe(console, by_hash("LiveOrderEvents"))
            message = await throttled.message()
        finally:
            guard.cost_limiter = kept
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"] == {"code": "THROTTLED", "retry_after": 2.5}
        limit = shop.app.state.services.settings.max_subscriptions_per_connection
        for _ in range(limit):
            subscribe(console, by_hash("LiveOrderEvents"))
        assert await refusal(subscribe(console, by_hash("LiveOrderEvents"))) == ["TOO_MANY_SUBSCRIPTIONS"]


async def test_trusted_documents_only_over_the_socket(open_shop) -> None:
    async with (
        open_shop(trusted_documents_only=True) as shop,
        serving_on_a_port(shop.app) as url,
        LiveClient.connect(url, shop.token("customer", "alice")) as spa,
    ):
        handmade = "subscription Mine { myOrderUpdates { sequence } }"
        assert await refusal(subscribe(spa, {"query": handmade})) == ["UNTRUSTED_DOCUMENT"]
        apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256(handmade)}}
        assert await refusal(subscribe(spa, {"query": handmade, "extensions": apq})) == ["UNTRUSTED_DOCUMENT"]
        assert await refusal(subscribe(spa, {"extensions": apq})) == ["PERSISTED_QUERY_NOT_FOUND"]
        # The manifest's documents run, by hash or by their text.
        hashed = subscribe(spa, by_hash("MyOrderUpdates"))
        text = subscribe(spa, {"query": persisted_documents()["MyOrderUpdates"][1]})
        await asyncio.sleep(0.2)
        placement = persisted_documents()["PlaceOrder"][1]  # as the SPA sends it
        placed = await shop.post(placement, {"input": order_input(key="k-1")}, token=shop.token("customer", "alice"))
        order = placed.json()["data"]["placeOrder"]["order"]
        for stream in (hashed, text):
            assert (await stream.next())["order"]["id"] == order["id"]
