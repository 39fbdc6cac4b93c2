"""Server processes as production runs them (issue 22), on PostgreSQL and Redis: SIGTERM drains a server while a
client is subscribed (it reconnects elsewhere and resumes with `after`, losing nothing) and while a request is in
flight (it completes; new connections are refused), and `ordergraph serve
--workers 3` survives a worker killed outright with no event and no notification lost, and none sent twice but the
one the killed worker may have been sending."""

import asyncio
import contextlib
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import websockets
from aiosmtpd.controller import Controller
from conftest import BACKENDS, REDIS_URL, TEST_SECRET
from contract import document
from test_live_harness import PATIENCE_SECONDS, ServerProcess
from test_live_processes import logged_events, make_changes, new_shop, received, token
from test_notifications import Mailbox
from test_placement import order_input

from ordergraph.models import InventoryLevel, Notification
from ordergraph.models.database import Database
from ordergraph.models.enums import NotificationStatus
from ordergraph.subscriptions.background import cancel_and_wait

pytestmark = pytest.mark.parametrize("database_factory", [b for b in BACKENDS if b == "postgresql"], indirect=True)

GRACE_SECONDS = 10


def environment(url: str, **extra: str) -> dict[str, str]:
    return {
        "ORDERGRAPH_DATABASE_URL": url,
        "ORDERGRAPH_BROADCAST_URL": REDIS_URL,
        "ORDERGRAPH_REDIS_PREFIX": f"ordergraph-test-{uuid.uuid4().hex[:12]}",
        "ORDERGRAPH_JWT_SECRET": TEST_SECRET,
        "ORDERGRAPH_RELAY_POLL_SECONDS": "0.5",
        "ORDERGRAPH_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        "ORDERGRAPH_LOG_FORMAT": "json",
        **extra,
    }


class Follower:
    """A graphql-ws client's subscription as a real client keeps it: when the socket closes with a code graphql-ws
    retries on, it reconnects (to the next URL) and subscribes again `after` the last sequence it received."""

    RETRIED = frozenset({1000, 1001, 1005, 1006, 1012, 1013, 1014})

    def __init__(self, urls: list[str], bearer: str, operation: str) -> None:
        self.urls = urls
        self.bearer = bearer
        self.operation = operation
        self.events: list[dict] = []
        self.close_codes: list[int] = []

    async def follow_until(self, last_sequence: int) -> None:
        for attempt in range(20):
            url = self.urls[attempt % len(self.urls)]
            after = self.events[-1]["sequence"] if self.events else "0"
            try:
                async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
                    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {self.bearer}"}}
                    await ws.send(json.dumps(init))
                    async with asyncio.timeout(PATIENCE_SECONDS):
                        assert json.loads(await ws.recv())["type"] == "connection_ack"
                    payload = {"query": document(self.operation), "variables": {"after": after}}
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                    while not self.events or int(self.events[-1]["sequence"]) < last_sequence:
                        # Not wait_for: on 3.11 it can swallow a cancellation landing as a message arrives.
                        async with asyncio.timeout(PATIENCE_SECONDS):
                            message = json.loads(await ws.recv())
                        if message["type"] == "ping":
                            await ws.send(json.dumps({"type": "pong"}))
                        elif message["type"] == "next":
                            (event,) = message["payload"]["data"].values()
                            self.events.append(event)
                        else:
                            raise AssertionError(message)
                    return
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else 1006
                self.close_codes.append(code)
                assert code in self.RETRIED, code
            except OSError:
                self.close_codes.append(1006)  # refused: the server is gone; the next one
                await asyncio.sleep(0.2)
        raise AssertionError("gave up reconnecting")


