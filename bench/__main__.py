"""Every benchmark in one run, each scenario next to its baselines: loads (or reuses) the benchmark database,
runs order history, live fan-out, placement and analytics, prints their tables and writes them, with the
machine they ran on, to bench/results.md.

    python -m bench [--url postgresql://postgres@127.0.0.1:5432/og_bench] [--orders 100000 | --full] [--reseed]
                    [--scenarios order_history,fanout,placement,analytics] [--duration 10] [--warmup 2] …

Each scenario also runs alone: python -m bench.order_history (bench.fanout, bench.placement, bench.analytics).
Fan-out and placement change data, so they run on a copy of the benchmark database, dropped at the end.
"""

import argparse
import asyncio
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import redis.asyncio as aioredis

from bench import analytics, exports, fanout, fast_path, load, order_history, placement, report, seed, webhooks

SCENARIOS = {
    "order_history": order_history,
    "fast_path": fast_path,
    "fanout": fanout,
    "placement": placement,
    "analytics": analytics,
    "webhooks": webhooks,
    "exports": exports,
}
CHANGES_DATA = {"fanout", "placement", "webhooks"}
RESULTS = Path(__file__).resolve().parent / "results.md"


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def _load_average() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


async def _redis_version(url: str) -> str:
    client = aioredis.from_url(url)
    try:
        return (await client.info("server"))["redis_version"]
    finally:
        await client.aclose()


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    chosen = args.scenarios.split(",")
    if unknown := set(chosen) - set(SCENARIOS):
        raise SystemExit(f"bench: no scenario {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    load_at_start = _load_average()
    seeded = await seed.prepare(args)
    print(seeded.summary, flush=True)
    facts = await report.machine(seeded.url)
    facts["command"] = " ".join(["python -m bench", *sys.argv[1:]])
    facts["load average at start"] = load_at_start
    facts["redis"] = await _redis_version(args.redis_url)
    facts["scale"] = f"{seeded.orders:,} orders, {seeded.customers:,} customers (seed {seed.SEED})"
    facts["seeding"] = (
        f"loaded in {_minutes(seeded.seconds)}"
        if seeded.seconds is not None
        else "reused the database loaded by an earlier run"
    )
    tables, took = [], {}
    # One copy for the scenarios that change data, made now: nothing is connected to the benchmark database yet.
    copy = seed.scratch_copy(seeded, "scratch") if CHANGES_DATA & set(chosen) else nullcontext()
    copying = time.perf_counter()
    async with copy as scratch:
        took["database copy"] = time.perf_counter() - copying
        for name in chosen:
            began = time.perf_counter()
            table = await SCENARIOS[name].run(scratch if name in CHANGES_DATA else seeded.url, args)
            took[name] = time.perf_counter() - began
            tables.append(table)
            print(f"\n{table.text()}\n", flush=True)
    facts["time per scenario"] = ", ".join(f"{name} {_minutes(seconds)}" for name, seconds in took.items())
    facts["load average at end"] = _load_average()
    facts["wall time"] = _minutes(time.perf_counter() - started) + " (seeding included)"
    report.write_markdown(args.results, facts, tables)
    print(f"wall time {facts['wall time']}; written to {args.results}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    seed.add_arguments(parser)
    load.add_arguments(parser)
    for module in SCENARIOS.values():
        module.add_arguments(parser)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="which to run, in this order (default all)")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"the Markdown written (default {RESULTS})")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
