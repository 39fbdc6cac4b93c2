"""The trusted-document fast path (schema/compiled.py): the SPA's `MyOrderHistory` (20 orders with lines and
shipments) over HTTP, uncached, through the fast path and through the generic executor, next to the floor (the
hand-written endpoint, bench/raw_order_history.py), in the same run.

    python -m bench.fast_path [--url …] [--fast-path-clients 1,16] [--fast-path-rounds 3] [--fast-path-in-process 200]
                              [--duration 10] [--warmup 2]

The three servers are measured in turn, round after round (each a uvicorn process of its own, started afresh), so
a drift in the machine's speed reaches all three alike; each figure is the median over the rounds, and `vs floor`
is the median of the rounds' own ratios. Every request is new (an unused variable numbered anew, so the result cache
answers none). The fast path's answer is checked byte for byte against the generic executor's and the floor's.
"""

import argparse
import contextlib
import itertools
import statistics
import time

import httpx

from bench import load, order_history, seed
from bench.load import LoadResult
from bench.order_history import FLOOR, Variant
from bench.report import Table, ms, percentile, rate
from bench.servers import ORDERGRAPH, SECRET, customer_token
from ordergraph.server.app import create_app
from ordergraph.server.settings import Settings

FAST = Variant("ordergraph, fast path", ORDERGRAPH, {"loader_batching": "true", "fast_path": "true"})
GENERIC = Variant("ordergraph, generic executor", ORDERGRAPH, {"loader_batching": "true", "fast_path": "false"})
VARIANTS = (FAST, GENERIC, FLOOR)
IN_PROCESS_CUSTOMERS = 200  # each is visited once, untimed, before the in-process timing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fast-path-clients", default="1,16", help="concurrent clients per level, fast path scenario (default 1,16)"
    )
    parser.add_argument(
        "--fast-path-rounds", type=int, default=3, help="rounds of the three servers in turn (default 3)"
    )
    parser.add_argument(
        "--fast-path-in-process",
        type=int,
        default=200,
        help="requests timed in this process per ordergraph variant (default 200; 0: none)",
    )


async def in_process(url: str, tokens: list[str], requests: int) -> dict[Variant, float]:
    """Median seconds per request of each ordergraph variant served in this process (no uvicorn, no sockets: the
    ASGI app called directly), the two interleaved request by request, each request new."""
    apps = {
        variant: create_app(
            Settings(database_url=url, jwt_secret=SECRET, broadcast_url="memory://", **variant.settings)
        )
        for variant in (FAST, GENERIC)
    }
    spent: dict[Variant, list[float]] = {variant: [] for variant in apps}
    numbers = itertools.count()
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for variant, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients[variant] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://bench")
            )
        for n in range(requests + len(tokens)):  # each customer once first, untimed: connections, caches
            for variant in (FAST, GENERIC) if n % 2 else (GENERIC, FAST):
                _method, _path, body = variant.http(next(numbers))
                headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}", "Content-Type": "application/json"}
                began = time.perf_counter()
                response = await clients[variant].post("/graphql", content=body, headers=headers)
                if n >= len(tokens):
                    spent[variant].append(time.perf_counter() - began)
                assert load.graphql_ok(response.status_code, response.content) == "ok", response.text[:300]
    return {variant: statistics.median(times) for variant, times in spent.items()}


def _ratio(floor: LoadResult, ours: LoadResult) -> float:
    return floor.ok_per_second / ours.ok_per_second if ours.ok_per_second else float("nan")


async def run(url: str, args: argparse.Namespace) -> Table:
    levels = [int(n) for n in args.fast_path_clients.split(",")]
    # Enough customers that none outspends their cost bucket however fast a server answers (at one client too).
    # At 16 clients the fast path outran 64 customers' cost buckets (throttled answers counted as failed).
    wanted = max(order_history.MIN_CUSTOMERS, max(levels) * order_history.CUSTOMERS_PER_CLIENT)
    customers = await order_history._customers(url, wanted)
    tokens = [customer_token(c) for c in customers]
    answers: dict[Variant, bytes] = {}
    rounds: list[dict[Variant, dict[int, LoadResult]]] = []
    for number in range(args.fast_path_rounds):
        measured = {}
        for variant in VARIANTS:
            print(f"fast path: round {number + 1}, {variant.label} at {args.fast_path_clients} clients …", flush=True)
            answers[variant], measured[variant], *_ = await order_history._measure(variant, url, tokens, levels, args)
        rounds.append(measured)
    requests = args.fast_path_in_process
    direct = await in_process(url, tokens[:IN_PROCESS_CUSTOMERS], requests) if requests else {}
    sampled = customers[: order_history.STATEMENT_SAMPLES]
    counts = {variant: await order_history._statements(variant, url, sampled) for variant in VARIANTS}

    table = Table(
        f"Fast path: MyOrderHistory ({order_history.PAGE} orders with lines and shipments) over HTTP, uncached",
        ["server", "clients", "req/s", "p50 ms", "p99 ms", "failed", "SQL/request", "vs floor"],
    )
    for clients in levels:
        for variant in VARIANTS:
            results = [r[variant][clients] for r in rounds]
            latencies = [x for r in results for x in r.latencies]
            ratios = [_ratio(r[FLOOR][clients], r[variant][clients]) for r in rounds]
            table.add(
                variant.label,
                clients,
                rate(statistics.median(r.ok_per_second for r in results)),
                ms(percentile(latencies, 50)),
                ms(percentile(latencies, 99)),
                sum(r.failures for r in results),
                order_history._count([sql for sql, _ in counts[variant]]),
                f"{statistics.median(ratios):,.2f}x ({min(ratios):,.2f}-{max(ratios):,.2f})",
            )
    same = "identical bytes" if answers[FAST] == answers[GENERIC] else "DIFFERENT bytes"
    table.notes += [
        (
            f"JSON: fast path vs generic executor: {same} ({len(answers[FAST]):,} bytes);"
            f" fast path vs hand-written SQL: {order_history._same_json(answers[FAST], answers[FLOOR])}"
        ),
        (
            f"{args.fast_path_rounds} rounds of the three servers in turn, each {args.duration:g} s per level after"
            f" {args.warmup:g} s of warm-up; req/s: the median round; p50/p99 over every round's answers; vs floor:"
            " the median (and range) of each round's floor req/s divided by this server's"
        ),
        (
            "every request is new (an unused variable numbered anew: no result cache answers it); both ordergraph"
            " servers run the same request limits, cost charge (extensions.cost), validation and input rules; the"
            " fast path then answers from its plan (schema/compiled.py), the generic executor walks every field"
        ),
        f"{len(customers)} customers with {order_history.PAGE}+ orders, each client cycling through its own",
    ]
    if direct:
        table.notes.append(
            f"in process (the ASGI app called directly, no uvicorn or sockets; {args.fast_path_in_process} requests"
            f" each, the two interleaved): fast path {ms(direct[FAST])} ms per request, generic executor"
            f" {ms(direct[GENERIC])} ms ({direct[GENERIC] / direct[FAST]:.2f}x the fast path's time)"
        )
    return table


def main() -> None:
    seed.run_alone(__doc__, run, load.add_arguments, add_arguments, changes_data=False)


if __name__ == "__main__":
    main()
