"""placeOrder under contention: many buyers at once for the same SKU at the same location, in-process (the
app behind httpx's ASGI transport) on a fresh PostgreSQL database.

    python -m bench.placement [--admin-url postgresql://postgres@127.0.0.1:5432/test] [--buyers 50] [--orders 2000]

Prints placements per second and latency percentiles, then replays the race for the last 10 units.
"""

import argparse
import asyncio
import statistics
import time
import uuid

import asyncpg
import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from models import InventoryLevel
from resolvers.access import Role
from schema.node import encode_global_id
from server.app import create_app
from server.auth import issue_token
from server.database import Database
from server.migrate import upgrade
from server.settings import Settings
from tests.contract import document
from tests.factories import NOW, build_shop

SECRET = "bench-secret-bench-secret-bench-secret"
ADDRESS = {"line1": "10 Main St", "city": "New York", "region": "NY", "postalCode": "10001", "country": "US"}


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.set(database=database).render_as_string(hide_password=False) if database else parsed.render_as_string(hide_password=False)


async def _fresh_database(admin_url: str) -> str:
    name = f"og_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(admin_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return name


async def _drop_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(_dsn(admin_url))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def _race(client: httpx.AsyncClient, tokens: list[str], sku: str, orders: int) -> tuple[float, list[float], list[str]]:
    """`len(tokens)` buyers place `orders` one-unit orders of `sku` between them; returns the wall time,
    each placement's latency and each refusal's code."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(orders):
        queue.put_nowait(n)
    latencies, refusals = [], []

    async def buyer(token: str) -> None:
        while not queue.empty():
            queue.get_nowait()
            variables = {"input": {"lines": [{"sku": sku, "quantity": 1}], "deliveryMethodCode": "STANDARD", "shippingAddress": ADDRESS,
                                   "paymentToken": "tok_visa", "idempotencyKey": uuid.uuid4().hex}}
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": document("PlaceOrder"), "variables": variables},
                                         headers={"Authorization": f"Bearer {token}"})
            latencies.append(time.perf_counter() - started)
            result = response.json()["data"]["placeOrder"]
            refusals.extend(error["code"] for error in result["userErrors"])

    started = time.perf_counter()
    await asyncio.gather(*(buyer(token) for token in tokens))
    return time.perf_counter() - started, latencies, refusals


async def run(admin_url: str, buyers: int, orders: int) -> None:
    name = await _fresh_database(admin_url)
    url = _dsn(admin_url, name)
    try:
        database = Database(url)
        await upgrade(database)
        world = await build_shop(database)
        async with database.write() as session:  # plenty of one SKU at one location: every order takes the same row
            await session.exec(sa.update(InventoryLevel).where(InventoryLevel.sku == "SKU-2").values(on_hand=10 * orders))
        await database.dispose()

        app = create_app(Settings(database_url=url, jwt_secret=SECRET, database_pool_size=buyers // 2))
        app.state.services.clock = lambda: NOW
        customer = encode_global_id("Customer", world.customers["bob"])
        tokens = [issue_token(SECRET, role=Role.CUSTOMER, subject=customer, name="bench", ttl_seconds=3600) for _ in range(buyers)]
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=60) as client:
                await _race(client, tokens[:1], "SKU-2", 20)  # warm up
                seconds, latencies, refusals = await _race(client, tokens, "SKU-2", orders)
                placed = orders - len(refusals)
                quantiles = statistics.quantiles(latencies, n=100)
                print(f"{buyers} buyers, {orders} orders of one SKU from one location on PostgreSQL: {placed} placed in {seconds:.2f} s"
                      f" = {placed / seconds:.0f} placements/s; latency p50 {quantiles[49] * 1000:.0f} ms,"
                      f" p95 {quantiles[94] * 1000:.0f} ms; refusals {sorted(set(refusals)) or 'none'}")
                seconds, _, refusals = await _race(client, tokens, "LAST", buyers)
                print(f"last 10 units, {buyers} buyers: {buyers - len(refusals)} placed, {len(refusals)} refused"
                      f" ({', '.join(sorted(set(refusals)))}) in {seconds:.2f} s")
    finally:
        await _drop_database(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--orders", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.admin_url, args.buyers, args.orders))


if __name__ == "__main__":
    main()
