"""Live order events over graphql-transport-ws, as the SPA and the agent console see them, on one server
process (SQLite with the in-memory broadcast, PostgreSQL with Redis)."""

import asyncio

import pytest
import sqlalchemy as sa
from conftest import Api
from test_live_harness import LiveClient, close_code, serving_on_a_port
from test_placement import place

from ordergraph.models import Order, OrderEvent
from ordergraph.models.database import Database
from ordergraph.models.enums import ActorKind, EventType, EventVisibility
from ordergraph.resolvers.events import append_event, change
from ordergraph.schema.node import encode_global_id


async def logged_events(
    shop: Api, *, customer: str | None = None, customer_visible: bool = False
) -> list[tuple[int, str]]:
    """(sequence, type) of the log as the database holds it."""
    query = sa.select(OrderEvent.sequence, OrderEvent.type).where(OrderEvent.order_id.is_not(None))
    if customer:
        query = query.where(OrderEvent.customer_id == shop.world.customers[customer])
    if customer_visible:
        query = query.where(OrderEvent.visibility == EventVisibility.CUSTOMER)
    async with shop.db.read() as session:
        return [tuple(row) for row in (await session.exec(query.order_by(OrderEvent.sequence))).all()]


def received(events: list[dict]) -> list[tuple[int, str]]:
    return [(int(e["sequence"]), e["type"]) for e in events]


async def test_contract_subscriptions_replay_the_log_then_continue_live_in_order(shop: Api) -> None:
    agent, alice = shop.token("agent"), shop.token("customer", "alice")
    first = (await place(shop, key="k-1"))["order"]
    async with (
        serving_on_a_port(shop.app) as url,
        LiveClient.connect(url, agent) as console,
        LiveClient.connect(url, alice) as spa,
    ):
        feed = await console.subscribe("LiveOrderEvents", {"after": "0"})
        watch = await console.subscribe("WatchOrder", {"id": first["id"], "after": "0"})
        mine = await spa.subscribe("MyOrderUpdates", {"after": "0"})
        # Replayed from the log: the placement's events.
        placed = await logged_events(shop)
        assert received(await feed.take(len(placed))) == placed
        assert received(await watch.take(len(placed))) == placed
        assert received(await mine.take(1)) == await logged_events(shop, customer_visible=True)

        # Live: each event shows the order as it was when that event was delivered (fresh loaders per event).
        await shop.run("HoldOrder", {"input": {"orderId": first["id"], "reason": "address check"}}, token=agent)
        held = await watch.next()
        assert (held["type"], held["order"]["status"]) == ("ORDER_HELD", "ON_HOLD")
        await shop.run("ReleaseOrderHold", {"input": {"orderId": first["id"]}}, token=agent)
        released = await watch.next()
        assert (released["type"], released["order"]["status"]) == ("ORDER_HOLD_RELEASED", "CONFIRMED")

        second = (await place(shop, key="k-2"))["order"]
        await shop.run("CancelMyOrder", {"input": {"orderId": second["id"]}}, token=alice)
        everything = await logged_events(shop)
        live = await feed.events_until(everything[-1][0])
        assert received(live) == everything[len(placed) :]
        assert [e["order"]["id"] for e in live[-3:]] == [second["id"]] * 3
        assert live[0]["actor"] == {"kind": "AGENT", "name": "Test agent"}
        customer_visible = await logged_events(shop, customer_visible=True)
        assert received(await mine.events_until(customer_visible[-1][0])) == customer_visible[1:]


async def test_a_client_resuming_after_its_last_sequence_gets_the_rest_once(shop: Api) -> None:
    agent = shop.token("agent")
    for key in ("k-1", "k-2", "k-3"):
        await place(shop, key=key)
    everything = await logged_events(shop)
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, agent) as console:
        seen = await console.subscribe("LiveOrderEvents", {"after": "0"})
        before_drop = await seen.take(4)
        await seen.complete()  # the console goes away after four events…
        resumed = await console.subscribe("LiveOrderEvents", {"after": before_drop[-1]["sequence"]})
        rest = await resumed.take(len(everything) - 4)
        await place(shop, key="k-4")
        newest = await logged_events(shop)
        rest += await resumed.events_until(newest[-1][0])
    assert received(before_drop + rest) == newest


async def test_the_agent_feed_filters_by_type_status_and_customer(shop: Api) -> None:
    agent = shop.token("agent")
    alices = (await place(shop, key="k-1"))["order"]
    bobs = (await place(shop, "bob", key="k-2"))["order"]
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, agent) as console:
        placements = await console.subscribe("LiveOrderEvents", {"after": "0", "filter": {"types": ["ORDER_PLACED"]}})
        bob_only = await console.subscribe(
            "LiveOrderEvents",
            {"after": "0", "filter": {"customerId": encode_global_id("Customer", shop.world.customers["bob"])}},
        )
        on_hold = await console.subscribe("LiveOrderEvents", {"filter": {"status": ["ON_HOLD"]}})
        assert [e["order"]["id"] for e in await placements.take(2)] == [alices["id"], bobs["id"]]
        bob_events = await logged_events(shop, customer="bob")
        assert received(await bob_only.take(len(bob_events))) == bob_events

        await shop.run(
            "AddOrderNote",
            {"input": {"orderId": alices["id"], "message": "called", "visibility": "INTERNAL"}},
            token=agent,
        )
        await shop.run("HoldOrder", {"input": {"orderId": bobs["id"], "reason": "check"}}, token=agent)
        held = await on_hold.next()
        assert (held["type"], held["order"]["id"]) == ("ORDER_HELD", bobs["id"])
        note = await bob_only.next()
        assert (note["type"], note["order"]["id"]) == ("ORDER_HELD", bobs["id"])
        third = (await place(shop, key="k-3"))["order"]
        assert (await placements.next())["order"]["id"] == third["id"]


