"""orderStats against the hand-written SQL that answers the same question, on a seeded PostgreSQL database.

    python -m bench.analytics --url postgresql://postgres@127.0.0.1:5432/DB [--days 90] [--repeat 5]

The database must hold demo data (`ordergraph seed --orders 1000000`, or bench.seed --keep). Both sides run
in this process: ordergraph through the in-process app (analyst token, RevenueByDayAndStatus), the baseline
straight through asyncpg. Prints the median of each and their ratio.
"""

import argparse
import asyncio
import statistics
import time
from datetime import timedelta

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from resolvers.access import Role
from server.app import create_app
from server.auth import issue_token
from server.settings import Settings
from tests.contract import document

SECRET = "bench-secret-bench-secret-bench-secret"

# What a person would write for revenue by day and status: one pass over the lines of the orders in range.
RAW_SQL = """
SELECT day, status, currency, count(*) AS orders, sum(units) AS units, sum(net) AS revenue
FROM (
    SELECT date(o.placed_at AT TIME ZONE 'UTC') AS day, o.status, o.currency, o.total_minor - o.cancelled_minor AS net,
           sum(l.quantity - l.quantity_cancelled) AS units
    FROM orders o JOIN order_line l ON l.order_id = o.id
    WHERE o.placed_at >= $1 AND o.placed_at < $2
    GROUP BY o.id
) per_order
GROUP BY day, status, currency
ORDER BY day, status, currency
"""


async def _timed(action, repeat: int) -> tuple[float, object]:  # noqa: ANN001
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


async def run(url: str, days: int, repeat: int) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    raw = await asyncpg.connect(dsn)
    orders, last = await raw.fetchrow("SELECT count(*), max(placed_at) FROM orders")
    window = (last - timedelta(days=days), last + timedelta(seconds=1))

    app = create_app(Settings(database_url=url, jwt_secret=SECRET))
    token = issue_token(SECRET, role=Role.ANALYST, subject="analyst:bench", name="bench", ttl_seconds=3600)
    body = {"query": document("RevenueByDayAndStatus"), "variables": {"from": window[0].isoformat(), "to": window[1].isoformat()}}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120) as client:
            async def graph() -> dict:
                response = await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200 and "errors" not in response.json(), response.text
                return response.json()["data"]["orderStats"]

            await graph()  # warm up caches on both sides alike
            await raw.fetch(RAW_SQL, *window)
            ours, stats = await _timed(graph, repeat)
            baseline, rows = await _timed(lambda: raw.fetch(RAW_SQL, *window), repeat)
    await raw.close()
    assert len(stats["groups"]) == len(rows), "orderStats and the raw SQL disagree"
    print(f"{orders:,} orders; RevenueByDayAndStatus over {days} days ({len(rows)} groups), median of {repeat}: "
          f"orderStats {ours * 1000:.0f} ms, hand-written SQL {baseline * 1000:.0f} ms, ratio {ours / baseline:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.days, args.repeat))


if __name__ == "__main__":
    main()
