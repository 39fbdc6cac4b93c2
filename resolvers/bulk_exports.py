"""Bulk exports (#20): every order matching a filter, in the shape of a selection over `Order`, to a file.

What an export is:
- `query` = an order filter (the analysts' `orders(filter:)`: the same conditions, the same search rule) and a
  selection over Order written as in GraphQL (`id number total { amount currency } lines { sku quantity }`), or
  none for the trusted default (OrdersExport's). The selection is validated against the exportable part of the
  schema (`ORDER`: scalars, Money, the customer, the delivery method, the pickup location, the shipping address,
  lines, shipments with their tracking events, returns); anything else is refused
  with INVALID_SELECTION before a job exists.
- Each exported row is one order, shaped as that selection would answer it in GraphQL (global IDs, Money as
  decimal strings with the currency's places, enums by name), compiled to SQL rather than run through the
  resolvers: a million orders at tens of thousands a second do not fit in per-object resolvers.
- Masking follows resolvers.access, from the owner's role when the job runs: a value of a kind the role is not
  SHOWN is never read (the SQL selects NULL in its place) and is null in the file, exactly as in the graph.
  Analysts get no name, email, phone or address; agents and admins see everything.
- Who may export: analysts (masked) and admins. Agents work order by order in the console; taking every
  customer's personal data out in one file is an admin's decision.
- Rows are read in chunks by order id (keyset), each chunk a short read of its own on the read database: no
  transaction stays open for the length of the export (a replica cancels long queries that conflict with
  replay), memory holds one chunk, and a re-claimed job simply starts again.
"""

import asyncio
import binascii
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, SelectionSetNode, parse
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from ordergraph.loaders import EVENTS_IN_SHIPMENT, LINES_IN_ORDER, RETURNS_IN_ORDER, SHIPMENTS_IN_ORDER
from ordergraph.loaders.base import LoaderStatement, ReadConnection, ReadSession
from ordergraph.models import (
    BulkExport,
    Customer,
    DeliveryMethod,
    Location,
    Order,
    OrderLine,
    Return,
    Shipment,
    ShipmentEvent,
)
from ordergraph.models.bulk_export import BulkExportFormat, BulkExportStatus
from ordergraph.models.enums import Channel, OrderStatus
from ordergraph.models.money import EXPONENTS, exponent
from ordergraph.resolvers import orders
from ordergraph.resolvers.access import Role, Sensitive, Viewer, may_match_personal_data, require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import ApiError, Forbidden, Refusal
from ordergraph.resolvers.signed_links import DocumentLink, DocumentPurpose, LinkSettings, sign, verify

# The selection of the trusted OrdersExport document (frontend-contract/operations/bi.graphql), per order.
DEFAULT_SELECTION = (
    "id number status channel placedAt total { amount currency } customer { id email } "
    "lines { sku quantity quantityReturned lineTotal { amount currency } } shipments { carrier status deliveredAt }"
)
MAX_SELECTION_LENGTH = 4000
MAX_SELECTED_FIELDS = 100
# Jobs one owner may have waiting or running at once.
MAX_OPEN_EXPORTS = 3
EXPORTERS = (Role.ANALYST, Role.ADMIN)
LINK_GRAIN = timedelta(minutes=5)


class NotFound(ApiError):
    code = "NOT_FOUND"


# --- The exportable schema -------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _places(currency: str) -> int:
    return exponent(currency)


@lru_cache(maxsize=1 << 16)  # prices repeat: most amounts of an export are a few thousand values
def amount_text(minor: int, currency: str) -> str:
    """Minor units as the graph writes a Money amount (Decimal text, the currency's places): 12345 USD → "123.45"."""
    places = _places(currency)
    if places == 0:
        return str(minor)
    whole, part = divmod(abs(minor), 10**places)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{places}d}"


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def global_id(type_name: str, pk: int) -> str:
    """schema.node.encode_global_id (here because the resolvers may not import the schema), the same text."""
    return global_ids(type_name)(pk)


@lru_cache(maxsize=16)
def global_ids(type_name: str) -> Callable[[int], str]:
    """global_id for one type, as one call per key (an export makes millions)."""
    prefix = f"{type_name}:".encode()

    def encode(pk: int) -> str:
        return binascii.b2a_base64(prefix + b"%d" % pk, newline=False).translate(_URL_SAFE).rstrip(b"=").decode()

    return encode


@dataclass(frozen=True, slots=True)
class Leaf:
    """A scalar field: the SQL columns it reads, how they become its value, its type in a Parquet file
    ("string", "int", "bool", "timestamp") and, for a masked kind, what it is (resolvers.access). `json`: for a
    converted value, the same conversion as PostgreSQL's JSON text (lines built by the database, below).
    `required`: never null where its object is, though its column may be (the object may be absent as a whole)."""

    columns: tuple[Any, ...]
    convert: Callable[..., object] | None = None
    type: str = "string"
    kind: Sensitive | None = None
    json: Callable[..., Any] | None = None
    required: bool = False

    @property
    def never_null(self) -> bool:
        """Never null where its object is: `required`, or its first column (the one converters look at) NOT NULL."""
        return self.required or not getattr(self.columns[0], "nullable", True)


@dataclass(frozen=True, slots=True)
class Group:
    """An object field (Money, the customer, the address, the delivery method): its fields; a masked kind hides it
    whole. `present`: for an object that may be null, the column that is null exactly when it is."""

    fields: dict[str, "Leaf | Group"]
    kind: Sensitive | None = None
    present: Any = None

    @property
    def nullable(self) -> bool:
        return self.present is not None


