"""An order's timeline: its events in sequence order; customers see CUSTOMER-visible ones only."""

from ordergraph.loaders import CUSTOMER_VISIBLE, PageKey
from ordergraph.models import Order
from ordergraph.models.columns import id_of
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.pagination import Connection, Sort, page_size

TIMELINE_SORT = Sort("timeline", ("sequence",), descending=False)


async def order_timeline(ctx: RequestContext, order: Order, *, first: int | None, after: str | None) -> Connection:
    size = page_size(first, ctx.max_page_size)
    cursor = TIMELINE_SORT.decode(after, (int,))
    variant = None if ctx.viewer.sees_internal_events else CUSTOMER_VISIBLE
    page = await ctx.loaders.timeline_page_by_order.load(PageKey(id_of(order), size, cursor, variant))
    return Connection(page.rows, TIMELINE_SORT, page.has_next_page, cursor is not None)
