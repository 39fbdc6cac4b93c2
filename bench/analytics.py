"""Analytics: what BI tools send, over HTTP against uvicorn with an analyst's token, next to the hand-written SQL
that answers the same question through asyncpg (rows fetched, no JSON): `orderStats` (RevenueByDayAndStatus over
the last 90 days of orders) and 500-row `OrdersExport` pages, the first and a deep one (by keyset cursor, after
90% of the orders: a page should cost the same wherever it starts). Median of N repeats, taken in turns.

    python -m bench.analytics [--url …] [--orders 100000] [--days 90] [--repeat 5]
"""

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

import asyncpg
import httpx

from bench import seed
from bench.report import Table, median, ms, times
from bench.servers import ORDERGRAPH, Server, ordergraph_settings, staff_token
from ordergraph.resolvers.access import Role
from ordergraph.schema.node import decode_global_id
from ordergraph.schema.trusted_documents import contract_documents

PAGE = 500
DEEP = 0.9  # the deep page starts after this share of the orders

# What a person would write for revenue by day and status: one pass over the lines of the orders in range.
STATS_SQL = """
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
# An export page: the orders after a keyset position, then their lines and shipments.
EXPORT_FIRST_ORDERS = """
SELECT id, number, status, channel, placed_at, total_minor, currency, customer_id
FROM orders ORDER BY placed_at, id LIMIT $1
"""
EXPORT_NEXT_ORDERS = """
SELECT id, number, status, channel, placed_at, total_minor, currency, customer_id
FROM orders WHERE (placed_at, id) > ($1, $2) ORDER BY placed_at, id LIMIT $3
"""
EXPORT_LINES = """
SELECT order_id, sku, quantity, quantity_returned, unit_price_minor * quantity AS line_total_minor, currency
FROM order_line WHERE order_id = ANY($1::bigint[]) ORDER BY order_id, line_number
"""
EXPORT_SHIPMENTS = """
SELECT order_id, carrier, status, delivered_at FROM shipment WHERE order_id = ANY($1::bigint[])
ORDER BY order_id, shipped_at, id
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--days", type=int, default=90, help="orderStats window, ending at the newest order (default 90)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats of each query (default 5)")


async def _export_page(connection: asyncpg.Connection, after: tuple | None) -> list[int]:
    """The page's order ids (lines and shipments fetched alongside, as the export needs them)."""
    orders = (
        await connection.fetch(EXPORT_FIRST_ORDERS, PAGE)
        if after is None
        else await connection.fetch(EXPORT_NEXT_ORDERS, *after, PAGE)
    )
    ids = [row["id"] for row in orders]
    await connection.fetch(EXPORT_LINES, ids)
    await connection.fetch(EXPORT_SHIPMENTS, ids)
    return ids


async def _medians(
    ours: Callable[[], Awaitable[object]], floor: Callable[[], Awaitable[object]], repeat: int
) -> tuple[float, float, object, object]:
    """Median seconds of each, measured in turns after one untimed run of each; and their last results."""
    timings: tuple[list[float], list[float]] = ([], [])
    results = [await _unthrottled(ours), await floor()]
    for _ in range(repeat):
        for n, action in enumerate((ours, floor)):
            while True:
                started = time.perf_counter()
                try:
                    results[n] = await action()
                except Throttled as refused:  # the analyst's cost bucket is spent: wait, untimed, and run again
                    await asyncio.sleep(refused.retry_after)
                    continue
                timings[n].append(time.perf_counter() - started)
                break
    return median(timings[0]), median(timings[1]), results[0], results[1]


