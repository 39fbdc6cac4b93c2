"""Per-request batch loaders: one per relation, each a single SQL statement per batch."""

from collections import defaultdict
from collections.abc import Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from aiodataloader import DataLoader
from sqlmodel import col, select

from ordergraph.loaders.base import (
    LoaderStatement,
    Page,
    PageKey,
    ReadConnection,
    ReadSession,
    as_models,
    contains_text,
    pages_by_parent,
    read_rows,
    rows_by_key,
    rows_by_parent,
    select_rows,
)
from ordergraph.models import (
    Company,
    CompanyBuyer,
    CompanyLocation,
    Customer,
    CustomerAddress,
    DeliveryMethod,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryLevel,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    JournalLine,
    Location,
    LocationClosure,
    LocationOpeningHours,
    Market,
    MarketCountry,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PickupPoint,
    PostalCode,
    PriceList,
    PriceListEntry,
    Product,
    ProductPrice,
    Return,
    ReturnLine,
    Shipment,
    ShipmentEvent,
)
from ordergraph.models.database import Database
from ordergraph.models.enums import EventVisibility

__all__ = [
    "EVENTS_IN_SHIPMENT",
    "LINES_IN_ORDER",
    "RETURNS_IN_ORDER",
    "SHIPMENTS_IN_ORDER",
    "CustomerOrderStats",
    "Loaders",
    "Page",
    "PageKey",
    "as_models",
    "contains_text",
    "select_rows",
]

CUSTOMER_VISIBLE = "customer-visible"
# The order of an order's lines and of its shipments wherever they are listed (the graph, bulk exports).
LINES_IN_ORDER = (OrderLine.line_number,)
SHIPMENTS_IN_ORDER = (Shipment.shipped_at, Shipment.id)
EVENTS_IN_SHIPMENT = (ShipmentEvent.occurred_at, ShipmentEvent.id)
RETURNS_IN_ORDER = (Return.requested_at, Return.id)


def _events_visible_to(variant: Hashable) -> list[sa.ColumnElement[bool]]:
    return [col(OrderEvent.visibility) == EventVisibility.CUSTOMER] if variant == CUSTOMER_VISIBLE else []


def _sequenced(variant: Hashable) -> list[sa.ColumnElement[bool]]:
    return [col(OrderEvent.sequence).is_not(None), *_events_visible_to(variant)]


def _order_stats() -> LoaderStatement:
    """Orders and net value (totals less cancellations and refunds) by customer and currency."""
    net = col(Order.total_minor) - col(Order.cancelled_minor) - col(Order.refunded_minor)
    return LoaderStatement(
        sa.select(col(Order.customer_id), col(Order.currency), sa.func.count(), sa.func.sum(net))
        .where(col(Order.customer_id).in_(sa.bindparam("customers", expanding=True)))
        .group_by(col(Order.customer_id), col(Order.currency))
    )


_ORDER_STATS = _order_stats()


@dataclass(frozen=True, slots=True)
class CustomerOrderStats:
    order_count: int
    # Net value (totals less cancellations and refunds) by currency.
    net_minor_by_currency: dict[str, int]


