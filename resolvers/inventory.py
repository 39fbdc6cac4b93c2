"""Stock positions across locations: reading them, and agents' adjustments."""

from sqlmodel import col, select

from ordergraph.models import InventoryAdjustment, InventoryLevel, Location, Product
from ordergraph.models.columns import utcnow
from ordergraph.models.enums import ActorKind
from ordergraph.resolvers.access import require_agent, require_staff
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.events import change
from ordergraph.resolvers.pagination import Connection, Sort, page_size

INVENTORY_SORT = Sort("inventory", ("id",), descending=False)


async def list_inventory_levels(ctx: RequestContext, *, first: int | None, after: str | None) -> Connection:
    require_staff(ctx.viewer)
    size = page_size(first, ctx.max_page_size)
    cursor = INVENTORY_SORT.decode(after, (int,))
    query = select(InventoryLevel)
    if cursor is not None:
        query = query.where(InventoryLevel.id > cursor[0])
    async with ctx.read() as session:
        rows = list((await session.exec(query.order_by(col(InventoryLevel.id)).limit(size + 1))).all())
    return Connection(rows[:size], INVENTORY_SORT, len(rows) > size, cursor is not None)


MAX_ADJUSTMENT = 1_000_000


async def adjust_inventory(
    ctx: RequestContext, *, sku: str, location_id: int, delta: int, reason: str
) -> InventoryLevel:
    """A store count or an ERP sync moves on-hand stock by `delta`, kept in the inventory ledger with its
    reason. On-hand never drops below what is reserved for orders (BELOW_RESERVED)."""
    viewer = require_agent(ctx.viewer, "adjust inventory")
    reason = reason.strip()
    if delta == 0 or abs(delta) > MAX_ADJUSTMENT:
        raise Refusal("INVALID_QUANTITY", f"delta must be non-zero and at most {MAX_ADJUSTMENT} either way.", ["delta"])
    if not reason:
        raise Refusal("INVALID_INPUT", "Say why the stock changes.", ["reason"])
    async with change(ctx.write) as session:
        if await session.get(Product, sku) is None:
            raise Refusal("NOT_FOUND", f"No product with SKU {sku}.", ["sku"])
        if await session.get(Location, location_id) is None:
            raise Refusal("NOT_FOUND", "No such location.", ["locationId"])
        level = (
            await session.exec(
                select(InventoryLevel)
                .where(InventoryLevel.sku == sku, InventoryLevel.location_id == location_id)
                .with_for_update()
            )
        ).first()
        if level is None:
            level = InventoryLevel(sku=sku, location_id=location_id)
        if level.on_hand + delta < level.reserved:
            raise Refusal(
                "BELOW_RESERVED",
                f"{level.reserved} units of {sku} are reserved there; on-hand cannot go below that"
                f" (it is {level.on_hand}).",
                ["delta"],
            )
        level.on_hand += delta
        level.updated_at = utcnow()
        session.add(level)
        session.add(
            InventoryAdjustment(
                sku=sku,
                location_id=location_id,
                on_hand_delta=delta,
                reason=reason,
                actor_kind=ActorKind.AGENT,
                actor_name=viewer.name,
            )
        )
    return level
