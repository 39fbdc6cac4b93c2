"""Reading orders: the cross-customer list, a customer's own history, and what the SPA may offer."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select

from ordergraph.loaders import PageKey, as_models, contains_text, select_rows
from ordergraph.models import Customer, FulfillmentOrder, Order, OrderLine, Shipment
from ordergraph.models.enums import Channel, FulfillmentOrderStatus, OrderStatus
from ordergraph.models.fulfillment import NOT_YET_LEFT
from ordergraph.resolvers import return_requests
from ordergraph.resolvers.access import may_match_personal_data, require_staff
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.pagination import Connection, Sort, page_size


class OrderSortField(StrEnum):
    PLACED_AT = "PLACED_AT"
    TOTAL = "TOTAL"
    NUMBER = "NUMBER"


_SORT_KEYS = {
    OrderSortField.PLACED_AT: (("placed_at", "id"), (datetime, int)),
    OrderSortField.TOTAL: (("total_minor", "id"), (int, int)),
    OrderSortField.NUMBER: (("number",), (str,)),
}


@dataclass(frozen=True, slots=True)
class OrderFilter:
    search: str | None = None
    statuses: list[OrderStatus] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    placed_after: datetime | None = None  # inclusive
    placed_before: datetime | None = None  # exclusive
    customer_id: int | None = None
    currencies: list[str] = field(default_factory=list)  # ISO 4217 codes
    markets: list[str] = field(default_factory=list)  # market codes


class OrderKey(NamedTuple):
    """An order of a page as `list_orders(keys_only=True)` reads it: its id and every sort key, nothing else (for a
    page whose orders are built by id elsewhere: schema/compiled.py's Rows)."""

    id: int
    placed_at: datetime
    total_minor: int
    number: str


_ORDER_KEY_COLUMNS = tuple(col(getattr(Order, name)) for name in OrderKey._fields)

SEARCH_IDENTIFIERS = "order numbers, SKUs and tracking numbers"


def compact_tracking_number(text: str) -> str:
    """A tracking number as compared in search: upper case, without the spaces and dashes carriers print in it
    ("1z 999 aa1-0123" → "1Z999AA10123")."""
    return "".join(text.split()).replace("-", "").upper()


def _compact_tracking_number() -> sa.ColumnElement[str]:
    spaced = sa.func.replace(sa.func.replace(col(Shipment.tracking_number), " ", ""), "-", "")
    return sa.func.upper(spaced)


def _search(term: str, *, personal: bool) -> sa.ColumnElement[bool]:
    """Orders matching `term`: exactly by order number, SKU of a line or tracking number of a shipment (also as
    written with spaces, dashes or in lower case: `compact_tracking_number`); and,
    when `personal` (resolvers.access.may_match_personal_data), by a customer's name or email containing it."""
    identifiers = {term, term.upper()}
    matches = [
        col(Order.number).in_(identifiers),
        col(Order.id).in_(select(OrderLine.order_id).where(col(OrderLine.sku).in_(identifiers))),
        col(Order.id).in_(select(Shipment.order_id).where(col(Shipment.tracking_number).in_(identifiers))),
    ]
    compact = compact_tracking_number(term)
    if compact:
        matches.append(col(Order.id).in_(select(Shipment.order_id).where(_compact_tracking_number() == compact)))
    if personal:
        customers = select(Customer.id).where(
            sa.or_(contains_text(col(Customer.email), term), contains_text(col(Customer.name), term))
        )
        matches.append(col(Order.customer_id).in_(customers))
    return sa.or_(*matches)


def _conditions(f: OrderFilter, *, personal_search: bool) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if f.statuses:
        conditions.append(col(Order.status).in_(f.statuses))
    if f.channels:
        conditions.append(col(Order.channel).in_(f.channels))
    if f.placed_after is not None:
        conditions.append(col(Order.placed_at) >= f.placed_after)
    if f.placed_before is not None:
        conditions.append(col(Order.placed_at) < f.placed_before)
    if f.customer_id is not None:
        conditions.append(col(Order.customer_id) == f.customer_id)
    if f.currencies:
        conditions.append(col(Order.currency).in_({c.strip().upper() for c in f.currencies}))
    if f.markets:
        conditions.append(col(Order.market_code).in_({m.strip().upper() for m in f.markets}))
    term = (f.search or "").strip()
    if term:
        conditions.append(_search(term, personal=personal_search))
    return conditions


async def list_orders(
    ctx: RequestContext,
    *,
    order_filter: OrderFilter,
    sort_field: OrderSortField,
    descending: bool,
    first: int | None,
    after: str | None,
    keys_only: bool = False,
) -> Connection:
    """Every order, for agents and analysts (who search non-personal identifiers only: resolvers.access): the
    page's rows are Orders, or with `keys_only` OrderKeys (its 501 full rows cost ~10 ms to read and build)."""
    viewer = require_staff(ctx.viewer)
    term = (order_filter.search or "").strip()
    personal_search = may_match_personal_data(viewer, term, identifiers=SEARCH_IDENTIFIERS) if term else False
    size = page_size(first, ctx.max_page_size)
    keys, types = _SORT_KEYS[sort_field]
    sort = Sort(f"orders:{sort_field}:{'desc' if descending else 'asc'}", keys, descending)
    cursor = sort.decode(after, types)
    conditions = _conditions(order_filter, personal_search=personal_search)
    columns = [getattr(Order, k) for k in keys]

    query = (sa.select(*_ORDER_KEY_COLUMNS) if keys_only else select_rows(Order)).where(*conditions)
    if cursor is not None:
        key, bound = sa.tuple_(*columns), sa.tuple_(*(sa.literal(v) for v in cursor))
        query = query.where(key < bound if descending else key > bound)
    query = query.order_by(*(c.desc() if descending else c.asc() for c in columns)).limit(size + 1)
    async with ctx.read_connection() as connection:
        found = (await connection.execute(query)).all()
    rows = [OrderKey._make(row) for row in found] if keys_only else as_models(Order, found)

    async def count() -> int:
        async with ctx.read() as session:
            return (await session.exec(select(sa.func.count()).select_from(Order).where(*conditions))).one()

    return Connection(rows[:size], sort, len(rows) > size, cursor is not None, count)


CUSTOMER_ORDERS_SORT = Sort("customer-orders", ("placed_at", "id"), descending=True)


async def customer_orders(ctx: RequestContext, customer_id: int, *, first: int | None, after: str | None) -> Connection:
    """One customer's orders, newest first (the caller has already been allowed to see the customer)."""
    size = page_size(first, ctx.max_page_size)
    cursor = CUSTOMER_ORDERS_SORT.decode(after, (datetime, int))
    page = await ctx.loaders.orders_page_by_customer.load(PageKey(customer_id, size, cursor))

    async def count() -> int:
        return (await ctx.loaders.order_stats_by_customer.load(customer_id)).order_count

    return Connection(page.rows, CUSTOMER_ORDERS_SORT, page.has_next_page, cursor is not None, count)


# What the SPA may offer on an order. The capture and returns issues own the full rules; these follow
# docs/domain.md's lifecycles from the data alone.


async def can_cancel(ctx: RequestContext, order: Order) -> bool:
    """Exactly when cancelOrder would cancel something: some units wait at a location that has not let
    them go (a fulfillment order left with no units is CANCELLED, so a live one holds some)."""
    fulfillment_orders: list[FulfillmentOrder] = await ctx.loaders.fulfillment_orders_by_order.load(order.id)
    return any(fo.status in NOT_YET_LEFT for fo in fulfillment_orders)


async def can_change_shipping(ctx: RequestContext, order: Order) -> bool:
    """Exactly when updateOrderShipping may act: something is left to deliver and none of it has left."""
    fulfillment_orders: list[FulfillmentOrder] = await ctx.loaders.fulfillment_orders_by_order.load(order.id)
    live = [fo for fo in fulfillment_orders if fo.status is not FulfillmentOrderStatus.CANCELLED]
    return bool(live) and all(fo.status in NOT_YET_LEFT for fo in live)


@dataclass(frozen=True, slots=True)
class ReturnableLine:
    order_line: OrderLine
    quantity: int


async def returnable_lines(ctx: RequestContext, order: Order) -> list[ReturnableLine]:
    """Exactly what requestReturn accepts (resolvers.return_requests.eligibility): delivered units within the
    return window of their delivery, not returned and not in an open return."""
    fulfillment_orders = await ctx.loaders.fulfillment_orders_by_order.load(order.id)
    delivered = [fo for fo in fulfillment_orders if fo.status in return_requests.DELIVERED_FULFILLMENT]
    if not delivered:
        return []
    shipments = await ctx.loaders.shipments_by_order.load(order.id)
    fo_lines = dict(
        zip(
            [fo.id for fo in delivered],
            await ctx.loaders.lines_by_fulfillment_order.load_many([fo.id for fo in delivered]),
            strict=True,
        )
    )
    lines = await ctx.loaders.lines_by_order.load(order.id)
    returns = await ctx.loaders.returns_by_order.load(order.id)
    open_returns = [r for r in returns if r.status in return_requests.OPEN_RETURNS]
    lines_by_return = dict(
        zip(
            [r.id for r in open_returns],
            await ctx.loaders.lines_by_return.load_many([r.id for r in open_returns]),
            strict=True,
        )
    )
    allowed = return_requests.eligibility(
        lines,
        return_requests.deliveries(fulfillment_orders, fo_lines, shipments),
        return_requests.units_in_returns(open_returns, lines_by_return),
        now=ctx.clock(),
        window=ctx.return_window,
    )
    return [ReturnableLine(line, allowed.returnable[line.id]) for line in lines if line.id in allowed.returnable]
