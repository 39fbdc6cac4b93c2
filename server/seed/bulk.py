"""Loading the demo data: `seed_demo`, the one entry point, and the BulkWriter that writes rows fast on either
backend.

How it is fast: ids are assigned in rows.py, rows are built as tuples and loaded a chunk of orders at a time
(COPY on PostgreSQL, executemany on SQLite), never one ORM object at a time, while the next chunk is generated.
Orders are generated in the order they were placed, so an event gets its global sequence number as soon as no
order still to come can precede it: memory stays bounded whatever the number of orders. On PostgreSQL the
foreign keys are taken off for the load and added back after it, and the id sequences moved past the loaded
ids, so the application's own inserts go on from there.

Invariants:
- One transaction: the whole load commits or none of it does.
- The schema after a load is the migrated one: the foreign keys come back exactly as the catalog defined them,
  and adding them checks every row.
- At most two chunks of orders are in flight (one being written, the next being generated); no write task is
  left running behind an error.
- The backend changes how rows are written, never which: both load the same rows.
- The demo's events are history: the outbox relay and the notifier start after the newest of them.
- The top of the package: imports world.py, lifecycle.py and rows.py; nothing in the package imports it.
"""

import asyncio
import gc
import random
import time as stopwatch
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import (
    Company,
    CompanyLocation,
    Customer,
    CustomerAddress,
    DeliveryMethod,
    DocumentSeries,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryAdjustment,
    InventoryLevel,
    Invoice,
    InvoiceLine,
    JournalEntry,
    JournalLine,
    Location,
    LocationOpeningHours,
    Market,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentTransaction,
    PickupPoint,
    Product,
    Return,
    ReturnLine,
    Shipment,
    ShipmentEvent,
)
from ordergraph.models.database import Database
from ordergraph.models.enums import OrderStatus
from ordergraph.models.event import EventRelay, NotificationWatermark
from ordergraph.resolvers.pickup_points import load_points, shipped_points
from ordergraph.server.seed.lifecycle import HISTORY, OrderDraft, OrderFactory, order_stream
from ordergraph.server.seed.markets import MarketProfile, profile_for
from ordergraph.server.seed.rows import COLUMNS, Batch, EventLog, RowMaker
from ordergraph.server.seed.world import Point, World, build_world, read_places

CHUNK_ORDERS = 10_000
YIELD_EVERY = 20  # orders generated between turns of the event loop while a chunk is being written
SQLITE_BATCH_ROWS = 2_000

# Parents before children (COLUMNS' order), so every foreign key finds its row.
LOAD_ORDER = tuple(COLUMNS)
TABLES: dict[str, sa.Table] = {
    model.__tablename__: model.__table__
    for model in (
        DeliveryMethod,
        Location,
        LocationOpeningHours,
        Product,
        Customer,
        CustomerAddress,
        Company,
        CompanyLocation,
        Order,
        OrderLine,
        FulfillmentOrder,
        FulfillmentOrderLine,
        Shipment,
        ShipmentEvent,
        Payment,
        Return,
        ReturnLine,
        PaymentTransaction,
        InventoryAdjustment,
        OrderEvent,
        InventoryLevel,
        Invoice,
        InvoiceLine,
        JournalEntry,
        JournalLine,
        DocumentSeries,
    )
}
ID_TABLES = tuple(name for name in LOAD_ORDER if "id" in COLUMNS[name])


# PostgreSQL checks a foreign key with a trigger per inserted row, several times the cost of the insert; adding
# the key afterwards checks all rows with one join. So, like pg_restore, the load adds the foreign keys last,
# exactly as the catalog defined them, in the same transaction.
_FOREIGN_KEYS = """
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
FROM pg_constraint
WHERE contype = 'f' AND conrelid = ANY(CAST(CAST(:tables AS text[]) AS regclass[]))
ORDER BY conrelid::regclass::text, conname
"""


