"""orderStats: aggregates for BI tools, computed in the database (resolvers/stats.py)."""

from datetime import date, datetime

import strawberry

from ordergraph.models import enums
from ordergraph.resolvers import markets, stats
from ordergraph.schema.common import Money, money
from ordergraph.schema.enums import Channel, OrderStatus
from ordergraph.schema.info import Info
from ordergraph.schema.location import Location
from ordergraph.schema.market import Market

OrderStatsGroupBy = strawberry.enum(stats.StatsDimension, name="OrderStatsGroupBy")


@strawberry.input(description="placedAfter is inclusive, placedBefore exclusive.")
class OrderStatsFilter:
    placed_after: datetime | None = None
    placed_before: datetime | None = None
    status: list[OrderStatus] | None = None
    channel: list[Channel] | None = None
    currency: list[str] | None = strawberry.field(default=None, description="ISO 4217 codes: only orders in these.")
    market: list[str] | None = strawberry.field(default=None, description="Market codes: only orders of these.")

    def to_domain(self) -> stats.StatsFilter:
        return stats.StatsFilter(
            placed_after=self.placed_after,
            placed_before=self.placed_before,
            statuses=tuple(enums.OrderStatus(s) for s in self.status or []),
            channels=tuple(enums.Channel(c) for c in self.channel or []),
            currencies=tuple(self.currency or []),
            markets=tuple(self.market or []),
        )


@strawberry.type(
    description="A group's key fields are set for the dimensions grouped by and null otherwise. "
    "DAY is the UTC date of placedAt."
)
class OrderStatsGroup:
    day: date | None
    status: OrderStatus | None
    channel: Channel | None
    currency: str
    order_count: int
    unit_count: int

    @strawberry.field
    async def location(root: stats.StatsGroup, info: Info) -> Location | None:
        return await info.context.loaders.location.load(root.location_id) if root.location_id is not None else None

    @strawberry.field
    async def market(root: stats.StatsGroup, info: Info) -> Market | None:
        return await markets.market(info.context, root.market_code) if root.market_code is not None else None

    @strawberry.field
    def revenue(root: stats.StatsGroup) -> Money:
        return money(root.revenue_minor, root.currency)

    @strawberry.field
    def average_order_value(root: stats.StatsGroup) -> Money:
        return money(root.average_order_value_minor, root.currency)


@strawberry.type(description="The orders of one currency: revenue is never summed across currencies.")
class OrderStatsCurrencyTotal:
    currency: str
    order_count: int
    unit_count: int
    revenue: Money


@strawberry.type(
    description="orderCount and unitCount count across currencies (they are not money); revenue and byCurrency "
    "hold one entry per currency."
)
class OrderStatsTotals:
    order_count: int
    unit_count: int
    revenue: list[Money]
    by_currency: list[OrderStatsCurrencyTotal]


@strawberry.type
class OrderStats:
    groups: list[OrderStatsGroup]
    totals: OrderStatsTotals


def order_stats_of(result: stats.OrderStats) -> OrderStats:
    totals = OrderStatsTotals(
        order_count=sum(t.order_count for t in result.totals),
        unit_count=sum(t.unit_count for t in result.totals),
        revenue=[money(t.revenue_minor, t.currency) for t in result.totals],
        by_currency=[
            OrderStatsCurrencyTotal(
                currency=t.currency,
                order_count=t.order_count,
                unit_count=t.unit_count,
                revenue=money(t.revenue_minor, t.currency),
            )
            for t in result.totals
        ],
    )
    return OrderStats(groups=result.groups, totals=totals)
