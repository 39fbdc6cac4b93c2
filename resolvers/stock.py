"""Reserving and releasing stock: never an oversell, on either database, under any concurrency.

A reservation is one conditional UPDATE per (SKU, location) that succeeds only while enough stock is
available, so two writers can never both take the last unit (SQLite ignores SELECT … FOR UPDATE; this
needs no row lock taken in advance). Rows are always touched in (sku, location) order, so concurrent
orders whose lines overlap take their row locks in one order and cannot deadlock on PostgreSQL.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import InventoryAdjustment, InventoryLevel
from ordergraph.models.columns import utcnow
from ordergraph.models.enums import ActorKind


@dataclass(frozen=True, slots=True, order=True)
class StockMove:
    sku: str
    location_id: int
    quantity: int


class StockUnavailable(Exception):
    def __init__(self, sku: str) -> None:
        super().__init__(sku)
        self.sku = sku


def _merged(moves: Iterable[StockMove]) -> list[StockMove]:
    totals: dict[tuple[str, int], int] = {}
    for move in moves:
        totals[(move.sku, move.location_id)] = totals.get((move.sku, move.location_id), 0) + move.quantity
    return sorted(StockMove(sku, location, quantity) for (sku, location), quantity in totals.items() if quantity)


async def reserve_stock(
    session: AsyncSession,
    moves: Iterable[StockMove],
    *,
    order_id: int,
    reason: str,
    actor: tuple[ActorKind, str | None],
) -> None:
    """Reserves every move or raises StockUnavailable (the caller's transaction then rolls back).

    The ledger rows go first, so the UPDATEs, whose row locks every order of the SKU queues on, are the last
    statements. Both are Core statements on the session's connection: no ORM object is read or kept for them."""
    merged = _merged(moves)
    connection = await session.connection()
    await _record(connection, merged, order_id=order_id, reason=reason, actor=actor, sign=1)
    available = col(InventoryLevel.on_hand) - col(InventoryLevel.reserved) - col(InventoryLevel.safety_stock)
    for move in merged:
        result = await connection.execute(
            sa.update(InventoryLevel)
            .where(
                col(InventoryLevel.sku) == move.sku,
                col(InventoryLevel.location_id) == move.location_id,
                available >= move.quantity,
            )
            .values(reserved=InventoryLevel.reserved + move.quantity, updated_at=utcnow())
        )
        if result.rowcount != 1:
            raise StockUnavailable(move.sku)


async def release_stock(
    session: AsyncSession,
    moves: Iterable[StockMove],
    *,
    order_id: int,
    reason: str,
    actor: tuple[ActorKind, str | None],
) -> None:
    """Gives reserved units back (a cancellation, a re-route)."""
    merged = _merged(moves)
    connection = await session.connection()
    for move in merged:
        await connection.execute(
            sa.update(InventoryLevel)
            .where(col(InventoryLevel.sku) == move.sku, col(InventoryLevel.location_id) == move.location_id)
            .values(reserved=InventoryLevel.reserved - move.quantity, updated_at=utcnow())
        )
    await _record(connection, merged, order_id=order_id, reason=reason, actor=actor, sign=-1)


async def _record(
    connection: AsyncConnection,
    moves: list[StockMove],
    *,
    order_id: int,
    reason: str,
    actor: tuple[ActorKind, str | None],
    sign: int,
) -> None:
    if not moves:
        return
    await connection.execute(
        sa.insert(InventoryAdjustment),
        [
            {
                "sku": m.sku,
                "location_id": m.location_id,
                "reserved_delta": sign * m.quantity,
                "reason": reason,
                "order_id": order_id,
                "actor_kind": actor[0],
                "actor_name": actor[1],
            }
            for m in moves
        ],
    )
