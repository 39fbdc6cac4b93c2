"""Order history: the SPA's `MyOrderHistory` (20 orders with lines and shipments) over HTTP against uvicorn, at
1, 16 and 64 concurrent clients, through the generic GraphQL executor (the trusted-document fast path off), next to
its two baselines served the same way:

- the floor: a hand-written endpoint answering the same JSON from hand-written SQL (bench/raw_order_history.py);
- the naive GraphQL server: the same ordergraph app with ORDERGRAPH_LOADER_BATCHING=false, where every loader
  key is its own SQL statement.

ordergraph's rows are new requests (each one executed); a fourth row repeats the same request per customer, which
a result cache may answer (schema/result_cache.py). Optional rows (--extra): the trusted-document fast path
(schema/compiled.py), and the generic executor with Python's garbage-collector defaults (gc_freeze off,
gc_threshold 0), to show what server/gc_tuning.py does to latency and memory.

    python -m bench.order_history [--url …] [--orders 100000] [--clients 1,16,64] [--duration 10] [--warmup 2]
                                  [--extra fast_path,gc_untuned]

Each client cycles through customers of its own who have at least 20 orders (1,000 customers at least, shared out
among the clients), one customer per request: no two requests in a row are the same, and no customer outspends
their rate-limit bucket (throttled requests are counted in a column of their own, so that would show). Requests
per second and latency come from a closed loop (bench/load.py) in this process; SQL statements and database round
trips per request from a separate, sequential measurement run with each app in this process, counted at its driver.
"""

import argparse
import asyncio
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import event

from bench import load, raw_order_history, seed
from bench.load import LoadResult, RequestMaker, closed_loop, fetch, graphql_ok, http_client
from bench.report import Table, ms, percentile, rate, times
from bench.servers import ORDERGRAPH, SECRET, Server, customer_token, ordergraph_settings
from ordergraph.schema.trusted_documents import contract_documents
from ordergraph.server.app import create_app
from ordergraph.server.settings import Settings

PAGE = 20
CUSTOMERS_PER_CLIENT = 4
MIN_CUSTOMERS = 1_000  # so that no level draws on few customers' cost buckets (schema/limits.py)
STATEMENT_SAMPLES = 5
DOCUMENT = contract_documents()["MyOrderHistory"][1]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per variant
class Variant:
    label: str
    factory: str
    settings: dict[str, str]
    # Each request carries a variable the operation does not use, numbered anew, so that no result cache
    # (schema/result_cache.py keys on the variables) can answer it: the request is executed.
    new_requests: bool = True

    def http(self, number: int) -> tuple[str, str, bytes]:
        """Method, path and body of request `number`."""
        if self.factory != ORDERGRAPH:
            return "GET", f"/me/orders?first={PAGE}", b""
        variables = {"first": PAGE, "bench": number} if self.new_requests else {"first": PAGE}
        return "POST", "/graphql", json.dumps({"query": DOCUMENT, "variables": variables}).encode()


