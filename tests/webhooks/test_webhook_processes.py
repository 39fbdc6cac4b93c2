"""Webhooks from a real server process on PostgreSQL with a Redis of the test's own: the server killed with SIGKILL
and Redis stopped mid-stream, events committed while neither runs, both restarted (two server processes, whose
workers share the queue): every event still reaches the receiver at least once, in order per order, correctly
signed."""

import asyncio
import contextlib
import uuid

import httpx
import pytest
from conftest import BACKENDS, TEST_SECRET
from test_live_harness import RedisServer, ServerProcess
from test_live_processes import make_changes, new_shop, token
from webhook_helpers import CREATE, DOCUMENT, TYPES, assert_at_least_once_in_order, signed_by, wanted_events
from webhook_receiver import receiving

from ordergraph.models import Order
from ordergraph.models.database import Database
from ordergraph.models.enums import ActorKind, EventType, EventVisibility
from ordergraph.resolvers.events import append_event, change

pytestmark = pytest.mark.parametrize("database_factory", [b for b in BACKENDS if b == "postgresql"], indirect=True)


def environment(url: str, redis_url: str) -> dict[str, str]:
    return {
        "ORDERGRAPH_DATABASE_URL": url,
        "ORDERGRAPH_BROADCAST_URL": redis_url,
        "ORDERGRAPH_REDIS_PREFIX": f"ordergraph-test-{uuid.uuid4().hex[:12]}",
        "ORDERGRAPH_JWT_SECRET": TEST_SECRET,
        "ORDERGRAPH_RELAY_POLL_SECONDS": "0.5",
        "ORDERGRAPH_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "ORDERGRAPH_WEBHOOK_POLL_SECONDS": "0.2",
        "ORDERGRAPH_WEBHOOK_TIMEOUT_SECONDS": "1",
        "ORDERGRAPH_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
        "ORDERGRAPH_WEBHOOK_RETRY_CAP_SECONDS": "0.3",
        "ORDERGRAPH_WEBHOOK_LEASE_SECONDS": "2",
    }


async def notes_while_down(url: str, n: int) -> None:
    """Agents' notes committed straight to the database while no server runs (another system's writes)."""
    db = Database(url)
    async with db.read() as session:
        orders = (await session.exec(Order.__table__.select().limit(n))).all()
    for order in orders:
        async with change(db.write) as session:
            row = await session.get(Order, order.id)
            append_event(
                session,
                customer_id=row.customer_id,
                order=row,
                type=EventType.ORDER_NOTE_ADDED,
                message="while everything was down",
                visibility=EventVisibility.INTERNAL,
                actor=(ActorKind.AGENT, "batch"),
            )
    await db.dispose()


async def test_every_event_arrives_in_order_per_order_across_a_killed_server_and_a_stopped_redis(
    database_factory,
) -> None:
    url, world = await new_shop(database_factory)
    redis = RedisServer()
    await redis.start()
    env = environment(url, redis.url)
    server = second = ServerProcess(env)
    try:
        async with receiving() as receiver:
            await server.start()
            async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as client:
                answer = (
                    await client.post(
                        "/graphql",
                        json={
                            "query": CREATE,
                            "variables": {"input": {"url": receiver.url, "eventTypes": TYPES, "document": DOCUMENT}},
                        },
                        headers={"Authorization": f"Bearer {token(world, 'admin')}"},
                    )
                ).json()["data"]["createWebhookSubscription"]
            assert answer["userErrors"] == []
            secret, start = answer["secret"], int(answer["subscription"]["startSequence"])

            # Mid-stream: the first deliveries are in, more are queued or being sent.
            await make_changes(server, world, 6, prefix="before")
            await receiver.wait_for(lambda r: len(r.accepted) >= 3)
            server.process.kill()  # SIGKILL: no shutdown, claims left to expire
            server.process.wait()
            redis.stop()
            await notes_while_down(url, 3)

            # Both back, and a second process beside the first: their workers share the queue.
            await redis.start()
            server, second = ServerProcess(env), ServerProcess(env)
            await asyncio.gather(server.start(), second.start())
            await make_changes(second, world, 3, prefix="after")

            expected = await wanted_events(url, start)
            await receiver.wait_for(lambda r: {s for s, _ in expected} <= {x.sequence for x in r.accepted}, 90)
            assert_at_least_once_in_order(receiver.requests, expected)
            assert all(signed_by(secret, request) for request in receiver.requests)
    finally:
        for process in (server, second):
            with contextlib.suppress(Exception):
                process.stop()
        redis.remove()
