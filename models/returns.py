from datetime import datetime

from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.enums import ReturnMethod, ReturnReason, ReturnStatus


class Return(SQLModel, table=True):
    """A return merchandise authorisation (RMA) for some delivered units of one order."""

    __tablename__ = "return_request"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    order_id: int = Field(sa_type=BigIntId, foreign_key="orders.id", index=True)
    rma_number: str = Field(unique=True)
    status: ReturnStatus = Field(sa_type=enum_column(ReturnStatus))
    method: ReturnMethod = Field(sa_type=enum_column(ReturnMethod))
    drop_off_location_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="location.id")
    currency: str = Field(max_length=3)
    refund_minor: int | None = None  # known once received
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refunded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rejected_reason: str | None = None


class ReturnLine(SQLModel, table=True):
    __tablename__ = "return_line"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    return_id: int = Field(sa_type=BigIntId, foreign_key="return_request.id", index=True)
    order_line_id: int = Field(sa_type=BigIntId, foreign_key="order_line.id", index=True)
    quantity: int = Field(gt=0)
    reason: ReturnReason = Field(sa_type=enum_column(ReturnReason))
    quantity_received: int = 0
    quantity_restocked: int = 0
    # The credit note's amounts, set when the units are received: the value refunded and the tax inside it.
    refund_minor: int | None = None
    refund_tax_minor: int | None = None
