"""Placement: `placeOrder` over HTTP against uvicorn, many buyers at once for a few hot SKUs, all stocked at one
warehouse only (so every order of a SKU takes the same inventory row), next to the bare SQL of one reservation
(the conditional UPDATE resolvers/stock.py runs) at the same concurrency. Then a sell-out: the hot SKUs get a
few units each and the buyers race for them until every buyer has been refused; no unit may be sold twice.

    python -m bench.placement [--url …] [--orders 100000] [--buyers 32] [--hot-skus 3] [--sell-out 50]
                              [--duration 10] [--warmup 2]

It changes stock and adds orders, so it runs on a copy of the benchmark database (dropped afterwards).
"""

import argparse
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from bench import load, seed
from bench.load import Attempt, LoadResult, closed_loop, http_client
from bench.report import Table, ms, percentile, rate, times
from bench.servers import ORDERGRAPH, Server, customer_token, ordergraph_settings
from ordergraph.schema.trusted_documents import contract_documents

REFUSED_FOR_STOCK = "refused INSUFFICIENT_STOCK"
# resolvers/stock.py's reservation, as it reaches the database (one statement, autocommitted here).
RESERVE = """
UPDATE inventory_level SET reserved = reserved + $3, updated_at = now()
WHERE sku = $1 AND location_id = $2 AND on_hand - reserved - safety_stock >= $3
"""
PLENTY = 10_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--buyers", type=int, default=32, help="concurrent buyers (default 32)")
    parser.add_argument("--hot-skus", type=int, default=3, help="SKUs every order is for (default 3)")
    parser.add_argument("--sell-out", type=int, default=50, help="units of each hot SKU in the sell-out (default 50)")


async def _hot_stock(connection: asyncpg.Connection, skus: int) -> tuple[int, list[str]]:
    """A shipping warehouse and `skus` plain products it stocks; the products are taken out of every other
    location (no units available there), so every order of them reserves at this warehouse."""
    location = await connection.fetchval(
        "SELECT l.id FROM location l JOIN inventory_level i ON i.location_id = l.id"
        " WHERE l.kind = 'WAREHOUSE' AND l.ships GROUP BY l.id ORDER BY count(*) DESC, l.id LIMIT 1"
    )
    hot = [
        row["sku"]
        for row in await connection.fetch(
            "SELECT p.sku FROM product p JOIN inventory_level i ON i.sku = p.sku AND i.location_id = $1"
            " WHERE NOT p.customizable ORDER BY p.sku LIMIT $2",
            location,
            skus,
        )
    ]
    await connection.execute(
        "UPDATE inventory_level SET on_hand = reserved WHERE sku = ANY($1) AND location_id <> $2", hot, location
    )
    return location, hot


async def _make_available(connection: asyncpg.Connection, location: int, skus: list[str], units: int) -> None:
    await connection.execute(
        "UPDATE inventory_level SET on_hand = reserved + safety_stock + $3 WHERE sku = ANY($1) AND location_id = $2",
        skus,
        location,
        units,
    )


async def _stock(connection: asyncpg.Connection, skus: list[str]) -> dict[tuple[str, int], tuple[int, int]]:
    """(sku, location) -> (available, reserved) for every level of the SKUs."""
    rows = await connection.fetch(
        "SELECT sku, location_id, on_hand - reserved - safety_stock AS available, reserved"
        " FROM inventory_level WHERE sku = ANY($1)",
        skus,
    )
    return {(row["sku"], row["location_id"]): (row["available"], row["reserved"]) for row in rows}


async def _buyers(connection: asyncpg.Connection, count: int) -> list[tuple[int, dict]]:
    """Customers with their first saved address, as the shipping address."""
    rows = await connection.fetch(
        "SELECT c.id, a.name, a.line1, a.line2, a.city, a.region, a.postal_code, a.country, a.phone FROM customer c"
        " JOIN customer_address a ON a.customer_id = c.id AND a.position = 0 ORDER BY c.id LIMIT $1",
        count,
    )
    return [
        (
            row["id"],
            {
                "name": row["name"],
                "line1": row["line1"],
                "line2": row["line2"],
                "city": row["city"],
                "region": row["region"],
                "postalCode": row["postal_code"],
                "country": row["country"],
                "phone": row["phone"],
            },
        )
        for row in rows
    ]


def _placement(status: int, body: bytes) -> str:
    if status != 200:
        return "error"
    answer = json.loads(body)
    if answer.get("errors") or not answer.get("data"):
        return "error"
    refusals = answer["data"]["placeOrder"]["userErrors"]
    return f"refused {refusals[0]['code']}" if refusals else "ok"


