"""Shared by the stock and store tests: what a refused change must leave as it was."""

import sqlalchemy as sa
from conftest import Api
from sqlmodel import col, select

from ordergraph.models import (
    InboundShipment,
    InboundShipmentLine,
    InventoryAdjustment,
    InventoryLevel,
    Location,
    LocationClosure,
    LocationOpeningHours,
)
from ordergraph.schema.node import encode_global_id


def location_id(shop: Api, key: str) -> str:
    return encode_global_id("Location", shop.world.locations[key])


async def stock_state(shop: Api) -> dict:
    """Every stock row a stock or store change may touch, as plain values."""
    state: dict = {}
    async with shop.db.read() as session:
        for model in (
            InventoryLevel,
            InboundShipment,
            InboundShipmentLine,
            InventoryAdjustment,
            LocationOpeningHours,
            LocationClosure,
            Location,
        ):
            rows = (await session.exec(select(model).order_by(col(model.id)))).all()
            state[model.__tablename__] = [row.model_dump() for row in rows]
    return state


async def level(shop: Api, sku: str, key: str) -> InventoryLevel | None:
    async with shop.db.read() as session:
        return (
            await session.exec(
                select(InventoryLevel).where(
                    InventoryLevel.sku == sku, InventoryLevel.location_id == shop.world.locations[key]
                )
            )
        ).first()


async def ledger(shop: Api, sku: str) -> list[InventoryAdjustment]:
    async with shop.db.read() as session:
        return list(
            (
                await session.exec(
                    select(InventoryAdjustment)
                    .where(InventoryAdjustment.sku == sku)
                    .order_by(col(InventoryAdjustment.id))
                )
            ).all()
        )


async def count(shop: Api, model: type) -> int:
    async with shop.db.read() as session:
        return (await session.exec(sa.select(sa.func.count()).select_from(model))).one()[0]
