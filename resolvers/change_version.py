"""A customer's change version: what the result cache (schema/result_cache.py) compares to know an entry fresh.

The version is (the customer's order_event rows, the shipment_event rows of the customer's orders), both
counted. Both tables are append-only, so every commit that adds rows raises a count, whatever order ids or
sequences commit in; the cache's module docstring audits which writes add them.

A third value says whether the customer buys for a company (#21): what a company's buyer sees also changes with
other people's writes (the company, its locations and buyers, colleagues' orders), which no count here follows, so
the cache never keeps a company buyer's results; and an entry kept before they joined is not served once they have.
"""

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from ordergraph.loaders.base import LoaderStatement, ReadConnection
from ordergraph.models import CompanyBuyer, Order, OrderEvent, Shipment, ShipmentEvent

Version = tuple[int, int, bool]


def _version_statement() -> sa.Select[Any]:
    """Built once (SQLAlchemy then reuses its compiled form): the customer is the `customer_id` parameter."""
    customer_id = sa.bindparam("customer_id", type_=sa.Integer())
    events = sa.select(sa.func.count()).select_from(OrderEvent).where(col(OrderEvent.customer_id) == customer_id)
    scans = (
        sa.select(sa.func.count())
        .select_from(ShipmentEvent)
        .join(Shipment, col(Shipment.id) == col(ShipmentEvent.shipment_id))
        .join(Order, col(Order.id) == col(Shipment.order_id))
        .where(col(Order.customer_id) == customer_id)
    )
    member = sa.exists().where(col(CompanyBuyer.customer_id) == customer_id)
    return sa.select(events.scalar_subquery(), scans.scalar_subquery(), member)


_VERSION = LoaderStatement(_version_statement())


async def customer_version(connect: ReadConnection, customer_id: int) -> Version:
    """The customer's order events and their orders' carrier events, counted in one statement (indexes:
    order_event (customer_id, sequence); orders (customer_id, …), shipment (order_id), shipment_event
    (shipment_id)), sent as the loaders send theirs (straight on asyncpg on PostgreSQL: it runs before every
    customer's query)."""
    async with connect() as connection:
        (row,) = await _VERSION.rows(connection, {"customer_id": customer_id})
    return row[0], row[1], bool(row[2])
