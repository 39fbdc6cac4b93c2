from datetime import datetime

from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.enums import PaymentStatus, PaymentTransactionKind


class Payment(SQLModel, table=True):
    """One authorisation at the gateway and what became of it. The running totals are kept with
    the ledger (PaymentTransaction) in the same transaction; capture never exceeds authorised,
    refund never exceeds captured."""

    __tablename__ = "payment"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    order_id: int = Field(sa_type=BigIntId, foreign_key="orders.id", index=True)
    gateway: str
    gateway_reference: str
    method_description: str | None = None  # e.g. "Visa ending 4242"
    currency: str = Field(max_length=3)
    authorized_minor: int
    captured_minor: int = 0
    refunded_minor: int = 0
    voided_minor: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def status(self) -> PaymentStatus:
        return derive_payment_status(self)


class PaymentTransaction(SQLModel, table=True):
    __tablename__ = "payment_transaction"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    payment_id: int = Field(sa_type=BigIntId, foreign_key="payment.id", index=True)
    kind: PaymentTransactionKind = Field(sa_type=enum_column(PaymentTransactionKind))
    amount_minor: int = Field(gt=0)
    gateway_reference: str
    fulfillment_order_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="fulfillment_order.id")
    return_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="return_request.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def derive_payment_status(payment: Payment) -> PaymentStatus:
    if payment.refunded_minor > 0:
        if payment.refunded_minor >= payment.captured_minor:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PARTIALLY_REFUNDED
    if payment.captured_minor == 0:
        return PaymentStatus.VOIDED if payment.voided_minor >= payment.authorized_minor else PaymentStatus.AUTHORIZED
    if payment.captured_minor + payment.voided_minor >= payment.authorized_minor:
        return PaymentStatus.CAPTURED
    return PaymentStatus.PARTIALLY_CAPTURED
