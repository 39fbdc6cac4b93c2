"""Outbound webhooks: deliveries per second and commit-to-delivery latency at 1 and 20 subscriptions, against a local
receiver; next to the floor, the same receiver's raw request rate and latency from a plain httpx loop.

    python -m bench.webhooks [--url …] [--orders 100000] [--webhook-subscriptions 1,20] [--webhook-events 300]
                             [--webhook-rate 20]

One ordergraph server process (in-memory broadcast: webhooks need no Redis) with its webhook worker; the receiver
(Starlette on uvicorn, answering 200 at once) runs in this process. At each level that many subscriptions, each
selecting `orderEvents { sequence occurredAt order { number status } }` for ORDER_NOTE_ADDED, receive:

- paced: `--webhook-rate` notes per second added by an agent through the API, for the latency figures;
- burst: `--webhook-events` notes added as fast as 8 clients can, for deliveries per second (all deliveries over the
  time from the first commit to the last delivery), and latency under that load.

Latency is the receiver's clock at arrival minus the event's `occurredAt`, taken inside the committing transaction:
an upper bound of commit-to-delivery (one machine, one clock). The floor posts bodies of the same size to the same
receiver with 16 concurrent clients. The notes add events, so this runs on a copy of the benchmark database.
"""

import argparse
import asyncio
import json
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import seed
from bench.report import Table, ms, percentile, rate, times
from bench.servers import ORDERGRAPH, Server, ordergraph_settings, staff_token
from ordergraph.resolvers.access import Role
from ordergraph.schema.node import encode_global_id

DOCUMENT = "subscription { orderEvents { sequence occurredAt order { number status } } }"
CREATE = """
mutation Create($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { subscription { id } userErrors { code message } }
}"""
DISABLE = """
mutation Off($id: ID!) { setWebhookSubscriptionActive(id: $id, active: false) { userErrors { code } } }
"""
NOTE = """
mutation Note($input: AddOrderNoteInput!) { addOrderNote(input: $input) { userErrors { code } } }
"""
BURST_CLIENTS = 8
FLOOR_CLIENTS = 16
WAIT_FOR_LAST = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--webhook-subscriptions", default="1,20", help="subscriptions per level (default 1,20)")
    parser.add_argument("--webhook-events", type=int, default=300, help="events in each burst (default 300)")
    parser.add_argument("--webhook-rate", type=float, default=20.0, help="paced events per second (default 20)")
    parser.add_argument("--webhook-paced", type=int, default=100, help="paced events per level (default 100)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Receiver:
    """Answers 200 at once; records each arrival's latency from the event's occurredAt (when the body has one)."""

    port: int = field(default_factory=_free_port)
    arrivals: list[float] = field(default_factory=list)  # monotonic-free wall clock of each arrival
    latencies: list[float] = field(default_factory=list)
    count: int = 0

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        now = time.time()
        self.count += 1
        self.arrivals.append(now)
        try:
            occurred = json.loads(body)["data"]["orderEvents"]["occurredAt"]
            self.latencies.append(now - datetime.fromisoformat(occurred).timestamp())
        except (KeyError, TypeError, ValueError):
            pass
        return Response(b"ok")

    def reset(self) -> None:
        self.arrivals, self.latencies, self.count = [], [], 0

    async def until(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_FOR_LAST
        while self.count < count and time.monotonic() < deadline:  # noqa: ASYNC110  (a bounded wait, polled)
            await asyncio.sleep(0.01)


@dataclass
class Phase:
    deliveries: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds if self.seconds else float("nan")


async def _orders(url: str, n: int) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT id FROM orders ORDER BY id DESC LIMIT $1", n)
    finally:
        await connection.close()
    return [encode_global_id("Order", row["id"]) for row in rows]


async def _post(client: httpx.AsyncClient, query: str, variables: dict, token: str) -> dict:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    body = response.json()
    if "errors" in body:
        raise RuntimeError(f"bench.webhooks: {body['errors']}")
    return body["data"]


async def _notes(client: httpx.AsyncClient, orders: list[str], n: int, *, clients: int, per_second: float | None):
    agent = staff_token(Role.AGENT, "bench-webhooks")
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    started = time.monotonic()

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            if per_second:
                await asyncio.sleep(max(0.0, started + i / per_second - time.monotonic()))
            variables = {"input": {"orderId": orders[i % len(orders)], "message": f"n{i}", "visibility": "INTERNAL"}}
            await _post(client, NOTE, variables, agent)

    await asyncio.gather(*(worker() for _ in range(clients)))


async def _level(client, receiver: Receiver, orders: list[str], subscriptions: int, args) -> tuple[Phase, Phase]:
    admin = staff_token(Role.ADMIN, "bench-webhooks")
    ids = []
    for i in range(subscriptions):
        created = await _post(
            client,
            CREATE,
            {
                "input": {
                    "url": f"http://127.0.0.1:{receiver.port}/hook/{i}",
                    "eventTypes": ["ORDER_NOTE_ADDED"],
                    "document": DOCUMENT,
                }
            },
            admin,
        )
        ids.append(created["createWebhookSubscription"]["subscription"]["id"])
    phases = []
    for n, clients, pace in ((args.webhook_paced, 1, args.webhook_rate), (args.webhook_events, BURST_CLIENTS, None)):
        receiver.reset()
        began = time.time()
        await _notes(client, orders, n, clients=clients, per_second=pace)
        await receiver.until(n * subscriptions)
        last = receiver.arrivals[-1] if receiver.arrivals else time.time()
        phases.append(Phase(receiver.count, last - began, list(receiver.latencies)))
    for id in ids:
        await _post(client, DISABLE, {"id": id}, admin)
    return phases[0], phases[1]


async def _floor(receiver: Receiver, n: int) -> Phase:
    """The receiver's own rate: bodies like the deliveries', posted by a plain httpx loop."""
    body = json.dumps(
        {"sequence": 1, "type": "ORDER_NOTE_ADDED", "data": {"orderEvents": {"sequence": "1", "order": {}}}}
    )
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{receiver.port}") as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                began = time.perf_counter()
                response = await client.post("/hook/floor", content=body, headers={"Content-Type": "application/json"})
                response.raise_for_status()
                latencies.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(FLOOR_CLIENTS)))
        return Phase(n, time.perf_counter() - started, latencies)


