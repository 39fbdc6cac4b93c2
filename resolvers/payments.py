"""The payment ledger: every authorisation, capture, void and refund against the gateway, with the
payment's running totals kept in the same transaction. Capture never exceeds what is authorised and
not voided; refund never exceeds what is captured (docs/domain.md, Payment).

An order on account (#21) has one ledger row too, of the gateway ON_ACCOUNT: its "authorisation" is the company's
credit committed at placement (resolvers.credit), its captures issue the invoices the company pays by their due
date, and no gateway is called for it (`OnAccount`). What such an order stops owing (a void, a refund, a payment
against its invoice) goes back to the company's credit in the same transaction."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Invoice, Order, Payment, PaymentTransaction
from ordergraph.models.columns import id_of, utcnow
from ordergraph.models.enums import PaymentTransactionKind
from ordergraph.models.writes import insert_rows
from ordergraph.resolvers import invoices
from ordergraph.resolvers.credit import ON_ACCOUNT, commit_credit, release_credit
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.ports.payment import PaymentDeclined, PaymentGateway


async def authorize(session: AsyncSession, gateway: PaymentGateway, order: Order, token: str) -> Payment:
    """Authorises the order's total; a decline is a user error and the change rolls back whole."""
    try:
        authorization = await gateway.authorize(token, order.total_minor, order.currency, reference=order.number)
    except PaymentDeclined as declined:
        raise Refusal(declined.code, declined.message, ["paymentToken"]) from None
    return await _authorized(
        session,
        order,
        gateway=authorization.gateway,
        gateway_reference=authorization.gateway_reference,
        method_description=authorization.method_description,
    )


async def authorize_on_account(session: AsyncSession, order: Order, company_id: int, terms_days: int) -> Payment:
    """Commits the order's total of the company's credit (or refuses with CREDIT_LIMIT_EXCEEDED) and records it
    as the order's payment on account."""
    await commit_credit(session, company_id, order.total_minor, field=["paymentMethod"])
    return await _authorized(
        session,
        order,
        gateway=ON_ACCOUNT,
        gateway_reference=f"account-{order.number}",
        method_description=f"On account, net {terms_days} days",
    )


async def _authorized(
    session: AsyncSession, order: Order, *, gateway: str, gateway_reference: str, method_description: str | None
) -> Payment:
    """The new order's payment for its total and the ledger's AUTHORIZATION row, as plain INSERTs (placement's
    hot path): the returned Payment is in no session."""
    payment = Payment(
        order_id=id_of(order),
        gateway=gateway,
        gateway_reference=gateway_reference,
        method_description=method_description,
        currency=order.currency,
        authorized_minor=order.total_minor,
    )
    connection = await session.connection()
    await insert_rows(connection, [payment])
    authorization = PaymentTransaction(
        payment_id=id_of(payment),
        kind=PaymentTransactionKind.AUTHORIZATION,
        amount_minor=order.total_minor,
        gateway_reference=gateway_reference,
        created_at=utcnow(),
    )
    await insert_rows(connection, [authorization])
    return payment