class Throttled(Exception):
    """A request refused with THROTTLED; counted in `THROTTLED_REQUESTS` and reported under the table."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after
        THROTTLED_REQUESTS[0] += 1


THROTTLED_REQUESTS = [0]


async def _unthrottled(action: Callable[[], Awaitable[object]]) -> object:
    while True:
        try:
            return await action()
        except Throttled as refused:
            await asyncio.sleep(refused.retry_after)


def _ids(page: dict) -> list[int]:
    return [decode_global_id(edge["node"]["id"])[1] for edge in page["edges"]]


async def run(url: str, args: argparse.Namespace) -> Table:
    print(f"analytics: orderStats and OrdersExport pages, {args.repeat} times each …", flush=True)
    connection = await asyncpg.connect(url)
    table = Table(
        f"Analytics: analyst queries over HTTP vs hand-written SQL (median of {args.repeat})",
        ["query", "rows", "ordergraph ms", "SQL ms", "vs floor"],
    )
    try:
        orders, newest = await connection.fetchrow("SELECT count(*), max(placed_at) FROM orders")
        window = (newest - timedelta(days=args.days), newest + timedelta(seconds=1))
        deep_at = await connection.fetchval(
            "SELECT placed_at FROM orders ORDER BY placed_at, id OFFSET $1 LIMIT 1", int(orders * DEEP)
        )
        headers = {"Authorization": f"Bearer {staff_token(Role.ANALYST, 'bench')}"}
        async with (
            Server(ORDERGRAPH, ordergraph_settings(url)) as server,
            httpx.AsyncClient(base_url=server.url, headers=headers, timeout=300) as client,
        ):

            async def graphql(operation: str, variables: dict) -> dict:
                response = await client.post(
                    "/graphql", json={"query": contract_documents()[operation][1], "variables": variables}
                )
                body = response.json()
                codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
                if codes == ["THROTTLED"]:
                    raise Throttled(float(body["errors"][0]["extensions"]["retry_after"]))
                if response.status_code != 200 or "errors" in body:
                    raise RuntimeError(f"{operation}: {response.text[:300]}")
                return body["data"]

            stats_variables = {"from": window[0].isoformat(), "to": window[1].isoformat()}
            ours, floor, stats, rows = await _medians(
                lambda: graphql("RevenueByDayAndStatus", stats_variables),
                lambda: connection.fetch(STATS_SQL, *window),
                args.repeat,
            )
            groups = stats["orderStats"]["groups"]
            same = len(groups) == len(rows) and sum(g["orderCount"] for g in groups) == sum(r["orders"] for r in rows)
            table.add(
                f"orderStats by day and status, {args.days} days",
                f"{len(groups)} groups",
                ms(ours),
                ms(floor),
                times(ours, floor),
            )

            # The deep page's cursor, as a client gets one: the first order placed at or after the deep point.
            start = await graphql("OrdersExport", {"first": 1, "filter": {"placedAfter": deep_at.isoformat()}})
            start_edge = start["orders"]["edges"][0]["node"]
            keyset = (deep_at, decode_global_id(start_edge["id"])[1])
            pages = {
                "first page": (None, None),
                f"page after order {int(orders * DEEP):,} of {orders:,}": (
                    start["orders"]["pageInfo"]["endCursor"],
                    keyset,
                ),
            }
            for label, (cursor, after) in pages.items():
                ours, floor, page, ids = await _medians(
                    partial(graphql, "OrdersExport", {"first": PAGE, "after": cursor}),
                    partial(_export_page, connection, after),
                    args.repeat,
                )
                same = same and _ids(page["orders"]) == ids
                table.add(
                    f"OrdersExport {PAGE} rows, {label}", f"{len(ids)} orders", ms(ours), ms(floor), times(ours, floor)
                )
    finally:
        await connection.close()
    table.notes += [
        (
            f"throttled: {THROTTLED_REQUESTS[0]} requests refused THROTTLED (the analyst's cost bucket), each waited"
            " out untimed and sent again"
        ),
        (
            f"{orders:,} orders. ordergraph: POST /graphql with an analyst's token,"
            " timed to the last byte of the answer;"
            " SQL: the hand-written statements through asyncpg in this process, rows fetched, no JSON"
            " (the export page: its orders, their lines, their shipments)"
        ),
        "answers agree: "
        + (
            "yes (same number of groups and orders; same order ids on each page)"
            if same
            else "NO: ordergraph and the SQL disagree"
        ),
        "vs floor: ordergraph's median time divided by the SQL's",
    ]
    return table


def main() -> None:
    seed.run_alone(__doc__, run, add_arguments, changes_data=False)


if __name__ == "__main__":
    main()