async def run(url: str, args: argparse.Namespace) -> Table:
    """On a database that may be changed (a copy of the benchmark's)."""
    levels = [int(n) for n in args.webhook_subscriptions.split(",")]
    load_at_start = os.getloadavg()[0]
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook/{name}", receiver.hook, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=receiver.port, log_level="warning", access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  (uvicorn says it started with a flag only)
        await asyncio.sleep(0.01)
    orders = await _orders(url, 50)
    settings = ordergraph_settings(url, webhook_allowed_networks="127.0.0.0/8")
    print(f"webhooks: {levels} subscriptions, paced then burst, then the receiver's floor …", flush=True)
    results = {}
    try:
        async with Server(ORDERGRAPH, settings) as ordergraph:
            async with httpx.AsyncClient(base_url=ordergraph.url, timeout=60) as client:
                for subscriptions in levels:
                    results[subscriptions] = await _level(client, receiver, orders, subscriptions, args)
        floor = await _floor(receiver, max(args.webhook_events * max(levels), 1000))
    finally:
        server.should_exit = True
        await serving

    table = Table(
        "Webhooks: deliveries to a local receiver",
        ["what", "subscriptions", "deliveries", "per s", "p50 ms", "p99 ms", "vs floor (rate)"],
    )
    for subscriptions, (paced, burst) in results.items():
        for name, phase in ((f"paced, {args.webhook_rate:g} events/s", paced), ("burst", burst)):
            table.add(
                f"ordergraph webhooks, {name}",
                subscriptions,
                phase.deliveries,
                rate(phase.per_second),
                ms(percentile(phase.latencies, 50)),
                ms(percentile(phase.latencies, 99)),
                times(1 / phase.per_second, 1 / floor.per_second) if name == "burst" else "-",
            )
    table.add(
        f"floor: plain httpx POSTs, {FLOOR_CLIENTS} clients",
        "-",
        floor.deliveries,
        rate(floor.per_second),
        ms(percentile(floor.latencies, 50)),
        ms(percentile(floor.latencies, 99)),
        "1.0x",
    )
    table.notes += [
        "latency: the receiver's arrival time minus the event's occurredAt (taken in the committing transaction);"
        " the floor's is the request's round trip",
        "paced per s is bounded by the pace; burst per s counts every delivery over first commit to last arrival",
        f"load average (1 min) at start {load_at_start:.2f}, at end {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores;"
        f" a level's count short of its events x subscriptions had not arrived within {WAIT_FOR_LAST:.0f} s",
    ]
    return table


def main() -> None:
    seed.run_alone(__doc__, run, add_arguments, changes_data=True)


if __name__ == "__main__":
    main()