async def test_customers_never_receive_other_customers_events(shop: Api) -> None:
    alice, bob, agent = shop.token("customer", "alice"), shop.token("customer", "bob"), shop.token("agent")
    alices = (await place(shop, key="k-1"))["order"]
    alice_id = encode_global_id("Customer", shop.world.customers["alice"])
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, bob) as intruder:
        watch = await intruder.subscribe("WatchOrder", {"id": alices["id"], "after": "0"})
        refused = await watch.message()
        assert refused["type"] == "error", refused
        assert refused["payload"][0]["extensions"]["code"] == "NOT_FOUND", refused
        for variables in ({"after": "0"}, {"after": "0", "filter": {"customerId": alice_id}}):
            feed = await intruder.subscribe("LiveOrderEvents", variables)
            refused = await feed.message()
            assert refused["type"] == "error", refused
            assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN", refused
        mine = await intruder.subscribe("MyOrderUpdates", {"after": "0"})

        # Alice's order changes, with events of every visibility; then Bob places one of his own.
        await shop.run(
            "AddOrderNote",
            {"input": {"orderId": alices["id"], "message": "to alice", "visibility": "CUSTOMER"}},
            token=agent,
        )
        await shop.run("HoldOrder", {"input": {"orderId": alices["id"], "reason": "check"}}, token=agent)
        await shop.run("CancelMyOrder", {"input": {"orderId": alices["id"]}}, token=alice)
        bobs = (await place(shop, "bob", key="k-2"))["order"]
        first_of_bob = await mine.next()
        assert (first_of_bob["type"], first_of_bob["order"]["id"]) == ("ORDER_PLACED", bobs["id"])
        # Nothing else came on any of Bob's subscriptions: the refused ones ended with their error.
        assert mine.messages.empty()
        assert watch.messages.empty()
        assert feed.messages.empty()


async def test_a_socket_without_a_valid_token_is_closed_with_4403(shop: Api) -> None:
    async with serving_on_a_port(shop.app) as url:
        assert await close_code(url, {"type": "connection_init"}) == 4403
        assert (
            await close_code(url, {"type": "connection_init", "payload": {"authorization": "Bearer nonsense"}}) == 4403
        )
        expired = shop.token("agent", ttl=-10)
        assert (
            await close_code(url, {"type": "connection_init", "payload": {"authorization": f"Bearer {expired}"}})
            == 4403
        )
        forged = shop.token("agent", secret="another-secret-of-at-least-thirty-two-bytes")
        assert (
            await close_code(url, {"type": "connection_init", "payload": {"authorization": f"Bearer {forged}"}}) == 4403
        )


async def test_a_subscription_ends_when_its_token_expires(shop: Api) -> None:
    async with (
        serving_on_a_port(shop.app) as url,
        # Three seconds: long enough to be accepted on a loaded machine, short enough to wait out.
        LiveClient.connect(url, shop.token("customer", "alice", ttl=3)) as expiring,
        LiveClient.connect(url, shop.token("customer", "alice")) as fresh,
    ):
        ending = await expiring.subscribe("MyOrderUpdates")
        going_on = await fresh.subscribe("MyOrderUpdates")
        await asyncio.sleep(3.5)
        order = (await place(shop, key="k-1"))["order"]
        assert (await going_on.next())["order"]["id"] == order["id"]
        refused = await ending.message()
    errors = refused["payload"]["errors"] if refused["type"] == "next" else refused["payload"]
    assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"], refused


async def test_pages_on_other_origins_may_not_open_a_socket(shop: Api) -> None:
    import websockets

    async with serving_on_a_port(shop.app) as url:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await close_code(url, {"type": "connection_init"}, origin="https://elsewhere.example")
        assert refused.value.response.status_code == 403
        # The same origin may.
        host = url.removeprefix("ws://").removesuffix("/graphql")
        assert await close_code(url, {"type": "connection_init"}, origin=f"http://{host}") == 4403


async def test_subscriptions_per_connection_are_limited(shop: Api) -> None:
    limit = shop.app.state.services.settings.max_subscriptions_per_connection
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, shop.token("agent")) as console:
        for _ in range(limit):
            await console.subscribe("LiveOrderEvents")
        one_too_many = await console.subscribe("LiveOrderEvents")
        refused = await one_too_many.message()
        assert refused["type"] == "error", refused
        assert "limit" in refused["payload"][0]["message"], refused


async def test_an_event_committed_but_never_published_is_still_delivered(shop: Api) -> None:
    """A process that commits a change and dies before publishing it: here, a writer outside the app commits
    an event and nobody tells the relay. The relay's poll finds it after the published watermark."""
    order = (await place(shop, key="k-1"))["order"]
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, shop.token("agent")) as console:
        watch = await console.subscribe("WatchOrder", {"id": order["id"], "after": "0"})
        placed = await logged_events(shop)
        await watch.take(len(placed))
        crashed_writer = Database(shop.db.url)
        async with change(crashed_writer.write) as session:
            order_row = (await session.exec(sa.select(Order))).scalars().one()
            append_event(
                session,
                order=order_row,
                customer_id=order_row.customer_id,
                type=EventType.ORDER_NOTE_ADDED,
                message="written by a process that died",
                visibility=EventVisibility.INTERNAL,
                actor=(ActorKind.AGENT, "gone"),
            )
        await crashed_writer.dispose()
        orphan = await watch.next()
    assert (orphan["type"], int(orphan["sequence"])) == ("ORDER_NOTE_ADDED", placed[-1][0] + 1)
