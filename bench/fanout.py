"""Live fan-out: commit-to-delivery latency of order events reaching agents, with 10,000 subscriptions over
1,000 WebSockets held on one server process; first with everything in that process (memory://), then with the
changes made through a second process and carried by Redis.

    python -m bench.fanout [--admin-url postgresql://postgres@127.0.0.1:5432/test] [--redis-url redis://127.0.0.1:6379/0]
                           [--sockets 1000] [--agent-sockets 100] [--per-socket 10] [--changes 300] [--rate 10]
                           [--settle 60]

Agents' sockets each hold `per-socket` `LiveOrderEvents`; customers' sockets hold `MyOrderUpdates` and
`WatchOrder` on their own orders, half each. The clients run in separate processes (`bench.fanout client`):
one for the agents, whose deliveries are timed, one for the customers. An agent adds notes (alternately
CUSTOMER- and INTERNAL-visible) to customers' orders at `rate` per second. Latency is the agent client's
clock at delivery minus the event's `occurredAt` (taken inside the committing transaction, so it includes
the end of that transaction: an upper bound of commit-to-delivery; one machine, one clock).
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import sqlalchemy as sa
import websockets
from sqlalchemy.engine import make_url

from models import Order
from resolvers.access import Role
from schema.node import encode_global_id
from server.auth import issue_token
from server.database import Database
from server.migrate import upgrade
from server.seed import seed_demo
from tests.contract import document

SECRET = "bench-secret-bench-secret-bench-secret"
ROOT = Path(__file__).resolve().parent.parent


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return (parsed.set(database=database) if database else parsed).render_as_string(hide_password=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _token(role: Role, subject: str) -> str:
    return issue_token(SECRET, role=role, subject=subject, name=f"bench {role.value}", ttl_seconds=3600)


# --- the clients (a process of their own) -------------------------------------------------------------------


async def _client(plan_path: str) -> None:
    """Opens the plan's sockets and subscriptions; says READY once every timed subscription has delivered
    something; on `DONE <since> <last>` waits for every timed subscription to reach `last` and prints the
    latencies of the events after `since`."""
    plan = json.loads(Path(plan_path).read_text())
    timed_total = sum(1 for s in plan["sockets"] for sub in s["subscriptions"] if sub["timed"])
    latest: dict[tuple[int, str], int] = {}
    latencies: list[tuple[int, float]] = []  # (sequence, seconds)
    deliveries = {"timed": 0, "untimed": 0}
    subscribed = []

    async def hold(index: int, spec: dict, opened: asyncio.Semaphore) -> None:
        # Users arrive over a while, not all in one instant: the next socket opens once this one's subscribe
        # messages have been handled (the server answers a ping after the messages before it).
        await opened.acquire()
        ws = await websockets.connect(plan["url"], subprotocols=["graphql-transport-ws"], max_queue=None,
                                      ping_interval=None, open_timeout=60)
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {spec['token']}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for n, sub in enumerate(spec["subscriptions"]):
            payload = {"query": document(sub["operation"]), "variables": sub["variables"]}
            await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
        await ws.send(json.dumps({"type": "ping"}))
        timed = {str(n) for n, sub in enumerate(spec["subscriptions"]) if sub["timed"]}
        async for raw in ws:
            arrived = time.time()
            message = json.loads(raw)
            if message["type"] == "pong":
                subscribed.append(index)
                opened.release()
                continue
            if message["type"] != "next" or message["payload"].get("errors"):
                print(f"unexpected: {raw[:300]}", file=sys.stderr)
                continue
            (event,) = message["payload"]["data"].values()
            sequence = int(event["sequence"])
            if message["id"] in timed:
                deliveries["timed"] += 1
                latest[(index, message["id"])] = sequence
                latencies.append((sequence, arrived - datetime.fromisoformat(event["occurredAt"]).timestamp()))
            else:
                deliveries["untimed"] += 1

    opened = asyncio.Semaphore(20)
    tasks = [asyncio.create_task(hold(i, spec, opened)) for i, spec in enumerate(plan["sockets"])]
    while len(subscribed) < len(tasks) or len(latest) < timed_total:
        await asyncio.sleep(0.05)
        for task in tasks:
            if task.done() and task.exception():
                raise task.exception()
    print("READY", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    since, last = (int(n) for n in line.split()[1:])
    waited = time.monotonic()
    while min(latest.values(), default=0) < last and time.monotonic() - waited < 60:
        await asyncio.sleep(0.05)
    behind = sum(1 for seq in latest.values() if seq < last)
    timed = [seconds for sequence, seconds in latencies if since < sequence <= last]
    print(json.dumps({"latencies": timed, "deliveries": deliveries, "behind": behind}), flush=True)
    os._exit(0)  # the sockets need no goodbye


class ClientProcess:
    def __init__(self, plan: dict) -> None:
        fd, self.plan_path = tempfile.mkstemp(suffix=".json")
        os.write(fd, json.dumps(plan).encode())
        os.close(fd)
        self.process = subprocess.Popen([sys.executable, "-m", "bench.fanout", "client", self.plan_path], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        env={**os.environ, "PYTHONPATH": str(ROOT)})

    async def ready(self) -> None:
        line = await asyncio.to_thread(self.process.stdout.readline)
        assert line.strip() == "READY", f"client said {line!r}"

    async def finish(self, since: int, last_sequence: int) -> dict:
        self.process.stdin.write(f"DONE {since} {last_sequence}\n")
        self.process.stdin.flush()
        line = await asyncio.to_thread(self.process.stdout.readline)
        self.process.wait()
        os.unlink(self.plan_path)
        return json.loads(line)


# --- the servers and the run --------------------------------------------------------------------------------


class ServerProcess:
    def __init__(self, database_url: str, broadcast_url: str) -> None:
        self.port = _free_port()
        env = {"ORDERGRAPH_DATABASE_URL": database_url, "ORDERGRAPH_BROADCAST_URL": broadcast_url,
               "ORDERGRAPH_JWT_SECRET": SECRET, "ORDERGRAPH_DATABASE_POOL_SIZE": "20"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--port", str(self.port),
             "--log-level", "warning", "--backlog", "4096"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )

    async def healthy(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


async def _newest_sequence(db: Database) -> int:
    async with db.read() as session:
        return (await session.exec(sa.text("SELECT COALESCE(MAX(sequence), 0) FROM order_event"))).one()[0]


async def _orders_by_customer(db: Database, customers: int) -> dict[int, list[int]]:
    async with db.read() as session:
        rows = (await session.exec(sa.select(Order.customer_id, Order.id).order_by(Order.customer_id, Order.id))).all()
    orders: dict[int, list[int]] = {}
    for customer_id, order_id in rows:
        orders.setdefault(customer_id, []).append(order_id)
    return dict(list(orders.items())[:customers])


def _plans(ws_url: str, after: int, orders: dict[int, list[int]], args: argparse.Namespace) -> tuple[dict, dict]:
    agent_token = _token(Role.AGENT, "agent:bench")
    agents = [{"token": agent_token, "subscriptions": [
        {"operation": "LiveOrderEvents", "variables": {"after": str(after)}, "timed": True}] * args.per_socket}
        for _ in range(args.agent_sockets)]
    customers = []
    for customer_id, order_ids in orders.items():
        subscriptions = [{"operation": "MyOrderUpdates", "variables": {}, "timed": False}] * (args.per_socket // 2)
        subscriptions += [{"operation": "WatchOrder", "variables": {"id": encode_global_id("Order", order_ids[n % len(order_ids)])},
                           "timed": False} for n in range(args.per_socket - args.per_socket // 2)]
        customers.append({"token": _token(Role.CUSTOMER, encode_global_id("Customer", customer_id)),
                          "subscriptions": subscriptions})
    return {"url": ws_url, "after": after, "sockets": agents}, {"url": ws_url, "after": after, "sockets": customers}


async def _change_orders(http_url: str, order_ids: list[int], changes: int, rate: float) -> None:
    """An agent notes orders at a steady rate (each note one event)."""
    token = _token(Role.AGENT, "agent:writer")
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=http_url, timeout=30) as client:
        async def note(n: int) -> None:
            variables = {"input": {"orderId": encode_global_id("Order", rng.choice(order_ids)), "message": f"note {n}",
                                   "visibility": "CUSTOMER" if n % 2 else "INTERNAL"}}
            response = await client.post("/graphql", json={"query": document("AddOrderNote"), "variables": variables},
                                         headers={"Authorization": f"Bearer {token}"})
            assert not response.json()["data"]["addOrderNote"]["userErrors"], response.text

        started = time.monotonic()
        pending = []
        for n in range(changes):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            pending.append(asyncio.create_task(note(n)))
        await asyncio.gather(*pending)


async def _measure(label: str, db: Database, url: str, broadcast_url: str, orders: dict[int, list[int]],
                   args: argparse.Namespace, *, two_processes: bool) -> None:
    watched = ServerProcess(url, broadcast_url)
    changed = ServerProcess(url, broadcast_url) if two_processes else watched
    clients: list[ClientProcess] = []
    try:
        await asyncio.gather(watched.healthy(), changed.healthy())
        after = await _newest_sequence(db)
        agent_plan, customer_plan = _plans(f"ws://127.0.0.1:{watched.port}/graphql", after, orders, args)
        clients = [ClientProcess(agent_plan), ClientProcess(customer_plan)]
        connecting = time.monotonic()
        order_ids = [order_id for ids in orders.values() for order_id in ids]
        # The agents' subscriptions are ready once each has delivered the first note.
        await _change_orders(f"http://127.0.0.1:{changed.port}", order_ids, 1, 1)
        await asyncio.gather(*(client.ready() for client in clients))
        sockets = len(agent_plan["sockets"]) + len(customer_plan["sockets"])
        subscriptions = sum(len(s["subscriptions"]) for s in agent_plan["sockets"] + customer_plan["sockets"])
        print(f"{label}: {sockets} sockets, {subscriptions} subscriptions "
              f"({args.agent_sockets * args.per_socket} agents' LiveOrderEvents) open in {time.monotonic() - connecting:.1f}s")
        # The clients have sent every subscribe; let the server finish starting them (authorisation, replay).
        await asyncio.sleep(args.settle)
        started_after = await _newest_sequence(db)
        await _change_orders(f"http://127.0.0.1:{changed.port}", order_ids, args.changes, args.rate)
        last = await _newest_sequence(db)
        agents = await clients[0].finish(started_after, last)
        clients[1].process.kill()
        latencies = sorted(agents["latencies"])
        q = statistics.quantiles(latencies, n=100)
        print(f"{label}: {last - started_after} events at {args.rate}/s, {len(latencies)} agent deliveries timed; "
              f"commit-to-delivery p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms; "
              f"subscriptions behind at the end: {agents['behind']}")
    finally:
        for client in clients:
            client.process.kill()
        watched.stop()
        if changed is not watched:
            changed.stop()


async def run(args: argparse.Namespace) -> None:
    name = f"og_bench_fanout_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(args.admin_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = _dsn(args.admin_url, name)
    db = Database(url)
    try:
        await upgrade(db)
        customer_sockets = args.sockets - args.agent_sockets
        print(await seed_demo(db, customers=customer_sockets * 2, orders=customer_sockets * 8))
        orders = await _orders_by_customer(db, customer_sockets)
        await _measure("one process (memory://)", db, url, "memory://", orders, args, two_processes=False)
        await _measure("two processes (Redis)", db, url, args.redis_url, orders, args, two_processes=True)
    finally:
        await db.dispose()
        admin = await asyncpg.connect(_dsn(args.admin_url))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    if sys.argv[1:2] == ["client"]:
        asyncio.run(_client(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--agent-sockets", type=int, default=100)
    parser.add_argument("--per-socket", type=int, default=10)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds between opening and timing")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
