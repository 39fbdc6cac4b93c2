"""Stock coming in: agents announce inbound shipments (purchase orders, advance shipping notices) and receive them.

Announcing raises `incoming` of each line's (sku, location) level by the line's quantity; receiving moves the
units received to on hand and lowers incoming by the units received and damaged (damaged units never reach on
hand). Every movement is a row of the inventory ledger (`InventoryAdjustment`, with the shipment's id): incoming
up on announcing, on hand up and incoming down on receipt, incoming down with `damaged_delta` for damage. All
input is checked before the first write and a refused change rolls back whole, so a refusal changes nothing.

Nothing in the app waits for stock yet (there are no backorders): the ledger's receipt rows are the inventory
events a waiting flow would follow, and the product page reads the new stock on its next request.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import (
    InboundShipment,
    InboundShipmentLine,
    InventoryAdjustment,
    InventoryLevel,
    Location,
    Product,
)
from ordergraph.models.columns import id_of, utcnow
from ordergraph.models.enums import InboundKind, InboundStatus
from ordergraph.resolvers.access import require_agent, require_staff
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.events import actor_of, change
from ordergraph.resolvers.pagination import Connection, Sort, page_size

MAX_LINES = 100
MAX_QUANTITY = 1_000_000
MAX_REFERENCE = 100
# An expected date this far off either way is a typo, not a plan.
EXPECTED_WITHIN = timedelta(days=2 * 366)
INBOUND_SORT = Sort("inbound", ("id",), descending=True)


@dataclass(frozen=True, slots=True)
class InboundLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    sku: str
    received: int
    damaged: int = 0


def _no_duplicates(skus: Sequence[str]) -> None:
    seen: set[str] = set()
    for index, sku in enumerate(skus):
        if sku in seen:
            raise Refusal("DUPLICATE_LINE", f"{sku} is on two lines: give each SKU once.", ["lines", str(index), "sku"])
        seen.add(sku)


async def _levels_for_update(session: AsyncSession, location_id: int, skus: Sequence[str]) -> dict[str, InventoryLevel]:
    """The location's levels of `skus`, locked, in SKU order (as reservations take them: no deadlock)."""
    rows = (
        await session.exec(
            select(InventoryLevel)
            .where(col(InventoryLevel.location_id) == location_id, col(InventoryLevel.sku).in_(skus))
            .order_by(col(InventoryLevel.sku))
            .with_for_update()
        )
    ).all()
    return {row.sku: row for row in rows}


