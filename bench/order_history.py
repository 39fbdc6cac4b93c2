"""MyOrderHistory (20 orders, with lines and shipments) measured in-process: the app behind httpx's ASGI
transport, so the figure is ordergraph's own cost (GraphQL execution, loaders, SQL), not the network's.

    python -m bench.order_history [--url DATABASE_URL] [--requests 200] [--orders 2000]

Without --url it seeds a fresh SQLite file in a temporary directory.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import select

from models import Order
from resolvers.access import Role
from schema.node import encode_global_id
from server.app import create_app
from server.auth import issue_token
from server.database import Database
from server.migrate import upgrade
from server.seed import seed_demo
from server.settings import Settings
from tests.contract import document

SECRET = "bench-secret-bench-secret-bench-secret"


async def busiest_customer(database: Database) -> tuple[int, int]:
    async with database.read() as session:
        query = select(Order.customer_id, sa.func.count()).group_by(Order.customer_id).order_by(sa.func.count().desc())
        return (await session.exec(query.limit(1))).one()


async def run(url: str, requests: int, orders: int) -> None:
    database = Database(url)
    await upgrade(database)
    async with database.read() as session:
        empty = (await session.exec(select(sa.func.count()).select_from(Order))).one() == 0
    if empty:
        print(await seed_demo(database, customers=max(orders // 40, 10), orders=orders))
    customer_id, order_count = await busiest_customer(database)
    await database.dispose()

    app = create_app(Settings(database_url=url, jwt_secret=SECRET))
    token = issue_token(SECRET, role=Role.CUSTOMER, subject=encode_global_id("Customer", customer_id), name="bench", ttl_seconds=3600)
    body = {"query": document("MyOrderHistory"), "variables": {"first": 20}}
    headers = {"Authorization": f"Bearer {token}"}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            for _ in range(10):  # warm up: imports, statement caches, connection pool
                response = await client.post("/graphql", json=body, headers=headers)
                assert response.status_code == 200 and "errors" not in response.json(), response.text
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                await client.post("/graphql", json=body, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
    returned = len(response.json()["data"]["me"]["orders"]["edges"])
    timings.sort()
    print(
        f"MyOrderHistory ({returned} of the customer's {order_count} orders), {requests} requests, {database.dialect}:"
        f" median {statistics.median(timings):.1f} ms, p90 {timings[int(len(timings) * 0.9)]:.1f} ms,"
        f" min {timings[0]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a database URL (default: a fresh SQLite file)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--orders", type=int, default=2000, help="demo orders to seed into an empty database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.url or f"sqlite:///{Path(workdir) / 'bench.db'}"
        asyncio.run(run(url, args.requests, args.orders))


if __name__ == "__main__":
    main()