class Loaders:
    """A request's loaders, each built on first use (a request reads through a few of these ~50: building them all
    cost about a tenth of a small query's time, #20). Each is a batch loader of one relation, built inside the
    request because aiodataloader binds the running event loop."""

    def __init__(self, db: Database, *, batch: bool = True) -> None:
        self.database = db
        self._read = db.read  # the loaders with a statement of their own
        self._connect = db.read_connection  # rows_by_key, rows_by_parent, pages_by_parent
        self._batch = batch

    @cached_property
    def customer(self) -> DataLoader:
        return rows_by_key(self._connect, Customer, Customer.id, batch=self._batch)

    @cached_property
    def order(self) -> DataLoader:
        return rows_by_key(self._connect, Order, Order.id, batch=self._batch)

    @cached_property
    def order_line(self) -> DataLoader:
        return rows_by_key(self._connect, OrderLine, OrderLine.id, batch=self._batch)

    @cached_property
    def shipment(self) -> DataLoader:
        return rows_by_key(self._connect, Shipment, Shipment.id, batch=self._batch)

    @cached_property
    def return_(self) -> DataLoader:
        return rows_by_key(self._connect, Return, Return.id, batch=self._batch)

    @cached_property
    def payment(self) -> DataLoader:
        return rows_by_key(self._connect, Payment, Payment.id, batch=self._batch)

    @cached_property
    def fulfillment_order(self) -> DataLoader:
        return rows_by_key(self._connect, FulfillmentOrder, FulfillmentOrder.id, batch=self._batch)

    @cached_property
    def location(self) -> DataLoader:
        return rows_by_key(self._connect, Location, Location.id, batch=self._batch)

    @cached_property
    def delivery_method(self) -> DataLoader:
        return rows_by_key(self._connect, DeliveryMethod, DeliveryMethod.code, batch=self._batch)

    @cached_property
    def product(self) -> DataLoader:
        return rows_by_key(self._connect, Product, Product.sku, batch=self._batch)

    @cached_property
    def postal_code(self) -> DataLoader:
        return rows_by_key(self._connect, PostalCode, PostalCode.code, batch=self._batch)

    @cached_property
    def market(self) -> DataLoader:
        return rows_by_key(self._connect, Market, Market.code, batch=self._batch)

    @cached_property
    def pickup_point(self) -> DataLoader:
        return rows_by_key(self._connect, PickupPoint, PickupPoint.id, batch=self._batch)

    @cached_property
    def product_prices_by_sku(self) -> DataLoader:
        return rows_by_parent(
            self._connect, ProductPrice, ProductPrice.sku, [ProductPrice.market_code], batch=self._batch
        )

    @cached_property
    def countries_by_market(self) -> DataLoader:
        return rows_by_parent(
            self._connect, MarketCountry, MarketCountry.market_code, [MarketCountry.country], batch=self._batch
        )

    @cached_property
    def default_market(self) -> DataLoader[Hashable, Market | None]:
        return DataLoader(batch_load_fn=self._default_market(self._read), batch=self._batch)

    @cached_property
    def markets(self) -> DataLoader[Hashable, list[Market]]:
        return DataLoader(batch_load_fn=self._all_markets(self._read), batch=self._batch)

    @cached_property
    def addresses_by_customer(self) -> DataLoader:
        return rows_by_parent(
            self._connect, CustomerAddress, CustomerAddress.customer_id, [CustomerAddress.position], batch=self._batch
        )

    @cached_property
    def lines_by_order(self) -> DataLoader:
        return rows_by_parent(self._connect, OrderLine, OrderLine.order_id, LINES_IN_ORDER, batch=self._batch)

    @cached_property
    def shipments_by_order(self) -> DataLoader:
        return rows_by_parent(self._connect, Shipment, Shipment.order_id, SHIPMENTS_IN_ORDER, batch=self._batch)

    @cached_property
    def events_by_shipment(self) -> DataLoader:
        return rows_by_parent(
            self._connect,
            ShipmentEvent,
            ShipmentEvent.shipment_id,
            EVENTS_IN_SHIPMENT,
            batch=self._batch,
        )

    @cached_property
    def returns_by_order(self) -> DataLoader:
        return rows_by_parent(self._connect, Return, Return.order_id, RETURNS_IN_ORDER, batch=self._batch)

    @cached_property
    def lines_by_return(self) -> DataLoader:
        return rows_by_parent(self._connect, ReturnLine, ReturnLine.return_id, [ReturnLine.id], batch=self._batch)

    @cached_property
    def payments_by_order(self) -> DataLoader:
        return rows_by_parent(self._connect, Payment, Payment.order_id, [Payment.id], batch=self._batch)

    @cached_property
    def fulfillment_orders_by_order(self) -> DataLoader:
        return rows_by_parent(
            self._connect, FulfillmentOrder, FulfillmentOrder.order_id, [FulfillmentOrder.id], batch=self._batch
        )

    @cached_property
    def lines_by_fulfillment_order(self) -> DataLoader:
        return rows_by_parent(
            self._connect,
            FulfillmentOrderLine,
            FulfillmentOrderLine.fulfillment_order_id,
            [FulfillmentOrderLine.id],
            batch=self._batch,
        )

    # Invoices and credit notes (#17): an order's documents in issue order, their lines, the credit notes
    # correcting an invoice, and a journal entry's lines.
    @cached_property
    def document(self) -> DataLoader:
        return rows_by_key(self._connect, Invoice, Invoice.id, batch=self._batch)

    @cached_property
    def documents_by_order(self) -> DataLoader:
        return rows_by_parent(self._connect, Invoice, Invoice.order_id, [Invoice.id], batch=self._batch)

    @cached_property
    def lines_by_document(self) -> DataLoader:
        return rows_by_parent(
            self._connect, InvoiceLine, InvoiceLine.invoice_id, [InvoiceLine.position], batch=self._batch
        )

    @cached_property
    def credit_notes_by_invoice(self) -> DataLoader:
        return rows_by_parent(self._connect, Invoice, Invoice.corrects_invoice_id, [Invoice.id], batch=self._batch)

    @cached_property
    def lines_by_journal_entry(self) -> DataLoader:
        return rows_by_parent(
            self._connect, JournalLine, JournalLine.entry_id, [JournalLine.position], batch=self._batch
        )

    @cached_property
    def inventory_by_sku(self) -> DataLoader:
        return rows_by_parent(
            self._connect, InventoryLevel, InventoryLevel.sku, [InventoryLevel.location_id], batch=self._batch
        )

    @cached_property
    def opening_hours_by_location(self) -> DataLoader:
        return rows_by_parent(
            self._connect,
            LocationOpeningHours,
            LocationOpeningHours.location_id,
            [LocationOpeningHours.weekday, LocationOpeningHours.opens],
            batch=self._batch,
        )

    @cached_property
    def closures_by_location(self) -> DataLoader:
        return rows_by_parent(
            self._connect, LocationClosure, LocationClosure.location_id, [LocationClosure.closed_on], batch=self._batch
        )

    # A location's stock levels (Location.inventoryLevels): the pages of a list of locations in one statement.
    @cached_property
    def inventory_page_by_location(self) -> DataLoader:
        return pages_by_parent(
            self._connect,
            InventoryLevel,
            InventoryLevel.location_id,
            [InventoryLevel.id],
            descending=False,
            batch=self._batch,
        )

    @cached_property
    def orders_page_by_customer(self) -> DataLoader:
        return pages_by_parent(
            self._connect, Order, Order.customer_id, [Order.placed_at, Order.id], descending=True, batch=self._batch
        )

    # An order's timeline reads oldest first; a customer's activity newest first.
    @cached_property
    def timeline_page_by_order(self) -> DataLoader:
        return pages_by_parent(
            self._connect,
            OrderEvent,
            OrderEvent.order_id,
            [OrderEvent.sequence],
            descending=False,
            where=_sequenced,
            batch=self._batch,
        )

    @cached_property
    def activity_page_by_customer(self) -> DataLoader:
        return pages_by_parent(
            self._connect,
            OrderEvent,
            OrderEvent.customer_id,
            [OrderEvent.sequence],
            descending=True,
            where=_sequenced,
            batch=self._batch,
        )

    @cached_property
    def order_stats_by_customer(self) -> DataLoader[int, CustomerOrderStats]:
        return DataLoader(batch_load_fn=self._order_stats_by_customer(self._connect), batch=self._batch)

    @cached_property
    def delivery_methods(self) -> DataLoader[Hashable, list[DeliveryMethod]]:
        return DataLoader(batch_load_fn=self._all_delivery_methods(self._read), batch=self._batch)

    @cached_property
    def company(self) -> DataLoader:
        return rows_by_key(self._connect, Company, Company.id, batch=self._batch)

    @cached_property
    def company_buyer(self) -> DataLoader:
        return rows_by_key(self._connect, CompanyBuyer, CompanyBuyer.customer_id, batch=self._batch)

    @cached_property
    def company_location(self) -> DataLoader:
        return rows_by_key(self._connect, CompanyLocation, CompanyLocation.id, batch=self._batch)

    @cached_property
    def locations_by_company(self) -> DataLoader:
        return rows_by_parent(
            self._connect, CompanyLocation, CompanyLocation.company_id, [CompanyLocation.id], batch=self._batch
        )

    @cached_property
    def buyers_by_company(self) -> DataLoader:
        return rows_by_parent(
            self._connect,
            CompanyBuyer,
            CompanyBuyer.company_id,
            [CompanyBuyer.created_at, CompanyBuyer.customer_id],
            batch=self._batch,
        )

    @cached_property
    def price_list(self) -> DataLoader:
        return rows_by_key(self._connect, PriceList, PriceList.id, batch=self._batch)

    @cached_property
    def entries_by_price_list(self) -> DataLoader:
        return rows_by_parent(
            self._connect, PriceListEntry, PriceListEntry.price_list_id, [PriceListEntry.sku], batch=self._batch
        )

    # A company's orders, newest first, and how many (for staff, and its admins and approvers).
    @cached_property
    def orders_page_by_company(self) -> DataLoader:
        return pages_by_parent(
            self._connect, Order, Order.company_id, [Order.placed_at, Order.id], descending=True, batch=self._batch
        )

    @cached_property
    def order_count_by_company(self) -> DataLoader[int, int]:
        return DataLoader(batch_load_fn=self._company_order_counts(self._read), batch=self._batch)

    @cached_property
    def payments_by_invoice(self) -> DataLoader:
        return rows_by_parent(
            self._connect,
            InvoicePayment,
            InvoicePayment.invoice_id,
            [InvoicePayment.received_at, InvoicePayment.id],
            batch=self._batch,
        )

    @staticmethod
    def _company_order_counts(
        read: ReadSession,
    ) -> Callable[[Sequence[int]], Coroutine[Any, Any, list[int]]]:
        """Orders per company (the count of Company.orders)."""

        async def batch(company_ids: Sequence[int]) -> list[int]:
            query = (
                select(Order.company_id, sa.func.count())
                .where(col(Order.company_id).in_(set(company_ids)))
                .group_by(col(Order.company_id))
            )
            async with read() as session:
                counts = dict((await session.exec(query)).all())
            return [counts.get(company_id, 0) for company_id in company_ids]

        return batch

    @staticmethod
    def _order_stats_by_customer(
        connect: ReadConnection,
    ) -> Callable[[Sequence[int]], Coroutine[Any, Any, list[CustomerOrderStats]]]:
        async def batch(customer_ids: Sequence[int]) -> list[CustomerOrderStats]:
            rows = await read_rows(connect, _ORDER_STATS, {"customers": list(set(customer_ids))})
            counts: dict[int, int] = defaultdict(int)
            nets: dict[int, dict[str, int]] = defaultdict(dict)
            for customer_id, currency, count, total in rows:
                counts[customer_id] += count
                nets[customer_id][currency] = int(total or 0)
            return [CustomerOrderStats(counts[c], nets[c]) for c in customer_ids]

        return batch

    @staticmethod
    def _all_delivery_methods(
        read: ReadSession,
    ) -> Callable[[Sequence[Hashable]], Coroutine[Any, Any, list[list[DeliveryMethod]]]]:
        """The catalogue of delivery methods (keyed by a constant: it is one small table)."""

        async def batch(keys: Sequence[Hashable]) -> list[list[DeliveryMethod]]:
            async with read() as session:
                methods = list(
                    (await session.exec(select(DeliveryMethod).order_by(col(DeliveryMethod.position)))).all()
                )
            return [methods for _ in keys]

        return batch

    @staticmethod
    def _default_market(
        read: ReadSession,
    ) -> Callable[[Sequence[Hashable]], Coroutine[Any, Any, list[Market | None]]]:
        """The default market (key "default"): the one whose currency a shop without a destination shows."""

        async def batch(keys: Sequence[Hashable]) -> list[Market | None]:
            async with read() as session:
                market = (await session.exec(select(Market).where(col(Market.is_default)))).first()
            return [market for _ in keys]

        return batch

    @staticmethod
    def _all_markets(
        read: ReadSession,
    ) -> Callable[[Sequence[Hashable]], Coroutine[Any, Any, list[list[Market]]]]:
        """Every market in display order (keyed by a constant: it is one small table)."""

        async def batch(keys: Sequence[Hashable]) -> list[list[Market]]:
            async with read() as session:
                markets = list((await session.exec(select(Market).order_by(col(Market.position)))).all())
            return [markets for _ in keys]

        return batch
