"""orderStats: order count, units, revenue and average order value, grouped in the database.

Revenue is the order total net of cancelled amounts (refunds are not subtracted). Grouped by LOCATION, an
order's revenue and units count at each location that fulfils part of it, in proportion to the value of its
units there (an order split over two locations counts in both, with its share). DAY is the UTC date of
placement; MARKET the order's market. Each grouping is one statement: a GROUP BY per order nested in the GROUP BY
of the dimensions.

Money of different currencies never meets: every group and every total is of one currency (the order's own,
which is its market's), and revenue is never summed across currencies. The currency and market filters narrow
the orders counted.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import col

from ordergraph.models import FulfillmentOrder, FulfillmentOrderLine, Order, OrderLine
from ordergraph.models.enums import Channel, FulfillmentOrderStatus, OrderStatus
from ordergraph.models.money import share
from ordergraph.resolvers.access import require_staff
from ordergraph.resolvers.context import RequestContext


class StatsDimension(StrEnum):
    DAY = "DAY"
    STATUS = "STATUS"
    CHANNEL = "CHANNEL"
    LOCATION = "LOCATION"
    MARKET = "MARKET"


@dataclass(frozen=True, slots=True)
class StatsFilter:
    placed_after: datetime | None = None  # inclusive
    placed_before: datetime | None = None  # exclusive
    statuses: tuple[OrderStatus, ...] = ()
    channels: tuple[Channel, ...] = ()
    currencies: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatsGroup:
    day: date | None
    status: OrderStatus | None
    channel: Channel | None
    location_id: int | None
    currency: str
    order_count: int
    unit_count: int
    revenue_minor: int
    market_code: str | None = None

    @property
    def average_order_value_minor(self) -> int:
        return share(self.revenue_minor, 1, self.order_count) if self.order_count else 0


@dataclass(frozen=True, slots=True)
class StatsTotal:
    currency: str
    order_count: int
    unit_count: int
    revenue_minor: int


@dataclass(frozen=True, slots=True)
class OrderStats:
    groups: list[StatsGroup]
    totals: list[StatsTotal]  # one per currency


async def order_stats(ctx: RequestContext, stats_filter: StatsFilter, group_by: list[StatsDimension]) -> OrderStats:
    require_staff(ctx.viewer)
    dimensions = list(dict.fromkeys(group_by))
    async with ctx.read() as session:
        dialect = session.get_bind().dialect.name
        query = (
            _by_location(stats_filter, dimensions, dialect)
            if StatsDimension.LOCATION in dimensions
            else (_by_order(stats_filter, dimensions, dialect))
        )
        # The statements are SQLAlchemy selects (sqlmodel.select has no overload for a varying number of
        # columns). sqlmodel's exec() runs them like its own, but its overloads accept only sqlmodel's Select.
        groups = [_group(row, dimensions) for row in (await session.exec(query)).all()]  # type: ignore[call-overload]
        if StatsDimension.LOCATION in dimensions:  # a split order sits in several groups: count it once here
            totals = [
                StatsTotal(row.currency, row.order_count, row.unit_count, row.revenue_minor)
                for row in (await session.exec(_by_order(stats_filter, [], dialect))).all()  # type: ignore[call-overload]
            ]
        else:
            totals = _totals(groups)
    return OrderStats(groups, totals)


def _day(dialect: str) -> sa.ColumnElement:
    if dialect == "postgresql":
        return sa.func.date(sa.func.timezone("UTC", Order.placed_at))
    return sa.func.date(Order.placed_at)  # SQLite keeps naive UTC text


def _dimension_columns(dimensions: list[StatsDimension], dialect: str) -> list[sa.ColumnElement]:
    columns = {
        StatsDimension.DAY: _day(dialect).label("day"),
        StatsDimension.STATUS: col(Order.status).label("status"),
        StatsDimension.CHANNEL: col(Order.channel).label("channel"),
        StatsDimension.MARKET: col(Order.market_code).label("market_code"),
    }
    return [columns[d] for d in dimensions if d in columns]


def _where(stats_filter: StatsFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if stats_filter.placed_after is not None:
        conditions.append(col(Order.placed_at) >= stats_filter.placed_after)
    if stats_filter.placed_before is not None:
        conditions.append(col(Order.placed_at) < stats_filter.placed_before)
    if stats_filter.statuses:
        conditions.append(col(Order.status).in_(stats_filter.statuses))
    if stats_filter.channels:
        conditions.append(col(Order.channel).in_(stats_filter.channels))
    if stats_filter.currencies:
        conditions.append(col(Order.currency).in_({c.strip().upper() for c in stats_filter.currencies}))
    if stats_filter.markets:
        conditions.append(col(Order.market_code).in_({m.strip().upper() for m in stats_filter.markets}))
    return conditions


def _by_order(stats_filter: StatsFilter, dimensions: list[StatsDimension], dialect: str) -> sa.Select:
    """One row per order (its open units summed from its lines), grouped by the dimensions and currency."""
    keys = _dimension_columns(dimensions, dialect)
    net = (col(Order.total_minor) - col(Order.cancelled_minor)).label("net")
    per_order = (
        sa.select(
            *keys,
            col(Order.currency),
            net,
            sa.func.sum(col(OrderLine.quantity) - col(OrderLine.quantity_cancelled)).label("units"),
        )
        .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
        .where(*_where(stats_filter))
        .group_by(col(Order.id), *keys, col(Order.currency), col(Order.total_minor), col(Order.cancelled_minor))
        .subquery()
    )
    outer_keys = [per_order.c[key.name] for key in keys]
    return (
        sa.select(
            *outer_keys,
            per_order.c.currency,
            sa.func.count().label("order_count"),
            sa.func.sum(per_order.c.units).label("unit_count"),
            sa.func.sum(per_order.c.net).label("revenue_minor"),
        )
        .group_by(*outer_keys, per_order.c.currency)
        .order_by(*outer_keys, per_order.c.currency)
    )


def _by_location(stats_filter: StatsFilter, dimensions: list[StatsDimension], dialect: str) -> sa.Select:
    """One row per order and fulfilling location (the value and units of its lines there), then each
    order's net revenue shared out by that value, grouped by the dimensions, location and currency."""
    keys = _dimension_columns(dimensions, dialect)
    per_location = (
        sa.select(
            col(Order.id).label("order_id"),
            *keys,
            col(FulfillmentOrder.location_id),
            col(Order.currency),
            (col(Order.total_minor) - col(Order.cancelled_minor)).label("net"),
            sa.func.sum(col(FulfillmentOrderLine.quantity) * col(OrderLine.unit_price_minor)).label("value"),
            sa.func.sum(col(FulfillmentOrderLine.quantity)).label("units"),
        )
        .join(FulfillmentOrder, col(FulfillmentOrder.order_id) == col(Order.id))
        .join(FulfillmentOrderLine, col(FulfillmentOrderLine.fulfillment_order_id) == col(FulfillmentOrder.id))
        .join(OrderLine, col(OrderLine.id) == col(FulfillmentOrderLine.order_line_id))
        .where(*_where(stats_filter), col(FulfillmentOrder.status) != FulfillmentOrderStatus.CANCELLED)
        .group_by(
            col(Order.id),
            *keys,
            col(FulfillmentOrder.location_id),
            col(Order.currency),
            col(Order.total_minor),
            col(Order.cancelled_minor),
        )
        .subquery()
    )
    order_value = sa.func.sum(per_location.c.value).over(partition_by=per_location.c.order_id)
    shared = sa.select(per_location, order_value.label("order_value")).subquery()
    # net × value / order value, rounded half-up in integers (exact on both databases)
    revenue_share = sa.case(
        (shared.c.order_value == 0, 0),
        else_=(2 * shared.c.net * shared.c.value + shared.c.order_value) / (2 * shared.c.order_value),
    )
    outer_keys = [shared.c[key.name] for key in keys]
    return (
        sa.select(
            *outer_keys,
            shared.c.location_id,
            shared.c.currency,
            sa.func.count().label("order_count"),
            sa.func.sum(shared.c.units).label("unit_count"),
            sa.func.sum(revenue_share).label("revenue_minor"),
        )
        .group_by(*outer_keys, shared.c.location_id, shared.c.currency)
        .order_by(*outer_keys, shared.c.location_id, shared.c.currency)
    )


def _group(row: sa.Row, dimensions: list[StatsDimension]) -> StatsGroup:
    values = row._mapping
    day = values.get("day")
    return StatsGroup(
        day=date.fromisoformat(day) if isinstance(day, str) else day,
        status=OrderStatus(values["status"]) if "status" in values else None,
        channel=Channel(values["channel"]) if "channel" in values else None,
        location_id=values.get("location_id"),
        currency=values["currency"],
        order_count=int(values["order_count"]),
        unit_count=int(values["unit_count"] or 0),
        revenue_minor=int(values["revenue_minor"] or 0),
        market_code=values.get("market_code"),
    )


def _totals(groups: list[StatsGroup]) -> list[StatsTotal]:
    by_currency: dict[str, list[int]] = {}
    for group in groups:
        total = by_currency.setdefault(group.currency, [0, 0, 0])
        total[0] += group.order_count
        total[1] += group.unit_count
        total[2] += group.revenue_minor
    return [StatsTotal(currency, *values) for currency, values in sorted(by_currency.items())]