@dataclass(frozen=True, slots=True)
class Children:
    """A list field read from a table of its own: its items are the rows whose `parent_id` is the parent's `key`
    (an order's id, or a shipment's for its carrier scans). `order_id` is the order they belong to, read through
    `through` (a join to the parent's table) where the items do not hold it themselves."""

    parent_id: Any
    key: Any
    order_by: tuple[Any, ...]  # within one parent
    fields: dict[str, "Leaf | Group | Children"]
    order_id: Any = None  # None: `parent_id` is the order's id
    through: tuple[Any, Any] | None = None  # (the parent's table, the join's condition)

    @property
    def order_column(self) -> Any:
        return self.parent_id if self.order_id is None else self.order_id


# --- The same values as PostgreSQL's JSON text ------------------------------------------------------------------
#
# Each converter above has its twin here, written in SQL: a JSON value's text (quoted where it is a string), or
# NULL for a null. tests/exports holds them to the same bytes.


def _sql_text(text: str) -> Any:
    """A constant of the JSON text (the spec's own words: field names, punctuation, formats)."""
    return sa.literal_column("'" + text.replace("'", "''") + "'", sa.Text)


def _concat(*parts: Any) -> Any:
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(part)
    return sa.type_coerce(joined, sa.Text)


def _quoted(text: Any) -> Any:
    """Text that needs no escaping (digits, base64url, ISO 8601) as a JSON string."""
    return _concat(_sql_text('"'), text, _sql_text('"'))


def global_id_json(type_name: str) -> Callable[[Any], Any]:
    """global_ids(type_name) in SQL: base64url of "Type:pk", unpadded (short enough that encode() breaks no line)."""

    def encode(pk: Any) -> Any:
        raw = sa.func.convert_to(_concat(_sql_text(f"{type_name}:"), sa.cast(pk, sa.Text)), _sql_text("UTF8"))
        base64 = sa.func.rtrim(sa.func.encode(raw, _sql_text("base64")), _sql_text("="))
        return _quoted(sa.func.translate(base64, _sql_text("+/"), _sql_text("-_")))

    return encode


def amount_json(minor: Any, currency: Any) -> Any:
    """amount_text in SQL: the minor units with the currency's places (models.money), as a JSON string. A numeric
    times 0.01 has exactly two places (PostgreSQL adds the operands' scales): 12345 → 123.45, -7 → -0.07."""
    by_places: dict[int, list[str]] = {}
    for code, places in EXPONENTS.items():
        by_places.setdefault(places, []).append(code)

    def with_places(places: int) -> Any:
        if places == 0:
            return sa.cast(minor, sa.Text)
        unit = sa.literal_column(f"0.{'0' * (places - 1)}1", sa.Numeric)
        return sa.cast(sa.cast(minor, sa.Numeric) * unit, sa.Text)

    cases = [(currency.in_([_sql_text(c) for c in codes]), with_places(p)) for p, codes in sorted(by_places.items())]
    return _quoted(sa.case(*cases, else_=with_places(2)))


def time_json(column: Any) -> Any:
    """datetime.isoformat() of a UTC date-time in SQL: microseconds only when there are any, then +00:00 (the
    text's only "." is the fraction's)."""
    written = sa.func.to_char(sa.func.timezone(_sql_text("UTC"), column), _sql_text('YYYY-MM-DD"T"HH24:MI:SS.US'))
    return _quoted(_concat(sa.func.replace(written, _sql_text(".000000"), _sql_text("")), _sql_text("+00:00")))


def _global_id(type_name: str, column: Any) -> Leaf:
    return Leaf((column,), global_ids(type_name), json=global_id_json(type_name))


def _money(minor: Any, currency: Any) -> Group:
    return Group({"amount": Leaf((minor, currency), amount_text, json=amount_json), "currency": Leaf((currency,))})


