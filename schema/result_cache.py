"""Customers' query results, kept per process and served again only while provably fresh.

The customer SPA sends the same few documents again and again; executing one resolves thousands of fields
for a handful of SQL statements. A customer's repeated query is answered from here instead, for ONE SQL
statement that reads the customer's change version.

Which requests: queries (never mutations or subscriptions) by a customer-role viewer whose document selects
none of UNCACHEABLE_FIELDS. Agents and analysts are never cached: they read every customer's data, whose
version is not cheap to read. An entry is keyed by the database read from, the customer, the page-size cap,
the document text's hash, the operation name and the variables. Only results without errors are kept.

Freshness rule: an entry is served only when the customer's version now equals the version read BEFORE the
entry was executed. The version is (the customer's order_event rows, the shipment_event rows of the
customer's orders), both counted. Both tables are append-only (nothing updates or deletes their rows), so
every commit that adds rows raises a count, whatever order ids or sequences commit in. A change that
commits while an entry executes is therefore newer than the version stored with it: the next request misses.
Once a change's commit returns, every later version read sees it.

That is exact only if every write a customer can read adds one of those rows in its own transaction.
Audit of the write paths (resolvers/, through events.change):
- placement (customer or agent on their behalf), cancellation, shipping change, holds and their release,
  notes (INTERNAL ones too), fulfillment steps (start, ship, ready for pickup, pickup), carrier events that
  move a shipment, returns (request, approve, reject, receive, with refunds and restocking), payments
  (always inside one of those changes), notification preferences: an order_event for the order's customer
  (customer-level, order null, for preferences).
- carrier events (recordShipmentEvent, or a carrier's webhook) that move nothing write no order_event but are
  shown in Shipment.events: they add a shipment_event row, the version's second count. Replays add nothing.
- inventory adjustments and restocking change stock, read only through Query.products: uncacheable.
- Order.returnableLines depends on the clock (the return window closes with no change committed):
  uncacheable. No other field a customer reaches reads the clock (statuses, promises and estimated
  deliveries are stored by the change that sets them).
- the notifier writes notification rows and its watermark, which no field shows; the outbox relay only its
  watermark.
- Locations' opening hours, closures and time zone (setLocationOpeningHours, add/removeLocationClosure) are
  written without an order event: those fields are uncacheable.
- Locations, delivery methods, products, customer profiles and saved addresses have no write path in the
  app: writes outside it (seeding, migrations, SQL by hand) are not seen; restart the processes after one.
- Pickup points (Query.pickupPoints, Query.stores, Shipment.pickupPoint, node) have no write path in the app
  either: the CLI or the seed loads them (resolvers/pickup_points.py:load_points), like locations.
A new field that reads anything else must join UNCACHEABLE_FIELDS, or its writes must add a counted row.
"""

import functools
import hashlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, ExecutionResult, FieldNode, GraphQLSchema, TypeInfo, TypeInfoVisitor, Visitor, visit
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from ordergraph.resolvers.change_version import Version, customer_version
from ordergraph.subscriptions.wire import encode_json

UNCACHEABLE_FIELDS = frozenset(
    {
        "Query.products",  # stock levels change without an order event; delivery promises follow the clock
        "Order.returnableLines",  # the return window closes as time passes
        # Agents set opening hours, closures and a store's time zone without an order event (#18); closures also
        # pass as the days go by.
        "Location.openingHours",
        "Location.closures",
        "Location.timezone",
    }
)


@dataclass(frozen=True, slots=True)
class Entry:
    version: Version
    data: dict[str, Any]  # shared by every response served from it: never mutated
    size: int  # its data's JSON length, the measure of the memory bound


class ResultStore:
    """A bounded LRU of entries, one per schema (so per process), shared by every request.

    The bounds are constructor defaults (there is no setting for them yet): 2,000 entries and 32 MB of JSON,
    which the Python objects take about four times over (so some 130 MB per process)."""

    def __init__(self, *, max_entries: int = 2_000, max_bytes: int = 32_000_000) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._bytes = 0
        self._cacheable_documents: dict[bytes, bool] = {}

    def get(self, key: tuple) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple, entry: Entry) -> None:
        if entry.size > self.max_bytes:
            return
        self._discard(key)
        self._entries[key] = entry
        self._bytes += entry.size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._discard(next(iter(self._entries)))

    def _discard(self, key: tuple) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def document_is_cacheable(self, digest: bytes, schema: GraphQLSchema, document: DocumentNode) -> bool:
        verdict = self._cacheable_documents.get(digest)
        if verdict is None:
            if len(self._cacheable_documents) >= self.max_entries:
                self._cacheable_documents.clear()  # clients send a few documents; this only stops a flood
            verdict = self._cacheable_documents[digest] = not (selected_fields(schema, document) & UNCACHEABLE_FIELDS)
        return verdict


def selected_fields(schema: GraphQLSchema, document: DocumentNode) -> set[str]:
    """Every field the document selects anywhere (its fragments included), as "Type.field"."""
    type_info = TypeInfo(schema)
    found: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is not None:
                found.add(f"{parent.name}.{node.name.value}")

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return found


class CustomerResultCache(SchemaExtension):
    """Serves a customer's repeated query from the store while their version is unchanged (see the module's
    rule). It sits in on_execute, after RequestLimits has charged the query's cost and validation has passed;
    setting the result before yielding makes Strawberry skip execution."""

    def __init__(self, store: ResultStore) -> None:
        self.store = store

    async def on_execute(self) -> AsyncIterator[None]:
        key = self._key()
        if key is None:
            yield
            return
        context = self.execution_context.context
        # Read BEFORE executing: a change committing during execution leaves this entry behind the version.
        version = await customer_version(context.read_connection, context.viewer.customer_id)
        if version[2]:  # a company's buyer: others' writes change what they see (resolvers.change_version)
            yield
            return
        entry = self.store.get(key)
        if entry is not None and entry.version == version:
            self.execution_context.result = ExecutionResult(data=entry.data)
            yield
            return
        yield
        result = self.execution_context.result
        if isinstance(result, ExecutionResult) and not result.errors and result.data is not None:
            size = len(encode_json(result.data))
            self.store.put(key, Entry(version, result.data, size))

    def _key(self) -> tuple | None:
        """The entry's key, or None when this request is not cached."""
        execution = self.execution_context
        context = execution.context
        viewer = context.viewer
        if not viewer.is_customer or viewer.customer_id is None or execution.operation_type is not OperationType.QUERY:
            return None
        digest = hashlib.sha256(execution.query.encode()).digest()
        if not self.store.document_is_cacheable(digest, execution.schema._schema, execution.graphql_document):
            return None
        variables = json.dumps(execution.variables or {}, sort_keys=True, separators=(",", ":"))
        # `read` names the database: one process may serve several (tests, benchmarks).
        return (context.read, viewer.customer_id, context.max_page_size, digest, execution.operation_name, variables)


def customer_result_cache() -> functools.partial[CustomerResultCache]:
    """The extension factory for one schema: Strawberry builds the extension per request, around one store."""
    return functools.partial(CustomerResultCache, ResultStore())
