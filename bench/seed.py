"""The demo-data load (server/seed.py) timed on PostgreSQL: a fresh database is created, migrated, seeded and
dropped again, and the seed alone is timed.

    python -m bench.seed [--url postgresql://postgres@127.0.0.1:5432/og_bench_seed] [--orders 1000000]
                         [--customers N] [--seed 1]

The database named in --url must not hold anything you want to keep: it is dropped before and after. It is
created and dropped through the server's `test` database (the admin connection).
"""

import argparse
import asyncio
import time

import asyncpg
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from models import Order, OrderEvent
from server.database import Database
from server.migrate import upgrade
from server.seed import seed_demo

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/og_bench_seed"
ADMIN_DATABASE = "test"


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.set(database=database or parsed.database).render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    admin = await asyncpg.connect(_dsn(url, ADMIN_DATABASE))
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def run(url: str, orders: int, customers: int, seed: int) -> None:
    name = make_url(url).database
    if not name or name == ADMIN_DATABASE:
        raise SystemExit(f"bench.seed: name a database of its own in --url, not {name!r}: it is dropped")
    await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(url, f'CREATE DATABASE "{name}"')
    database = Database(_dsn(url))
    try:
        await upgrade(database)
        started = time.perf_counter()
        summary = await seed_demo(database, seed=seed, customers=customers, orders=orders)
        seconds = time.perf_counter() - started
        async with database.read() as session:
            loaded = (await session.exec(select(func.count()).select_from(Order))).one()
            events = (await session.exec(select(func.count()).select_from(OrderEvent))).one()
        print(summary)
        print(f"seed_demo on PostgreSQL: {loaded:,} orders ({events:,} events) in {seconds:.1f} s,"
              f" {loaded / seconds:,.0f} orders/s")
    finally:
        await database.dispose()
        await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=DEFAULT_URL, help="the PostgreSQL database to create, seed and drop")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, help="default: one for every ten orders")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.orders, args.customers or max(args.orders // 10, 1), args.seed))


if __name__ == "__main__":
    main()
