from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, utcnow


class AddressFields(SQLModel):
    """A postal address; customers keep several, orders snapshot the one they ship to."""

    name: str | None = None
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str = Field(max_length=2)
    phone: str | None = None


class Customer(SQLModel, table=True):
    __tablename__ = "customer"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    name: str
    email: str = Field(unique=True)
    phone: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Notification preferences: email is on by default, SMS only once the customer opts in with a number.
    notify_email: bool = True
    notify_sms: bool = False
    sms_phone: str | None = None


class CustomerAddress(AddressFields, table=True):
    __tablename__ = "customer_address"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    customer_id: int = Field(sa_type=BigIntId, foreign_key="customer.id", index=True)
    position: int = 0

    __table_args__ = (sa.UniqueConstraint("customer_id", "position"),)