def _orders(buyers: list[tuple[int, dict]], skus: list[str], keys: itertools.count) -> load.RequestMaker:
    """Buyer c orders one unit of hot SKU c mod n, to their own address, with a new idempotency key each time."""
    tokens = [customer_token(customer_id) for customer_id, _ in buyers]
    document_text = contract_documents()["PlaceOrder"][1]

    def make(client: int, _n: int) -> bytes:
        variables = {
            "input": {
                "lines": [{"sku": skus[client % len(skus)], "quantity": 1}],
                "deliveryMethodCode": "STANDARD",
                "shippingAddress": buyers[client][1],
                "paymentToken": "tok_visa",
                "idempotencyKey": f"bench-{next(keys)}",
            }
        }
        body = json.dumps({"query": document_text, "variables": variables}).encode()
        return load.http_request("POST", "/graphql", token=tokens[client], body=body)

    return make


def _bare_reservations(pool: asyncpg.Pool, location: int, skus: list[str]) -> load.Client:
    @asynccontextmanager
    async def connected(number: int) -> AsyncIterator[Attempt]:
        async with pool.acquire() as connection:

            async def attempt(_n: int) -> str:
                status = await connection.execute(RESERVE, skus[number % len(skus)], location, 1)
                return "ok" if status == "UPDATE 1" else "refused"

            yield attempt

    return connected


def _oversold(before: dict, after: dict) -> int:
    """Units reserved beyond what was available, summed over every level."""
    return sum(
        max(0, after[level][1] - reserved - max(available, 0)) for level, (available, reserved) in before.items()
    )


def _row(table: Table, label: str, result: LoadResult, floor: LoadResult) -> None:
    refused = sum(n for outcome, n in result.outcomes.items() if outcome.startswith("refused"))
    table.add(
        label,
        result.clients,
        rate(result.ok_per_second),
        ms(percentile(result.latencies, 50)),
        ms(percentile(result.latencies, 99)),
        refused,
        result.outcomes["error"],
        times(floor.ok_per_second, result.ok_per_second),
    )


async def run(url: str, args: argparse.Namespace) -> Table:
    """On a database that may be changed (a copy of the benchmark's)."""
    connection = await asyncpg.connect(url)
    try:
        location, skus = await _hot_stock(connection, args.hot_skus)
        buyers = await _buyers(connection, args.buyers)
        await _make_available(connection, location, skus, PLENTY)
        keys = itertools.count()
        # A pool of half as many connections as buyers, and as many again in overflow: no buyer waits for one.
        settings = ordergraph_settings(url, database_pool_size=str(max(args.buyers // 2, 1)))
        print(f"placement: {args.buyers} buyers placing orders, then selling out, then the bare SQL …", flush=True)
        async with Server(ORDERGRAPH, settings) as server:
            orders = http_client(server.port, _orders(buyers, skus, keys), _placement)
            await closed_loop(orders, clients=args.buyers, seconds=args.warmup)
            placing = await closed_loop(orders, clients=args.buyers, seconds=args.duration)
            await _make_available(connection, location, skus, args.sell_out)
            before = await _stock(connection, skus)
            selling_out = await closed_loop(
                orders, clients=args.buyers, seconds=max(args.duration, 60), stop_on=REFUSED_FOR_STOCK
            )
            after = await _stock(connection, skus)
        await _make_available(connection, location, skus, PLENTY)
        async with asyncpg.create_pool(url, min_size=args.buyers, max_size=args.buyers) as pool:
            reservations = _bare_reservations(pool, location, skus)
            await closed_loop(reservations, clients=args.buyers, seconds=args.warmup)
            bare = await closed_loop(reservations, clients=args.buyers, seconds=args.duration)
    finally:
        await connection.close()

    table = Table(
        f"Placement: {args.buyers} buyers, {len(skus)} hot SKUs at one warehouse",
        ["what", "clients", "per s", "p50 ms", "p99 ms", "refused", "failed", "vs floor"],
    )
    _row(table, "placeOrder (ordergraph, HTTP)", placing, bare)
    _row(table, "reservation UPDATE (bare SQL)", bare, bare)
    placed, units = selling_out.outcomes["ok"], args.sell_out * len(skus)
    lowest = min(after[(sku, location)][0] for sku in skus)
    table.notes += [
        (
            f"sell-out: {units} units ({args.sell_out} of each hot SKU), {args.buyers} buyers until each was refused:"
            f" {placed} orders placed, {selling_out.outcomes[REFUSED_FOR_STOCK]} refused INSUFFICIENT_STOCK,"
            f" {selling_out.outcomes['error']} failed in {selling_out.seconds:.1f} s; oversold units:"
            f" {_oversold(before, after)} (reserved beyond what was available, over every stock level of the hot SKUs);"
            f" lowest availability after: {lowest}"
        ),
        (
            f"per s: orders placed (reservations made) per second over {args.duration:g} s after {args.warmup:g} s of"
            " warm-up, one unit each; the bare SQL is autocommitted on a pool of as many connections as buyers"
        ),
        "vs floor: the bare SQL's reservations per second divided by the placements per second",
    ]
    return table


def main() -> None:
    seed.run_alone(__doc__, run, load.add_arguments, add_arguments, changes_data=True)


if __name__ == "__main__":
    main()
