"""Placement: `placeOrder` over HTTP against uvicorn, many buyers at once for a few hot SKUs, all stocked at one
warehouse only (so every order of a SKU takes the same inventory row), next to the bare SQL of one reservation
(the conditional UPDATE resolvers/stock.py runs) at the same concurrency. Then a sell-out: the hot SKUs get a
few units each and the buyers race for them until every buyer has been refused; no unit may be sold twice.

    python -m bench.placement [--url …] [--orders 100000] [--buyers 32] [--hot-skus 3] [--sell-out 50]
                              [--duration 10] [--warmup 2] [--workers 1,2] [--profile-placements 200]

The server runs as one uvicorn process, or with --workers N > 1 as `ordergraph serve --workers N` (a supervisor
and N worker processes sharing the port); each number in --workers is measured, placing and selling out.
--profile-placements N runs no load: N placements one after another in this process, under cProfile, each
with its SQL statements counted and the time its reservation's row locks were held (from the first UPDATE of
inventory_level to the COMMIT) against the time outside them; it prints that and the profile.

It changes stock and adds orders, so it runs on a copy of the benchmark database (dropped afterwards).
"""

import argparse
import asyncio
import cProfile
import io
import itertools
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

import asyncpg
import httpx

from bench import load, seed
from bench.load import Attempt, LoadResult, closed_loop, http_client
from bench.report import Table, ms, percentile, rate, times
from bench.servers import ORDERGRAPH, ROOT, Server, bench_env, customer_token, ordergraph_settings
from ordergraph.schema.trusted_documents import contract_documents

REFUSED_FOR_STOCK = "refused INSUFFICIENT_STOCK"
# resolvers/stock.py's reservation, as it reaches the database (one statement, autocommitted here).
RESERVE = """
UPDATE inventory_level SET reserved = reserved + $3, updated_at = now()
WHERE sku = $1 AND location_id = $2 AND on_hand - reserved - safety_stock >= $3
"""
PLENTY = 10_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--buyers", type=int, default=32, help="concurrent buyers (default 32)")
    parser.add_argument("--hot-skus", type=int, default=3, help="SKUs every order is for (default 3)")
    parser.add_argument("--sell-out", type=int, default=50, help="units of each hot SKU in the sell-out (default 50)")
    parser.add_argument("--workers", default="1,2", help="server worker processes, each number measured (default 1,2)")
    parser.add_argument(
        "--profile-placements",
        type=int,
        default=0,
        help="instead of the load: this many placements in this process under cProfile (see above)",
    )
    parser.add_argument(
        "--no-cprofile",
        action="store_true",
        help="with --profile-placements: time and count only (to sample the process with py-spy instead)",
    )


class Served(Server):
    """`ordergraph serve --workers N` (uvicorn's supervisor and N workers on one port), healthy on entry."""

    def __init__(self, settings: dict[str, str], workers: int) -> None:
        super().__init__(ORDERGRAPH, settings)
        self.workers = workers

    async def __aenter__(self) -> Self:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ordergraph.server.cli", "serve",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
            cwd=ROOT,
            env=bench_env({"ORDERGRAPH_NOTIFICATION_OUTBOX": self.outbox.name, **self.settings}),
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.process.returncode is not None:
                    raise RuntimeError(f"ordergraph serve exited with {self.process.returncode} before it was healthy")
                try:
                    # Every worker answers before the load starts: a few healthy answers in a row.
                    if all([(await client.get(f"{self.url}/healthz")).status_code == 200 for _ in range(8)]):
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("ordergraph serve was not healthy within 60 s")


def _server(settings: dict[str, str], workers: int) -> Server:
    return Server(ORDERGRAPH, settings) if workers == 1 else Served(settings, workers)


async def _hot_stock(connection: asyncpg.Connection, skus: int) -> tuple[int, list[str]]:
    """A shipping warehouse and `skus` plain products it stocks; the products are taken out of every other
    location (no units available there), so every order of them reserves at this warehouse."""
    location = await connection.fetchval(
        "SELECT l.id FROM location l JOIN inventory_level i ON i.location_id = l.id"
        " WHERE l.kind = 'WAREHOUSE' AND l.ships GROUP BY l.id ORDER BY count(*) DESC, l.id LIMIT 1"
    )
    hot = [
        row["sku"]
        for row in await connection.fetch(
            "SELECT p.sku FROM product p JOIN inventory_level i ON i.sku = p.sku AND i.location_id = $1"
            " WHERE NOT p.customizable ORDER BY p.sku LIMIT $2",
            location,
            skus,
        )
    ]
    await connection.execute(
        "UPDATE inventory_level SET on_hand = reserved WHERE sku = ANY($1) AND location_id <> $2", hot, location
    )
    return location, hot


