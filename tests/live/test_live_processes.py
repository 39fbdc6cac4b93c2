"""Live events across real server processes sharing PostgreSQL and Redis, through Redis restarts, and the
sequence order that lets a reader resume with `after` (PostgreSQL: concurrent writers)."""

import asyncio
import contextlib
import uuid

import pytest
import sqlalchemy as sa
import websockets
from conftest import BACKENDS, REDIS_URL, TEST_SECRET
from factories import World, build_shop
from test_live_harness import LiveClient, RedisServer, ServerProcess
from test_placement import order_input

from ordergraph.models import OrderEvent
from ordergraph.models.database import Database
from ordergraph.models.enums import ActorKind, EventType, EventVisibility
from ordergraph.resolvers.access import Role
from ordergraph.resolvers.events import append_event, change
from ordergraph.schema.node import encode_global_id
from ordergraph.server.auth import issue_token

# These need a database that several processes share: PostgreSQL.
pytestmark = pytest.mark.parametrize("database_factory", [b for b in BACKENDS if b == "postgresql"], indirect=True)


async def new_shop(database_factory) -> tuple[str, World]:
    url = await database_factory.new_url()
    db = Database(url)
    world = await build_shop(db)
    await db.dispose()
    return url, world


def token(world: World, role: str, customer: str | None = None) -> str:
    subject = encode_global_id("Customer", world.customers[customer]) if customer else f"{role}:tester"
    return issue_token(TEST_SECRET, role=Role(role), subject=subject, name=f"Test {role}", ttl_seconds=3600)


async def logged_events(url: str, customer_id: int | None = None) -> list[tuple[int, str]]:
    query = sa.select(OrderEvent.sequence, OrderEvent.type).order_by(OrderEvent.sequence)
    if customer_id is not None:
        query = query.where(OrderEvent.customer_id == customer_id, OrderEvent.visibility == EventVisibility.CUSTOMER)
    db = Database(url)
    async with db.read() as session:
        rows = [tuple(row) for row in (await session.exec(query)).all()]
    await db.dispose()
    return rows


def received(events: list[dict]) -> list[tuple[int, str]]:
    return [(int(e["sequence"]), e["type"]) for e in events]


@contextlib.asynccontextmanager
async def server_processes(n: int, url: str, broadcast_url: str):
    env = {
        "ORDERGRAPH_DATABASE_URL": url,
        "ORDERGRAPH_BROADCAST_URL": broadcast_url,
        "ORDERGRAPH_REDIS_PREFIX": f"ordergraph-test-{uuid.uuid4().hex[:12]}",
        "ORDERGRAPH_JWT_SECRET": TEST_SECRET,
        "ORDERGRAPH_RELAY_POLL_SECONDS": "0.5",
    }
    servers = [ServerProcess(env) for _ in range(n)]
    try:
        await asyncio.gather(*(server.start() for server in servers))
        yield servers
    finally:
        for server in servers:
            server.stop()


async def make_changes(server: ServerProcess, world: World, n: int, *, prefix: str) -> None:
    """Customers place orders, agents hold and note them, a customer cancels: every kind of event."""
    agent = token(world, "agent")
    for i in range(n):
        customer = ("alice", "bob")[i % 2]
        placed = await server.run(
            "PlaceOrder", {"input": order_input(key=f"{prefix}-{i}")}, token(world, "customer", customer)
        )
        order_id = placed["placeOrder"]["order"]["id"]
        if i % 3 == 0:
            await server.run("HoldOrder", {"input": {"orderId": order_id, "reason": "check"}}, agent)
        if i % 3 == 1:
            await server.run(
                "AddOrderNote", {"input": {"orderId": order_id, "message": "hi", "visibility": "CUSTOMER"}}, agent
            )
        if i % 3 == 2:
            await server.run("CancelMyOrder", {"input": {"orderId": order_id}}, token(world, "customer", customer))


async def test_changes_made_through_one_process_reach_subscribers_of_another_in_order(database_factory) -> None:
    url, world = await new_shop(database_factory)
    async with server_processes(2, url, REDIS_URL) as (watched, changed):
        async with (
            LiveClient.connect(watched.ws_url, token(world, "agent")) as console,
            LiveClient.connect(watched.ws_url, token(world, "customer", "alice")) as spa,
        ):
            feed = await console.subscribe("LiveOrderEvents", {"after": "0"})
            mine = await spa.subscribe("MyOrderUpdates", {"after": "0"})
            # Several writers at once, all through the other process.
            await asyncio.gather(*(make_changes(changed, world, 4, prefix=f"w{w}") for w in range(3)))
            everything = await logged_events(url)
            alices = await logged_events(url, world.customers["alice"])
            assert received(await feed.events_until(everything[-1][0])) == everything
            assert received(await mine.events_until(alices[-1][0])) == alices


