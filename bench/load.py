"""A closed-loop load generator: each client makes its next attempt as soon as the previous one is answered,
for a fixed time. Over HTTP/1.1 each client holds one keep-alive connection.

It speaks just enough HTTP (requests built here, answers with a Content-Length, which is what uvicorn sends for
these apps) to cost little per request: the servers under test run in other processes on the same cores.
"""

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

# One client's next attempt (its number) -> "ok", or what else it was (e.g. "refused INSUFFICIENT_STOCK", "error")
Attempt = Callable[[int], Awaitable[str]]
# A client (its number) -> its attempts, while open (a connection held, say)
Client = Callable[[int], AbstractAsyncContextManager[Attempt]]
# (client number, request number) -> the bytes of one HTTP request
RequestMaker = Callable[[int, int], bytes]
# (status, body) -> the outcome
Classifier = Callable[[int, bytes], str]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=10.0, help="seconds each load level is measured (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring (default 2)")


def http_request(method: str, path: str, *, token: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def graphql_ok(status: int, body: bytes) -> str:
    return "ok" if status == 200 and b'"errors"' not in body else "error"


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # every answer that came within the time, in seconds
    outcomes: Counter[str] = field(default_factory=Counter)
    late: int = 0  # attempts answered only after the time was up (not counted above)

    @property
    def ok_per_second(self) -> float:
        return self.outcomes["ok"] / self.seconds

    @property
    def failures(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != "ok")


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return status, await reader.readexactly(int(value))
    raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")


def http_client(port: int, make: RequestMaker, classify: Classifier) -> Client:
    """Clients that each hold a keep-alive connection to the server on `port`."""

    @asynccontextmanager
    async def connected(number: int) -> AsyncIterator[Attempt]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)

        async def attempt(n: int) -> str:
            writer.write(make(number, n))
            return classify(*await _answer(reader))

        try:
            yield attempt
        finally:
            writer.close()

    return connected


async def closed_loop(client: Client, *, clients: int, seconds: float, stop_on: str | None = None) -> LoadResult:
    """`clients` clients make attempts for `seconds`, each as soon as its previous one is answered. With
    `stop_on`, a client stops at its first attempt of that outcome, and the run ends when every client has
    stopped (or the time is up)."""
    result = LoadResult(clients, seconds)
    started = time.perf_counter()
    deadline = started + seconds

    async def run(number: int) -> None:
        async with client(number) as attempt:
            n = 0
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                outcome = await attempt(n)
                answered = time.perf_counter()
                n += 1
                if answered > deadline:
                    result.late += 1
                    break
                result.latencies.append(answered - began)
                result.outcomes[outcome] += 1
                if outcome == stop_on:
                    break

    await asyncio.gather(*(run(n) for n in range(clients)))
    if stop_on is not None:
        result.seconds = time.perf_counter() - started
    return result


async def fetch(port: int, request: bytes) -> tuple[int, bytes]:
    """One request on a connection of its own: the status and the body exactly as sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        return await _answer(reader)
    finally:
        writer.close()