async def _make_available(connection: asyncpg.Connection, location: int, skus: list[str], units: int) -> None:
    await connection.execute(
        "UPDATE inventory_level SET on_hand = reserved + safety_stock + $3 WHERE sku = ANY($1) AND location_id = $2",
        skus,
        location,
        units,
    )


async def _stock(connection: asyncpg.Connection, skus: list[str]) -> dict[tuple[str, int], tuple[int, int]]:
    """(sku, location) -> (available, reserved) for every level of the SKUs."""
    rows = await connection.fetch(
        "SELECT sku, location_id, on_hand - reserved - safety_stock AS available, reserved"
        " FROM inventory_level WHERE sku = ANY($1)",
        skus,
    )
    return {(row["sku"], row["location_id"]): (row["available"], row["reserved"]) for row in rows}


async def _buyers(connection: asyncpg.Connection, count: int) -> list[tuple[int, dict]]:
    """Customers with their first saved address, as the shipping address."""
    rows = await connection.fetch(
        "SELECT c.id, a.name, a.line1, a.line2, a.city, a.region, a.postal_code, a.country, a.phone FROM customer c"
        " JOIN customer_address a ON a.customer_id = c.id AND a.position = 0 ORDER BY c.id LIMIT $1",
        count,
    )
    return [
        (
            row["id"],
            {
                "name": row["name"],
                "line1": row["line1"],
                "line2": row["line2"],
                "city": row["city"],
                "region": row["region"],
                "postalCode": row["postal_code"],
                "country": row["country"],
                "phone": row["phone"],
            },
        )
        for row in rows
    ]


def _placement(status: int, body: bytes) -> str:
    if status != 200:
        return "error"
    answer = json.loads(body)
    if answer.get("errors") or not answer.get("data"):
        return "error"
    refusals = answer["data"]["placeOrder"]["userErrors"]
    return f"refused {refusals[0]['code']}" if refusals else "ok"


def _orders(buyers: list[tuple[int, dict]], skus: list[str], keys: itertools.count) -> load.RequestMaker:
    """Buyer c orders one unit of hot SKU c mod n, to their own address, with a new idempotency key each time."""
    tokens = [customer_token(customer_id) for customer_id, _ in buyers]
    document_text = contract_documents()["PlaceOrder"][1]

    def make(client: int, _n: int) -> bytes:
        variables = {
            "input": {
                "lines": [{"sku": skus[client % len(skus)], "quantity": 1}],
                "deliveryMethodCode": "STANDARD",
                "shippingAddress": buyers[client][1],
                "paymentToken": "tok_visa",
                "idempotencyKey": f"bench-{next(keys)}",
            }
        }
        body = json.dumps({"query": document_text, "variables": variables}).encode()
        return load.http_request("POST", "/graphql", token=tokens[client], body=body)

    return make


def _bare_reservations(pool: asyncpg.Pool, location: int, skus: list[str]) -> load.Client:
    @asynccontextmanager
    async def connected(number: int) -> AsyncIterator[Attempt]:
        async with pool.acquire() as connection:

            async def attempt(_n: int) -> str:
                status = await connection.execute(RESERVE, skus[number % len(skus)], location, 1)
                return "ok" if status == "UPDATE 1" else "refused"

            yield attempt

    return connected


def _oversold(before: dict, after: dict) -> int:
    """Units reserved beyond what was available, summed over every level."""
    return sum(
        max(0, after[level][1] - reserved - max(available, 0)) for level, (available, reserved) in before.items()
    )


def _row(table: Table, label: str, result: LoadResult, floor: LoadResult) -> None:
    refused = sum(n for outcome, n in result.outcomes.items() if outcome.startswith("refused"))
    table.add(
        label,
        result.clients,
        rate(result.ok_per_second),
        ms(percentile(result.latencies, 50)),
        ms(percentile(result.latencies, 99)),
        refused,
        result.outcomes["error"],
        times(floor.ok_per_second, result.ok_per_second),
    )


