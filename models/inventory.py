from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.enums import ActorKind


def sellable(on_hand: int, reserved: int, safety_stock: int) -> int:
    """The units of a level that may be sold now (never below 0), from its columns."""
    return max(on_hand - reserved - safety_stock, 0)


class InventoryLevel(SQLModel, table=True):
    """Stock of one SKU at one location. available = on_hand - reserved - safety_stock; incoming (the units of open
    inbound shipments, models/inbound.py) is not sold. Replenishment thresholds, when set: the level needs
    reordering once its position (on_hand - reserved + incoming) is at or below `reorder_point`, and is overstocked
    once on_hand + incoming exceeds `maximum`."""

    __tablename__ = "inventory_level"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    sku: str = Field(foreign_key="product.sku")
    location_id: int = Field(sa_type=BigIntId, foreign_key="location.id", index=True)
    on_hand: int = 0
    reserved: int = 0
    incoming: int = 0
    safety_stock: int = 0
    reorder_point: int | None = None
    maximum: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("sku", "location_id"),
        # The database itself refuses an oversell, whatever the code above it does.
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved"),
        sa.CheckConstraint("incoming >= 0 AND safety_stock >= 0", name="nonnegative"),
    )

    @property
    def available(self) -> int:
        return sellable(self.on_hand, self.reserved, self.safety_stock)

    @property
    def position(self) -> int:
        """What the level will have to sell once what is coming in has arrived."""
        return self.on_hand - self.reserved + self.incoming

    @property
    def below_reorder_point(self) -> bool:
        return self.reorder_point is not None and self.position <= self.reorder_point

    @property
    def over_maximum(self) -> bool:
        return self.maximum is not None and self.on_hand + self.incoming > self.maximum


class InventoryAdjustment(SQLModel, table=True):
    """The inventory ledger: every movement of on-hand, reserved or incoming stock, with its reason. A receipt is
    one row (on hand up, incoming down); units damaged on receipt are another (incoming down, `damaged_delta`
    up, on hand unchanged)."""

    __tablename__ = "inventory_adjustment"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    sku: str
    location_id: int = Field(sa_type=BigIntId, foreign_key="location.id")
    on_hand_delta: int = 0
    reserved_delta: int = 0
    incoming_delta: int = 0
    damaged_delta: int = 0
    reason: str
    order_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="orders.id")
    inbound_shipment_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="inbound_shipment.id")
    actor_kind: ActorKind = Field(sa_type=enum_column(ActorKind))
    actor_name: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    __table_args__ = (sa.Index("ix_inventory_adjustment_sku_location", "sku", "location_id", "created_at"),)
