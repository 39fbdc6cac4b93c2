"""Server processes as production runs them (issue 22), on PostgreSQL and Redis: SIGTERM drains a server while a
client is subscribed (it reconnects elsewhere and resumes with `after`, losing nothing), and `ordergraph serve
--workers 3` survives a worker killed outright with no event lost and no notification sent twice."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import websockets
from aiosmtpd.controller import Controller
from conftest import BACKENDS, REDIS_URL, TEST_SECRET
from contract import document
from test_live_harness import PATIENCE_SECONDS, free_port
from test_live_processes import logged_events, make_changes, new_shop, received, token
from test_notifications import Mailbox

from ordergraph.models import Notification
from ordergraph.models.database import Database
from ordergraph.models.enums import NotificationStatus

pytestmark = pytest.mark.parametrize("database_factory", [b for b in BACKENDS if b == "postgresql"], indirect=True)

GRACE_SECONDS = 10


class Served:
    """A server started by a command of the test's choosing, on a port of its own."""

    def __init__(self, command: list[str], env: dict[str, str], port: int) -> None:
        self.command = command
        self.env = env
        self.port = port
        self.process: subprocess.Popen | None = None

    @classmethod
    def uvicorn(cls, env: dict[str, str]) -> "Served":
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "ordergraph.server.app:create_app", "--factory"]
        command += ["--port", str(port), "--timeout-graceful-shutdown", str(GRACE_SECONDS), "--log-level", "warning"]
        return cls(command, env, port)

    @classmethod
    def ordergraph_serve(cls, env: dict[str, str], workers: int) -> "Served":
        port = free_port()
        command = [sys.executable, "-m", "ordergraph.server.cli", "serve", "--port", str(port)]
        return cls([*command, "--workers", str(workers)], env, port)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    async def start(self) -> None:
        # Popen returns once the child is forked; waiting for it to be ready is asynchronous below.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            self.command,
            cwd=tempfile.gettempdir(),
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | self.env,
            start_new_session=True,  # its workers with it, for stop()
        )
        async with httpx.AsyncClient() as client:
            for _ in range(PATIENCE_SECONDS * 10):
                assert self.process.poll() is None, "the server process exited"
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.http_url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError("the server did not become ready")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(GRACE_SECONDS + 10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def workers(self) -> list[int]:
        """The uvicorn worker processes under this server's supervisor."""
        assert self.process is not None
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                if parent == self.process.pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
        return found

    async def run(self, operation: str, variables: dict, bearer: str) -> dict:
        async with httpx.AsyncClient(base_url=self.http_url, timeout=PATIENCE_SECONDS) as client:
            response = await client.post(
                "/graphql",
                json={"query": document(operation), "variables": variables},
                headers={"Authorization": f"Bearer {bearer}"},
            )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


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
                    assert json.loads(await asyncio.wait_for(ws.recv(), PATIENCE_SECONDS))["type"] == "connection_ack"
                    payload = {"query": document(self.operation), "variables": {"after": after}}
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                    while not self.events or int(self.events[-1]["sequence"]) < last_sequence:
                        message = json.loads(await asyncio.wait_for(ws.recv(), PATIENCE_SECONDS))
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
    draining, staying = Served.uvicorn(env), Served.uvicorn(env)
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
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await follower.follow_until(everything[-1][0])

        # Drained, not killed: uvicorn ends by raising the signal it caught again, once shut down.
        assert exit_code in (0, -signal.SIGTERM)
        assert follower.close_codes[0] == 1012  # Service Restart: graphql-ws reconnects on it
        assert received(follower.events) == everything  # each event once, in order, none lost
    finally:
        draining.stop()
        staying.stop()


async def test_three_workers_one_killed_lose_no_event_and_send_no_notification_twice(database_factory) -> None:
    url, world = await new_shop(database_factory)
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    env = environment(
        url,
        ORDERGRAPH_SMTP_HOST="127.0.0.1",
        ORDERGRAPH_SMTP_PORT=str(mailbox.port),
        ORDERGRAPH_NOTIFICATION_POLL_SECONDS="0.5",
    )
    server = Served.ordergraph_serve(env, workers=3)
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
        victim = server.workers()[0]
        os.kill(victim, signal.SIGKILL)
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
        for task in following:
            task.cancel()
        for follower in followers:
            await follower.follow_until(everything[-1][0])
            assert received(follower.events) == everything

        # Every notification sent, each once: one message per Message-ID.
        settled, statuses = 0, []
        for _ in range(PATIENCE_SECONDS * 10):
            async with db.read() as session:
                now = (await session.exec(sa.select(Notification.status, Notification.channel))).all()
            # Done when nothing is pending and nothing new was queued for a few notifier polls.
            settled = settled + 1 if now == statuses and NotificationStatus.PENDING not in {s for s, _ in now} else 0
            statuses = now
            if statuses and settled >= 15:
                break
            await asyncio.sleep(0.1)
        emails = [status for status, channel in statuses if channel.value == "EMAIL"]
        assert emails
        assert set(emails) == {NotificationStatus.SENT}
        message_ids = [message["Message-ID"] for message in mailbox.messages]
        assert len(message_ids) == len(set(message_ids)) == len(emails)

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
        server.stop()
        controller.stop()
        await db.dispose()