class BulkWriter:
    """Loads batches of rows in one transaction: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect
        self.counts: Counter[str] = Counter()
        self._foreign_keys: list[str] = []

    async def prepare(self) -> None:
        """On PostgreSQL, takes off the foreign keys of the tables it loads, remembering how to put each back."""
        if self.dialect != "postgresql":
            return
        foreign_keys = (await self.connection.execute(sa.text(_FOREIGN_KEYS), {"tables": list(LOAD_ORDER)})).all()
        for drop, _ in foreign_keys:
            await self.connection.exec_driver_sql(drop)
        self._foreign_keys = [add for _, add in foreign_keys]

    async def finish(self) -> None:
        """Puts the foreign keys back (checking every row), moves PostgreSQL's id sequences past the ids given
        here, and gathers planner statistics for the tables just filled."""
        if self.dialect != "postgresql":
            return  # SQLite checked every row on insert, and its rowids already continue after the largest id
        for statement in self._foreign_keys:
            await self.connection.exec_driver_sql(statement)
        for table in ID_TABLES:
            await self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
            )
        await self.connection.exec_driver_sql(f"ANALYZE {', '.join(LOAD_ORDER)}")

    async def write(self, batch: Batch) -> None:
        for table in LOAD_ORDER:
            rows = batch.get(table)
            if not rows:
                continue
            if self.dialect == "postgresql":
                await self._copy(table, rows)
            else:
                await self._insert(table, rows)
            self.counts[table] += len(rows)

    async def _copy(self, table: str, rows: list[tuple]) -> None:
        raw = await self.connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(table, records=rows, columns=COLUMNS[table])

    async def _insert(self, table: str, rows: list[tuple]) -> None:
        columns, statement = COLUMNS[table], TABLES[table].insert()
        for start in range(0, len(rows), SQLITE_BATCH_ROWS):
            chunk = rows[start : start + SQLITE_BATCH_ROWS]
            await self.connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in chunk])


def _batch() -> Batch:
    return defaultdict(list)


async def _load_orders(writer: BulkWriter, stream: Iterator[OrderDraft], rows: RowMaker, events: EventLog) -> None:
    """Writes the orders a chunk at a time, each chunk while the next is generated. Generation gives the event
    loop a turn every few orders, in which the COPY under way sends its next buffer: the database ingests while
    Python generates, in one thread (a second would only queue for the GIL)."""
    writing: asyncio.Task | None = None
    batch = _batch()
    try:
        for count, order in enumerate(stream, start=1):
            rows.order_rows(batch, order)
            if count % CHUNK_ORDERS == 0:
                events.release(batch, before=order.placed_at)  # later orders are placed at or after it
                if writing:
                    await writing
                writing, batch = asyncio.create_task(writer.write(batch)), _batch()
            elif count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        events.release(batch, before=None)  # no order is left to precede anything
        if writing:
            await writing
        await writer.write(batch)
    finally:
        if writing and not writing.done():
            await asyncio.wait([writing])  # never leave a COPY running behind an error


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Drafts and rows hold no reference cycles, so reference counting frees them; the cycle collector would
    only rescan the ever larger heap of rows in flight (a fifth of the run time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _default_anchor() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


async def _market_points(session: AsyncSession, profile: MarketProfile) -> list[Point]:
    """A market's shipped pickup points and parcel lockers, loaded (an upsert) and read back by id; and the
    market made the default one, so the shop shows its methods and prices."""
    # Two statements: PostgreSQL checks the one-default unique index row by row, not at the statement's end.
    await session.exec(sa.update(Market).values(is_default=False))
    await session.exec(sa.update(Market).where(col(Market.code) == profile.code).values(is_default=True))
    await load_points(session, shipped_points(profile.country))
    query = (
        select(PickupPoint)
        .where(PickupPoint.country == profile.country, col(PickupPoint.active))
        .order_by(col(PickupPoint.id))
    )
    return [
        Point(
            p.id or 0,
            p.network,
            p.external_id,
            p.name,
            p.line1,
            p.city,
            p.region or "",
            p.postal_code,
            p.latitude,
            p.longitude,
        )
        for p in (await session.exec(query)).all()
    ]


async def seed_demo(
    database: Database,
    *,
    seed: int = 1,
    customers: int = 200,
    orders: int = 2000,
    anchor: datetime | None = None,
    market: str = "us",
) -> str:
    """Loads the demo data of a market (us, the default; cz, sa or ae) into an empty, migrated database and
    says what it loaded. The same seed, anchor and market load identical data; `anchor` (default: the current
    hour) is "now" for the data: nothing happens after it. A market other than the US becomes the default
    market, and its shipped pickup points are loaded."""
    profile = profile_for(market)
    if customers < 1 or orders < 0:
        raise ValueError("seed at least one customer and no negative number of orders")
    if anchor is not None and anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    started = stopwatch.perf_counter()
    anchor = (anchor or _default_anchor()).astimezone(UTC)
    rng = random.Random(seed)
    async with database.write() as session:
        points = [] if profile.country == "US" else await _market_points(session, profile)
        connection = await session.connection()
        places = await read_places(connection, profile)
        world = build_world(rng, places, customers, anchor - HISTORY, profile, points)
        factory = OrderFactory(world, anchor)
        events = EventLog()
        rows = RowMaker(world, events, salt=rng.getrandbits(64))
        writer = BulkWriter(connection, database.dialect)
        await writer.prepare()
        batch = _batch()
        rows.reference_rows(batch)
        await writer.write(batch)
        stream = order_stream(factory, rng, random.Random(f"ordergraph-showcase-{seed}"), orders)
        with _cycle_collector_paused():
            await _load_orders(writer, stream, rows, events)
        batch = _batch()
        rows.stock_rows(batch, rng, anchor)
        rows.documents.series_rows(batch)
        await writer.write(batch)
        await writer.finish()
        # The demo's events are history, not news: the outbox relay starts publishing, and the notifier queueing,
        # after them (a notifier that already ran has its watermark; one that has not copies the relay's).
        newest = sa.select(sa.func.coalesce(sa.func.max(OrderEvent.sequence), 0)).scalar_subquery()
        await session.exec(sa.update(EventRelay).values(published_sequence=newest))
        await session.exec(sa.update(NotificationWatermark).values(queued_sequence=newest))
    return _summary(writer.counts, rows.statuses, world, seed, anchor, stopwatch.perf_counter() - started)


def _summary(
    counts: Counter[str], statuses: Counter[OrderStatus], world: World, seed: int, anchor: datetime, seconds: float
) -> str:
    by_status = ", ".join(f"{statuses[s]:,} {s.value.lower().replace('_', ' ')}" for s in OrderStatus if statuses[s])

    def n(table: str) -> str:
        return f"{counts[table]:,}"

    return (
        f"seeded {n('customer')} customers ({n('customer_address')} addresses), {n('location')} locations,"
        f" {n('product')} products ({n('inventory_level')} stock levels) and {n('orders')} orders ({by_status})"
        f" with {n('order_line')} lines, {n('fulfillment_order')} fulfillment orders, {n('shipment')} shipments"
        f" ({n('shipment_event')} carrier scans), {n('payment_transaction')} payment transactions,"
        f" {n('return_request')} returns and {n('order_event')} events in {seconds:.1f} s"
        f" (seed {seed}, as of {anchor:%Y-%m-%d %H:%M} UTC; first customer: {world.shoppers[0].name})"
        + (
            ""
            if world.profile.country == "US"
            else f"; market {world.profile.code}, prices in {world.profile.currency}"
        )
    )
