"""Per-request batch loaders: one per relation, each a single SQL statement per batch."""

from collections import defaultdict
from collections.abc import Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from aiodataloader import DataLoader
from sqlmodel import col, select

from ordergraph.loaders.base import (
    Page,
    PageKey,
    ReadSession,
    contains_text,
    pages_by_parent,
    rows_by_key,
    rows_by_parent,
)
from ordergraph.models import (
    Customer,
    CustomerAddress,
    DeliveryMethod,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryLevel,
    Invoice,
    InvoiceLine,
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
    Product,
    ProductPrice,
    Return,
    ReturnLine,
    Shipment,
    ShipmentEvent,
)
from ordergraph.models.enums import EventVisibility

__all__ = ["CustomerOrderStats", "Loaders", "Page", "PageKey", "contains_text"]

CUSTOMER_VISIBLE = "customer-visible"


def _events_visible_to(variant: Hashable) -> list[sa.ColumnElement[bool]]:
    return [col(OrderEvent.visibility) == EventVisibility.CUSTOMER] if variant == CUSTOMER_VISIBLE else []


def _sequenced(variant: Hashable) -> list[sa.ColumnElement[bool]]:
    return [col(OrderEvent.sequence).is_not(None), *_events_visible_to(variant)]


@dataclass(frozen=True, slots=True)
class CustomerOrderStats:
    order_count: int
    # Net value (totals less cancellations and refunds) by currency.
    net_minor_by_currency: dict[str, int]