async def test_every_subscriber_has_every_event_once_in_order_across_a_redis_restart(database_factory) -> None:
    url, world = await new_shop(database_factory)
    redis = RedisServer()
    await redis.start()
    try:
        async with server_processes(2, url, redis.url) as (first, second):
            async with (
                LiveClient.connect(first.ws_url, token(world, "agent")) as console_1,
                LiveClient.connect(second.ws_url, token(world, "agent")) as console_2,
                LiveClient.connect(first.ws_url, token(world, "customer", "alice")) as spa,
            ):
                feeds = [
                    await console_1.subscribe("LiveOrderEvents", {"after": "0"}),
                    await console_2.subscribe("LiveOrderEvents", {"after": "0"}),
                ]
                mine = await spa.subscribe("MyOrderUpdates", {"after": "0"})
                changes = asyncio.create_task(make_changes(second, world, 12, prefix="before"))
                await asyncio.sleep(0.5)
                redis.stop()  # changes keep being committed while Redis is away…
                await make_changes(first, world, 3, prefix="during")
                await redis.start()  # …and it comes back, empty, on the same port
                await changes
                await make_changes(first, world, 3, prefix="after")

                everything = await logged_events(url)
                alices = await logged_events(url, world.customers["alice"])
                for feed in feeds:
                    assert received(await feed.events_until(everything[-1][0])) == everything
                assert received(await mine.events_until(alices[-1][0])) == alices
                # Nothing stale follows: the next thing each feed sees is the next change.
                await make_changes(second, world, 1, prefix="last")
                newest = (await logged_events(url))[len(everything) :]
                for feed in feeds:
                    assert received(await feed.take(len(newest))) == newest
    finally:
        redis.remove()


async def test_an_event_numbered_first_never_commits_after_a_higher_number_is_visible(database_factory) -> None:
    """Two writers race. The transaction that appends its event first but commits last gets the higher number,
    and a transaction that has numbered its events holds the next writer back until it commits; so a reader
    resuming `after` the last sequence it saw never skips one that commits later."""
    url, world = await new_shop(database_factory)
    db = Database(url)
    numbered, commit = asyncio.Event(), asyncio.Event()

    @contextlib.asynccontextmanager
    async def write_held_before_commit():
        async with db.write() as session:
            yield session
            numbered.set()  # change() has numbered and inserted its events; the commit waits
            await commit.wait()

    def note(session, text: str) -> None:
        append_event(
            session,
            customer_id=world.customers["alice"],
            type=EventType.ORDER_NOTE_ADDED,
            message=text,
            visibility=EventVisibility.INTERNAL,
            actor=(ActorKind.AGENT, "racer"),
        )

    async def read_after(after: int) -> list[tuple[int, str]]:
        async with db.read() as session:
            rows = await session.exec(
                sa.select(OrderEvent.sequence, OrderEvent.message)
                .where(OrderEvent.sequence > after)
                .order_by(OrderEvent.sequence)
            )
            return [tuple(row) for row in rows.all()]

    async def slow_writer(text: str, appended: asyncio.Event, go: asyncio.Event) -> None:
        async with change(db.write) as session:
            note(session, text)
            appended.set()
            await go.wait()

    async def quick_writer(text: str) -> None:
        async with change(db.write) as session:
            note(session, text)

    # 1. The slow writer appends first; a quick one commits meanwhile; the reader sees it and moves on.
    appended, go = asyncio.Event(), asyncio.Event()
    slow = asyncio.create_task(slow_writer("appended first", appended, go))
    await appended.wait()
    await quick_writer("committed first")
    seen = await read_after(0)
    assert [m for _, m in seen] == ["committed first"]
    go.set()
    await slow
    resumed = await read_after(seen[-1][0])
    assert [m for _, m in resumed] == ["appended first"]

    # 2. A writer that has numbered its events holds the next one back until it commits.
    held = asyncio.create_task(_write(change(write_held_before_commit), note, "numbered, commit held"))
    await numbered.wait()
    racing = asyncio.create_task(quick_writer("racing"))
    await asyncio.sleep(0.5)
    assert not racing.done(), "a writer numbered its events while another's numbers were uncommitted"
    last_seen = resumed[-1][0]
    assert await read_after(last_seen) == []
    commit.set()
    await asyncio.gather(held, racing)
    after_both = await read_after(last_seen)
    assert [m for _, m in after_both] == ["numbered, commit held", "racing"]
    assert [s for s, _ in seen + resumed + after_both] == [1, 2, 3, 4]
    await db.dispose()


async def _write(transaction, note, text: str) -> None:
    async with transaction as session:
        note(session, text)


async def test_ordergraph_serve_answers_a_client_offering_compression_without_it(database_factory) -> None:
    """Live frames go to thousands of sockets: `ordergraph serve` never compresses them per socket, even for a
    client that offers permessage-deflate (as browsers do); the handshake accepts no extension."""
    url, _world = await new_shop(database_factory)
    env = {"ORDERGRAPH_DATABASE_URL": url, "ORDERGRAPH_JWT_SECRET": TEST_SECRET}
    server = ServerProcess.ordergraph_serve(env, workers=1, grace=5, ready_path="/healthz")
    await server.start()
    try:
        async with websockets.connect(
            server.ws_url, subprotocols=["graphql-transport-ws"], compression="deflate"
        ) as ws:
            assert ws.subprotocol == "graphql-transport-ws"
            assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
    finally:
        server.stop()
