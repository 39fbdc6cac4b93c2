"""Live fan-out: commit-to-delivery latency of order events at 1, 1,000 and 10,000 subscriptions held by one
server process: first with the changes made in that process (memory://), then made through a second process and
carried by Redis; next to the floor, Redis PUBLISH to raw redis-py subscribers, measured the same way.

    python -m bench.fanout [--url …] [--orders 100000] [--redis-url redis://127.0.0.1:6379/0]
                           [--subscribers 1,1000,10000] [--events 100] [--rate 10]
                           [--fanout-paths one-process,two-processes,floor] [--fanout-profile DIR]

Subscriptions come 10 to a WebSocket. One socket in ten is an agent's console holding `LiveOrderEvents`, which
delivers every event: those deliveries are timed. The others are customers' apps holding `MyOrderUpdates` and
`WatchOrder` on their own orders, half each, which deliver their own orders' events. An agent adds notes
(alternately CUSTOMER- and INTERNAL-visible) to those customers' orders at `rate` per second. The clients run in
processes of their own (`bench.fanout client PLAN`). Latency is the client's clock at delivery minus the event's
`occurredAt`, which is taken inside the committing transaction: an upper bound of commit-to-delivery (one
machine, one clock). The floor's publisher stamps each message just before PUBLISH. The changes add events,
so this runs on a copy of the benchmark database.

Each run also prints the watched server's CPU time per timed delivery (all its work while the events were
delivered, divided by the timed deliveries), the agents' client process's CPU share and the load average: on a
busy machine latency says little, CPU time per delivery still does. --fanout-profile samples the watched server
with py-spy (not a dependency: `pip install py-spy` to use it) into collapsed stacks, one file per path and level.
"""

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Self

import asyncpg
import httpx
import redis.asyncio as aioredis
import websockets

from bench import seed
from bench.report import Table, ms, percentile, times
from bench.servers import ORDERGRAPH, ROOT, Server, bench_env, customer_token, ordergraph_settings, staff_token
from ordergraph.resolvers.access import Role
from ordergraph.schema.node import encode_global_id
from ordergraph.schema.trusted_documents import contract_documents

PER_SOCKET = 10
AGENT_SHARE = 10  # one socket in this many is an agent's
WAIT_FOR_LAST = 60.0  # seconds the clients wait for the last event before counting a subscription behind
ONE_PROCESS, TWO_PROCESSES = "ordergraph, one process (memory://)", "ordergraph, two processes (Redis)"
FLOOR = "Redis PUBLISH to redis-py subscribers"
PATHS = {"one-process": ONE_PROCESS, "two-processes": TWO_PROCESSES, "floor": FLOOR}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--subscribers", default="1,1000,10000", help="subscriptions per level (default 1,1000,10000)")
    parser.add_argument("--events", type=int, default=100, help="events timed per level (default 100)")
    parser.add_argument("--rate", type=float, default=10.0, help="events per second (default 10)")
    parser.add_argument(
        "--fanout-paths",
        default=",".join(PATHS),
        help=f"which paths to run, of {', '.join(PATHS)} (default all; the floor needs one-process)",
    )
    parser.add_argument(
        "--fanout-profile",
        type=Path,
        default=None,
        help="a folder: py-spy (on PATH) samples the watched server while events are delivered, into"
        " <path>-<subscriptions>.txt (collapsed stacks) there",
    )


# --- the clients (a process of their own) -------------------------------------------------------------------


