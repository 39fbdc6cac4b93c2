"""What observability costs (issue 22): the SPA's `MyOrderHistory` over HTTP against uvicorn, as in
bench/order_history.py (every request new, executed), with Prometheus metrics off, on, and on with OpenTelemetry
tracing exporting every span over OTLP/HTTP, side by side in one run, at 1 and 16 concurrent clients.

    python -m bench.observability [--url …] [--orders 100000] [--clients 1,16] [--duration 10] [--warmup 2]
                                  [--rounds 2]

The variants take turns (off, metrics, metrics + tracing, then again for each round), so that a machine whose load
drifts during the run shifts all three alike; each figure is the variants' rounds pooled. Traces go to a sink in
this process that answers every OTLP export with 200 (what a collector costs is not the server's).
"""

import argparse
import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator

from bench import load, seed
from bench.load import LoadResult, closed_loop, fetch, graphql_ok, http_client
from bench.order_history import CUSTOMERS_PER_CLIENT, PAGE, Variant, _customers, _requests
from bench.report import Table, ms, percentile, rate
from bench.servers import ORDERGRAPH, Server, customer_token, ordergraph_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", default="1,16", help="concurrent clients per level (default 1,16)")
    parser.add_argument("--rounds", type=int, default=2, help="turns each variant takes (default 2)")


@contextlib.asynccontextmanager
async def otlp_sink() -> AsyncIterator[str]:
    """An HTTP endpoint that reads each request and answers 200 with an empty body; yields its URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def _measure(variant: Variant, url: str, tokens: list[str], levels: list[int], args: argparse.Namespace):
    numbers = itertools.count()
    results: dict[int, LoadResult] = {}
    cpu_seconds: dict[int, float] = {}  # the server's CPU time during each level
    async with Server(variant.factory, ordergraph_settings(url, **variant.settings)) as server:
        status, answer = await fetch(server.port, _requests(variant, tokens, 1, numbers)(0, 0))
        if status != 200:
            raise RuntimeError(f"{variant.label} answered {status}: {answer[:300]!r}")
        warm_up = http_client(server.port, _requests(variant, tokens, levels[0], numbers), graphql_ok)
        await closed_loop(warm_up, clients=levels[0], seconds=args.warmup)
        for clients in levels:
            client = http_client(server.port, _requests(variant, tokens, clients, numbers), graphql_ok)
            cpu = server.cpu_seconds()
            results[clients] = await closed_loop(client, clients=clients, seconds=args.duration)
            cpu_seconds[clients] = server.cpu_seconds() - cpu
    return results, cpu_seconds


async def run(url: str, args: argparse.Namespace) -> Table:
    levels = [int(n) for n in args.clients.split(",")]
    customers = await _customers(url, max(levels) * CUSTOMERS_PER_CLIENT)
    tokens = [customer_token(c) for c in customers]
    async with otlp_sink() as sink:
        variants = (
            Variant("metrics off, tracing off", ORDERGRAPH, {"metrics_enabled": "false"}),
            Variant("metrics on", ORDERGRAPH, {"metrics_enabled": "true"}),
            Variant("metrics on, tracing on", ORDERGRAPH, {"metrics_enabled": "true", "otlp_endpoint": sink}),
        )
        pooled: dict[Variant, dict[int, list[LoadResult]]] = {v: {c: [] for c in levels} for v in variants}
        cpu: dict[Variant, dict[int, float]] = {v: dict.fromkeys(levels, 0.0) for v in variants}
        for round_number in range(args.rounds):
            for variant in variants:
                print(f"observability: {variant.label}, round {round_number + 1} …", flush=True)
                results, cpu_seconds = await _measure(variant, url, tokens, levels, args)
                for clients, result in results.items():
                    pooled[variant][clients].append(result)
                    cpu[variant][clients] += cpu_seconds[clients]

    table = Table(
        f"Observability overhead: MyOrderHistory ({PAGE} orders) over HTTP, metrics and tracing off vs on",
        [
            "server",
            "clients",
            "req/s",
            "p50 ms",
            "p99 ms",
            "failed",
            "CPU ms/req",
            "req/s vs off",
            "p99 vs off",
            "CPU vs off",
        ],
    )
    for clients in levels:
        baseline: tuple[float, float, float] | None = None
        for variant in variants:
            runs = pooled[variant][clients]
            answered = sum(r.outcomes["ok"] for r in runs)
            per_second = answered / sum(r.seconds for r in runs)
            latencies = [latency for r in runs for latency in r.latencies]
            p99 = percentile(latencies, 99)
            cpu_per_request = cpu[variant][clients] / max(answered, 1)
            baseline = baseline or (per_second, p99, cpu_per_request)
            table.add(
                variant.label,
                clients,
                rate(per_second),
                ms(percentile(latencies, 50)),
                ms(p99),
                sum(r.failures for r in runs),
                ms(cpu_per_request),
                f"{(per_second / baseline[0] - 1) * 100:+.1f}%",
                f"{(p99 / baseline[1] - 1) * 100:+.1f}%",
                f"{(cpu_per_request / baseline[2] - 1) * 100:+.1f}%",
            )
    table.notes += [
        (
            f"{args.rounds} rounds, the variants taking turns; {args.duration:g} s per level after {args.warmup:g} s"
            f" of warm-up each; {len(customers)} customers with {PAGE}+ orders, each request new (no result cache)"
        ),
        "CPU ms/req: the server process's CPU time (user + system, /proc) per answered request, which other"
        " processes on a shared machine disturb far less than req/s and latency",
        "metrics on: request, latency and SQL histograms, SQL statement listeners (server/metrics.py);"
        " tracing on: a span per request, operation and SQL statement, exported in batches to an OTLP/HTTP sink",
    ]
    return table


def main() -> None:
    seed.run_alone(__doc__, run, load.add_arguments, add_arguments, changes_data=False)


if __name__ == "__main__":
    main()