async def run(url: str, args: argparse.Namespace) -> Table:
    """On a database that may be changed (a copy of the benchmark's)."""
    if args.profile_placements:
        return await profile_in_process(url, args)
    connection = await asyncpg.connect(url)
    runs = []  # (workers, placing, selling out, stock before the sell-out, after it)
    try:
        location, skus = await _hot_stock(connection, args.hot_skus)
        buyers = await _buyers(connection, args.buyers)
        keys = itertools.count()
        for workers in (int(n) for n in args.workers.split(",")):
            await _make_available(connection, location, skus, PLENTY)
            # A pool of half as many connections as buyers, and as many again in overflow: no buyer waits for one
            # (per worker: each has a pool of its own).
            pool_size = max(args.buyers // (2 * workers), 1)
            settings = ordergraph_settings(url, database_pool_size=str(pool_size))
            print(f"placement: {args.buyers} buyers, {workers} worker(s): placing, then selling out …", flush=True)
            async with _server(settings, workers) as server:
                orders = http_client(server.port, _orders(buyers, skus, keys), _placement)
                await closed_loop(orders, clients=args.buyers, seconds=args.warmup)
                placing = await closed_loop(orders, clients=args.buyers, seconds=args.duration)
                await _make_available(connection, location, skus, args.sell_out)
                before = await _stock(connection, skus)
                selling_out = await closed_loop(
                    orders, clients=args.buyers, seconds=max(args.duration, 60), stop_on=REFUSED_FOR_STOCK
                )
                after = await _stock(connection, skus)
            runs.append((workers, placing, selling_out, before, after))
            print(
                f"  {workers} worker(s): {placing.ok_per_second:.1f} placed/s, p50"
                f" {ms(percentile(placing.latencies, 50))} ms, p99 {ms(percentile(placing.latencies, 99))} ms,"
                f" {placing.failures} not placed; sell-out: {selling_out.outcomes['ok']} placed, oversold"
                f" {_oversold(before, after)}; load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}",
                flush=True,
            )
        print("placement: the bare SQL …", flush=True)
        await _make_available(connection, location, skus, PLENTY)
        async with asyncpg.create_pool(url, min_size=args.buyers, max_size=args.buyers) as pool:
            reservations = _bare_reservations(pool, location, skus)
            await closed_loop(reservations, clients=args.buyers, seconds=args.warmup)
            bare = await closed_loop(reservations, clients=args.buyers, seconds=args.duration)
    finally:
        await connection.close()

    table = Table(
        f"Placement: {args.buyers} buyers, {len(skus)} hot SKUs at one warehouse",
        ["what", "clients", "per s", "p50 ms", "p99 ms", "refused", "failed", "vs floor"],
    )
    units = args.sell_out * len(skus)
    for workers, placing, selling_out, before, after in runs:
        label = f"{workers} worker" + ("s" if workers > 1 else "")
        _row(table, f"placeOrder (ordergraph, HTTP, {label})", placing, bare)
        placed = selling_out.outcomes["ok"]
        lowest = min(after[(sku, location)][0] for sku in skus)
        table.notes.append(
            f"sell-out, {label}: {units} units ({args.sell_out} of each hot SKU), {args.buyers} buyers until each was"
            f" refused: {placed} orders placed, {selling_out.outcomes[REFUSED_FOR_STOCK]} refused INSUFFICIENT_STOCK,"
            f" {selling_out.outcomes['error']} failed in {selling_out.seconds:.1f} s; oversold units:"
            f" {_oversold(before, after)} (reserved beyond what was available, over every stock level of the hot SKUs);"
            f" lowest availability after: {lowest}"
        )
    _row(table, "reservation UPDATE (bare SQL)", bare, bare)
    table.notes += [
        (
            f"per s: orders placed (reservations made) per second over {args.duration:g} s after {args.warmup:g} s of"
            " warm-up, one unit each; the bare SQL is autocommitted on a pool of as many connections as buyers;"
            " 2 workers: `ordergraph serve --workers 2`, each worker with a pool of half the size"
        ),
        "vs floor: the bare SQL's reservations per second divided by the placements per second",
    ]
    return table


# --- where a placement's time goes (in this process) -----------------------------------------------------------


class StatementLog:
    """The SQL the app's engines send, with when, on which connection, and when each transaction commits."""

    def __init__(self, engines) -> None:
        from sqlalchemy import event

        self.engines, self.event = engines, event
        self.entries: list[tuple[float, int, str]] = []  # (perf_counter, connection id, statement or "COMMIT")

    def _statement(self, connection, _cursor, statement, *_args) -> None:
        self.entries.append((time.perf_counter(), id(connection.connection), statement))

    def _commit(self, connection) -> None:
        self.entries.append((time.perf_counter(), id(connection.connection), "COMMIT"))

    def __enter__(self) -> Self:
        for engine in self.engines:
            self.event.listen(engine, "before_cursor_execute", self._statement)
            self.event.listen(engine, "commit", self._commit)
        return self

    def __exit__(self, *_exc: object) -> None:
        for engine in self.engines:
            self.event.remove(engine, "before_cursor_execute", self._statement)
            self.event.remove(engine, "commit", self._commit)


def _locked_seconds(entries: list[tuple[float, int, str]]) -> float:
    """From the first UPDATE of inventory_level to the COMMIT of its connection's transaction: how long the
    reservation held its row locks (0 when there was none)."""
    for at, connection, statement in entries:
        if statement.lstrip().upper().startswith("UPDATE INVENTORY_LEVEL"):
            return next((t - at for t, c, s in entries if c == connection and s == "COMMIT" and t >= at), 0.0)
    return 0.0


def _statements_in_lock(entries: list[tuple[float, int, str]]) -> int:
    """Statements sent on the reserving connection from its first UPDATE of inventory_level to its COMMIT."""
    for index, (_, connection, statement) in enumerate(entries):
        if statement.lstrip().upper().startswith("UPDATE INVENTORY_LEVEL"):
            count = 0
            for _, c, s in entries[index:]:
                if c == connection:
                    count += 1
                    if s == "COMMIT":
                        return count
            return count
    return 0


async def profile_in_process(url: str, args: argparse.Namespace) -> Table:
    """`args.profile_placements` placements one after another through the app in this process (httpx's ASGI
    transport, the app's own lifespan), under cProfile; prints the profile and returns the per-placement figures."""
    from ordergraph.server.app import create_app

    connection = await asyncpg.connect(url)
    try:
        location, skus = await _hot_stock(connection, args.hot_skus)
        buyers = await _buyers(connection, args.buyers)
        await _make_available(connection, location, skus, PLENTY)
    finally:
        await connection.close()
    os.environ.update(bench_env(ordergraph_settings(url, database_pool_size="4")))
    app = create_app()
    make = _orders(buyers, skus, itertools.count())
    totals, locked, statements, kinds, in_lock, cpu_times = [], [], [], {}, [], []
    # CPU time, not wall time: what the placement costs this process, not what it waited for.
    profile = cProfile.Profile(time.process_time)
    async with app.router.lifespan_context(app):
        engines = [engine.sync_engine for engine in app.state.services.db.engines]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def place(n: int) -> None:
                head, _, body = make(n % len(buyers), n).partition(b"\r\n\r\n")
                token = head.split(b"Authorization: Bearer ")[1].split(b"\r\n")[0].decode()
                response = await client.post(
                    "/graphql",
                    content=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                if _placement(response.status_code, response.content) != "ok":
                    raise RuntimeError(f"a placement failed: {response.text[:300]}")

            for n in range(20):  # warm-up: caches, prepared statements, the pool
                await place(n)
            # Timed without the profiler first, then the same number under it.
            for n in range(20, 20 + args.profile_placements):
                with StatementLog(engines) as log:
                    began, began_cpu = time.perf_counter(), time.process_time()
                    await place(n)
                    totals.append(time.perf_counter() - began)
                    cpu_times.append(time.process_time() - began_cpu)
                locked.append(_locked_seconds(log.entries))
                sent = [s for _, _, s in log.entries if s != "COMMIT"]
                statements.append(len(sent))
                in_lock.append(_statements_in_lock(log.entries))
                for statement in sent:
                    kind = " ".join(statement.split()[:4])[:70]
                    kinds[kind] = kinds.get(kind, 0) + 1
            cpu = time.process_time()
            for n in range(20 + args.profile_placements, 20 + (1 if args.no_cprofile else 2) * args.profile_placements):
                profile.enable()
                await place(n)
                profile.disable()
            cpu = (time.process_time() - cpu) / args.profile_placements
            unprofiled_cpu = sum(cpu_times) / len(cpu_times)
    if not args.no_cprofile:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        print(out.getvalue())
    count = len(totals)
    print("statements per placement, by their first words:")
    for kind, n in sorted(kinds.items(), key=lambda item: -item[1]):
        print(f"  {n / count:5.1f}  {kind}")
    table = Table(
        f"Placement in one process: {count} placements one after another (timed without a profiler)",
        ["what", "mean ms", "p50 ms", "p99 ms"],
    )
    table.add("whole request", ms(statistics.mean(totals)), ms(percentile(totals, 50)), ms(percentile(totals, 99)))
    table.add(
        "reservation's row locks held",
        ms(statistics.mean(locked)),
        ms(percentile(locked, 50)),
        ms(percentile(locked, 99)),
    )
    outside = [t - lock for t, lock in zip(totals, locked, strict=True)]
    table.add(
        "outside the locks", ms(statistics.mean(outside)), ms(percentile(outside, 50)), ms(percentile(outside, 99))
    )
    table.notes += [
        f"SQL statements per placement: {statistics.mean(statements):.1f} (min {min(statements)}, max"
        f" {max(statements)}), {statistics.mean(in_lock):.1f} of them while the row locks were held (the COMMIT"
        " counted); the relay's, notifier's, webhooks' engines not counted",
        f"CPU time of this process per placement (the client's share and background tasks included):"
        f" {unprofiled_cpu * 1000:.1f} ms without the profiler"
        + ("" if args.no_cprofile else f", {cpu * 1000:.1f} ms under cProfile"),
    ]
    return table


def main() -> None:
    seed.run_alone(__doc__, run, load.add_arguments, add_arguments, changes_data=True)


if __name__ == "__main__":
    main()
