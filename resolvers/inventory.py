"""Reading stock positions across locations."""

from sqlmodel import select

from models import InventoryLevel
from resolvers.access import require_staff
from resolvers.context import RequestContext
from resolvers.pagination import Connection, Sort, page_size

INVENTORY_SORT = Sort("inventory", ("id",), descending=False)


async def list_inventory_levels(ctx: RequestContext, *, first: int | None, after: str | None) -> Connection:
    require_staff(ctx.viewer)
    size = page_size(first, ctx.max_page_size)
    cursor = INVENTORY_SORT.decode(after, (int,))
    query = select(InventoryLevel)
    if cursor is not None:
        query = query.where(InventoryLevel.id > cursor[0])
    async with ctx.read() as session:
        rows = list((await session.exec(query.order_by(InventoryLevel.id).limit(size + 1))).all())
    return Connection(rows[:size], INVENTORY_SORT, len(rows) > size, cursor is not None)
