"""Request limits, checked before anything executes, in this order: document size, trusted documents and
persisted queries (schema/trusted_documents.py), tokens, operations per document, depth, aliases, then query
cost (Shopify's model: an object costs 1, a scalar 0, and every list multiplies what it holds by its bound: a
connection by `first`, a list argument by its length, any other list by its documented maximum in LIST_BOUNDS).
The requested cost is an upper bound of the objects the answer can hold, so it is never below the actual cost.
Every response reports its cost in `extensions.cost`.

A server binds its RequestGuard (limits, trusted documents, the automatic persisted queries, cost limiter) when it
builds its schema (schema/build.py): the request context carries none of it.

A refused request is a GraphQL error with its code and nothing after it runs: no resolver, no SQL.
"""

from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.type import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)
from strawberry.extensions import SchemaExtension

from ordergraph.models.enums import NotificationMoment
from ordergraph.resolvers import (
    company_orders,
    customer_changes,
    inbound,
    opening_hours,
    placement,
    return_requests,
    webhooks,
)
from ordergraph.resolvers.companies import MAX_BUYERS, MAX_PRICE_LIST_ENTRIES
from ordergraph.resolvers.companies import MAX_LOCATIONS as MAX_COMPANY_LOCATIONS
from ordergraph.resolvers.pagination import DEFAULT_PAGE_SIZE
from ordergraph.schema.trusted_documents import PersistedQueryStore, TrustedDocuments, UntrustedDocument
from ordergraph.subscriptions.context import current_delivery
from ordergraph.subscriptions.wire import Prebuilt

DEFAULT_CONNECTION_SIZE = DEFAULT_PAGE_SIZE  # what a connection costs when `first` is not given