class Deliveries:
    """What a client saw: each timed subscriber's newest sequence, and (sequence, latency) of each delivery."""

    def __init__(self) -> None:
        self.latest: dict[tuple[int, str], int] = {}
        self.latencies: list[tuple[int, float]] = []
        # Once the parent has said DONE: the sequence every timed subscriber must reach, how many subscribers
        # must reach it, and how many have (kept up to date per delivery, so no delivery rescans them all).
        self._last: int | None = None
        self._expected = 0
        self._reached = 0
        self._all_reached = asyncio.Event()

    def timed(self, subscriber: tuple[int, str], sequence: int, latency: float) -> None:
        before = self.latest.get(subscriber)
        self.latest[subscriber] = sequence
        self.latencies.append((sequence, latency))
        if self._last is not None:
            self._reached += (sequence >= self._last) - (before is not None and before >= self._last)
            self._check()

    def _check(self) -> None:
        if self._reached >= self._expected:
            self._all_reached.set()

    async def report(self, timed_total: int) -> None:
        """On `DONE <since> <last>` from the parent: waits (WAIT_FOR_LAST at most) for every timed subscriber to
        reach `last`, then prints the latencies of the events after `since` and how many subscribers are behind."""
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        since, last = (int(n) for n in line.split()[1:])
        self._last, self._expected = last, timed_total
        self._reached = sum(1 for sequence in self.latest.values() if sequence >= last)
        self._check()
        try:
            await asyncio.wait_for(self._all_reached.wait(), WAIT_FOR_LAST)
        except TimeoutError:
            pass  # the subscribers still short of `last` are counted behind
        behind = timed_total - sum(1 for sequence in self.latest.values() if sequence >= last)
        latencies = [seconds for sequence, seconds in self.latencies if since < sequence <= last]
        print(json.dumps({"latencies": latencies, "behind": behind}), flush=True)