_PERSONAL = Sensitive.PERSONAL
# An address exists when its first line does (the ship_* columns are written together, or all null).
ADDRESS_PRESENT = col(Order.ship_line1)
ORDER: dict[str, Leaf | Group | Children] = {
    "id": _global_id("Order", col(Order.id)),
    "number": Leaf((col(Order.number),)),
    "status": Leaf((col(Order.status),)),
    "channel": Leaf((col(Order.channel),)),
    "placedAt": Leaf((col(Order.placed_at),), type="timestamp"),
    "promisedDeliveryBy": Leaf((col(Order.promised_delivery_by),), type="timestamp"),
    "pricesIncludeTax": Leaf((col(Order.prices_include_tax),), type="bool"),
    "purchaseOrderNumber": Leaf((col(Order.purchase_order_number),)),
    "subtotal": _money(col(Order.subtotal_minor), col(Order.currency)),
    "shippingTotal": _money(col(Order.shipping_minor), col(Order.currency)),
    "taxTotal": _money(col(Order.tax_minor), col(Order.currency)),
    "total": _money(col(Order.total_minor), col(Order.currency)),
    "customer": Group(
        {
            "id": _global_id("Customer", col(Order.customer_id)),
            "name": Leaf((col(Customer.name),), kind=_PERSONAL),
            "email": Leaf((col(Customer.email),), kind=_PERSONAL),
            "phone": Leaf((col(Customer.phone),), kind=_PERSONAL),
            "createdAt": Leaf((col(Customer.created_at),), type="timestamp"),
        }
    ),
    "deliveryMethod": Group(
        {
            "code": Leaf((col(DeliveryMethod.code),)),
            "name": Leaf((col(DeliveryMethod.name),)),
            "kind": Leaf((col(DeliveryMethod.kind),)),
        }
    ),
    "pickupLocation": Group(
        {
            "id": _global_id("Location", col(Location.id)),
            "name": Leaf((col(Location.name),)),
            "city": Leaf((col(Location.city),)),
        },
        present=col(Order.pickup_location_id),
    ),
    # Null for pickup orders (no address), as in the graph; personal data as a whole. The ship_* columns are written
    # together from one validated address, or all null (models.Order.shipping_address).
    "shippingAddress": Group(
        {
            "name": Leaf((col(Order.ship_name),)),
            "line1": Leaf((col(Order.ship_line1),), required=True),
            "line2": Leaf((col(Order.ship_line2),)),
            "city": Leaf((col(Order.ship_city),), required=True),
            "region": Leaf((col(Order.ship_region),)),
            "postalCode": Leaf((col(Order.ship_postal_code),), required=True),
            "country": Leaf((col(Order.ship_country),), required=True),
            "phone": Leaf((col(Order.ship_phone),)),
        },
        kind=_PERSONAL,
        present=ADDRESS_PRESENT,
    ),
    "lines": Children(
        col(OrderLine.order_id),
        col(Order.id),
        tuple(col(c) for c in LINES_IN_ORDER),
        {
            "id": _global_id("OrderLine", col(OrderLine.id)),
            "sku": Leaf((col(OrderLine.sku),)),
            "productName": Leaf((col(OrderLine.product_name),)),
            "customization": Leaf((col(OrderLine.customization),), kind=Sensitive.FREE_TEXT),
            "quantity": Leaf((col(OrderLine.quantity),), type="int"),
            "quantityShipped": Leaf((col(OrderLine.quantity_shipped),), type="int"),
            "quantityCancelled": Leaf((col(OrderLine.quantity_cancelled),), type="int"),
            "quantityDelivered": Leaf((col(OrderLine.quantity_delivered),), type="int"),
            "quantityReturned": Leaf((col(OrderLine.quantity_returned),), type="int"),
            "taxClass": Leaf((col(OrderLine.tax_class),)),
            "unitPrice": _money(col(OrderLine.unit_price_minor), col(OrderLine.currency)),
            "lineTotal": Group(
                {
                    "amount": Leaf(
                        (col(OrderLine.unit_price_minor), col(OrderLine.quantity), col(OrderLine.currency)),
                        lambda price, quantity, currency: amount_text(price * quantity, currency),
                        json=lambda price, quantity, currency: amount_json(price * quantity, currency),
                    ),
                    "currency": Leaf((col(OrderLine.currency),)),
                }
            ),
            "tax": _money(col(OrderLine.tax_minor), col(OrderLine.currency)),
        },
    ),
    "shipments": Children(
        col(Shipment.order_id),
        col(Order.id),
        tuple(col(c) for c in SHIPMENTS_IN_ORDER),
        {
            "id": _global_id("Shipment", col(Shipment.id)),
            "carrier": Leaf((col(Shipment.carrier),)),
            "trackingNumber": Leaf((col(Shipment.tracking_number),)),
            "trackingUrl": Leaf((col(Shipment.tracking_url),)),
            "status": Leaf((col(Shipment.status),)),
            "shippedAt": Leaf((col(Shipment.shipped_at),), type="timestamp"),
            "estimatedDeliveryAt": Leaf((col(Shipment.estimated_delivery_at),), type="timestamp"),
            "deliveredAt": Leaf((col(Shipment.delivered_at),), type="timestamp"),
            "events": Children(
                col(ShipmentEvent.shipment_id),
                col(Shipment.id),
                tuple(col(c) for c in EVENTS_IN_SHIPMENT),
                {
                    "status": Leaf((col(ShipmentEvent.status),)),
                    "occurredAt": Leaf((col(ShipmentEvent.occurred_at),), type="timestamp"),
                    "description": Leaf((col(ShipmentEvent.description),), kind=Sensitive.FREE_TEXT),
                    "location": Leaf((col(ShipmentEvent.location),), kind=Sensitive.FREE_TEXT),
                },
                order_id=col(Shipment.order_id),
                through=(Shipment, col(Shipment.id) == col(ShipmentEvent.shipment_id)),
            ),
        },
    ),
    "returns": Children(
        col(Return.order_id),
        col(Order.id),
        tuple(col(c) for c in RETURNS_IN_ORDER),
        {
            "id": _global_id("Return", col(Return.id)),
            "rmaNumber": Leaf((col(Return.rma_number),)),
            "status": Leaf((col(Return.status),)),
            "method": Leaf((col(Return.method),)),
        },
    ),
}
# The tables an order's columns may come from besides its own, joined on the order's row: (table, condition,
# outer). Each is joined only when a plan reads one of its columns.
JOINS: dict[str, tuple[Any, Any, bool]] = {
    Customer.__tablename__: (Customer, col(Customer.id) == col(Order.customer_id), False),
    DeliveryMethod.__tablename__: (DeliveryMethod, col(DeliveryMethod.code) == col(Order.delivery_method_code), False),
    Location.__tablename__: (Location, col(Location.id) == col(Order.pickup_location_id), True),
}


# --- Selections ------------------------------------------------------------------------------------------------


def _invalid(message: str) -> Refusal:
    return Refusal("INVALID_SELECTION", message, ["input", "selection"])


# A shape is what a selection keeps: per field, None (a scalar), a sub-shape (an object) or a one-item list (a list);
# and for `__typename` (schema/compiled.py's rows, not the files), the object's type name.
Shape = dict[str, Any]
TYPENAME = "__typename"


