"""Stock coming in: purchase orders and advance shipping notices, per location, with their lines.

Invariants: per line, received + damaged <= quantity; the units not yet accounted for (quantity - received -
damaged) of every open shipment are counted in `InventoryLevel.incoming` of the line's (sku, location), and
nowhere else. A shipment is RECEIVED once every line is accounted for, PARTIALLY_RECEIVED once any unit is.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.enums import InboundKind, InboundStatus


class InboundShipment(SQLModel, table=True):
    __tablename__ = "inbound_shipment"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    location_id: int = Field(sa_type=BigIntId, foreign_key="location.id", index=True)
    kind: InboundKind = Field(sa_type=enum_column(InboundKind))
    reference: str | None = None  # the supplier's or our document number
    expected_on: date
    status: InboundStatus = Field(sa_type=enum_column(InboundStatus))
    created_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # when the last unit was accounted for


class InboundShipmentLine(SQLModel, table=True):
    __tablename__ = "inbound_shipment_line"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    shipment_id: int = Field(sa_type=BigIntId, foreign_key="inbound_shipment.id", index=True)
    sku: str = Field(foreign_key="product.sku", index=True)
    quantity: int
    received: int = 0
    damaged: int = 0

    __table_args__ = (
        sa.UniqueConstraint("shipment_id", "sku"),
        sa.CheckConstraint("quantity > 0 AND received >= 0 AND damaged >= 0", name="nonnegative"),
        sa.CheckConstraint("received + damaged <= quantity", name="not_over_received"),
    )

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received - self.damaged
