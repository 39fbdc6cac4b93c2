"""The benchmark database: demo data (server/seed.py) loaded into PostgreSQL at a chosen scale, and reused by
later runs while it holds that scale.

    python -m bench.seed [--url postgresql://postgres@127.0.0.1:5432/og_bench] [--orders 100000 | --full]
                         [--reseed]

Loads the database named in --url unless it already holds this scale (told by the comment the load leaves on
the database), and says how long the load took. --reseed drops and loads it again. Databases are created and
dropped through the server's `postgres` database.
"""

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from ordergraph.models.database import Database
from ordergraph.models.migrate import upgrade
from ordergraph.server.seed import seed_demo

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/og_bench"
ADMIN_DATABASE = "postgres"
FULL_ORDERS = 1_000_000
SEED = 1
MARK = "ordergraph bench data, vacuumed"  # a load marked otherwise (not vacuumed) is loaded again


def dsn(url: str, database: str | None = None) -> str:
    """A plain postgresql:// URL for asyncpg (whatever driver the given URL names), optionally of another database."""
    parsed = make_url(url).set(drivername="postgresql")
    return (parsed.set(database=database) if database else parsed).render_as_string(hide_password=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the benchmark database (default {DEFAULT_URL})")
    parser.add_argument("--orders", type=int, default=100_000, help="demo orders (default 100,000)")
    parser.add_argument("--full", action="store_true", help=f"the full scale: {FULL_ORDERS:,} orders")
    parser.add_argument("--reseed", action="store_true", help="load the database again even if it holds this scale")


@dataclass(frozen=True)
class Seeded:
    url: str
    orders: int
    customers: int
    summary: str  # what the load said, or that it was reused
    seconds: float | None  # the load's wall time; None when reused

    @property
    def name(self) -> str:
        return make_url(self.url).database


async def _admin(url: str, *statements: str) -> None:
    admin = await asyncpg.connect(dsn(url, ADMIN_DATABASE))
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def _vacuum(url: str) -> None:
    """Planner statistics and the visibility map, as a live database's autovacuum leaves freshly loaded tables
    (PostgreSQL 13+ vacuums insert-only tables too): index-only scans then read no heap pages. Without it the
    map fills in whenever autovacuum gets round to it, in the middle of some later run."""
    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()


async def _mark(url: str) -> str | None:
    """The comment a finished load left on the database; None if there is no such database."""
    admin = await asyncpg.connect(dsn(url, ADMIN_DATABASE))
    try:
        return await admin.fetchval(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1",
            make_url(url).database,
        )
    finally:
        await admin.close()


async def prepare(args: argparse.Namespace) -> Seeded:
    """The database named by --url holding the chosen scale: loaded now, or reused from an earlier run."""
    orders = FULL_ORDERS if args.full else args.orders
    customers = max(orders // 10, 1)
    name = make_url(args.url).database
    if not name or name == ADMIN_DATABASE:
        raise SystemExit(f"bench: name a database of its own in --url, not {name!r}: it is dropped and loaded")
    mark = f"{MARK}: {orders} orders, {customers} customers, seed {SEED}"
    reuse = not args.reseed and await _mark(args.url) == mark
    if not reuse:
        await _admin(args.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    database = Database(dsn(args.url))
    try:
        await upgrade(database)  # when reused: in case migrations were added since the load, a no-op otherwise
        if reuse:
            return Seeded(dsn(args.url), orders, customers, f"reused {name} ({mark})", None)
        print(f"loading {orders:,} demo orders into {name} …", flush=True)
        started = time.perf_counter()
        summary = await seed_demo(database, seed=SEED, customers=customers, orders=orders)
        seconds = time.perf_counter() - started
    finally:
        await database.dispose()
    await _vacuum(args.url)
    # Marked only once complete: an interrupted load is never reused.
    await _admin(args.url, f"COMMENT ON DATABASE \"{name}\" IS '{mark}'")
    return Seeded(dsn(args.url), orders, customers, summary, seconds)


@asynccontextmanager
async def scratch_copy(seeded: Seeded, purpose: str) -> AsyncIterator[str]:
    """A copy of the benchmark database for a scenario that changes data, dropped afterwards (the benchmark
    database stays as loaded). Nothing may be connected to the benchmark database while it is copied."""
    name = f"{seeded.name}_{purpose}"
    await _admin(
        seeded.url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{seeded.name}"',
    )
    try:
        yield dsn(seeded.url, name)
    finally:
        await _admin(seeded.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_alone(description: str, run, *argument_groups, changes_data: bool) -> None:
    """A scenario's own command: the database prepared (a scratch copy, dropped after, when the scenario changes
    data), the scenario run on it and its table printed."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    for add in argument_groups:
        add(parser)
    args = parser.parse_args()

    async def alone():
        seeded = await prepare(args)
        if not changes_data:
            return await run(seeded.url, args)
        async with scratch_copy(seeded, "scratch") as url:
            return await run(url, args)

    print(asyncio.run(alone()).text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    seeded = asyncio.run(prepare(parser.parse_args()))
    print(seeded.summary)
    if seeded.seconds is not None:
        print(
            f"seed_demo on PostgreSQL: {seeded.orders:,} orders in {seeded.seconds:.1f} s,"
            f" {seeded.orders / seeded.seconds:,.0f} orders/s"
        )


if __name__ == "__main__":
    main()
