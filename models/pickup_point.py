"""Pickup points and parcel lockers of a carrier network, where a parcel waits for its recipient."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, enum_column
from ordergraph.models.enums import PickupPointKind


class PickupPoint(SQLModel, table=True):
    __tablename__ = "pickup_point"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    network: str = Field(max_length=32)
    external_id: str = Field(max_length=64)
    kind: PickupPointKind = Field(sa_type=enum_column(PickupPointKind))
    name: str
    line1: str
    city: str
    region: str | None = None
    postal_code: str = Field(default="", sa_column_kwargs={"server_default": ""})
    country: str = Field(max_length=2)
    latitude: float
    longitude: float
    timezone: str
    metro_area: str | None = None
    opening_hours: str
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})

    __table_args__ = (
        sa.UniqueConstraint("network", "external_id", name="uq_pickup_point_network_external_id"),
        sa.Index("ix_pickup_point_country_city", "country", "city"),
    )