class OnAccount:
    """The "gateway" of payments on account: nothing to call, every operation is the ledger's alone."""

    async def capture(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        return f"{gateway_reference}-capture"

    async def refund(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        return f"{gateway_reference}-refund"

    async def void(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        return f"{gateway_reference}-void"


def _gateway(payment: Payment, gateway: PaymentGateway) -> PaymentGateway | OnAccount:
    return OnAccount() if payment.gateway == ON_ACCOUNT else gateway


async def release_authorization(gateway: PaymentGateway, payment: Payment) -> None:
    """Gives an authorisation back at the gateway when the change that took it is refused after all (its
    ledger rows roll back with the change; the gateway's hold on the card would not)."""
    await _gateway(payment, gateway).void(payment.gateway_reference, payment.authorized_minor, payment.currency)


async def payments_of(session: AsyncSession, order: Order) -> list[Payment]:
    return list(
        (await session.exec(select(Payment).where(Payment.order_id == order.id).order_by(col(Payment.id)))).all()
    )


async def settle_reduction(session: AsyncSession, gateway: PaymentGateway, order: Order, amount_minor: int) -> None:
    """The order's total fell by `amount_minor` (a cancellation, cheaper shipping): void what is still
    uncaptured first, and refund from what was captured only for the rest (with a credit note for it)."""
    remaining = amount_minor
    for payment in await payments_of(session, order):
        uncaptured = payment.authorized_minor - payment.captured_minor - payment.voided_minor
        voided = min(remaining, uncaptured)
        if voided > 0:
            reference = await _gateway(payment, gateway).void(payment.gateway_reference, voided, payment.currency)
            payment.voided_minor += voided
            _record(session, payment, PaymentTransactionKind.VOID, voided, reference)
            if payment.gateway == ON_ACCOUNT and order.company_id is not None:
                await release_credit(session, order.company_id, voided)
            remaining -= voided
    refunded_total, now = 0, utcnow()
    for payment in await payments_of(session, order):
        refundable = payment.captured_minor - payment.refunded_minor
        refunded = min(remaining, refundable)
        if refunded > 0:
            await _release_refunded(session, order, payment, refunded)
            reference = await _gateway(payment, gateway).refund(payment.gateway_reference, refunded, payment.currency)
            payment.refunded_minor += refunded
            order.refunded_minor += refunded
            _record(session, payment, PaymentTransactionKind.REFUND, refunded, reference, at=now)
            remaining -= refunded
            refunded_total += refunded
    if remaining:
        raise RuntimeError(f"order {order.number}: {remaining} minor units neither voidable nor refundable")
    if refunded_total:
        await invoices.credit_refund(session, order, refunded_total, return_id=None, at=now)


async def settle_increase(session: AsyncSession, gateway: PaymentGateway, order: Order, amount_minor: int) -> None:
    """The order's total rose (dearer shipping): authorise the difference on the order's payment."""
    payment = (await payments_of(session, order))[0]
    if payment.gateway == ON_ACCOUNT and order.company_id is not None:
        await commit_credit(session, order.company_id, amount_minor, field=["deliveryMethodCode"])
        payment.authorized_minor += amount_minor
        reference = f"{payment.gateway_reference}-increment"
        _record(session, payment, PaymentTransactionKind.AUTHORIZATION, amount_minor, reference)
        return
    try:
        reference = await gateway.increment(payment.gateway_reference, amount_minor, payment.currency)
    except PaymentDeclined as declined:
        raise Refusal(declined.code, declined.message) from None
    payment.authorized_minor += amount_minor
    _record(session, payment, PaymentTransactionKind.AUTHORIZATION, amount_minor, reference)


def capturable_minor(payments: list[Payment]) -> int:
    """What may still be captured: authorised, not voided, not captured yet."""
    return sum(p.authorized_minor - p.voided_minor - p.captured_minor for p in payments)


async def capture(
    session: AsyncSession,
    gateway: PaymentGateway,
    order: Order,
    amount_minor: int,
    *,
    fulfillment_order_id: int | None = None,
) -> int:
    """Captures `amount_minor` of what the order's payments hold (oldest payment first), never more than is
    authorised and not voided: the amount is capped there, and what was captured is returned. Whatever is
    captured is invoiced in the same transaction (resolvers.invoices.invoice_capture: the invoice's total is the
    amount captured), so call it once the line ledger counts what the capture pays for as shipped."""
    remaining = min(amount_minor, capturable_minor(await payments_of(session, order)))
    captured, now = 0, utcnow()
    for payment in await payments_of(session, order):
        amount = min(remaining - captured, payment.authorized_minor - payment.voided_minor - payment.captured_minor)
        if amount <= 0:
            continue
        try:
            reference = await _gateway(payment, gateway).capture(payment.gateway_reference, amount, payment.currency)
        except PaymentDeclined as declined:
            raise Refusal(declined.code, declined.message) from None
        payment.captured_minor += amount
        captured += amount
        _record(
            session,
            payment,
            PaymentTransactionKind.CAPTURE,
            amount,
            reference,
            fulfillment_order_id=fulfillment_order_id,
            at=now,
        )
    if captured > 0:
        await invoices.invoice_capture(session, order, captured, at=now)
    return captured


async def refund(
    session: AsyncSession, gateway: PaymentGateway, order: Order, amount_minor: int, *, return_id: int | None = None
) -> None:
    """Gives back `amount_minor` of what was captured (a received return), from the oldest payment first;
    refund never exceeds what is captured and not refunded yet. A credit note for it is issued in the same
    transaction (resolvers.invoices.credit_refund)."""
    remaining, now = amount_minor, utcnow()
    for payment in await payments_of(session, order):
        amount = min(remaining, payment.captured_minor - payment.refunded_minor)
        if amount <= 0:
            continue
        await _release_refunded(session, order, payment, amount)
        reference = await _gateway(payment, gateway).refund(payment.gateway_reference, amount, payment.currency)
        payment.refunded_minor += amount
        order.refunded_minor += amount
        _record(session, payment, PaymentTransactionKind.REFUND, amount, reference, return_id=return_id, at=now)
        remaining -= amount
    if remaining:
        raise RuntimeError(f"order {order.number}: {remaining} minor units to refund exceed what was captured")
    if amount_minor > 0:
        await invoices.credit_refund(session, order, amount_minor, return_id=return_id, at=now)


async def _release_refunded(session: AsyncSession, order: Order, payment: Payment, amount_minor: int) -> None:
    """A refund of a capture on account: the company owes that much less, so the part of it still unpaid (captured,
    not refunded before, not paid against the order's invoices) goes back to its credit."""
    if payment.gateway != ON_ACCOUNT or order.company_id is None:
        return
    paid = (
        await session.exec(
            select(sa.func.coalesce(sa.func.sum(Invoice.paid_minor), 0)).where(Invoice.order_id == order.id)
        )
    ).one()
    unpaid = payment.captured_minor - payment.refunded_minor - int(paid)
    await release_credit(session, order.company_id, min(amount_minor, max(unpaid, 0)))


def _record(
    session: AsyncSession,
    payment: Payment,
    kind: PaymentTransactionKind,
    amount_minor: int,
    reference: str,
    *,
    fulfillment_order_id: int | None = None,
    return_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """One ledger row; a capture or refund passes the moment its documents and journal entries carry too."""
    session.add(payment)
    session.add(
        PaymentTransaction(
            payment_id=id_of(payment),
            kind=kind,
            amount_minor=amount_minor,
            gateway_reference=reference,
            fulfillment_order_id=fulfillment_order_id,
            return_id=return_id,
            created_at=at or utcnow(),
        )
    )