# The most items each plain list field (one without a bounding argument) may hold: what the domain allows, so that
# a list is never priced below what it returns. A connection's `edges` are priced by the connection's `first`.
MAX_LOCATIONS = 50  # stock locations in one network: warehouses, stores, distribution centres, third parties
MAX_FULFILLMENT_ORDERS = 5  # one per location an order is routed to: a routing splits an order 5 ways at most
MAX_SHIPMENT_EVENTS = 20  # carrier scans of one parcel, LABEL_CREATED to DELIVERED, exceptions and retries included
MAX_RETURNS = 10  # returns of one order (each holds at least one delivered unit; a return window of 30 days)
MAX_MARKETS = 50  # the markets orders can go to: countries, one market each at most
MAX_CURRENCIES = 10  # currencies of the markets: an order, a price or a total in each
MAX_DELIVERY_METHODS = 10  # delivery methods offered (standard, express, same day, pickup, ...)
LIST_BOUNDS: Mapping[str, int] = {
    "Order.lines": placement.MAX_LINES,  # the most lines an order may have (resolvers/placement.py)
    "Order.returnableLines": placement.MAX_LINES,  # one per line at most
    "Order.fulfillmentOrders": MAX_FULFILLMENT_ORDERS,
    "Order.shipments": MAX_FULFILLMENT_ORDERS,  # one per fulfillment order (resolvers/fulfillment_steps.py)
    "Order.payments": 1,  # one authorisation, taken when the order is placed (resolvers/placement.py)
    "Order.returns": MAX_RETURNS,
    "FulfillmentOrder.lines": placement.MAX_LINES,  # an order line is on one fulfillment order of a routing
    "Shipment.events": MAX_SHIPMENT_EVENTS,
    "Return.lines": return_requests.MAX_LINES,  # the most lines a return may have (resolvers/return_requests.py)
    "Customer.addresses": customer_changes.MAX_ADDRESSES,  # an address book's entries
    "Customer.addressBook": customer_changes.MAX_ADDRESSES,
    "NotificationPreferences.moments": len(NotificationMoment),  # one per moment
    "Availability.locations": MAX_LOCATIONS,
    "Availability.deliveryOptions": MAX_DELIVERY_METHODS,
    "OrderStats.groups": 1_000,  # groups of one report: days of a year by status, or channels by locations
    "OrderStatsTotals.revenue": MAX_CURRENCIES,
    "OrderStatsTotals.byCurrency": MAX_CURRENCIES,
    "Customer.lifetimeValues": MAX_CURRENCIES,
    "Query.markets": MAX_MARKETS,
    "Product.prices": MAX_MARKETS,  # one per market that sells it
    # One per tax rate: a market has at most three (models/tax.py: STANDARD, REDUCED, ZERO), and orders placed
    # before markets have one without a rate.
    "Order.taxLines": 4,
    "Return.taxLines": 4,
    # Invoices (#17): one per capture (one per fulfillment order, and one for what a cancellation leaves); a
    # credit note per refund and invoice it corrects (returns, and reductions after a capture); a document's lines
    # are the order's and shipping; a journal entry books receivables, revenue, shipping revenue or cash, and tax
    # per rate.
    "Order.invoices": MAX_FULFILLMENT_ORDERS + 1,
    "Invoice.creditNotes": MAX_RETURNS + 10,
    **{f"{document}.lines": placement.MAX_LINES + 1 for document in ("AccountingDocument", "Invoice", "CreditNote")},
    **{f"{document}.taxes": 4 for document in ("AccountingDocument", "Invoice", "CreditNote")},
    "AccountingEntry.lines": 3 + 4,
    # Stores and stock coming in (#18): a week of opening days, their intervals, the upcoming closures listed, a
    # location's services; an inbound shipment's lines.
    "Location.openingHours": 7,
    "OpeningDay.intervals": opening_hours.MAX_INTERVALS_PER_DAY,
    "Location.closures": opening_hours.MAX_LISTED_CLOSURES,
    "Location.services": 3,
    "InboundShipment.lines": inbound.MAX_LINES,
    # Webhooks (#17): subscriptions are capped; attempts and log entries list the newest.
    "Query.webhookSubscriptions": webhooks.MAX_SUBSCRIPTIONS,
    "WebhookDelivery.attempts": webhooks.MAX_LISTED_ATTEMPTS,
    "WebhookSubscription.log": webhooks.MAX_LISTED_LOG_ENTRIES,
    # Business buyers (#21): a company's ship-to locations and buyers, and a price list's prices, are capped
    # (resolvers/companies.py).
    "Company.locations": MAX_COMPANY_LOCATIONS,
    "Company.buyers": MAX_BUYERS,
    "PriceList.entries": MAX_PRICE_LIST_ENTRIES,
    **{
        f"{payload}.userErrors": 20
        for payload in ("CompanyPayload", "CompanyLocationPayload", "CompanyBuyerPayload", "PriceListPayload")
    },
    # Business orders (#21, resolvers/company_orders.py): approvals and a company's invoices list at most
    # MAX_LISTED; an invoice on account takes at most MAX_PAYMENTS_PER_INVOICE payments.
    "Query.pendingApprovals": company_orders.MAX_LISTED,
    "Query.companyInvoices": company_orders.MAX_LISTED,
    "Invoice.payments": company_orders.MAX_PAYMENTS_PER_INVOICE,
    "InvoicePaymentPayload.userErrors": 20,
    # The refusals of one mutation: one per input field at most.
    **{
        f"{payload}.userErrors": 20
        for payload in (
            "PlaceOrderPayload",
            "OrderPayload",
            "CustomerPayload",
            "OrderEventPayload",
            "InventoryLevelPayload",
            "FulfillmentOrderPayload",
            "ShipmentPayload",
            "ReturnPayload",
            "InboundShipmentPayload",
            "LocationPayload",
            "AddressBookPayload",
            "WebhookSubscriptionPayload",
            "WebhookDeliveryPayload",
            "RedeliverWebhookEventsPayload",
            "StartBulkExportPayload",
        )
    },
}
# List fields whose bound is the length of one of their list arguments (`products(skus: [...])`: one per SKU).
ARGUMENT_BOUNDS: Mapping[str, str] = {"Query.products": "skus"}
# Plain lists whose bound is their `first` argument, with its default (resolvers/pickup_points.py: at most 50).
FIRST_BOUNDS: Mapping[str, int] = {"Query.pickupPoints": 20, "Query.stores": 20, "Query.locations": 10}
# A list field in neither table (one added since) is priced by this, until it gets a bound of its own.
DEFAULT_LIST_BOUND = 100


@dataclass(frozen=True, slots=True)
class Bucket:
    """A caller's leaky bucket of query cost (server/rate_limit.py keeps them)."""

    capacity: int  # the most cost a caller may have outstanding
    drain_per_second: int