def parse_selection(text: str | None) -> Shape:
    """The fields `text` selects on Order, checked against the exportable schema; Refusal INVALID_SELECTION for
    anything else (a field that is not exportable or does not exist, arguments, aliases, fragments, directives,
    a scalar with a selection or an object without one)."""
    text = DEFAULT_SELECTION if text is None or not text.strip() else text
    if len(text) > MAX_SELECTION_LENGTH:
        raise Refusal(
            "SELECTION_TOO_LARGE", f"A selection holds at most {MAX_SELECTION_LENGTH:,} characters.", ["input"]
        )
    try:
        document = parse("{" + text + "}", no_location=True, max_tokens=2000)
    except GraphQLError as error:
        raise _invalid(f"The selection is not GraphQL: {error.message}") from None
    operation = document.definitions[0]
    if len(document.definitions) != 1 or not isinstance(operation, OperationDefinitionNode):
        raise _invalid("Write the selection as the fields of an Order, without braces around it.")
    counted = [0]
    shape = _shape(operation.selection_set, ORDER, "Order", counted)
    if counted[0] > MAX_SELECTED_FIELDS:
        raise Refusal("SELECTION_TOO_LARGE", f"A selection names at most {MAX_SELECTED_FIELDS} fields.", ["input"])
    return shape


def _shape(selections: SelectionSetNode, fields: dict[str, Any], type_name: str, counted: list[int]) -> Shape:
    shape: Shape = {}
    for node in selections.selections:
        if not isinstance(node, FieldNode):
            raise _invalid("Fragments are not allowed in an export's selection.")
        name = node.name.value
        counted[0] += 1
        if node.alias or node.arguments or node.directives:
            raise _invalid(f"{type_name}.{name}: aliases, arguments and directives are not allowed.")
        spec = fields.get(name)
        if spec is None:
            raise _invalid(f"{type_name}.{name} cannot be exported (exportable: {', '.join(fields)}).")
        if isinstance(spec, Leaf):
            if node.selection_set is not None:
                raise _invalid(f"{type_name}.{name} is a scalar: it takes no selection.")
            shape[name] = None
            continue
        if node.selection_set is None:
            raise _invalid(f"{type_name}.{name} is an object: select its fields.")
        inner = _shape(node.selection_set, spec.fields, name, counted)
        shape[name] = [inner] if isinstance(spec, Children) else inner
    return shape


def selection_text(shape: Shape) -> str:
    """The shape written back as a selection (the one stored with the job)."""
    parts = []
    for name, inner in shape.items():
        if inner is None:
            parts.append(name)
        else:
            parts.append(f"{name} {{ {selection_text(inner[0] if isinstance(inner, list) else inner)} }}")
    return " ".join(parts)


# --- Compiled plans --------------------------------------------------------------------------------------------
#
# A plan turns a row of SQL values into the row's dict with one function made for the selection and the role (its
# Python source generated from the shape, then compiled): one dict display per object, each value read by
# position, converters called only where a value needs one. A million orders spend their time in SQL and in the
# encoders, not in walking a description of the selection for every value.

Row = Any  # a Core row: indexed by position
Builder = Callable[..., dict[str, Any]]
_EMPTY: list[object] = []  # the list field of an order without any (shared: never changed)


@dataclass(slots=True)
class _Columns:
    """The SQL columns a plan selects, each once. Enums are read as their text (the file writes their name)."""

    selected: list[Any] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    joins: list[str] = field(default_factory=list)  # the JOINS an order's columns need

    def position(self, column: Any) -> int:
        key = f"{column.table.name}.{column.name}"
        if key not in self.positions:
            self.positions[key] = len(self.selected)
            self.selected.append(sa.type_coerce(column, sa.String()) if isinstance(column.type, sa.Enum) else column)
            if column.table.name in JOINS and column.table.name not in self.joins:
                self.joins.append(column.table.name)
        return self.positions[key]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the file: its name, Parquet type, and for an object or list its own columns."""

    name: str
    type: str  # "string" | "int" | "bool" | "timestamp" | "object" | "list"
    fields: tuple["Column", ...] = ()


@dataclass(slots=True)
class _Source:
    """The generated builder's text and the converters it calls by name."""

    names: dict[str, object] = field(default_factory=dict)
    text_times: bool = False

    def call(self, function: object) -> str:
        name = f"c{len(self.names)}"
        self.names[name] = function
        return name


def _leaf_source(leaf: Leaf, columns: _Columns, source: _Source) -> str:
    positions = [columns.position(c) for c in leaf.columns]
    values = ", ".join(f"row[{p}]" for p in positions)
    convert = leaf.convert
    if convert is None and leaf.type == "timestamp" and source.text_times:
        convert = datetime.isoformat
    if convert is None:
        return f"row[{positions[0]}]"
    call = f"{source.call(convert)}({values})"
    if leaf.never_null:
        return call
    return f"(None if row[{positions[0]}] is None else {call})"


def _object_source(
    shape: Shape, fields: dict[str, Any], columns: _Columns, viewer: Viewer, source: _Source, children: list[str]
) -> tuple[str, list[Column]]:
    """The dict display of one object, and its file columns; list fields read `children[k]` by the row's id."""
    items: list[str] = []
    described: list[Column] = []
    for name, inner in shape.items():
        if name == TYPENAME:
            items.append(f"{name!r}: {inner!r}")
            described.append(Column(name, "string"))
            continue
        spec = fields[name]
        if isinstance(spec, Children):
            items.append(f"{name!r}: children[{len(children)}].get(row[{columns.position(spec.key)}], EMPTY)")
            children.append(name)
            described.append(Column(name, "list"))  # its item columns are filled in by _child_plans
            continue
        hidden = spec.kind is not None and not viewer.shows(spec.kind)
        if isinstance(spec, Leaf):
            items.append(f"{name!r}: {'None' if hidden else _leaf_source(spec, columns, source)}")
            described.append(Column(name, spec.type))
            continue
        display, part_columns = _object_source(inner, spec.fields, columns, viewer, source, children)
        described.append(Column(name, "object", tuple(part_columns)))
        if hidden:
            items.append(f"{name!r}: None")
        elif spec.nullable:
            items.append(f"{name!r}: (None if row[{columns.position(spec.present)}] is None else {display})")
        else:
            items.append(f"{name!r}: {display}")
    return "{" + ", ".join(items) + "}", described


