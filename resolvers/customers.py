"""Reading customers: the signed-in customer, the agents' search, a customer's activity."""

import sqlalchemy as sa
from sqlmodel import col, select

from ordergraph.loaders import CUSTOMER_VISIBLE, PageKey, contains_text
from ordergraph.models import Customer
from ordergraph.models.columns import id_of
from ordergraph.resolvers.access import may_match_personal_data, require_authenticated, require_staff
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.pagination import Connection, Sort, page_size

CUSTOMERS_SORT = Sort("customers", ("id",), descending=False)
ACTIVITY_SORT = Sort("activity", ("sequence",), descending=True)


async def me(ctx: RequestContext) -> Customer | None:
    """The signed-in customer; agents and analysts are not customers."""
    viewer = require_authenticated(ctx.viewer)
    if viewer.customer_id is None:
        return None
    return await ctx.loaders.customer.load(viewer.customer_id)


async def search_customers(
    ctx: RequestContext, *, search: str | None, first: int | None, after: str | None
) -> Connection:
    """Agents search by name, email or phone (as literal text); analysts may list customers but not search them,
    since a match on a masked field would unmask it (resolvers.access.may_match_personal_data)."""
    viewer = require_staff(ctx.viewer)
    if search:
        may_match_personal_data(viewer, search.strip(), identifiers=None)  # refuses analysts
    size = page_size(first, ctx.max_page_size)
    cursor = CUSTOMERS_SORT.decode(after, (int,))
    query = select(Customer)
    if search:
        term = search.strip()
        query = query.where(
            sa.or_(
                contains_text(col(Customer.name), term),
                contains_text(col(Customer.email), term),
                contains_text(col(Customer.phone), term),
            )
        )
    if cursor is not None:
        query = query.where(Customer.id > cursor[0])
    async with ctx.read() as session:
        rows = list((await session.exec(query.order_by(col(Customer.id)).limit(size + 1))).all())
    return Connection(rows[:size], CUSTOMERS_SORT, len(rows) > size, cursor is not None)


async def customer_activity(
    ctx: RequestContext, customer: Customer, *, first: int | None, after: str | None
) -> Connection:
    """Everything that happened to the customer and their orders, newest first."""
    size = page_size(first, ctx.max_page_size)
    cursor = ACTIVITY_SORT.decode(after, (int,))
    variant = None if ctx.viewer.sees_internal_events else CUSTOMER_VISIBLE
    page = await ctx.loaders.activity_page_by_customer.load(PageKey(id_of(customer), size, cursor, variant))
    return Connection(page.rows, ACTIVITY_SORT, page.has_next_page, cursor is not None)