async def test_sigterm_drains_a_server_and_its_subscriber_resumes_on_another_without_loss(database_factory) -> None:
    url, world = await new_shop(database_factory)
    env = environment(url)
    draining, staying = ServerProcess.uvicorn(env, grace=GRACE_SECONDS), ServerProcess.uvicorn(env, grace=GRACE_SECONDS)
    try:
        await asyncio.gather(draining.start(), staying.start())
        follower = Follower([draining.ws_url, staying.ws_url], token(world, "agent"), "LiveOrderEvents")
        await make_changes(staying, world, 2, prefix="before")
        await follower.follow_until(1)  # subscribed, the log so far replayed from its start
        following = asyncio.create_task(follower.follow_until(10**9))

        # Changes keep coming (through the other server) while this one drains.
        changes = asyncio.create_task(make_changes(staying, world, 6, prefix="during"))
        await asyncio.sleep(0.3)
        draining.process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(draining.process.wait, GRACE_SECONDS + 10)
        await changes
        everything = await logged_events(url)
        await cancel_and_wait(following)
        await follower.follow_until(everything[-1][0])

        # Drained, not killed: uvicorn ends by raising the signal it caught again, once shut down.
        assert exit_code in (0, -signal.SIGTERM)
        assert follower.close_codes[0] == 1012  # Service Restart: graphql-ws reconnects on it
        assert received(follower.events) == everything  # each event once, in order, none lost
    finally:
        draining.stop()
        staying.stop()