class Loaders:
    def __init__(self, read: ReadSession, *, batch: bool = True) -> None:
        self.customer = rows_by_key(read, Customer, Customer.id, batch=batch)
        self.order = rows_by_key(read, Order, Order.id, batch=batch)
        self.order_line = rows_by_key(read, OrderLine, OrderLine.id, batch=batch)
        self.shipment = rows_by_key(read, Shipment, Shipment.id, batch=batch)
        self.return_ = rows_by_key(read, Return, Return.id, batch=batch)
        self.payment = rows_by_key(read, Payment, Payment.id, batch=batch)
        self.fulfillment_order = rows_by_key(read, FulfillmentOrder, FulfillmentOrder.id, batch=batch)
        self.location = rows_by_key(read, Location, Location.id, batch=batch)
        self.delivery_method = rows_by_key(read, DeliveryMethod, DeliveryMethod.code, batch=batch)
        self.product = rows_by_key(read, Product, Product.sku, batch=batch)
        self.postal_code = rows_by_key(read, PostalCode, PostalCode.code, batch=batch)
        self.market = rows_by_key(read, Market, Market.code, batch=batch)
        self.pickup_point = rows_by_key(read, PickupPoint, PickupPoint.id, batch=batch)
        self.product_prices_by_sku = rows_by_parent(
            read, ProductPrice, ProductPrice.sku, [ProductPrice.market_code], batch=batch
        )
        self.countries_by_market = rows_by_parent(
            read, MarketCountry, MarketCountry.market_code, [MarketCountry.country], batch=batch
        )
        self.default_market: DataLoader[Hashable, Market | None] = DataLoader(
            batch_load_fn=self._default_market(read), batch=batch
        )
        self.markets: DataLoader[Hashable, list[Market]] = DataLoader(
            batch_load_fn=self._all_markets(read), batch=batch
        )

        self.addresses_by_customer = rows_by_parent(
            read, CustomerAddress, CustomerAddress.customer_id, [CustomerAddress.position], batch=batch
        )
        self.lines_by_order = rows_by_parent(read, OrderLine, OrderLine.order_id, [OrderLine.line_number], batch=batch)
        self.shipments_by_order = rows_by_parent(
            read, Shipment, Shipment.order_id, [Shipment.shipped_at, Shipment.id], batch=batch
        )
        self.events_by_shipment = rows_by_parent(
            read, ShipmentEvent, ShipmentEvent.shipment_id, [ShipmentEvent.occurred_at, ShipmentEvent.id], batch=batch
        )
        self.returns_by_order = rows_by_parent(
            read, Return, Return.order_id, [Return.requested_at, Return.id], batch=batch
        )
        self.lines_by_return = rows_by_parent(read, ReturnLine, ReturnLine.return_id, [ReturnLine.id], batch=batch)
        self.payments_by_order = rows_by_parent(read, Payment, Payment.order_id, [Payment.id], batch=batch)
        self.fulfillment_orders_by_order = rows_by_parent(
            read, FulfillmentOrder, FulfillmentOrder.order_id, [FulfillmentOrder.id], batch=batch
        )
        self.lines_by_fulfillment_order = rows_by_parent(
            read,
            FulfillmentOrderLine,
            FulfillmentOrderLine.fulfillment_order_id,
            [FulfillmentOrderLine.id],
            batch=batch,
        )
        # Invoices and credit notes (#17): an order's documents in issue order, their lines, the credit notes
        # correcting an invoice, and a journal entry's lines.
        self.document = rows_by_key(read, Invoice, Invoice.id, batch=batch)
        self.documents_by_order = rows_by_parent(read, Invoice, Invoice.order_id, [Invoice.id], batch=batch)
        self.lines_by_document = rows_by_parent(
            read, InvoiceLine, InvoiceLine.invoice_id, [InvoiceLine.position], batch=batch
        )
        self.credit_notes_by_invoice = rows_by_parent(
            read, Invoice, Invoice.corrects_invoice_id, [Invoice.id], batch=batch
        )
        self.lines_by_journal_entry = rows_by_parent(
            read, JournalLine, JournalLine.entry_id, [JournalLine.position], batch=batch
        )
        self.inventory_by_sku = rows_by_parent(
            read, InventoryLevel, InventoryLevel.sku, [InventoryLevel.location_id], batch=batch
        )
        self.opening_hours_by_location = rows_by_parent(
            read,
            LocationOpeningHours,
            LocationOpeningHours.location_id,
            [LocationOpeningHours.weekday, LocationOpeningHours.opens],
            batch=batch,
        )
        self.closures_by_location = rows_by_parent(
            read, LocationClosure, LocationClosure.location_id, [LocationClosure.closed_on], batch=batch
        )

        self.orders_page_by_customer = pages_by_parent(
            read, Order, Order.customer_id, [Order.placed_at, Order.id], descending=True, batch=batch
        )
        # An order's timeline reads oldest first; a customer's activity newest first.
        self.timeline_page_by_order = pages_by_parent(
            read,
            OrderEvent,
            OrderEvent.order_id,
            [OrderEvent.sequence],
            descending=False,
            where=_sequenced,
            batch=batch,
        )
        self.activity_page_by_customer = pages_by_parent(
            read,
            OrderEvent,
            OrderEvent.customer_id,
            [OrderEvent.sequence],
            descending=True,
            where=_sequenced,
            batch=batch,
        )
        self.order_stats_by_customer: DataLoader[int, CustomerOrderStats] = DataLoader(
            batch_load_fn=self._order_stats_by_customer(read), batch=batch
        )
        self.delivery_methods: DataLoader[Hashable, list[DeliveryMethod]] = DataLoader(
            batch_load_fn=self._all_delivery_methods(read), batch=batch
        )
        # Business buyers (#21): companies, a customer's membership, a company's ship-to locations and buyers,
        # price lists and their prices.
        from ordergraph.models import Company, CompanyBuyer, CompanyLocation, PriceList, PriceListEntry

        self.company = rows_by_key(read, Company, Company.id, batch=batch)
        self.company_buyer = rows_by_key(read, CompanyBuyer, CompanyBuyer.customer_id, batch=batch)
        self.company_location = rows_by_key(read, CompanyLocation, CompanyLocation.id, batch=batch)
        self.locations_by_company = rows_by_parent(
            read, CompanyLocation, CompanyLocation.company_id, [CompanyLocation.id], batch=batch
        )
        self.buyers_by_company = rows_by_parent(
            read,
            CompanyBuyer,
            CompanyBuyer.company_id,
            [CompanyBuyer.created_at, CompanyBuyer.customer_id],
            batch=batch,
        )
        self.price_list = rows_by_key(read, PriceList, PriceList.id, batch=batch)
        self.entries_by_price_list = rows_by_parent(
            read, PriceListEntry, PriceListEntry.price_list_id, [PriceListEntry.sku], batch=batch
        )
        # A company's orders, newest first, and how many (for staff, and its admins and approvers).
        self.orders_page_by_company = pages_by_parent(
            read, Order, Order.company_id, [Order.placed_at, Order.id], descending=True, batch=batch
        )

        async def company_order_counts(company_ids: Sequence[int]) -> list[int]:
            query = (
                select(Order.company_id, sa.func.count())
                .where(col(Order.company_id).in_(set(company_ids)))
                .group_by(col(Order.company_id))
            )
            async with read() as session:
                counts = dict((await session.exec(query)).all())
            return [counts.get(company_id, 0) for company_id in company_ids]

        self.order_count_by_company: DataLoader[int, int] = DataLoader(batch_load_fn=company_order_counts, batch=batch)
        # Payments received against invoices on account (#21), oldest first.
        from ordergraph.models import InvoicePayment

        self.payments_by_invoice = rows_by_parent(
            read,
            InvoicePayment,
            InvoicePayment.invoice_id,
            [InvoicePayment.received_at, InvoicePayment.id],
            batch=batch,
        )

    @staticmethod
    def _order_stats_by_customer(
        read: ReadSession,
    ) -> Callable[[Sequence[int]], Coroutine[Any, Any, list[CustomerOrderStats]]]:
        async def batch(customer_ids: Sequence[int]) -> list[CustomerOrderStats]:
            net = col(Order.total_minor) - col(Order.cancelled_minor) - col(Order.refunded_minor)
            query = (
                select(Order.customer_id, Order.currency, sa.func.count(), sa.func.sum(net))
                .where(col(Order.customer_id).in_(set(customer_ids)))
                .group_by(col(Order.customer_id), col(Order.currency))
            )
            async with read() as session:
                rows = (await session.exec(query)).all()
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
