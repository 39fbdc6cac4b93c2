"""Deterministic demo data for an empty, migrated database (`ordergraph seed`, `ordergraph serve --demo`).

What it loads: the delivery methods (standard, next-day, same-day, one-hour metro, weekend, in-store pickup),
fifteen locations of every kind spread over the metro areas of the postal-code table, a catalog of products,
the stock of each at the locations that carry it (the inventory ledger opens with one balance per level),
customers with addresses and notification preferences, and orders with everything that follows from them:
lines, fulfillment orders, shipments with carrier scans, the payment ledger, returns and the event log. The
notification queue is left empty: past events are not notified again.

Markets (`seed_demo(market=...)`, `ordergraph seed --market us|cz|sa|ae`): the US (the default) is the demo as it
always was, draw for draw; cz, sa and ae build the same kind of world from the market's profile (markets.py):
local names, streets, phones and products, prices in CZK, SAR or AED with VAT inside them, the cities of the
place table, and for CZ orders to parcel lockers and pickup points (the shipped directory, loaded first). A
non-US seed makes its market the default one.

Determinism: every choice is drawn from `random.Random(seed)` (the showcase from a second generator seeded
from `seed`), and every time is placed relative to `anchor`. The same seed and anchor give identical rows, ids
included. Without an anchor the current hour is used, so loads with the same seed differ by when they ran.

One module per job, each importing only those above it in this list:
- markets.py: the market profiles (it imports world.py's US constants; world.py takes a profile as an argument);
- world.py: the world before any order (delivery methods, locations, products, shoppers);
- lifecycle.py: each order's life, planned and simulated up to the anchor, and the stream of all orders;
- rows.py: drafts turned into table rows, with ids, the event log's numbering and the stock;
- bulk.py: `seed_demo`, writing the rows into the database fast on PostgreSQL and SQLite.
"""

from ordergraph.server.seed.bulk import BulkWriter, seed_demo
from ordergraph.server.seed.lifecycle import OrderDraft, OrderFactory, Scenario, order_stream
from ordergraph.server.seed.rows import EventLog, RowMaker
from ordergraph.server.seed.world import World, build_world

__all__ = [
    "BulkWriter",
    "EventLog",
    "OrderDraft",
    "OrderFactory",
    "RowMaker",
    "Scenario",
    "World",
    "build_world",
    "order_stream",
    "seed_demo",
]
