"""Fan-out: subscribers given the same result of an event are sent the same encoded payload, each under its own
subscription id (subscriptions.hub.Delivery.payload), as graphql-ws clients expect it."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import sqlalchemy as sa
import websockets
from conftest import Api
from contract import document
from test_live_harness import PATIENCE_SECONDS, serving_on_a_port
from test_live_subscriptions import logged_events
from test_placement import place

from ordergraph.models import OrderEvent
from ordergraph.schema.limits import count_objects

# Ids are the client's to choose: one that JSON must escape is spliced in escaped.
IDS = ("1", 'feed "two" \\ é')


@contextlib.asynccontextmanager
async def raw_socket(url: str, token: str) -> AsyncIterator[websockets.ClientConnection]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), PATIENCE_SECONDS))["type"] == "connection_ack"
        yield ws


async def frames(ws: websockets.ClientConnection, n: int) -> list[str]:
    """The next `n` text frames, as sent."""
    received = [await asyncio.wait_for(ws.recv(), PATIENCE_SECONDS) for _ in range(n)]
    assert all(isinstance(frame, str) for frame in received), "graphql-transport-ws messages are text frames"
    return received


def payload_text(frame: str) -> str:
    return frame.split('"payload":', 1)[1]


async def test_identical_subscriptions_get_the_same_payload_each_under_its_own_id(shop: Api) -> None:
    agent = shop.token("agent")
    order = (await place(shop, key="k-1"))["order"]
    subscribe = {"query": document("LiveOrderEvents"), "variables": {"after": "0"}}
    async with (
        serving_on_a_port(shop.app) as url,
        raw_socket(url, agent) as first,
        raw_socket(url, agent) as second,
    ):
        for ws, id in zip((first, second), IDS, strict=True):
            await ws.send(json.dumps({"id": id, "type": "subscribe", "payload": subscribe}))
        # Replayed: the placement's events (each subscriber reads its own from the log).
        placed = await logged_events(shop)
        replayed = [await frames(ws, len(placed)) for ws in (first, second)]

        await shop.run(
            "AddOrderNote",
            {"input": {"orderId": order["id"], "message": "called", "visibility": "INTERNAL"}},
            token=agent,
        )
        (live_first,), (live_second,) = await frames(first, 1), await frames(second, 1)

    for sent in zip(*replayed, strict=True):
        assert [json.loads(frame)["id"] for frame in sent] == list(IDS)
        assert payload_text(sent[0]) == payload_text(sent[1])
    messages = [json.loads(live_first), json.loads(live_second)]
    assert [m["id"] for m in messages] == list(IDS)
    assert {m["type"] for m in messages} == {"next"}
    assert payload_text(live_first) == payload_text(live_second)  # byte for byte
    note = messages[0]["payload"]["data"]["orderEvents"]
    assert (note["type"], note["message"], note["order"]["id"]) == ("ORDER_NOTE_ADDED", "called", order["id"])
    assert messages[0]["payload"] == messages[1]["payload"]
    # The shared result's actual cost (counted once for both) is its objects, as over HTTP.
    assert messages[0]["payload"]["extensions"]["cost"]["actualQueryCost"] == count_objects(note)


async def test_a_customer_and_an_agent_watching_one_order_get_each_their_own_result(shop: Api) -> None:
    """Sharing is per document, variables and viewer: the customer's WatchOrder never gets the agent's result."""
    agent, alice = shop.token("agent"), shop.token("customer", "alice")
    order = (await place(shop, key="k-1"))["order"]
    async with shop.db.read() as session:
        last = (await session.exec(sa.select(sa.func.max(OrderEvent.sequence)))).one()[0]
    watch = {"query": document("WatchOrder"), "variables": {"id": order["id"], "after": str(last)}}
    async with (
        serving_on_a_port(shop.app) as url,
        raw_socket(url, agent) as console,
        raw_socket(url, alice) as spa,
    ):
        for ws in (console, spa):
            await ws.send(json.dumps({"id": "w", "type": "subscribe", "payload": watch}))
        for visibility in ("INTERNAL", "CUSTOMER"):
            await shop.run(
                "AddOrderNote",
                {"input": {"orderId": order["id"], "message": visibility, "visibility": visibility}},
                token=agent,
            )
        agent_frames = await frames(console, 2)
        (customer_frame,) = await frames(spa, 1)
    assert [json.loads(f)["payload"]["data"]["orderUpdated"]["type"] for f in agent_frames] == ["ORDER_NOTE_ADDED"] * 2
    seen_by_customer = json.loads(customer_frame)["payload"]["data"]["orderUpdated"]
    assert seen_by_customer["type"] == "ORDER_NOTE_ADDED"
    assert seen_by_customer["sequence"] == json.loads(agent_frames[1])["payload"]["data"]["orderUpdated"]["sequence"]
