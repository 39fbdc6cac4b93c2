"""A webhook receiver for tests: a Starlette app served by uvicorn on a free loopback port in this process, which
answers as the test says (200, 500, or too slowly), and can be stopped and started again on the same port."""

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int  # the status this receiver answered (0: too slow, the sender gave up)

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers["ordergraph-delivery-id"]

    @property
    def sequence(self) -> int:
        return int(self.headers["ordergraph-event-sequence"])


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    mode: str = "ok"  # "ok": 200; "fail": 500; "slow": answers after `slow_seconds`
    slow_seconds: float = 5.0
    requests: list[Received] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/ordergraph?source=test"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.answered == 200]

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        received = Received(dict(request.headers), body, 0)
        self.requests.append(received)
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
            return Response("late", status_code=200)
        received.answered = 200 if self.mode == "ok" else 500
        return Response("x" * 10_000, status_code=received.answered)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/hooks/ordergraph", self._hook, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(1000):
            if self._server.started:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the receiver did not start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._server.force_exit = True
            with contextlib.suppress(Exception):
                await self._task
            self._server = self._task = None

    async def wait_for(self, predicate, seconds: float = 60.0) -> None:
        """Until predicate(self) holds; an AssertionError after `seconds` (a bound, never a timed assertion)."""
        for _ in range(int(seconds * 20)):
            if predicate(self):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the receiver did not get what was expected; it has {len(self.requests)} requests")


@contextlib.asynccontextmanager
async def receiving(**options) -> AsyncIterator[Receiver]:
    receiver = Receiver(**options)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()
