from datetime import datetime

import strawberry

from ordergraph.models import enums
from ordergraph.resolvers import catalog, customers, inventory, markets, node, orders, stats
from ordergraph.schema.bulk_exports import BulkExportQueries
from ordergraph.schema.catalog import Product
from ordergraph.schema.common import Connection
from ordergraph.schema.companies import CompanyQueries
from ordergraph.schema.company_orders import CompanyOrderQueries
from ordergraph.schema.compiled import orders_as_rows
from ordergraph.schema.customer import Customer
from ordergraph.schema.customer_changes import CustomerQueries
from ordergraph.schema.enums import Channel, OrderSortField, OrderStatus, SortDirection
from ordergraph.schema.info import Info
from ordergraph.schema.invoices import InvoiceQueries
from ordergraph.schema.location import InventoryLevel
from ordergraph.schema.market import Market
from ordergraph.schema.node import Node, parse_global_id
from ordergraph.schema.notification_settings import NotificationQueries
from ordergraph.schema.order import OrderConnection
from ordergraph.schema.stats import OrderStats, OrderStatsFilter, OrderStatsGroupBy, order_stats_of
from ordergraph.schema.stock_in import InventoryLevelFilter, StockInQueries
from ordergraph.schema.store_finder import StoreFinderQueries
from ordergraph.schema.webhooks import WebhookQueries


@strawberry.input
class OrderFilter:
    search: str | None = None
    status: list[OrderStatus] | None = None
    channel: list[Channel] | None = None
    placed_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    placed_before: datetime | None = strawberry.field(default=None, description="Exclusive.")
    customer_id: strawberry.ID | None = None
    currency: list[str] | None = strawberry.field(default=None, description="ISO 4217 codes: only orders in these.")
    market: list[str] | None = strawberry.field(default=None, description="Market codes: only orders of these.")

    def to_domain(self) -> orders.OrderFilter:
        customer_id = parse_global_id(self.customer_id, "Customer")[1] if self.customer_id else None
        return orders.OrderFilter(
            search=self.search,
            statuses=[enums.OrderStatus(s) for s in self.status or []],
            channels=[enums.Channel(c) for c in self.channel or []],
            placed_after=self.placed_after,
            placed_before=self.placed_before,
            customer_id=customer_id,
            currencies=list(self.currency or []),
            markets=list(self.market or []),
        )


@strawberry.input
class OrderSort:
    field: OrderSortField
    direction: SortDirection


@strawberry.type
class Query(
    StoreFinderQueries,
    WebhookQueries,
    InvoiceQueries,
    CustomerQueries,
    StockInQueries,
    NotificationQueries,
    CompanyQueries,
    CompanyOrderQueries,
    BulkExportQueries,
):
    @strawberry.field(description="Any object the caller may see by its global ID; null for anything else.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = parse_global_id(id)
        return await node.resolve_node(info.context, type_name, pk)

    @strawberry.field(description="The signed-in customer; null for agents and analysts.")
    async def me(self, info: Info) -> Customer | None:
        return await customers.me(info.context)

    @strawberry.field(description="Public: no sign-in needed.")
    async def products(self, info: Info, skus: list[str]) -> list[Product]:
        return await catalog.products(info.context, skus)

    @strawberry.field(description="Where orders can go, by position. Public, like products.")
    async def markets(self, info: Info) -> list[Market]:
        return await markets.list_markets(info.context)

    @strawberry.field(description="Every order: agents and analysts.")
    async def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        sort: OrderSort | None = None,
    ) -> OrderConnection:
        sort = sort or OrderSort(field=OrderSortField.PLACED_AT, direction=SortDirection.DESC)
        return await orders.list_orders(
            info.context,
            order_filter=(filter or OrderFilter()).to_domain(),
            sort_field=orders.OrderSortField(sort.field.value),
            descending=sort.direction is SortDirection.DESC,
            first=first,
            after=after,
            keys_only=orders_as_rows(info),
        )

    @strawberry.field(
        description="Agents search by name, email or phone (however it is written); analysts may list but not search."
    )
    async def customers(
        self, info: Info, search: str | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Customer]:
        return await customers.search_customers(info.context, search=search, first=first, after=after)

    @strawberry.field(description="Stock per SKU per location: agents and analysts; `filter` narrows it.")
    async def inventory_levels(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: InventoryLevelFilter | None = None,
    ) -> Connection[InventoryLevel]:
        return await inventory.list_inventory_levels(
            info.context, first=first, after=after, levels=filter.to_domain() if filter else None
        )

    @strawberry.field(description="Aggregates over every order, per currency: agents and analysts.")
    async def order_stats(self, info: Info, filter: OrderStatsFilter, group_by: list[OrderStatsGroupBy]) -> OrderStats:
        result = await stats.order_stats(
            info.context, filter.to_domain(), [stats.StatsDimension(d.value) for d in group_by]
        )
        return order_stats_of(result)
