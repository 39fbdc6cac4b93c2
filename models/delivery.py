from datetime import time

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import enum_column
from ordergraph.models.enums import DeliveryKind


class DeliveryMethod(SQLModel, table=True):
    """A way to get an order to the customer, with its price, cut-off and transit calendar.

    Orders accepted before `cutoff_local` (the shipping location's local time) leave that day;
    they arrive `transit_days` carrier days later. Carriers run on `carrier_weekdays` (Monday to Friday
    by default), plus Saturday
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
    # The market the method serves; its price is in that market's currency.
    market_code: str = Field(
        default="US", max_length=8, foreign_key="market.code", sa_column_kwargs={"server_default": "US"}
    )
    # Set for methods that ship to a pickup point or parcel locker of this network.
    pickup_point_network: str | None = Field(default=None, max_length=32)
    # The carrier's working days, ISO digits (1 = Monday … 7 = Sunday); weekend_delivery adds Saturday and Sunday.
    carrier_weekdays: str = Field(default="12345", max_length=7, sa_column_kwargs={"server_default": "12345"})