class CostLimiter(Protocol):
    async def take(self, caller: str, cost: int, bucket: Bucket) -> float:
        """Adds `cost` to the caller's bucket and returns 0, or, if it would overflow, leaves it and returns
        the seconds until it would fit."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_document_bytes: int = 100_000
    max_tokens: int = 5_000
    max_operations: int = 20
    max_depth: int = 12
    max_aliases: int = 30
    # The most one request may cost, by role ("anonymous" for callers without a token). Every list is priced by its
    # bound, so an order with its lines, shipments and returns (OrderSummary) costs about 420: enough for a customer's
    # order history (MyOrderHistory) at 100 orders a page, an agent's orders export (OrdersExport) at 100 and an
    # analyst's at 500 (the page-size caps), and staff reading 50 orders with their returns' lines.
    max_cost: Mapping[str, int] = field(
        default_factory=lambda: {
            "anonymous": 500,
            "customer": 45_000,
            "agent": 150_000,
            "analyst": 150_000,
            "admin": 150_000,
        }
    )
    # Each caller's cost bucket by role: (capacity, drained per second).
    buckets: Mapping[str, Bucket] = field(
        default_factory=lambda: {
            "anonymous": Bucket(2_000, 100),
            "customer": Bucket(225_000, 11_250),
            "agent": Bucket(750_000, 37_500),
            "analyst": Bucket(750_000, 37_500),
            "admin": Bucket(750_000, 37_500),
        }
    )


@dataclass(slots=True)
class RequestGuard:
    """What RequestLimits enforces for every request of one server. Mutable so that a running server's
    limiter can be swapped (tests do)."""

    limits: QueryLimits
    trusted_documents: TrustedDocuments
    cost_limiter: CostLimiter
    # Apollo's automatic persisted queries (server/persisted_queries.py); None: none are registered.
    persisted_queries: PersistedQueryStore | None = None


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int
    aliases: int
    cost: int


class LimitExceeded(GraphQLError):
    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, extensions={"code": code, **details})


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    max_page_size: int | None = None,
) -> Measure:
    """Depth, aliases and requested cost of the operation that would run. Unknown fields count as objects
    (validation, which runs after, refuses them); fragment cycles are walked once. A connection's `first` counts up
    to the caller's `max_page_size` at most: a larger one is refused before any row is read
    (resolvers/pagination.py)."""
    return _walk(schema, document, operation_name, variables, max_page_size)[0]


def _walk(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    max_page_size: int | None,
) -> tuple[Measure, frozenset[str]]:
    """`measure`, and the names of the variables its cost read (a `first`, a list argument's length)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (o for o in operations if o.name and o.name.value == operation_name), operations[0] if operations else None
    )
    if chosen is None:
        return Measure(0, 0, 0), frozenset()
    root = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}[
        chosen.operation.value
    ]
    walker = _Walker(schema, fragments, variables, max_page_size)
    cost = walker.selection_cost(root, chosen.selection_set, 1, frozenset())
    return Measure(walker.depth, walker.aliases, cost), frozenset(walker.consulted)


def _variable_shape(value: Any) -> Hashable:
    """What the cost reads of a variable's value: an integer itself (a `first`), a list its length, anything
    else whether it is given. Two requests whose read variables have the same shapes cost the same."""
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, list):
        return ("list", len(value))
    return ("given", value is not None)


class MeasureCache:
    """`measure`, computed once per document, operation, page cap and shape of the variables the cost reads (the
    clients send the same few documents with other values: an unread variable, an `after` cursor, never changes
    the cost). The variables the cost reads follow from the document alone, so the first request of a document
    learns them. The caller's role enters through its page cap, the one input of the cost that depends on it.
    Bounded: the least recently used entries go first."""

    def __init__(self, max_entries: int = 2_000) -> None:
        self.max_entries = max_entries
        self._read: dict[tuple[str, str | None], frozenset[str]] = {}
        self._measures: OrderedDict[tuple, Measure] = OrderedDict()

    def measure(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any],
        max_page_size: int | None,
    ) -> Measure:
        read = self._read.get((query, operation_name))
        if read is not None:
            key = (query, operation_name, max_page_size, tuple(_variable_shape(variables.get(n)) for n in sorted(read)))
            found = self._measures.get(key)
            if found is not None:
                self._measures.move_to_end(key)
                return found
        found, read = _walk(schema, document, operation_name, variables, max_page_size)
        if len(self._read) >= self.max_entries:
            self._read.clear()  # a flood of distinct documents: start over rather than grow
        self._read[(query, operation_name)] = read
        key = (query, operation_name, max_page_size, tuple(_variable_shape(variables.get(n)) for n in sorted(read)))
        self._measures[key] = found
        if len(self._measures) > self.max_entries:
            self._measures.popitem(last=False)
        return found


# One cache per schema (a schema's fields and bounds are what a measure walks); gone with its schema.
_MEASURE_CACHES: "WeakKeyDictionary[GraphQLSchema, MeasureCache]" = WeakKeyDictionary()


