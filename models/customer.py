import re
from datetime import datetime
from typing import Any

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
    # The phone's digits (E.164 without the plus): what customer search matches however a number is written.
    # Kept in step with `phone` on every ORM write (below); bulk loaders write it themselves (`phone_digits`).
    phone_digits: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set once the customer's personal data is erased (resolvers.erasure): no message, login or change after it.
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Notification preferences: email is on by default, SMS only once the customer opts in with a number.
    notify_email: bool = True
    notify_sms: bool = False
    sms_phone: str | None = None
    # The language of the customer's messages and documents ("en", "cs", "ar"); null: their order's market's.
    locale: str | None = Field(default=None, max_length=8)
    # SMS quiet hours, minutes after local midnight in `time_zone` (IANA); texts due inside them wait for the end.
    time_zone: str | None = Field(default=None, max_length=64)
    quiet_hours_start: int | None = None
    quiet_hours_end: int | None = None


class CustomerAddress(AddressFields, table=True):
    __tablename__ = "customer_address"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    customer_id: int = Field(sa_type=BigIntId, foreign_key="customer.id", index=True)
    position: int = 0
    # At most one default of each kind per customer, kept by resolvers.customer_changes under the customer's row
    # lock: the address book's first address is both, and removing a default passes it to the first address left.
    default_shipping: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    default_billing: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})

    __table_args__ = (sa.UniqueConstraint("customer_id", "position"),)


_NOT_DIGIT = re.compile(r"\D")


def phone_digits(phone: str | None) -> str | None:
    """The digits of a stored phone ("+1 617-555-0100" → "16175550100"), None without any."""
    return _NOT_DIGIT.sub("", phone or "") or None


@sa.event.listens_for(Customer, "before_insert")
@sa.event.listens_for(Customer, "before_update")
def _keep_phone_digits(_mapper: Any, _connection: Any, customer: Customer) -> None:
    customer.phone_digits = phone_digits(customer.phone)
