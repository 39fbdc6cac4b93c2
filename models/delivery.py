from datetime import time

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import enum_column
from ordergraph.models.enums import DeliveryKind


class DeliveryMethod(SQLModel, table=True):
    """A way to get an order to the customer, with its price, cut-off and transit calendar.

    Orders accepted before `cutoff_local` (the shipping location's local time) leave that day;
    they arrive `transit_days` carrier days later. Carriers run Monday to Friday, plus Saturday
    and Sunday where `weekend_delivery`. `metro_only` methods ship only within the destination's metro area.
    """

    __tablename__ = "delivery_method"

    code: str = Field(primary_key=True)
    name: str
    kind: DeliveryKind = Field(sa_type=enum_column(DeliveryKind))
    price_minor: int = Field(ge=0)
    currency: str = Field(max_length=3)
    carrier: str | None = None
    cutoff_local: time = Field(sa_type=sa.Time())
    transit_days: int = 0
    transit_hours: int = 0  # for one-hour delivery: promised within hours, not days
    weekend_delivery: bool = False
    metro_only: bool = False
    position: int = 0
