"""Stock positions across locations: reading them (filtered by SKU, location and thresholds), agents'
adjustments, and the replenishment thresholds of a level (safety stock, reorder point, maximum)."""

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ordergraph.loaders import PageKey
from ordergraph.models import InventoryAdjustment, InventoryLevel, Location, Product
from ordergraph.models.columns import utcnow
from ordergraph.models.enums import ActorKind
from ordergraph.resolvers.access import require_agent, require_staff
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.events import change
from ordergraph.resolvers.pagination import Connection, Sort, page_size

INVENTORY_SORT = Sort("inventory", ("id",), descending=False)


@dataclass(frozen=True, slots=True)
class InventoryFilter:
    skus: list[str] | None = None
    location_ids: list[int] | None = None
    below_reorder_point: bool | None = None  # position (on hand - reserved + incoming) at or below it
    over_maximum: bool | None = None  # on hand + incoming above it


def _filtered(query: SelectOfScalar[InventoryLevel], levels: InventoryFilter) -> SelectOfScalar[InventoryLevel]:
    position = col(InventoryLevel.on_hand) - col(InventoryLevel.reserved) + col(InventoryLevel.incoming)
    if levels.skus is not None:
        query = query.where(col(InventoryLevel.sku).in_(levels.skus))
    if levels.location_ids is not None:
        query = query.where(col(InventoryLevel.location_id).in_(levels.location_ids))
    if levels.below_reorder_point is not None:
        below = col(InventoryLevel.reorder_point).is_not(None) & (position <= col(InventoryLevel.reorder_point))
        query = query.where(below if levels.below_reorder_point else ~below)
    if levels.over_maximum is not None:
        over = col(InventoryLevel.maximum).is_not(None) & (
            col(InventoryLevel.on_hand) + col(InventoryLevel.incoming) > col(InventoryLevel.maximum)
        )
        query = query.where(over if levels.over_maximum else ~over)
    return query


async def list_inventory_levels(
    ctx: RequestContext, *, first: int | None, after: str | None, levels: InventoryFilter | None = None
) -> Connection:
    require_staff(ctx.viewer)
    size = page_size(first, ctx.max_page_size)
    cursor = INVENTORY_SORT.decode(after, (int,))
    query = _filtered(select(InventoryLevel), levels or InventoryFilter())
    if cursor is not None:
        query = query.where(InventoryLevel.id > cursor[0])
    async with ctx.read() as session:
        rows = list((await session.exec(query.order_by(col(InventoryLevel.id)).limit(size + 1))).all())
    return Connection(rows[:size], INVENTORY_SORT, len(rows) > size, cursor is not None)


async def location_inventory_levels(
    ctx: RequestContext, location_id: int, *, first: int | None, after: str | None
) -> Connection:
    """One location's stock levels, in the order and with the cursors of list_inventory_levels; the locations of a
    list read their pages together."""
    require_staff(ctx.viewer)
    size = page_size(first, ctx.max_page_size)
    cursor = INVENTORY_SORT.decode(after, (int,))
    page = await ctx.loaders.inventory_page_by_location.load(PageKey(location_id, size, cursor))
    return Connection(page.rows, INVENTORY_SORT, page.has_next_page, cursor is not None)


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
        level = await _locked_level(session, sku, location_id)
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


MAX_THRESHOLD = 10_000_000


async def set_thresholds(
    ctx: RequestContext,
    *,
    sku: str,
    location_id: int,
    safety_stock: int,
    reorder_point: int | None,
    maximum: int | None,
) -> InventoryLevel:
    """Replaces the level's thresholds (a level is made for a SKU a location does not hold yet; None: no reorder
    point, no maximum). Safety stock <= reorder point <= maximum where set (INVALID_THRESHOLDS); none is negative
    or huge (INVALID_QUANTITY)."""
    require_agent(ctx.viewer, "set stock thresholds")
    for name, value in (("safetyStock", safety_stock), ("reorderPoint", reorder_point), ("maximum", maximum)):
        if value is not None and not 0 <= value <= MAX_THRESHOLD:
            raise Refusal("INVALID_QUANTITY", f"{name} must be 0 to {MAX_THRESHOLD}.", [name])
    ordered = [value for value in (safety_stock, reorder_point, maximum) if value is not None]
    if ordered != sorted(ordered):
        raise Refusal(
            "INVALID_THRESHOLDS", "Safety stock, reorder point and maximum must not decrease in that order.", []
        )
    async with change(ctx.write) as session:
        level = await _locked_level(session, sku, location_id) or InventoryLevel(sku=sku, location_id=location_id)
        level.safety_stock, level.reorder_point, level.maximum = safety_stock, reorder_point, maximum
        level.updated_at = utcnow()
        session.add(level)
    return level


async def _locked_level(session: AsyncSession, sku: str, location_id: int) -> InventoryLevel | None:
    """The stock level of a known SKU at a known location, locked for the change (None when it has none yet);
    an unknown SKU or location is refused."""
    if await session.get(Product, sku) is None:
        raise Refusal("NOT_FOUND", f"No product with SKU {sku}.", ["sku"])
    if await session.get(Location, location_id) is None:
        raise Refusal("NOT_FOUND", "No such location.", ["locationId"])
    return (
        await session.exec(
            select(InventoryLevel)
            .where(InventoryLevel.sku == sku, InventoryLevel.location_id == location_id)
            .with_for_update()
        )
    ).first()