@dataclass
class HoldingMailbox(Mailbox):
    """Takes the first message, then holds its answer until released; sender_port is the sender's end, held_id
    the message's Message-ID."""

    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    sender_port: int = 0
    held_id: str = ""

    async def handle_DATA(self, server, session, envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if not self.holding.is_set():
            self.sender_port = session.peer[1]
            self.held_id = self.messages[-1]["Message-ID"]
            self.holding.set()
            await asyncio.to_thread(self.release.wait, PATIENCE_SECONDS)
        return answer


def notification_of(message_id: str) -> int:
    """The notification a Message-ID names (server.notifier writes "<notification-{id}@domain>")."""
    return int(message_id.removeprefix("<notification-").partition("@")[0])


def owner_of_port(pids: list[int], port: int) -> int:
    """Which of the processes has the loopback TCP socket whose own end is `port` (Linux's /proc)."""
    inodes = {
        fields[9]
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for fields in (line.split() for line in Path(table).read_text().splitlines()[1:])
        if int(fields[1].rsplit(":", 1)[1], 16) == port
    }
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if fd.readlink().name.removeprefix("socket:[").removesuffix("]") in inodes:
                    return pid
    raise AssertionError(f"no process among {pids} has port {port}")


async def test_three_workers_one_killed_lose_no_event_and_no_notification(database_factory) -> None:
    url, world = await new_shop(database_factory)
    mailbox = HoldingMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    env = environment(
        url,
        ORDERGRAPH_SMTP_HOST="127.0.0.1",
        ORDERGRAPH_SMTP_PORT=str(mailbox.port),
        ORDERGRAPH_NOTIFICATION_POLL_SECONDS="0.5",
        # The victim dies holding a claim; it expires soon enough to be sent again within the test's patience.
        ORDERGRAPH_NOTIFICATION_LEASE_SECONDS="5",
    )
    server = ServerProcess.ordergraph_serve(env, workers=3, grace=GRACE_SECONDS)
    db = Database(url)
    try:
        await server.start()
        for _ in range(PATIENCE_SECONDS * 10):
            if len(server.workers()) == 3:
                break
            await asyncio.sleep(0.1)
        assert len(server.workers()) == 3
        # Several subscribers, so that some are likely served by the worker that dies.
        followers = [Follower([server.ws_url], token(world, "agent"), "LiveOrderEvents") for _ in range(4)]
        following = [asyncio.create_task(f.follow_until(10**9)) for f in followers]

        await make_changes(server, world, 6, prefix="before")
        # The victim is the worker sending the first email, killed after the mailbox took the message and before
        # it answered: it never learns the message went out.
        assert await asyncio.to_thread(mailbox.holding.wait, PATIENCE_SECONDS)
        victim = owner_of_port(server.workers(), mailbox.sender_port)
        os.kill(victim, signal.SIGKILL)
        mailbox.release.set()
        await make_changes(server, world, 6, prefix="after")
        # The supervisor replaces the dead worker.
        for _ in range(PATIENCE_SECONDS * 10):
            if len(server.workers()) == 3 and victim not in server.workers():
                break
            await asyncio.sleep(0.1)
        assert len(server.workers()) == 3
        assert victim not in server.workers()
        await make_changes(server, world, 3, prefix="replaced")

        everything = await logged_events(url)
        # Each stopped before following again: a cancelled task may still append the event it was handed.
        for task in following:
            await cancel_and_wait(task)
        for follower in followers:
            await follower.follow_until(everything[-1][0])
            assert received(follower.events) == everything

        # Every notification sent, each once but the victim's, which was claimed again after the lease and sent
        # again under the same Message-ID.
        settled, rows = 0, []
        for _ in range(PATIENCE_SECONDS * 10):
            async with db.read() as session:
                now = (
                    await session.exec(
                        sa.select(Notification.id, Notification.status, Notification.channel, Notification.attempts)
                    )
                ).all()
            # Done when nothing is pending and nothing new was queued for a few notifier polls.
            settled = settled + 1 if now == rows and NotificationStatus.PENDING not in {r.status for r in now} else 0
            rows = now
            if rows and settled >= 15:
                break
            await asyncio.sleep(0.1)
        emails = {r.id: r for r in rows if r.channel.value == "EMAIL"}
        assert {r.status for r in emails.values()} == {NotificationStatus.SENT}
        sent = Counter(notification_of(m["Message-ID"]) for m in mailbox.messages)
        assert len(emails) > 1
        repeated = [n for n, times in sent.items() if times > 1]
        assert repeated == [notification_of(mailbox.held_id)]
        assert sent == {n: 2 if n in repeated else 1 for n in emails}
        assert emails[repeated[0]].attempts == 2

        # Whichever worker answers the scrape counts every worker's requests, the dead one's too.
        async with httpx.AsyncClient() as client:
            scraped = (await client.get(f"{server.http_url}/metrics")).text
        placements = [
            float(line.rsplit(" ", 1)[1])
            for line in scraped.splitlines()
            if line.startswith("ordergraph_graphql_requests_total{") and 'operation="PlaceOrder"' in line
        ]
        assert sum(placements) == 15
    finally:
        mailbox.release.set()  # a test that failed early must not leave the mailbox holding its answer
        server.stop()
        controller.stop()
        await db.dispose()


async def test_sigterm_lets_a_request_in_flight_finish_and_refuses_new_connections(database_factory) -> None:
    """The request is held in flight deterministically: it waits on stock rows the test has locked, until the test
    has seen the server stop accepting."""
    url, world = await new_shop(database_factory)
    server = ServerProcess.uvicorn(environment(url), grace=GRACE_SECONDS)
    db = Database(url)
    try:
        await server.start()
        async with db.write() as holding:
            await holding.exec(sa.select(InventoryLevel).where(InventoryLevel.sku == "SKU-1").with_for_update())
            placing = asyncio.create_task(
                server.run("PlaceOrder", {"input": order_input(key="drained")}, token(world, "customer", "alice"))
            )
            for _ in range(PATIENCE_SECONDS * 10):  # until the placement waits on the test's lock
                async with db.read() as session:
                    waiting = (await session.exec(sa.text(WAITING_ON_A_LOCK))).one()[0]
                if waiting:
                    break
                assert not placing.done(), placing.result()
                await asyncio.sleep(0.1)
            assert waiting == 1

            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            for _ in range(PATIENCE_SECONDS * 10):  # until it stops accepting (a bound, not a timing)
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
                except ConnectionRefusedError:
                    break
                writer.close()
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the server still accepts connections after SIGTERM")
            assert not placing.done()
        # The lock released: the request in flight completes, answered 200 (server.run asserts it) with its order.
        placed = (await placing)["placeOrder"]
        assert placed["userErrors"] == []
        assert placed["order"]["id"]
        exit_code = await asyncio.to_thread(server.process.wait, GRACE_SECONDS + 10)
        drained_in = time.monotonic() - signalled
        assert exit_code in (0, -signal.SIGTERM)
        assert drained_in <= GRACE_SECONDS, drained_in  # within shutdown_grace_seconds, not killed at the bound
        assert [t for _, t in await logged_events(url)].count("ORDER_PLACED") == 1
    finally:
        server.stop()
        await db.dispose()


WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