def measure_cache(schema: GraphQLSchema) -> MeasureCache:
    cache = _MEASURE_CACHES.get(schema)
    if cache is None:
        cache = _MEASURE_CACHES[schema] = MeasureCache()
    return cache


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        max_page_size: int | None,
    ) -> None:
        self.max_page_size = max_page_size
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.depth = 0
        self.aliases = 0
        self.consulted: set[str] = set()  # the variables the cost read
        self._introspection: int | None = None

    def selection_cost(self, parent: Any, selections: SelectionSetNode | None, depth: int, seen: frozenset[str]) -> int:
        cost = 0
        for node, fragment_seen, owner in self._fields(parent, selections, seen):
            self.depth = max(self.depth, depth)
            self.aliases += node.alias is not None
            definition = self._definition(owner, node.name.value)
            child = get_named_type(definition.type) if definition else None
            if definition is not None and not is_composite_type(child):
                continue  # a scalar or enum, or a list of them, costs nothing
            inner = self.selection_cost(child, node.selection_set, depth + 1, fragment_seen)
            if child is not None and child.name.endswith("Connection"):
                first = self._first(node)
                if self.max_page_size is not None:
                    first = min(first, self.max_page_size)
                cost += 1 + first * inner  # each of `first` items costs what it selects
            elif definition is not None and is_list_type(get_nullable_type(definition.type)):
                cost += self._bound(owner, node) * (1 + inner)  # each item an object
            else:
                cost += 1 + inner
        return cost

    def _definition(self, owner: Any, name: str) -> Any:
        if name == "__schema" and owner is self.schema.query_type:
            return SchemaMetaFieldDef
        if name == "__type" and owner is self.schema.query_type:
            return TypeMetaFieldDef
        if name == "__typename":
            return TypeNameMetaFieldDef
        if isinstance(owner, (GraphQLObjectType, GraphQLInterfaceType)):
            return owner.fields.get(name)
        return None

    def _bound(self, owner: Any, node: FieldNode) -> int:
        """The most items a list field may hold (see LIST_BOUNDS)."""
        coordinate = f"{owner.name}.{node.name.value}"
        if owner.name.endswith("Connection") and node.name.value in ("edges", "nodes"):
            return 1  # the connection multiplies by `first`
        if owner.name.startswith("__"):
            return self._introspection_bound()  # the schema's own description: its types, fields, arguments
        if coordinate in ARGUMENT_BOUNDS:
            return self._argument_length(node, ARGUMENT_BOUNDS[coordinate])
        if coordinate in FIRST_BOUNDS:
            return self._first(node, FIRST_BOUNDS[coordinate])
        return LIST_BOUNDS.get(coordinate, DEFAULT_LIST_BOUND)

    def _argument_length(self, node: FieldNode, name: str) -> int:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                self.consulted.add(value.name.value)
                given = self.variables.get(value.name.value)
                return len(given) if isinstance(given, list) else int(given is not None)  # one value: a list of it
            if isinstance(value, ListValueNode):
                return len(value.values)
            return 0 if isinstance(value, NullValueNode) else 1
        return 0

    def _introspection_bound(self) -> int:
        if self._introspection is None:
            sizes = [len(self.schema.type_map), len(self.schema.directives)]
            for named in self.schema.type_map.values():
                for attribute in ("fields", "values", "interfaces", "types"):
                    members = getattr(named, attribute, None)
                    if members is not None:
                        sizes.append(len(members))
                        if attribute == "fields":
                            sizes += [len(getattr(f, "args", None) or ()) for f in members.values()]
            self._introspection = max(sizes)
        return self._introspection

    def _fields(
        self, parent: Any, selections: SelectionSetNode | None, seen: frozenset[str]
    ) -> Iterator[tuple[FieldNode, frozenset[str], Any]]:
        """Each field selected, with the type it is selected on: a fragment's type condition (`... on Order`
        under `node`) names the type whose fields, and connections, it selects."""
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                yield selection, seen, parent
            elif isinstance(selection, InlineFragmentNode):
                yield from self._fields(self._on(parent, selection), selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in self.fragments:
                    fragment = self.fragments[name]
                    yield from self._fields(self._on(parent, fragment), fragment.selection_set, seen | {name})

    def _on(self, parent: Any, fragment: InlineFragmentNode | FragmentDefinitionNode) -> Any:
        if fragment.type_condition is None:
            return parent
        named = self.schema.get_type(fragment.type_condition.name.value)
        return named if named is not None and is_composite_type(named) else parent

    def _first(self, node: FieldNode, default: int = DEFAULT_CONNECTION_SIZE) -> int:
        for argument in node.arguments or ():  # graphql-core leaves None where a field has none
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 0)
            if isinstance(value, VariableNode):
                self.consulted.add(value.name.value)
                if isinstance(self.variables.get(value.name.value), int):
                    return max(self.variables[value.name.value], 0)
        return default