async def _graphql_client(plan: dict) -> None:
    """Opens the plan's sockets and subscriptions; READY once every socket's subscribes were read and every
    timed subscription has delivered something."""
    deliveries = Deliveries()
    timed_total = sum(1 for s in plan["sockets"] for sub in s["subscriptions"] if sub["timed"])
    subscribed = []

    async def hold(index: int, spec: dict, opening: asyncio.Semaphore) -> None:
        # Users arrive over a while, not all in one instant: the next socket opens once this one's subscribe
        # messages have been read (the server answers a ping after the messages before it).
        await opening.acquire()
        ws = await websockets.connect(
            plan["url"], subprotocols=["graphql-transport-ws"], max_queue=None, ping_interval=None, open_timeout=60
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {spec['token']}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for n, sub in enumerate(spec["subscriptions"]):
            payload = {"query": contract_documents()[sub["operation"]][1], "variables": sub["variables"]}
            await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
        await ws.send(json.dumps({"type": "ping"}))
        timed = {str(n) for n, sub in enumerate(spec["subscriptions"]) if sub["timed"]}
        async for raw in ws:
            arrived = time.time()
            message = json.loads(raw)
            if message["type"] == "pong":
                subscribed.append(index)
                opening.release()
            elif message["type"] != "next" or message["payload"].get("errors"):
                print(f"unexpected: {raw[:300]}", file=sys.stderr)
            elif message["id"] in timed:
                (event,) = message["payload"]["data"].values()
                deliveries.timed(
                    (index, message["id"]),
                    int(event["sequence"]),
                    arrived - datetime.fromisoformat(event["occurredAt"]).timestamp(),
                )

    opening = asyncio.Semaphore(20)
    tasks = [asyncio.create_task(hold(i, spec, opening)) for i, spec in enumerate(plan["sockets"])]
    while len(subscribed) < len(tasks) or len(deliveries.latest) < timed_total:
        await asyncio.sleep(0.05)
        for task in tasks:
            if task.done() and task.exception():
                raise task.exception()
    print("READY", flush=True)
    await deliveries.report(timed_total)


async def _redis_client(plan: dict) -> None:
    """`receivers` raw pub/sub subscribers of one channel, a connection each; READY once all are subscribed."""
    deliveries = Deliveries()
    client = aioredis.from_url(plan["url"], max_connections=plan["receivers"])  # a connection per subscriber
    subscribed = []

    async def receive(index: int) -> None:
        pubsub = client.pubsub()
        await pubsub.subscribe(plan["channel"])
        async for message in pubsub.listen():
            arrived = time.time()
            if message["type"] == "subscribe":
                subscribed.append(index)
            elif message["type"] == "message":
                sent = json.loads(message["data"])
                deliveries.timed((index, ""), sent["sequence"], arrived - sent["at"])

    tasks = [asyncio.create_task(receive(i)) for i in range(plan["receivers"])]
    while len(subscribed) < len(tasks):
        await asyncio.sleep(0.05)
        for task in tasks:
            if task.done() and task.exception():
                raise task.exception()
    print("READY", flush=True)
    await deliveries.report(len(tasks))


class ClientProcess:
    """`async with ClientProcess(plan) as client:` a client process (`bench.fanout client PLAN`), killed on exit."""

    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        fd, self.plan_path = tempfile.mkstemp(suffix=".json")
        os.write(fd, json.dumps(self.plan).encode())
        os.close(fd)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fanout",
            "client",
            self.plan_path,
            cwd=ROOT,
            env=bench_env({}),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**30,
        )  # the report is one line
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.process.kill()  # its sockets need no goodbye
        await self.process.wait()
        os.unlink(self.plan_path)

    async def ready(self) -> None:
        line = await self.process.stdout.readline()
        if line.strip() != b"READY":
            raise RuntimeError(f"a fan-out client said {line!r}")

    async def finish(self, since: int, last: int) -> dict:
        self.process.stdin.write(f"DONE {since} {last}\n".encode())
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())

    def cpu_seconds(self) -> float:
        """The CPU time the client process has used (Linux; NaN elsewhere)."""
        stat = Path(f"/proc/{self.process.pid}/stat")
        if not stat.exists():
            return math.nan
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Profile:
    """`async with Profile(pid, path):` py-spy samples the process into `path` (collapsed stacks, one per line
    with its count) while the block runs; nothing when `path` is None. py-spy pauses the process for each sample
    (100 a second): a profiled run's latencies are a little worse than an unprofiled one's."""

    def __init__(self, pid: int, path: Path | None) -> None:
        self.pid, self.path = pid, path
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        if self.path is None:
            return self
        spy = shutil.which("py-spy")
        if spy is None:
            raise SystemExit("bench.fanout --fanout-profile: py-spy is not on PATH (pip install py-spy)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            spy, "record", "--pid", str(self.pid), "--format", "raw", "--rate", "100",
            "--output", str(self.path), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await asyncio.sleep(1.0)  # py-spy attached
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes what it sampled on SIGINT
            await self.process.wait()


# --- the runs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """`subscriptions` held, and how many of them are timed (each gets every event)."""

    subscriptions: int
    timed: int
    latencies: list[float]
    behind: int
    server_cpu: float | None = None  # the watched server's share of a core while the events were delivered


def _sockets(subscriptions: int) -> tuple[int, int, int]:
    """(agents' sockets, customers' sockets, subscriptions per socket) holding about `subscriptions`."""
    per_socket = min(PER_SOCKET, subscriptions)
    sockets = math.ceil(subscriptions / per_socket)
    agents = max(1, sockets // AGENT_SHARE)
    return agents, sockets - agents, per_socket


def _plans(ws_url: str, after: int, subscriptions: int, customers: list[tuple[int, list[int]]]) -> list[dict]:
    agents, customer_sockets, per_socket = _sockets(subscriptions)
    agent = {
        "token": staff_token(Role.AGENT, "bench-console"),
        "subscriptions": [{"operation": "LiveOrderEvents", "variables": {"after": str(after)}, "timed": True}]
        * per_socket,
    }
    plans = [{"url": ws_url, "sockets": [agent] * agents}]
    sockets = []
    for n in range(customer_sockets):
        customer_id, order_ids = customers[n % len(customers)]
        watched = [
            {
                "operation": "WatchOrder",
                "variables": {"id": encode_global_id("Order", order_ids[i % len(order_ids)])},
                "timed": False,
            }
            for i in range(per_socket - per_socket // 2)
        ]
        sockets.append(
            {
                "token": customer_token(customer_id),
                "subscriptions": [{"operation": "MyOrderUpdates", "variables": {}, "timed": False}] * (per_socket // 2)
                + watched,
            }
        )
    return plans + ([{"url": ws_url, "sockets": sockets}] if sockets else [])


async def _newest_sequence(connection: asyncpg.Connection) -> int:
    return await connection.fetchval("SELECT coalesce(max(sequence), 0) FROM order_event")


async def _customers(connection: asyncpg.Connection, count: int) -> list[tuple[int, list[int]]]:
    rows = await connection.fetch(
        "SELECT customer_id, array_agg(id ORDER BY id) AS orders FROM orders"
        " GROUP BY customer_id ORDER BY customer_id LIMIT $1",
        count,
    )
    return [(row["customer_id"], list(row["orders"])) for row in rows]


async def _note_orders(http_url: str, order_ids: list[int], events: int, rate: float) -> None:
    """An agent notes orders at a steady rate, each note one event."""
    headers = {"Authorization": f"Bearer {staff_token(Role.AGENT, 'bench-writer')}"}
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=http_url, headers=headers, timeout=60) as client:

        async def note(n: int) -> None:
            variables = {
                "input": {
                    "orderId": encode_global_id("Order", rng.choice(order_ids)),
                    "message": f"note {n}",
                    "visibility": "CUSTOMER" if n % 2 else "INTERNAL",
                }
            }
            response = await client.post(
                "/graphql", json={"query": contract_documents()["AddOrderNote"][1], "variables": variables}
            )
            answer = response.json()
            if response.status_code != 200 or not answer.get("data") or answer["data"]["addOrderNote"]["userErrors"]:
                raise RuntimeError(f"a note was not added: {response.text[:300]}")

        started = time.monotonic()
        pending = []
        for n in range(events):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            pending.append(asyncio.create_task(note(n)))
        await asyncio.gather(*pending)


async def _ordergraph(
    label: str,
    url: str,
    broadcast_url: str,
    two_processes: bool,
    subscriptions: int,
    customers: list[tuple[int, list[int]]],
    args: argparse.Namespace,
) -> Level:
    settings = ordergraph_settings(url, broadcast_url=broadcast_url, database_pool_size="20")
    order_ids = [order_id for _, ids in customers for order_id in ids]
    connection = await asyncpg.connect(url)
    try:
        async with (
            Server(ORDERGRAPH, settings) as watched,
            Server(ORDERGRAPH, settings) if two_processes else nullcontext(watched) as changed,
            AsyncExitStack() as clients,
        ):
            plans = _plans(
                f"ws://127.0.0.1:{watched.port}/graphql", await _newest_sequence(connection), subscriptions, customers
            )
            opening = time.monotonic()
            agents, *others = [await clients.enter_async_context(ClientProcess(plan)) for plan in plans]
            # The agents' subscriptions are ready once each has delivered this first note.
            await _note_orders(changed.url, order_ids, 1, 1)
            await asyncio.gather(*(client.ready() for client in [agents, *others]))
            opened = time.monotonic() - opening
            settled = await watched.settle()  # the subscriptions are started (authorised, replayed) before timing
            print(f"  {label}: sockets open in {opened:.0f} s, server idle after {settled:.0f} s more", flush=True)
            since = await _newest_sequence(connection)
            profile = args.fanout_profile and args.fanout_profile / f"{_slug(label)}-{subscriptions}.txt"
            async with Profile(watched.process.pid, profile):
                cpu, client_cpu, started = watched.cpu_seconds(), agents.cpu_seconds(), time.monotonic()
                await _note_orders(changed.url, order_ids, args.events, args.rate)
                result = await agents.finish(since, await _newest_sequence(connection))
                took = time.monotonic() - started
                server_seconds = watched.cpu_seconds() - cpu
                server_cpu = server_seconds / took
                client_cpu = (agents.cpu_seconds() - client_cpu) / took
            print(
                f"  {label}: server CPU {server_cpu:.0%}"
                f" ({server_seconds / max(len(result['latencies']), 1) * 1e6:.0f} µs"
                f" per timed delivery), agents' client process CPU {client_cpu:.0%},"
                f" load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}",
                flush=True,
            )
    finally:
        await connection.close()
    held = sum(len(socket["subscriptions"]) for plan in plans for socket in plan["sockets"])
    timed = sum(len(socket["subscriptions"]) for socket in plans[0]["sockets"])
    return Level(held, timed, result["latencies"], result["behind"], server_cpu)


def _slug(label: str) -> str:
    return next(path for path, name in PATHS.items() if name == label)


async def _redis_floor(redis_url: str, receivers: int, args: argparse.Namespace) -> Level:
    channel = f"og-bench-floor-{uuid.uuid4().hex}"
    publisher = aioredis.from_url(redis_url)
    try:
        async with ClientProcess(
            {"kind": "redis", "url": redis_url, "channel": channel, "receivers": receivers}
        ) as client:
            await client.ready()
            started = time.monotonic()
            for n in range(1, args.events + 1):
                await asyncio.sleep(max(0.0, started + n / args.rate - time.monotonic()))
                await publisher.publish(channel, json.dumps({"sequence": n, "at": time.time()}))
            result = await client.finish(0, args.events)
    finally:
        await publisher.aclose()
    return Level(receivers, receivers, result["latencies"], result["behind"])


async def run(url: str, args: argparse.Namespace) -> Table:
    """On a database that may be changed (a copy of the benchmark's)."""
    levels = [int(n) for n in args.subscribers.split(",")]
    chosen = args.fanout_paths.split(",")
    if unknown := set(chosen) - set(PATHS):
        raise SystemExit(f"bench.fanout: no path {', '.join(sorted(unknown))}; choose from {', '.join(PATHS)}")
    connection = await asyncpg.connect(url)
    try:
        customers = await _customers(connection, max(_sockets(n)[1] for n in levels) or 1)
    finally:
        await connection.close()
    table = Table(
        f"Live fan-out: commit-to-delivery, {args.events} events at {args.rate:g}/s",
        [
            "path",
            "subscriptions",
            "deliveries timed",
            "p50 ms",
            "p99 ms",
            "max ms",
            "behind",
            "server CPU",
            "p50 vs floor",
            "p99 vs floor",
        ],
    )
    for subscriptions in levels:
        print(f"fan-out: {subscriptions:,} subscriptions …", flush=True)
        paths = {}
        for label, broadcast_url, two_processes in (
            (ONE_PROCESS, "memory://", False),
            (TWO_PROCESSES, args.redis_url, True),
        ):
            if _slug(label) in chosen:
                paths[label] = await _ordergraph(
                    label, url, broadcast_url, two_processes, subscriptions, customers, args
                )
        floor = None
        if "floor" in chosen and ONE_PROCESS in paths:
            receivers = paths[ONE_PROCESS].timed  # as many as ordergraph's timed subscriptions
            floor = paths[FLOOR] = await _redis_floor(args.redis_url, receivers, args)
        for label, level in paths.items():
            p50, p99 = percentile(level.latencies, 50), percentile(level.latencies, 99)
            table.add(
                label,
                f"{level.subscriptions:,}",
                f"{len(level.latencies):,}",
                ms(p50),
                ms(p99),
                ms(max(level.latencies, default=float("nan"))),
                level.behind,
                "-" if level.server_cpu is None or math.isnan(level.server_cpu) else f"{level.server_cpu:.0%}",
                times(p50, percentile(floor.latencies, 50)) if floor else "-",
                times(p99, percentile(floor.latencies, 99)) if floor else "-",
            )
    table.notes += [
        (
            "subscriptions: held by the one watched server process, 10 to a WebSocket; one socket in ten is an agent's,"
            " whose LiveOrderEvents get every event and are timed; the rest are"
            " customers' MyOrderUpdates and WatchOrder on the orders being noted"
        ),
        (
            "latency: the client's clock at delivery minus the event's occurredAt, taken in the committing transaction"
            " (the floor: stamped just before PUBLISH); client processes separate from the servers, one machine"
        ),
        (
            "floor: as many raw redis-py subscribers (a connection each, in one client process) as ordergraph's timed"
            " subscriptions; it holds no untimed subscribers"
        ),
        (
            f"behind: timed subscriptions that had not received the last event {WAIT_FOR_LAST:g} s after it was made;"
            " server CPU: the watched server process's CPU time from the first timed event until every timed"
            " subscription had the last one, as a share of one core (100%: it could not go faster)"
        ),
    ]
    return table


def main() -> None:
    if sys.argv[1:2] == ["client"]:
        plan = json.loads(Path(sys.argv[2]).read_text())
        asyncio.run(_redis_client(plan) if plan.get("kind") == "redis" else _graphql_client(plan))
        return
    seed.run_alone(__doc__, run, add_arguments, changes_data=True)


if __name__ == "__main__":
    main()