GENERIC = {"loader_batching": "true", "fast_path": "false"}  # the generic executor: what this scenario measures
ORDERGRAPH_NEW = Variant("ordergraph", ORDERGRAPH, GENERIC)
ORDERGRAPH_REPEATED = Variant("ordergraph, repeated", ORDERGRAPH, GENERIC, new_requests=False)
ORDERGRAPH_NAIVE = Variant("ordergraph, batching off", ORDERGRAPH, {**GENERIC, "loader_batching": "false"})
FLOOR = Variant("hand-written SQL", "bench.raw_order_history:create_app", {})
VARIANTS = (ORDERGRAPH_NEW, ORDERGRAPH_REPEATED, ORDERGRAPH_NAIVE, FLOOR)
EXTRA = {
    "fast_path": Variant("ordergraph, fast path", ORDERGRAPH, {**GENERIC, "fast_path": "true"}),
    "gc_untuned": Variant(
        "ordergraph, GC defaults", ORDERGRAPH, {**GENERIC, "gc_freeze": "false", "gc_threshold": "0"}
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", default="1,16,64", help="concurrent clients per level (default 1,16,64)")
    parser.add_argument("--extra", default="", help=f"rows to add, comma-separated: {', '.join(EXTRA)} (default none)")


def classify(status: int, body: bytes) -> str:
    """graphql_ok, with refusals for spent cost buckets told apart."""
    if b'"THROTTLED"' in body:
        return "throttled"
    return graphql_ok(status, body)


def _rss_mib(pid: int) -> float:
    """The process's resident memory (Linux /proc), MiB; NaN where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


async def _customers(url: str, count: int) -> list[int]:
    """Customers with a full page of orders or more."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) >= $1 ORDER BY customer_id LIMIT $2",
            PAGE,
            count,
        )
    finally:
        await connection.close()
    if not rows:
        raise SystemExit(f"bench.order_history: no customer has {PAGE} orders; seed more orders")
    return [row["customer_id"] for row in rows]


def _requests(variant: Variant, tokens: list[str], clients: int, numbers: Iterator[int]) -> RequestMaker:
    """Client c's n-th request is for customer c + n * clients: each client has customers of its own."""

    def make(client: int, n: int) -> bytes:
        method, path, body = variant.http(next(numbers))
        return load.http_request(method, path, token=tokens[(client + n * clients) % len(tokens)], body=body)

    return make


async def _visit_each(port: int, requests: list[bytes], clients: int) -> None:
    """Every request once, `clients` at a time."""
    pending = iter(requests)

    async def client() -> None:
        for request in pending:
            await fetch(port, request)

    await asyncio.gather(*(client() for _ in range(clients)))


async def _measure(
    variant: Variant, url: str, tokens: list[str], levels: list[int], args: argparse.Namespace
) -> tuple[bytes, dict[int, LoadResult], dict[int, float]]:
    """The variant's answer for the first customer, its load results by number of clients, and the server's
    resident memory (MiB) after each level."""
    numbers = itertools.count()
    first = _requests(variant, tokens, 1, numbers)
    results, memory = {}, {}
    async with Server(variant.factory, ordergraph_settings(url, **variant.settings)) as server:
        status, first_answer = await fetch(server.port, first(0, 0))
        if status != 200:
            raise RuntimeError(f"{variant.label} answered {status}: {first_answer[:300]!r}")
        if not variant.new_requests:  # every customer once, so that repeated requests are repeats from the start
            await _visit_each(server.port, [first(0, n) for n in range(len(tokens))], max(levels))
        warm_up = http_client(server.port, _requests(variant, tokens, levels[0], numbers), classify)
        await closed_loop(warm_up, clients=levels[0], seconds=args.warmup)
        for clients in levels:
            client = http_client(server.port, _requests(variant, tokens, clients, numbers), classify)
            results[clients] = await closed_loop(client, clients=clients, seconds=args.duration)
            memory[clients] = _rss_mib(server.process.pid) if server.process else math.nan
    return first_answer, results, memory


async def _statements(variant: Variant, url: str, customers: list[int]) -> list[tuple[int, int]]:
    """(SQL statements, round trips) for one request, a request at a time after one untimed request (for repeated
    requests, the second of two), each app in this process: statements are what the application asked for;
    round trips add what the driver sent around them (BEGIN, ROLLBACK, pool pings and resets), seen by asyncpg's
    query logger on every connection (statement preparation is not counted)."""
    statements: list[str] = []
    others: list[str] = []
    if variant.factory == ORDERGRAPH:
        app = create_app(Settings(database_url=url, jwt_secret=SECRET, broadcast_url="memory://", **variant.settings))
        for engine in (engine.sync_engine for engine in app.state.services.db.engines):
            # SQLAlchemy runs prepared statements, which asyncpg does not log: its listener counts those.
            event.listen(
                engine, "before_cursor_execute", lambda _conn, _cursor, statement, *_: statements.append(statement)
            )
            event.listen(
                engine,
                "connect",
                lambda connection, _record: connection.driver_connection.add_query_logger(
                    lambda logged: others.append(logged.query)
                ),
            )
    else:

        async def log(connection: asyncpg.Connection) -> None:
            connection.add_query_logger(
                lambda logged: (statements if logged.query in raw_order_history.STATEMENTS else others).append(
                    logged.query
                )
            )

        app = raw_order_history.app(url, SECRET, pool_size=1, on_connect=log)
    numbers = itertools.count()
    per_request = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):
        for customer_id in customers[:1] + customers:  # the first, untimed: connections opened, types looked up
            for _ in range(1 if variant.new_requests else 2):
                statements.clear()
                others.clear()
                method, path, body = variant.http(next(numbers))
                response = await client.request(
                    method,
                    path,
                    content=body,
                    headers={
                        "Authorization": f"Bearer {customer_token(customer_id)}",
                        "Content-Type": "application/json",
                    },
                )
                assert graphql_ok(response.status_code, response.content) == "ok", response.text[:300]
            per_request.append((len(statements), len(statements) + len(others)))
    return per_request[1:]


def _latency(result: LoadResult, p: float, seconds: float) -> str:
    if not result.latencies and result.late:
        return f"> {seconds * 1000:,.0f}"  # nothing was answered within the time
    return ms(percentile(result.latencies, p))


def _count(counts: list[int]) -> str:
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{sum(counts) / len(counts):.0f} ({low}-{high})"