def _compiled(display: str, source: _Source) -> Builder:
    namespace: dict[str, Any] = {**source.names, "EMPTY": _EMPTY}
    exec(f"def build(row, children=()):\n    return {display}\n", namespace)
    return namespace["build"]


@dataclass(slots=True)
class ChildPlan:
    spec: Children
    columns: list[Any]  # the parent's id first
    build: Builder  # a row (and its own list fields' items by its id) -> the item's dict
    children: list["ChildPlan"]  # its own list fields (a shipment's scans)


@dataclass(slots=True)
class ExportPlan:
    """A validated export compiled for one role: the order columns (the id first), the builder of an order's dict
    (given each list field's items by order id, in `children` order), and the file's columns in selection order."""

    order_columns: list[Any]
    joins: list[str]
    build: Builder
    children: list[ChildPlan]
    columns: list[Column]
    json_line: Any  # an order's JSON text as PostgreSQL writes it (below)
    json_objects: Any  # and the objects it holds (object_counter's count, in SQL)
    count_objects: Callable[[dict[str, Any]], int]  # the objects a built order holds, itself included
    by_id: "tuple[LoaderStatement, ...] | None" = None  # orders_by_id's statements, built on first use


def compile_plan(shape: Shape, viewer: Viewer, *, text_times: bool = False) -> ExportPlan:
    """`text_times`: date-times as ISO 8601 text (JSON and CSV), else as datetimes (Parquet)."""
    order_columns = _Columns()
    order_columns.position(col(Order.id))  # always first: the keyset, and the key list items are grouped by
    source = _Source(text_times=text_times)
    listed: list[str] = []
    display, described = _object_source(shape, ORDER, order_columns, viewer, source, listed)
    children = _child_plans(shape, ORDER, listed, described, viewer, text_times)
    return ExportPlan(
        order_columns.selected,
        order_columns.joins,
        _compiled(display, source),
        children,
        described,
        _object_json(shape, ORDER, viewer, lists := _list_subqueries(shape, viewer)),
        _objects_sql(shape, ORDER, viewer, lists),
        object_counter(shape),
    )


def _child_plans(
    shape: Shape, fields: dict[str, Any], listed: list[str], described: list[Column], viewer: Viewer, text_times: bool
) -> list[ChildPlan]:
    """The plans of an object's list fields (`listed`, in the order its builder reads them), their items' file
    columns put in `described`; each item's own list fields planned the same way."""
    plans: list[ChildPlan] = []
    for name in listed:
        spec = fields[name]
        assert isinstance(spec, Children)
        columns = _Columns()
        columns.position(spec.parent_id)
        source = _Source(text_times=text_times)
        nested: list[str] = []
        item, item_columns = _object_source(shape[name][0], spec.fields, columns, viewer, source, nested)
        nested_plans = _child_plans(shape[name][0], spec.fields, nested, item_columns, viewer, text_times)
        plans.append(ChildPlan(spec, columns.selected, _compiled(item, source), nested_plans))
        at = next(n for n, c in enumerate(described) if c.name == name)
        described[at] = Column(name, "list", (Column("item", "object", tuple(item_columns)),))
    return plans


def object_counter(shape: Shape, fields: dict[str, Any] = ORDER) -> Callable[[dict[str, Any]], int]:
    """How many objects a built answer of `shape` holds, itself included (what a GraphQL answer's cost counts),
    from its object and list fields alone: no walk over its scalars."""
    nested: list[tuple[str, Callable[[dict[str, Any]], int], bool]] = []
    for name, inner in shape.items():
        spec = fields.get(name)  # none for __typename
        if isinstance(spec, Children):
            nested.append((name, object_counter(inner[0], spec.fields), True))
        elif isinstance(spec, Group):
            nested.append((name, object_counter(inner, spec.fields), False))

    def count(built: dict[str, Any]) -> int:
        objects = 1
        for name, counter, listed in nested:
            value = built[name]
            if value is not None:
                objects += sum(map(counter, value)) if listed else counter(value)
        return objects

    return count


def _objects_sql(shape: Shape, fields: dict[str, Any], viewer: Viewer, lists: dict[str, Any]) -> Any:
    """object_counter's count in SQL, for an order as the viewer is shown it (a hidden object is null: none)."""
    total: Any = sa.literal_column("1", sa.Integer)
    for name, inner in shape.items():
        spec = fields.get(name)
        if isinstance(spec, Children):
            total = total + lists[name].c.objects
        elif isinstance(spec, Group) and (spec.kind is None or viewer.shows(spec.kind)):
            objects = _objects_sql(inner, spec.fields, viewer, lists)
            total = total + (sa.case((spec.present.is_(None), 0), else_=objects) if spec.nullable else objects)
    return total


# --- Filters ---------------------------------------------------------------------------------------------------


def filter_json(f: orders.OrderFilter) -> dict[str, Any]:
    return {
        "search": f.search,
        "statuses": [s.value for s in f.statuses],
        "channels": [c.value for c in f.channels],
        "placed_after": f.placed_after.isoformat() if f.placed_after else None,
        "placed_before": f.placed_before.isoformat() if f.placed_before else None,
        "customer_id": f.customer_id,
        "currencies": f.currencies,
        "markets": f.markets,
    }


