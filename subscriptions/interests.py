"""What a live subscriber wants from the event log: a test on each live event, and the same test in SQL
for replaying from the database. Authorisation has been decided before an interest is made."""

from dataclasses import dataclass

import sqlalchemy as sa

from ordergraph.loaders import Loaders
from ordergraph.models import Order, OrderEvent
from ordergraph.models.enums import EventVisibility, OrderStatus
from ordergraph.resolvers.companies import SEES_COMPANY_ORDERS


@dataclass(frozen=True, slots=True)
class CustomerOrders:
    """A customer's own orders, CUSTOMER-visible events only (`myOrderUpdates`)."""

    customer_id: int

    def matches(self, event: OrderEvent) -> bool:
        return (
            event.customer_id == self.customer_id
            and event.order_id is not None
            and event.visibility is EventVisibility.CUSTOMER
        )

    def where(self) -> list[sa.ColumnElement[bool]]:
        return [
            OrderEvent.customer_id == self.customer_id,
            OrderEvent.order_id.is_not(None),
            OrderEvent.visibility == EventVisibility.CUSTOMER,
        ]

    async def admits(self, event: OrderEvent, loaders: Loaders) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class OneOrder:
    """One order's events (`orderUpdated`); its owner sees the CUSTOMER-visible ones only."""

    order_id: int
    customer_visible_only: bool

    def matches(self, event: OrderEvent) -> bool:
        return event.order_id == self.order_id and (
            not self.customer_visible_only or event.visibility is EventVisibility.CUSTOMER
        )

    def where(self) -> list[sa.ColumnElement[bool]]:
        visible = [OrderEvent.visibility == EventVisibility.CUSTOMER] if self.customer_visible_only else []
        return [OrderEvent.order_id == self.order_id, *visible]

    async def admits(self, event: OrderEvent, loaders: Loaders) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class AllOrders:
    """Every event, for agents (`orderEvents`), optionally of some types, of one customer, or of orders now in
    some statuses. The status is the order's when the event is delivered, so it is checked with that event's
    loaders (`admits`), not on the wire."""

    types: frozenset[str] = frozenset()
    customer_id: int | None = None
    statuses: frozenset[OrderStatus] = frozenset()

    def matches(self, event: OrderEvent) -> bool:
        return (not self.types or event.type in self.types) and (
            self.customer_id is None or event.customer_id == self.customer_id
        )

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses = []
        if self.types:
            clauses.append(OrderEvent.type.in_(self.types))
        if self.customer_id is not None:
            clauses.append(OrderEvent.customer_id == self.customer_id)
        if self.statuses:
            clauses.append(OrderEvent.order_id.in_(sa.select(Order.id).where(Order.status.in_(self.statuses))))
        return clauses

    async def admits(self, event: OrderEvent, loaders: Loaders) -> bool:
        if not self.statuses:
            return True
        order = await loaders.order.load(event.order_id) if event.order_id is not None else None
        return order is not None and order.status in self.statuses


@dataclass(frozen=True, slots=True)
class CompanyOrders:
    """A company admin's or approver's `myOrderUpdates` (#21): their own orders and every order of their company,
    CUSTOMER-visible events only. The membership is checked again for each event (`admits`), so a buyer unlinked
    or made a plain BUYER stops getting the company's orders' events at once (their own keep coming)."""

    customer_id: int
    company_id: int

    def matches(self, event: OrderEvent) -> bool:
        return event.order_id is not None and event.visibility is EventVisibility.CUSTOMER

    def where(self) -> list[sa.ColumnElement[bool]]:
        company_orders = sa.select(Order.id).where(Order.company_id == self.company_id)
        return [
            OrderEvent.order_id.is_not(None),
            OrderEvent.visibility == EventVisibility.CUSTOMER,
            sa.or_(OrderEvent.customer_id == self.customer_id, OrderEvent.order_id.in_(company_orders)),
        ]

    async def admits(self, event: OrderEvent, loaders: Loaders) -> bool:
        if event.customer_id == self.customer_id:
            return True
        order = await loaders.order.load(event.order_id) if event.order_id is not None else None
        if order is None or order.company_id != self.company_id:
            return False
        member = await loaders.company_buyer.load(self.customer_id)
        return member is not None and member.company_id == self.company_id and member.role in SEES_COMPANY_ORDERS


Interest = CustomerOrders | OneOrder | AllOrders | CompanyOrders