async def create_inbound_shipment(
    ctx: RequestContext,
    *,
    location_id: int,
    kind: InboundKind,
    expected_on: date,
    lines: Sequence[InboundLine],
    reference: str | None = None,
) -> InboundShipment:
    viewer = require_agent(ctx.viewer, "announce inbound stock")
    reference = (reference or "").strip() or None
    if reference is not None and len(reference) > MAX_REFERENCE:
        raise Refusal("INVALID_INPUT", f"A reference holds at most {MAX_REFERENCE} characters.", ["reference"])
    if not 1 <= len(lines) <= MAX_LINES:
        raise Refusal("INVALID_INPUT", f"A shipment has 1 to {MAX_LINES} lines.", ["lines"])
    for index, line in enumerate(lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise Refusal("INVALID_QUANTITY", f"Quantities are 1 to {MAX_QUANTITY}.", ["lines", str(index), "quantity"])
    _no_duplicates([line.sku for line in lines])
    today = ctx.clock().date()
    if not today - EXPECTED_WITHIN <= expected_on <= today + EXPECTED_WITHIN:
        raise Refusal("INVALID_DATE", "The expected date must be within two years of today.", ["expectedOn"])
    actor = actor_of(viewer)
    async with change(ctx.write) as session:
        if await session.get(Location, location_id) is None:
            raise Refusal("NOT_FOUND", "No such location.", ["locationId"])
        skus = [line.sku for line in lines]
        known = set((await session.exec(select(Product.sku).where(col(Product.sku).in_(skus)))).all())
        for index, line in enumerate(lines):
            if line.sku not in known:
                raise Refusal("UNKNOWN_SKU", f"No product with SKU {line.sku}.", ["lines", str(index), "sku"])
        shipment = InboundShipment(
            location_id=location_id,
            kind=kind,
            reference=reference,
            expected_on=expected_on,
            status=InboundStatus.OPEN,
            created_by=viewer.name,
            created_at=ctx.clock(),
        )
        session.add(shipment)
        await session.flush()
        session.add_all(
            InboundShipmentLine(shipment_id=id_of(shipment), sku=line.sku, quantity=line.quantity) for line in lines
        )
        levels = await _levels_for_update(session, location_id, skus)
        for line in sorted(lines, key=lambda line: line.sku):
            level = levels.get(line.sku) or InventoryLevel(sku=line.sku, location_id=location_id)
            level.incoming += line.quantity
            level.updated_at = utcnow()
            session.add(level)
            session.add(
                InventoryAdjustment(
                    sku=line.sku,
                    location_id=location_id,
                    incoming_delta=line.quantity,
                    reason=f"inbound {_label(shipment)} announced",
                    inbound_shipment_id=shipment.id,
                    actor_kind=actor[0],
                    actor_name=actor[1],
                )
            )
    return shipment


def _label(shipment: InboundShipment) -> str:
    return shipment.reference or f"#{shipment.id}"


async def receive_inbound_shipment(
    ctx: RequestContext, *, shipment_id: int, lines: Sequence[ReceiptLine]
) -> InboundShipment:
    """Receives some or all of what is outstanding: per line, received + damaged at most what is still
    outstanding (OVER_RECEIVED), none negative, at least one unit in all."""
    viewer = require_agent(ctx.viewer, "receive inbound stock")
    if not 1 <= len(lines) <= MAX_LINES:
        raise Refusal("INVALID_INPUT", f"A receipt has 1 to {MAX_LINES} lines.", ["lines"])
    for index, receipt in enumerate(lines):
        for name, value in (("received", receipt.received), ("damaged", receipt.damaged)):
            if not 0 <= value <= MAX_QUANTITY:
                raise Refusal("INVALID_QUANTITY", f"{name} must be 0 to {MAX_QUANTITY}.", ["lines", str(index), name])
    if not any(receipt.received or receipt.damaged for receipt in lines):
        raise Refusal("INVALID_QUANTITY", "Receive or write off at least one unit.", ["lines"])
    _no_duplicates([receipt.sku for receipt in lines])
    actor = actor_of(viewer)
    now = ctx.clock()
    async with change(ctx.write) as session:
        shipment = (
            await session.exec(select(InboundShipment).where(InboundShipment.id == shipment_id).with_for_update())
        ).first()
        if shipment is None:
            raise Refusal("NOT_FOUND", "No such inbound shipment.", ["shipmentId"])
        shipment_lines = {
            line.sku: line
            for line in (
                await session.exec(
                    select(InboundShipmentLine).where(InboundShipmentLine.shipment_id == shipment_id).with_for_update()
                )
            ).all()
        }
        for index, receipt in enumerate(lines):
            line = shipment_lines.get(receipt.sku)
            if line is None:
                raise Refusal("UNKNOWN_SKU", f"{receipt.sku} is not on this shipment.", ["lines", str(index), "sku"])
            if receipt.received + receipt.damaged > line.outstanding:
                raise Refusal(
                    "OVER_RECEIVED",
                    f"Only {line.outstanding} units of {receipt.sku} are still expected on this shipment.",
                    ["lines", str(index), "received"],
                )
        levels = await _levels_for_update(session, shipment.location_id, [r.sku for r in lines])
        label = _label(shipment)
        for receipt in sorted(lines, key=lambda r: r.sku):
            line = shipment_lines[receipt.sku]
            line.received += receipt.received
            line.damaged += receipt.damaged
            session.add(line)
            level = levels[receipt.sku]  # announcing made it
            level.on_hand += receipt.received
            level.incoming -= receipt.received + receipt.damaged  # the shipment's units are in incoming
            level.updated_at = now
            session.add(level)
            for on_hand, damaged, why in (
                (receipt.received, 0, "received"),
                (0, receipt.damaged, "damaged on receipt"),
            ):
                if on_hand or damaged:
                    session.add(
                        InventoryAdjustment(
                            sku=receipt.sku,
                            location_id=shipment.location_id,
                            on_hand_delta=on_hand,
                            incoming_delta=-(on_hand + damaged),
                            damaged_delta=damaged,
                            reason=f"inbound {label} {why}",
                            inbound_shipment_id=shipment.id,
                            actor_kind=actor[0],
                            actor_name=actor[1],
                            created_at=now,
                        )
                    )
        done = all(line.outstanding == 0 for line in shipment_lines.values())
        shipment.status = InboundStatus.RECEIVED if done else InboundStatus.PARTIALLY_RECEIVED
        shipment.received_at = now if done else None
        session.add(shipment)
    return shipment


async def shipment_lines(ctx: RequestContext, shipment_id: int) -> list[InboundShipmentLine]:
    async with ctx.read() as session:
        return list(
            (
                await session.exec(
                    select(InboundShipmentLine)
                    .where(InboundShipmentLine.shipment_id == shipment_id)
                    .order_by(col(InboundShipmentLine.sku))
                )
            ).all()
        )


@dataclass(frozen=True, slots=True)
class InboundFilter:
    location_ids: list[int] | None = None
    sku: str | None = None
    open_only: bool = False


async def list_inbound_shipments(
    ctx: RequestContext, *, shipments: InboundFilter, first: int | None, after: str | None
) -> Connection:
    """Newest first: agents and analysts."""
    require_staff(ctx.viewer)
    size = page_size(first, ctx.max_page_size)
    cursor = INBOUND_SORT.decode(after, (int,))
    query = select(InboundShipment)
    if cursor is not None:
        query = query.where(col(InboundShipment.id) < cursor[0])
    if shipments.location_ids is not None:
        query = query.where(col(InboundShipment.location_id).in_(shipments.location_ids))
    if shipments.open_only:
        query = query.where(col(InboundShipment.status) != InboundStatus.RECEIVED)
    if shipments.sku is not None:
        query = query.where(
            sa.exists().where(
                col(InboundShipmentLine.shipment_id) == col(InboundShipment.id),
                col(InboundShipmentLine.sku) == shipments.sku,
            )
        )
    async with ctx.read() as session:
        rows = list((await session.exec(query.order_by(col(InboundShipment.id).desc()).limit(size + 1))).all())
    return Connection(rows[:size], INBOUND_SORT, len(rows) > size, cursor is not None)
