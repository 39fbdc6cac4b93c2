"""What the live tests drive servers with (no tests here): a graphql-transport-ws client, a server on a real
port in this process, server processes (uvicorn, or `ordergraph serve --workers N`), and a redis-server of the test's
own."""

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from itertools import count
from pathlib import Path

import httpx
import uvicorn
import websockets
from contract import document
from starlette.applications import Starlette

# Only a guard against a test hanging for ever: no test asserts how fast anything arrives.
PATIENCE_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveStream:
    """One subscription's messages, as the client received them."""

    def __init__(self, client: "LiveClient", id: str) -> None:
        self.client = client
        self.id = id
        self.messages: asyncio.Queue[dict] = asyncio.Queue()

    async def message(self) -> dict:
        return await asyncio.wait_for(self.messages.get(), PATIENCE_SECONDS)

    async def next(self) -> dict:
        """The next event (the subscription field's value); fails on anything else."""
        message = await self.message()
        assert message["type"] == "next", message
        assert not message["payload"].get("errors"), message
        (value,) = message["payload"]["data"].values()
        return value

    async def take(self, n: int) -> list[dict]:
        return [await self.next() for _ in range(n)]

    async def events_until(self, last_sequence: int) -> list[dict]:
        events = []
        while not events or int(events[-1]["sequence"]) < last_sequence:
            events.append(await self.next())
        return events

    async def complete(self) -> None:
        await self.client.ws.send(json.dumps({"id": self.id, "type": "complete"}))


class LiveClient:
    """A graphql-transport-ws client over one WebSocket."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self._streams: dict[str, LiveStream] = {}
        self._ids = count(1)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, token: str) -> AsyncIterator["LiveClient"]:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            raw = await asyncio.wait_for(ws.recv(), PATIENCE_SECONDS)
            assert isinstance(raw, str), f"a binary frame: graphql-ws reads text frames only ({raw[:80]!r})"
            reply = json.loads(raw)
            assert reply["type"] == "connection_ack", reply
            client = cls(ws)
            try:
                yield client
            finally:
                client._reader.cancel()

    async def subscribe(self, operation: str, variables: dict | None = None) -> LiveStream:
        stream = LiveStream(self, str(next(self._ids)))
        self._streams[stream.id] = stream
        payload = {"query": document(operation), "operationName": operation, "variables": variables or {}}
        await self.ws.send(json.dumps({"id": stream.id, "type": "subscribe", "payload": payload}))
        return stream

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                assert isinstance(raw, str), f"a binary frame: graphql-ws reads text frames only ({raw[:80]!r})"
                message = json.loads(raw)
                if message["type"] == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                elif "id" in message:
                    self._streams[message["id"]].messages.put_nowait(message)


async def close_code(url: str, connection_init: dict, **connect_options: object) -> int:
    """Opens a socket, sends connection_init and returns the code the server closes it with."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], **connect_options) as ws:
        await ws.send(json.dumps(connection_init))
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), PATIENCE_SECONDS)
        return ws.close_code


@contextlib.asynccontextmanager
async def serving_on_a_port(app: Starlette) -> AsyncIterator[str]:
    """An app whose lifespan is already running, served by uvicorn in this process; yields its ws:// URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", ws_per_message_deflate=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(1_000):  # uvicorn says it started with a flag, not an event: poll it, 10 s at most
        if server.started:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("uvicorn did not start within 10 s")
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
        sock.close()


class ServerProcess:
    """A server in a process (and session) of its own, on a port of its own: by default `uvicorn
    ordergraph.server.app:create_app --factory` (`uvicorn()`, with a graceful-shutdown bound if given), or
    `ordergraph serve --workers N` (`ordergraph_serve()`). Ready once `ready_path` answers 200; stopped with SIGTERM
    to its whole process group (its workers with it), killed if it has not gone `grace` + 10 seconds later."""

    def __init__(
        self,
        env: dict[str, str],
        command: list[str] | None = None,
        *,
        port: int | None = None,
        ready_path: str = "/healthz",
        grace: float = 10.0,
    ) -> None:
        self.port = port or free_port()
        self.env = env
        self.command = command or uvicorn_command(self.port)
        self.ready_path = ready_path
        self.grace = grace
        self.process: subprocess.Popen | None = None

    @classmethod
    def uvicorn(cls, env: dict[str, str], *, grace: float, ready_path: str = "/readyz") -> "ServerProcess":
        port = free_port()
        command = [*uvicorn_command(port), "--timeout-graceful-shutdown", str(round(grace))]
        return cls(env, command, port=port, ready_path=ready_path, grace=grace)

    @classmethod
    def ordergraph_serve(
        cls, env: dict[str, str], *, workers: int, grace: float, ready_path: str = "/readyz"
    ) -> "ServerProcess":
        port = free_port()
        command = [sys.executable, "-m", "ordergraph.server.cli", "serve", "--port", str(port)]
        return cls(env, [*command, "--workers", str(workers)], port=port, ready_path=ready_path, grace=grace)

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
            # Not from the checkout: the installed package serves, and no bare room name is importable.
            cwd=tempfile.gettempdir(),
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | self.env,
            start_new_session=True,  # its workers with it, for stop()
        )
        async with httpx.AsyncClient() as client:
            for _ in range(PATIENCE_SECONDS * 10):
                assert self.process.poll() is None, "the server process exited"
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.http_url}{self.ready_path}")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"the server process did not answer {self.ready_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(self.grace + 10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def workers(self) -> list[int]:
        """The uvicorn worker processes under this server's supervisor (`ordergraph serve --workers N`)."""
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

    async def run(self, operation: str, variables: dict, token: str) -> dict:
        async with httpx.AsyncClient(base_url=self.http_url, timeout=PATIENCE_SECONDS) as client:
            response = await client.post(
                "/graphql",
                json={"query": document(operation), "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def uvicorn_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "ordergraph.server.app:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--ws-per-message-deflate",  # as `ordergraph serve` runs it (server/cli.py)
        "false",
    ]


class RedisServer:
    """A redis-server of the test's own on a spare port, which the test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="og-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        # Popen returns once the child is forked; waiting for it to listen is asynchronous below.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(PATIENCE_SECONDS * 10):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                return
            await asyncio.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