def filter_of(data: dict[str, Any]) -> orders.OrderFilter:
    return orders.OrderFilter(
        search=data.get("search"),
        statuses=[OrderStatus(s) for s in data.get("statuses") or []],
        channels=[Channel(c) for c in data.get("channels") or []],
        placed_after=datetime.fromisoformat(data["placed_after"]) if data.get("placed_after") else None,
        placed_before=datetime.fromisoformat(data["placed_before"]) if data.get("placed_before") else None,
        customer_id=data.get("customer_id"),
        currencies=list(data.get("currencies") or []),
        markets=list(data.get("markets") or []),
    )


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """A job's query as stored: the filter, whether its search may match personal data (decided for the owner
    when it started), and the selection."""

    order_filter: orders.OrderFilter
    personal_search: bool
    shape: Shape

    def to_json(self) -> dict[str, object]:
        return {
            "filter": filter_json(self.order_filter),
            "personal_search": self.personal_search,
            "selection": selection_text(self.shape),
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> "ExportQuery":
        return cls(filter_of(data["filter"]), bool(data["personal_search"]), parse_selection(data["selection"]))


def conditions(query: ExportQuery) -> list[sa.ColumnElement[bool]]:
    """The same conditions as `orders(filter:)` (resolvers.orders)."""
    return orders._conditions(query.order_filter, personal_search=query.personal_search)


# --- Reading the rows ------------------------------------------------------------------------------------------


async def count_orders(read: ReadSession, query: ExportQuery) -> int:
    async with read() as session:
        return (await session.exec(select(sa.func.count()).select_from(Order).where(*conditions(query)))).one()


def _orders_from(plan: ExportPlan) -> Any:
    joined: Any = Order
    for name in plan.joins:
        table, condition, outer = JOINS[name]
        joined = sa.join(joined, table, condition, isouter=outer)
    return joined


def _chunk_statement(plan: ExportPlan, query: ExportQuery, selected: Sequence[Any], chunk_size: int) -> LoaderStatement:
    """The matching orders after the order id `after`, `chunk_size` of them, by id: the id, then `selected`."""
    return LoaderStatement(
        sa.select(col(Order.id), *selected)
        .select_from(_orders_from(plan))
        .where(col(Order.id) > sa.bindparam("after"), *conditions(query))
        .order_by(col(Order.id))
        .limit(chunk_size),
        as_read=True,
    )


async def _keyset_chunks(
    read: ReadSession, read_chunk: Callable[[AsyncConnection, int], Awaitable[Any]], chunk_size: int
) -> AsyncIterator[Any]:
    """`read_chunk(connection, after)`'s chunks (each a tuple whose first item is the orders' rows, by id) until one
    falls short, each read in a short read of its own. The next chunk is read while this one is used: the database
    works while this process does."""

    async def chunk(after: int) -> Any:
        async with read() as session:
            return await read_chunk(await session.connection(), after)

    pending = asyncio.ensure_future(chunk(0))
    try:
        while True:
            read_now = await pending
            rows = read_now[0]
            if not rows:
                return
            more = len(rows) == chunk_size
            if more:
                pending = asyncio.ensure_future(chunk(rows[-1][0]))
            yield read_now
            if not more:
                return
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


async def chunks(
    read: ReadSession, query: ExportQuery, plan: ExportPlan, *, chunk_size: int = 5000
) -> AsyncIterator[list[dict[str, Any]]]:
    """The matching orders' dicts in order id order, `chunk_size` orders at a time: the orders, then each list
    field's rows of those orders."""
    orders_statement = _chunk_statement(plan, query, plan.order_columns[1:], chunk_size)
    where = conditions(query)
    child_statements = [_child_statement(child, where) for child in _every_child(plan.children)]

    async def read_chunk(connection: AsyncConnection, after: int) -> tuple[Sequence[Any], list[Sequence[Any]]]:
        rows = await orders_statement.rows(connection, {"after": after})
        if not rows:
            return rows, []
        span = {"first": rows[0][0], "last": rows[-1][0]}
        return rows, [await statement.rows(connection, span) for statement in child_statements]

    async for rows, child_rows in _keyset_chunks(read, read_chunk, chunk_size):
        yield built(plan, rows, child_rows)


def _every_child(plans: list[ChildPlan]) -> list[ChildPlan]:
    """The list fields at every depth, each before its own (the order `built` takes their rows in)."""
    return [every for child in plans for every in (child, *_every_child(child.children))]


def built(plan: ExportPlan, rows: Sequence[Any], child_rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Each order row's dict, its list fields' items put in place: `child_rows` holds one list of rows per list
    field in _every_child's order, each row its parent's id first."""
    build_order = plan.build
    children = _items(plan.children, iter(child_rows))
    return [build_order(row, children) for row in rows]


def _items(plans: list[ChildPlan], child_rows: Iterator[Sequence[Any]]) -> list[dict[int, list[object]]]:
    """Per list field, its items by their parent's id (each item's own list fields built first)."""
    found: list[dict[int, list[object]]] = []
    for child in plans:
        rows = next(child_rows)
        nested = _items(child.children, child_rows)
        by_parent: dict[int, list[object]] = {}
        build = child.build
        for row in rows:
            items = by_parent.get(row[0])
            if items is None:
                items = by_parent[row[0]] = []
            items.append(build(row, nested))
        found.append(by_parent)
    return found


class BuiltOrder(NamedTuple):
    """An order as orders_by_id gives it: its JSON text (PostgreSQL) or its dict, and the objects it holds."""

    json: str | None
    value: dict[str, Any] | None
    objects: int


async def orders_by_id(connect: ReadConnection, plan: ExportPlan, ids: Sequence[int]) -> dict[int, BuiltOrder]:
    """The orders of `ids` that exist, each as `plan` builds it, by id: what the graph answers for those orders'
    selection (schema/compiled.py's rows for a page of orders). On PostgreSQL in one statement that writes each
    order's JSON, elsewhere one statement per table. The caller has decided the viewer may see them all."""
    if plan.by_id is None:
        keys: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
        by_id = col(Order.id).in_(keys)
        as_json = sa.select(col(Order.id), plan.json_line, plan.json_objects)
        statements = [
            LoaderStatement(as_json.select_from(_orders_from(plan)).where(by_id), as_read=True),
            LoaderStatement(sa.select(*plan.order_columns).select_from(_orders_from(plan)).where(by_id), as_read=True),
        ]
        for child in _every_child(plan.children):
            query = _child_rows(child).where(child.spec.order_column.in_(keys))
            statements.append(LoaderStatement(query, as_read=True))
        plan.by_id = tuple(statements)
    json_statement, *statements = plan.by_id
    parameters = {"keys": sorted(set(ids))}
    async with connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = await json_statement.rows(connection, parameters)
            return {order_id: BuiltOrder(line, None, objects) for order_id, line, objects in rows}
        rows, *child_rows = [await statement.rows(connection, parameters) for statement in statements]
    count = plan.count_objects
    return {
        row[0]: BuiltOrder(None, answer, count(answer))
        for row, answer in zip(rows, built(plan, rows, child_rows), strict=True)
    }


def _child_rows(child: ChildPlan, *, join_orders: bool = False) -> Any:
    """A list field's rows, by parent then in the graph's order, not yet narrowed to some orders' (the columns of
    `spec.order_column` and, with `join_orders`, of Order are there to narrow them by)."""
    spec = child.spec
    joined: Any = spec.parent_id.table
    if spec.through is not None:
        table, condition = spec.through
        joined = sa.join(joined, table, condition)
    if join_orders:
        joined = sa.join(joined, Order, col(Order.id) == spec.order_column)
    return sa.select(*child.columns).select_from(joined).order_by(spec.parent_id, *spec.order_by)


def _child_statement(child: ChildPlan, where: list[sa.ColumnElement[bool]]) -> LoaderStatement:
    """A list field's rows of the matching orders with ids from `first` to `last`."""
    order_id = child.spec.order_column
    # Only the items of matching orders: the orders' conditions, joined.
    query = _child_rows(child, join_orders=bool(where)).where(
        order_id >= sa.bindparam("first"), order_id <= sa.bindparam("last"), *where
    )
    return LoaderStatement(query, as_read=True)


# --- JSON lines built by PostgreSQL -----------------------------------------------------------------------------
#
# On PostgreSQL a JSONL export's lines are written by the database: each order's line is one text expression
# compiled from the same shape and masking as the builders above (the converters' SQL twins above), so this
# process only copies text while the database works beside it, on the other core. A line is the same bytes as
# the builder's dict through orjson (tests/exports/test_export_lines.py).

_NULL = "null"


def _value_json(leaf: Leaf) -> Any:
    if leaf.convert is not None:
        assert leaf.json is not None, "a converted value needs its SQL twin"
        return leaf.json(*leaf.columns)
    (column,) = leaf.columns
    if leaf.type == "timestamp":
        return time_json(column)
    if leaf.type == "int":
        return sa.cast(column, sa.Text)
    return sa.cast(sa.func.to_json(column), sa.Text)  # a string escaped and quoted; true or false


def _list_subqueries(shape: Shape, viewer: Viewer, fields: dict[str, Any] = ORDER) -> dict[str, Any]:
    """Each list field of an object's shape (an order's lines, shipments, returns; a shipment's scans) as a
    LATERAL subquery beside the object's row: its items' JSON array (`json`, in the graph's order) and the objects
    they hold (`objects`), both from one read of the items (as two correlated subqueries each, they were read
    twice). An item's own list fields are LATERAL subqueries beside the item's row in turn."""
    lists: dict[str, Any] = {}
    for name, inner in shape.items():
        spec = fields.get(name)
        if isinstance(spec, Children):
            nested = _list_subqueries(inner[0], viewer, spec.fields)
            item = _object_json(inner[0], spec.fields, viewer, nested)
            items = sa.func.string_agg(item, aggregate_order_by(_sql_text(","), *spec.order_by))
            listed = sa.func.coalesce(_concat(_sql_text("["), items, _sql_text("]")), _sql_text("[]"))
            counted = sa.func.sum(_objects_sql(inner[0], spec.fields, viewer, nested))
            objects = sa.cast(sa.func.coalesce(counted, 0), sa.Integer)  # a sum of sums is numeric in PostgreSQL
            read = sa.select(listed.label("json"), objects.label("objects")).select_from(spec.parent_id.table)
            lists[name] = read.where(spec.parent_id == spec.key).lateral(name)
    return lists


def _object_json(shape: Shape, fields: dict[str, Any], viewer: Viewer, lists: dict[str, Any]) -> Any:
    """The JSON text of an object of `shape` as the viewer is shown it; its list fields from `lists`."""
    parts: list[Any] = []
    for name, inner in shape.items():
        parts.append(_sql_text(f'{"," if parts else "{"}"{name}":'))
        if name == TYPENAME:
            parts.append(_sql_text(orjson.dumps(inner).decode()))
            continue
        spec = fields[name]
        if isinstance(spec, Children):
            parts.append(lists[name].c.json)
        elif spec.kind is not None and not viewer.shows(spec.kind):
            parts.append(_sql_text(_NULL))
        elif isinstance(spec, Leaf) and spec.never_null:
            parts.append(_value_json(spec))
        elif isinstance(spec, Leaf):
            parts.append(sa.func.coalesce(_value_json(spec), _sql_text(_NULL)))
        elif spec.nullable:
            absent = spec.present.is_(None)
            parts.append(sa.case((absent, _sql_text(_NULL)), else_=_object_json(inner, spec.fields, viewer, lists)))
        else:
            parts.append(_object_json(inner, spec.fields, viewer, lists))
    return _concat(*parts, _sql_text("}"))


async def json_line_chunks(
    read: ReadSession, query: ExportQuery, plan: ExportPlan, *, chunk_size: int = 5000
) -> AsyncIterator[list[str]]:
    """The matching orders' JSON lines (without their newlines) in order id order, `chunk_size` at a time, built
    by PostgreSQL."""
    statement = _chunk_statement(plan, query, [plan.json_line], chunk_size)

    async def read_chunk(connection: AsyncConnection, after: int) -> tuple[Sequence[Any]]:
        return (await statement.rows(connection, {"after": after}),)

    async for (rows,) in _keyset_chunks(read, read_chunk, chunk_size):
        yield [row[1] for row in rows]


# --- Use cases -------------------------------------------------------------------------------------------------


def require_exporter(viewer: Viewer) -> Viewer:
    require_authenticated(viewer)
    if viewer.role not in EXPORTERS or viewer.subject is None:
        raise Forbidden("Only analysts and admins may export orders in bulk.")
    return viewer


async def start_bulk_export(
    ctx: RequestContext, *, order_filter: orders.OrderFilter, selection: str | None, export_format: BulkExportFormat
) -> BulkExport:
    """Queues an export for the viewer. Refusals (nothing is created): FORBIDDEN for other roles and for an
    analyst's search by personal data, INVALID_SELECTION, SELECTION_TOO_LARGE, TOO_MANY_EXPORTS."""
    viewer = require_exporter(ctx.viewer)
    term = (order_filter.search or "").strip()
    personal = may_match_personal_data(viewer, term, identifiers=orders.SEARCH_IDENTIFIERS) if term else False
    query = ExportQuery(order_filter, personal, parse_selection(selection))
    assert viewer.role is not None
    assert viewer.subject is not None
    async with ctx.write() as session:
        open_jobs = (
            await session.exec(
                select(sa.func.count())
                .select_from(BulkExport)
                .where(
                    col(BulkExport.owner_subject) == viewer.subject,
                    col(BulkExport.status).in_([BulkExportStatus.QUEUED, BulkExportStatus.RUNNING]),
                )
            )
        ).one()
        if open_jobs >= MAX_OPEN_EXPORTS:
            raise Refusal(
                "TOO_MANY_EXPORTS", f"At most {MAX_OPEN_EXPORTS} exports may wait or run at once: let one finish."
            )
        job = BulkExport(
            owner_subject=viewer.subject,
            owner_role=viewer.role.value,
            format=export_format,
            query=query.to_json(),
            created_at=ctx.clock(),
        )
        session.add(job)
        await session.flush()
        await session.refresh(job)
    return job


async def bulk_export(ctx: RequestContext, export_id: int) -> BulkExport | None:
    """The viewer's own export; None for anyone else's and for one that does not exist (answered alike)."""
    viewer = require_exporter(ctx.viewer)
    async with ctx.read() as session:
        job = await session.get(BulkExport, export_id)
    if job is None or job.owner_subject != viewer.subject:
        return None
    return job


async def owned_export(read: ReadSession, viewer: Viewer, export_id: int) -> BulkExport:
    """For the live progress: NOT_FOUND alike for another's export and a missing one."""
    require_exporter(viewer)
    async with read() as session:
        job = await session.get(BulkExport, export_id)
    if job is None or job.owner_subject != viewer.subject:
        raise NotFound("No such export.")
    return job


def percent(job: BulkExport) -> float:
    if job.status is BulkExportStatus.COMPLETED:
        return 100.0
    if not job.total_rows:
        return 0.0
    return round(min(100.0, 100.0 * job.rows_written / job.total_rows), 1)


def is_final(job: BulkExport) -> bool:
    return job.status in (BulkExportStatus.COMPLETED, BulkExportStatus.FAILED)


def download_url(links: LinkSettings | None, job: BulkExport, *, now: datetime) -> tuple[str, datetime] | None:
    """A signed link to a completed export's file, valid for at least the links' lifetime from now (its owner
    asked). The expiry is rounded up to the next LINK_GRAIN, so that reads close together hand out the same URL."""
    if links is None or job.status is not BulkExportStatus.COMPLETED or job.id is None:
        return None
    grain = int(LINK_GRAIN.total_seconds())
    expires = datetime.fromtimestamp(-(-int((now + links.lifetime).timestamp()) // grain) * grain, UTC)
    token = sign(DocumentLink(DocumentPurpose.BULK_EXPORT, str(job.id), expires), links.secret)
    return f"{links.public_url.rstrip('/')}/exports/{token}", expires


MEDIA_TYPES = {
    BulkExportFormat.JSONL: "application/x-ndjson",
    BulkExportFormat.CSV: "text/csv; charset=utf-8",
    BulkExportFormat.PARQUET: "application/vnd.apache.parquet",
}


async def download(read: ReadSession, token: str, secret: str, *, now: datetime) -> BulkExport:
    """The export a download link opens: Refusal INVALID_LINK (403) for a link not signed as it is or signed for
    another purpose, LINK_EXPIRED (410) after its expiry, NOT_FOUND when the file is not there (any more)."""
    link = verify(token, secret, now=now)
    if link.purpose is not DocumentPurpose.BULK_EXPORT or not link.document.isdigit():
        raise Refusal("INVALID_LINK", "This link is not valid.", ["token"])
    async with read() as session:
        job = await session.get(BulkExport, int(link.document))
    if job is None or job.status is not BulkExportStatus.COMPLETED or job.file_name is None:
        raise Refusal("NOT_FOUND", "This export is not available.", ["token"])
    return job


def progress_channel(events_channel: str) -> str:
    """The broadcast channel exports' progress travels on, beside the deployment's order events."""
    return f"{events_channel}.bulk_exports"


def progress_message(job: BulkExport) -> str:
    return json.dumps({"id": job.id, "status": job.status.value, "rows": job.rows_written, "total": job.total_rows})