def _first_difference(ours: object, floor: object, path: str = "$") -> str:
    if isinstance(ours, dict) and isinstance(floor, dict) and list(ours) == list(floor):
        return next((_first_difference(ours[k], floor[k], f"{path}.{k}") for k in ours if ours[k] != floor[k]), path)
    if isinstance(ours, list) and isinstance(floor, list) and len(ours) == len(floor):
        return next(
            (
                _first_difference(a, b, f"{path}[{i}]")
                for i, (a, b) in enumerate(zip(ours, floor, strict=True))
                if a != b
            ),
            path,
        )
    return f"{path}: {json.dumps(ours)[:80]} vs {json.dumps(floor)[:80]}"


def _same_json(graphql_answer: bytes, floor_answer: bytes) -> str:
    """Whether ordergraph's `data` is byte for byte the floor's (ordergraph's answer goes on with extensions)."""
    if graphql_answer.startswith(floor_answer[:-1] + b',"extensions":'):
        return f"identical bytes ({len(floor_answer):,} bytes; ordergraph adds extensions.cost)"
    return "DIFFERENT at " + _first_difference(json.loads(graphql_answer)["data"], json.loads(floor_answer)["data"])


async def run(url: str, args: argparse.Namespace) -> Table:
    levels = [int(n) for n in args.clients.split(",")]
    customers = await _customers(url, max(MIN_CUSTOMERS, max(levels) * CUSTOMERS_PER_CLIENT))
    tokens = [customer_token(c) for c in customers]
    extra = [EXTRA[name] for name in args.extra.split(",") if name]
    variants = (*VARIANTS[:-1], *extra, FLOOR)
    answers, results, counts, memory = {}, {}, {}, {}
    for variant in variants:
        print(f"order history: {variant.label} at {args.clients} clients …", flush=True)
        answers[variant], results[variant], memory[variant] = await _measure(variant, url, tokens, levels, args)
        counts[variant] = await _statements(variant, url, customers[:STATEMENT_SAMPLES])

    table = Table(
        f"Order history: MyOrderHistory ({PAGE} orders with lines and shipments) over HTTP",
        [
            "server",
            "clients",
            "req/s",
            "p50 ms",
            "p99 ms",
            "failed",
            "throttled",
            "SQL/request",
            "round trips",
            "RSS MiB",
            "vs floor",
            "p99 vs floor",
        ],
    )
    for clients in levels:
        floor = results[FLOOR][clients]
        for variant in variants:
            result = results[variant][clients]
            sql, round_trips = zip(*counts[variant], strict=True)
            table.add(
                variant.label,
                clients,
                rate(result.ok_per_second),
                _latency(result, 50, args.duration),
                _latency(result, 99, args.duration),
                result.failures - result.outcomes["throttled"],
                result.outcomes["throttled"],
                _count(sql),
                _count(round_trips),
                f"{memory[variant][clients]:.0f}",
                times(floor.ok_per_second, result.ok_per_second),
                times(percentile(result.latencies, 99), percentile(floor.latencies, 99)),
            )
    table.notes += [
        (
            f"JSON: ordergraph vs hand-written SQL: {_same_json(answers[ORDERGRAPH_NEW], answers[FLOOR])};"
            f" batching off vs hand-written SQL: {_same_json(answers[ORDERGRAPH_NAIVE], answers[FLOOR])}"
        ),
        (
            "ordergraph and batching off: every request is new (an unused variable numbered anew, so no result cache"
            " answers it: the query is executed); repeated: the same request per customer again and again, as a"
            " customer reloading, which the result cache (schema/result_cache.py) answers while the customer's data"
            " is unchanged"
        ),
        (
            "vs floor: the floor's requests per second divided by this server's at the same number of clients"
            " (how many times the floor's time per request); p99 vs floor: this server's p99 over the floor's"
        ),
        (
            "ordergraph rows run the generic GraphQL executor (ORDERGRAPH_FAST_PATH=false) unless labelled fast path;"
            " RSS MiB: the server process's resident memory after the level (all levels so far, in order)"
        ),
        (
            f"{args.duration:g} s per level after {args.warmup:g} s of warm-up (repeated: after each customer once);"
            f" {len(customers)} customers with {PAGE}+ orders, each client cycling through its own; failed: non-200"
            " or GraphQL errors other than THROTTLED; throttled: refused with THROTTLED (a spent cost bucket)"
        ),
        (
            f"SQL/request: the statements the application sent for one request ({STATEMENT_SAMPLES} customers, one at"
            " a time, each app in this process; for repeated, the second request); round trips: those and what the"
            " driver sent around them (ordergraph: each read statement in an autocommit session of its own, nothing"
            " around it; the hand-written endpoint: one connection per request, reset by asyncpg on release), counted"
            " by asyncpg's query logger and SQLAlchemy's before_cursor_execute"
            " (preparing a statement not counted)"
        ),
    ]
    return table


def main() -> None:
    seed.run_alone(__doc__, run, load.add_arguments, add_arguments, changes_data=False)


if __name__ == "__main__":
    main()
