"""Bulk exports (#20): every order with its lines and shipments (the OrdersExport selection) to JSONL and to
Parquet, as an analyst (masked), through the export worker's own path (server.bulk_exports.export_to_file: on
PostgreSQL the database writes each order's JSON line, resolvers.bulk_exports.json_line_chunks; the file is those
lines, or pyarrow's parse of them), in a fresh process tuned as the server's start-up leaves it (the garbage
collector frozen), so that its peak RSS is its own; next to floors
measured on the same database: the same chunked SQL through asyncpg with the rows fetched and nothing built, and
PostgreSQL building each JSON line itself (COPY (SELECT json_build_object(…)) TO STDOUT, the lines counted).

    python -m bench.exports [--url …] [--orders 100000 | --full] [--export-repeat 1]

The issue's target: ≥ 30,000 orders/s to JSONL and to Parquet at 1,000,000 orders, memory flat (the peak RSS
does not grow with the number of orders: one chunk of orders is held at a time).
"""

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from bench import seed
from bench.report import Table, median

TARGET_ORDERS_PER_SECOND = 30_000
CHUNK = 5_000

FLOOR_ORDERS = """
SELECT id, number, status, channel, placed_at, total_minor, currency, customer_id
FROM orders WHERE id > $1 ORDER BY id LIMIT $2
"""
FLOOR_LINES = """
SELECT order_id, sku, quantity, quantity_returned, unit_price_minor, currency
FROM order_line WHERE order_id >= $1 AND order_id <= $2 ORDER BY order_id, id
"""
FLOOR_SHIPMENTS = """
SELECT order_id, carrier, status, delivered_at
FROM shipment WHERE order_id >= $1 AND order_id <= $2 ORDER BY order_id, id
"""
# What the prototype had PostgreSQL build: each order's JSON line, its lines and shipments aggregated in.
COPY_JSON = """
SELECT json_build_object(
        'id', o.id, 'number', o.number, 'status', o.status, 'channel', o.channel, 'placedAt', o.placed_at,
        'total', json_build_object('amount', o.total_minor, 'currency', o.currency),
        'customer', json_build_object('id', o.customer_id, 'email', NULL),
        'lines', coalesce((
            SELECT json_agg(json_build_object(
                'sku', l.sku, 'quantity', l.quantity, 'quantityReturned', l.quantity_returned,
                'lineTotal', json_build_object('amount', l.unit_price_minor * l.quantity, 'currency', l.currency)
            ) ORDER BY l.id) FROM order_line l WHERE l.order_id = o.id), '[]'),
        'shipments', coalesce((
            SELECT json_agg(json_build_object('carrier', s.carrier, 'status', s.status, 'deliveredAt', s.delivered_at)
            ORDER BY s.id) FROM shipment s WHERE s.order_id = o.id), '[]')
    )
FROM orders o ORDER BY o.id
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--export-repeat", type=int, default=1, help="timed runs of each export (default 1)")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def _child(url: str, export_format: str, folder: Path) -> dict:
    """One export in this process: rows, seconds, CPU seconds, RSS before and at its peak."""
    from ordergraph.models.bulk_export import BulkExportFormat
    from ordergraph.models.database import Database
    from ordergraph.resolvers import bulk_exports, orders
    from ordergraph.resolvers.access import Role
    from ordergraph.server.bulk_exports import export_to_file
    from ordergraph.server.gc_tuning import tune_garbage_collector
    from ordergraph.server.settings import Settings

    database = Database(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    fmt = BulkExportFormat(export_format)
    query = bulk_exports.ExportQuery(orders.OrderFilter(), False, bulk_exports.parse_selection(None))
    await bulk_exports.count_orders(database.read, query)  # connected, statements warm
    settings = Settings()  # the garbage collector as the server's start-up leaves it (server/gc_tuning.py)
    tune_garbage_collector(freeze=settings.gc_freeze, threshold=settings.gc_threshold)
    path = folder / f"export.{export_format.lower()}"
    before = _rss_mb()
    cpu, began = time.process_time(), time.perf_counter()
    rows = await export_to_file(database, query, Role.ANALYST, fmt, path, chunk_size=CHUNK)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    await database.dispose()
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu": cpu,
        "rss_before": before,
        "rss_peak": _rss_mb(),
        "bytes": path.stat().st_size,
    }


def _run_child(url: str, export_format: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="og-export-bench-") as folder:
        done = subprocess.run(
            [sys.executable, "-m", "bench.exports", "--child", export_format, "--url", url, "--folder", folder],
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


async def _floor_sql(connection: asyncpg.Connection) -> tuple[int, float]:
    """The same chunks the export reads (orders by id, their lines and shipments by id range), rows fetched."""
    began, after, count = time.perf_counter(), 0, 0
    while True:
        rows = await connection.fetch(FLOOR_ORDERS, after, CHUNK)
        if not rows:
            break
        first, last = rows[0]["id"], rows[-1]["id"]
        await connection.fetch(FLOOR_LINES, first, last)
        await connection.fetch(FLOOR_SHIPMENTS, first, last)
        count += len(rows)
        after = last
        if len(rows) < CHUNK:
            break
    return count, time.perf_counter() - began


async def _floor_copy(connection: asyncpg.Connection) -> tuple[int, float]:
    """PostgreSQL builds every JSON line; the lines are counted as they arrive."""
    lines = 0

    async def sink(chunk: bytes) -> None:
        nonlocal lines
        lines += chunk.count(b"\n")

    began = time.perf_counter()
    await connection.copy_from_query(COPY_JSON, output=sink)
    return lines, time.perf_counter() - began


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}"


async def run(url: str, args: argparse.Namespace) -> Table:
    repeat = max(1, args.export_repeat)
    print(f"exports: every order to JSONL and Parquet, {repeat} time(s) each …", flush=True)
    connection = await asyncpg.connect(url)
    try:
        orders, lines = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_line)"
        )
        floors = {"SQL": [], "COPY": []}
        for _ in range(repeat):
            floors["SQL"].append(await _floor_sql(connection))
            floors["COPY"].append(await _floor_copy(connection))
    finally:
        await connection.close()
    table = Table(
        f"Bulk exports: {orders:,} orders with their lines, as an analyst (median of {repeat})",
        [
            "export",
            "orders",
            "seconds",
            "orders/s",
            "CPU s (ours)",
            "RSS MB start → peak",
            "floor orders/s",
            "vs floor",
        ],
    )
    sql_rows, sql_seconds = floors["SQL"][0][0], median([s for _, s in floors["SQL"]])
    copy_rows, copy_seconds = floors["COPY"][0][0], median([s for _, s in floors["COPY"]])
    for export_format in ("JSONL", "PARQUET"):
        results = [_run_child(url, export_format) for _ in range(repeat)]
        seconds = median([r["seconds"] for r in results])
        last = results[-1]
        floor_seconds = copy_seconds if export_format == "JSONL" else sql_seconds
        table.add(
            f"{export_format} (target ≥ {TARGET_ORDERS_PER_SECOND:,}/s)",
            f"{last['rows']:,}",
            f"{seconds:.1f}",
            _rate(last["rows"], seconds),
            f"{median([r['cpu'] for r in results]):.1f}",
            f"{last['rss_before']:.0f} → {last['rss_peak']:.0f}",
            _rate(copy_rows if export_format == "JSONL" else sql_rows, floor_seconds),
            f"{seconds / floor_seconds:.1f}×",
        )
    table.add(
        "floor: the same chunked SQL, rows fetched",
        f"{sql_rows:,}",
        f"{sql_seconds:.1f}",
        _rate(sql_rows, sql_seconds),
        "",
        "",
        "",
        "",
    )
    table.add(
        "floor: PostgreSQL builds each JSON line (COPY)",
        f"{copy_rows:,}",
        f"{copy_seconds:.1f}",
        _rate(copy_rows, copy_seconds),
        "",
        "",
        "",
        "",
    )
    table.notes += [
        f"{orders:,} orders, {lines:,} lines; the OrdersExport selection (lines and shipments nested), analyst masking",
        "ours: one process per export (its own peak RSS), chunks of 5,000 orders read while the last is written;"
        " PostgreSQL writes each order's JSON line (the JSONL file is those lines; Parquet: pyarrow parses them to"
        " the file's schema); JSONL's floor is PostgreSQL building the JSON, Parquet's the bare SQL",
        f"machine: {os.cpu_count()} CPUs shared with PostgreSQL (and anything else running): CPU s shows ours alone",
    ]
    return table


def main() -> None:
    if "--child" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--child")
        parser.add_argument("--url")
        parser.add_argument("--folder", type=Path)
        args = parser.parse_args()
        print(json.dumps(asyncio.run(_child(args.url, args.child, args.folder))))
        return
    seed.run_alone(__doc__, run, add_arguments, changes_data=False)


if __name__ == "__main__":
    main()