def count_objects(data: Any) -> int:
    """The actual cost of a response: the objects it holds (connections and edges included). Walked with a stack,
    not recursion: every response pays it, and a generator per object cost a third more."""
    count, pending = 0, [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            count += 1
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif type(value) is Prebuilt:
            count += value.objects
    return count


class RequestLimits(SchemaExtension):
    """Applies the server's RequestGuard to each request and reports the cost in `extensions.cost`."""

    requested: int | None = None
    register: str | None = None  # the hash a new automatic persisted query is registered under once valid

    def __init__(self, guard: RequestGuard) -> None:
        self.guard = guard

    async def on_operation(self) -> AsyncIterator[None]:
        """Raising here refuses the request: over HTTP Strawberry answers the error, and over a WebSocket the
        schema sends it as the subscription's `error` message (schema/build.py:Schema.stream)."""
        limits = self.guard.limits
        context = self.execution_context
        if len((context.query or "").encode()) > limits.max_document_bytes:
            raise LimitExceeded("DOCUMENT_TOO_LARGE", f"The document exceeds {limits.max_document_bytes} bytes.")
        try:
            resolved = await self.guard.trusted_documents.resolve(
                context.query, context.operation_extensions, self.guard.persisted_queries
            )
        except UntrustedDocument as refusal:
            raise LimitExceeded(refusal.code, str(refusal)) from None
        context.query, self.register = resolved.document, resolved.register
        context.parse_options["max_tokens"] = limits.max_tokens
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        limits = self.guard.limits
        document = self.execution_context.graphql_document
        operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
        if operations > limits.max_operations:
            raise LimitExceeded(
                "TOO_MANY_OPERATIONS", f"{operations} operations in one document; at most {limits.max_operations}."
            )
        # Measured once per document and shape of its variables (MeasureCache), not walked anew per request.
        found = measure_cache(self.execution_context.schema._schema).measure(
            self.execution_context.schema._schema,
            self.execution_context.query or "",
            document,
            self.execution_context.operation_name,
            self.execution_context.variables or {},
            getattr(context, "max_page_size", None),
        )
        if found.depth > limits.max_depth:
            raise LimitExceeded(
                "QUERY_TOO_DEEP", f"The query is {found.depth} levels deep; at most {limits.max_depth}."
            )
        if found.aliases > limits.max_aliases:
            raise LimitExceeded("TOO_MANY_ALIASES", f"{found.aliases} aliases; at most {limits.max_aliases}.")
        role = context.viewer.role.value if context.viewer.role else "anonymous"
        maximum = limits.max_cost[role]
        if found.cost > maximum:
            raise LimitExceeded(
                "QUERY_TOO_COSTLY", f"The query would cost {found.cost}; at most {maximum} per request."
            )
        caller = context.viewer.subject or f"ip:{context.client_address}"
        retry_after = await self.guard.cost_limiter.take(caller, found.cost, limits.buckets[role])
        if retry_after:
            raise LimitExceeded(
                "THROTTLED",
                f"Too much query cost in too little time; retry in {retry_after:.1f} s.",
                retry_after=round(retry_after, 1),
            )
        self.requested = found.cost
        yield
        # A new automatic persisted query is kept only once it has passed every limit and validated.
        store = self.guard.persisted_queries
        if self.register and store is not None and not self.execution_context.pre_execution_errors:
            await store.put(self.register, self.execution_context.query or "")

    @staticmethod
    def count_result(data: dict[str, Any]) -> int:
        """The actual cost of a result's data: the objects under its root fields (the root itself is not one)."""
        return sum(count_objects(value) for value in data.values())

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        result = self.execution_context.result
        data = result.data if result is not None else None
        if not data:
            actual = 0
        elif (delivery := current_delivery.get()) is not None:
            # A live event's subscribers with the same selection share one result: counted once for all of them.
            actual = delivery.object_count(data, self.count_result)
        else:
            actual = self.count_result(data)
        return {"cost": {"requestedQueryCost": self.requested, "actualQueryCost": actual}}
