"""Business orders (#21): what placeOrder needs of a buyer's company, approvals, their expiry, and payments
received against invoices on account.

Invariants:
- An order is a company's when it names one of the company's ship-to locations; its customer is a buyer of that
  company (any role). Its purchase-order number is unique within the company (the unique index decides a race).
- An order above the company's approval threshold is placed with approval PENDING: its stock is reserved, its card
  authorised or its credit committed, its fulfillment orders created but unable to start (resolvers.fulfillment_
  steps), and its status AWAITING_APPROVAL (models.status). An APPROVER or COMPANY_ADMIN of the company other than
  the order's own buyer, or an agent, decides: APPROVED lets it go on exactly like any order; REJECTED cancels
  every line (stock, authorisation or credit released). Undecided after the reservation time, the approval sweep
  cancels it as EXPIRED. A decision is only ever taken on a PENDING order, once.
- Whoever is not of the order's company is answered NOT_FOUND, exactly as for an unknown order; a buyer of the
  company who may not decide is answered FORBIDDEN. Nothing changes on either.
- An invoice's payments never add up to more than it is due (its total less its credit notes); each releases as
  much of the company's credit; the invoice is settled when they reach what is due.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import (
    AddressFields,
    Company,
    CompanyBuyer,
    CompanyLocation,
    Invoice,
    InvoicePayment,
    Order,
    PriceList,
    PriceListEntry,
)
from ordergraph.models.columns import id_of
from ordergraph.models.enums import (
    ActorKind,
    ApprovalState,
    CancellationReason,
    CompanyRole,
    EventType,
    EventVisibility,
    OrderStatus,
    PaymentMethodKind,
)
from ordergraph.models.invoice import DocumentKind
from ordergraph.models.money import to_decimal
from ordergraph.resolvers.access import Viewer, require_agent, require_authenticated
from ordergraph.resolvers.cancellation import cancel_in
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.credit import release_credit
from ordergraph.resolvers.errors import ApiError, Forbidden, Refusal
from ordergraph.resolvers.events import SYSTEM, WriteSession, actor_of, append_event, change
from ordergraph.resolvers.order_changes import internal_note
from ordergraph.resolvers.order_state import refresh_order_status
from ordergraph.resolvers.ports.payment import PaymentGateway

MAX_PURCHASE_ORDER_NUMBER = 64
MAX_PAYMENT_REFERENCE = 200
MAX_PAYMENT_MINOR = 10**15
MAX_LISTED = 25  # pendingApprovals and companyInvoices answer the oldest (newest) this many: a page a client shows
MAX_PAYMENTS_PER_INVOICE = 20
DECIDERS = frozenset({CompanyRole.APPROVER, CompanyRole.COMPANY_ADMIN})


class NotFound(ApiError):
    code = "NOT_FOUND"


@dataclass(frozen=True, slots=True)
class BusinessTerms:
    """What a company order is placed with: the company, the ship-to location, the PO number, how it is paid and
    the contract prices of the company's price list (SKU → unit price in `contract_currency`)."""

    company: Company
    location: CompanyLocation
    purchase_order_number: str | None
    payment_method: PaymentMethodKind
    contract_prices: dict[str, int] = field(default_factory=dict)
    contract_currency: str | None = None

    @property
    def address(self) -> AddressFields:
        return AddressFields.model_validate(self.location.model_dump(include=set(AddressFields.model_fields)))

    @property
    def terms_days(self) -> int | None:
        return self.company.payment_terms_days if self.payment_method is PaymentMethodKind.ON_ACCOUNT else None


async def business_terms(
    session: AsyncSession,
    customer_id: int,
    *,
    company_location_id: int | None,
    purchase_order_number: str | None,
    payment_method: PaymentMethodKind | None,
    skus: set[str],
) -> BusinessTerms | None:
    """The terms of a company order, or None for a consumer's order (no ship-to location named). Refuses a location
    not of the customer's company like an unknown one (NOT_FOUND), a missing or taken PO number, and payment on
    account for a company without terms."""
    if company_location_id is None:
        if purchase_order_number is not None or payment_method is not None:
            raise Refusal(
                "INVALID_INPUT",
                "A purchase-order number or payment method is for company orders: name the companyLocationId.",
                ["companyLocationId"],
            )
        return None
    membership = await session.get(CompanyBuyer, customer_id)
    location = await session.get(CompanyLocation, company_location_id)
    if membership is None or location is None or location.archived or location.company_id != membership.company_id:
        raise Refusal("NOT_FOUND", "No such company location.", ["companyLocationId"])
    company = await session.get_one(Company, membership.company_id)
    po = (purchase_order_number or "").strip() or None
    if po is not None and len(po) > MAX_PURCHASE_ORDER_NUMBER:
        raise Refusal(
            "INVALID_INPUT",
            f"purchaseOrderNumber holds at most {MAX_PURCHASE_ORDER_NUMBER} characters.",
            ["purchaseOrderNumber"],
        )
    if po is None and company.purchase_order_required:
        raise Refusal(
            "PURCHASE_ORDER_REQUIRED", f"{company.name} requires a purchase-order number.", ["purchaseOrderNumber"]
        )
    if po is not None and await purchase_order_taken(session, id_of(company), po):
        raise Refusal("PURCHASE_ORDER_NUMBER_TAKEN", "This purchase-order number is used.", ["purchaseOrderNumber"])
    method = payment_method or PaymentMethodKind.CARD
    if method is PaymentMethodKind.ON_ACCOUNT and company.payment_terms_days is None:
        raise Refusal("ON_ACCOUNT_UNAVAILABLE", f"{company.name} pays by card.", ["paymentMethod"])
    prices: dict[str, int] = {}
    currency = None
    if company.price_list_id is not None:
        price_list = await session.get_one(PriceList, company.price_list_id)
        currency = price_list.currency
        rows = await session.exec(
            select(PriceListEntry).where(
                PriceListEntry.price_list_id == company.price_list_id, col(PriceListEntry.sku).in_(skus)
            )
        )
        prices = {entry.sku: entry.unit_price_minor for entry in rows.all()}
    return BusinessTerms(company, location, po, method, prices, currency)


async def purchase_order_taken(session: AsyncSession, company_id: int, number: str) -> bool:
    query = select(Order.id).where(Order.company_id == company_id, Order.purchase_order_number == number)
    return (await session.exec(query)).first() is not None


# --- approvals --------------------------------------------------------------------------------------------


async def decide_approval(ctx: RequestContext, order_id: int, *, approve: bool, note: str | None) -> Order:
    """APPROVED or REJECTED, by an approver or company admin of the order's company (not its own buyer) or an
    agent, while the approval is PENDING and not expired."""
    viewer = require_authenticated(ctx.viewer)
    if not (viewer.is_customer or viewer.is_agent):
        raise Forbidden("Analysts cannot decide approvals.")
    text = internal_note(note, "reason")
    async with change(ctx.write) as session:
        order = (await session.exec(select(Order).where(Order.id == order_id).with_for_update())).first()
        if order is None or order.company_id is None:
            raise Refusal("NOT_FOUND", "No such order.", ["orderId"])
        await _may_decide(session, viewer, order)
        now = ctx.clock()
        if order.approval_state is not ApprovalState.PENDING or order.status is not OrderStatus.AWAITING_APPROVAL:
            raise Refusal("NOT_AWAITING_APPROVAL", f"Order {order.number} does not await approval.", ["orderId"])
        if order.approval_expires_at is not None and now >= order.approval_expires_at:
            raise Refusal("APPROVAL_EXPIRED", f"The approval of order {order.number} has expired.", ["orderId"])
        order.approval_decided_at, order.approval_decided_by = now, viewer.name
        actor = actor_of(viewer)
        if approve:
            order.approval_state = ApprovalState.APPROVED
            await refresh_order_status(session, order)
            session.add(order)
            append_event(
                session,
                order=order,
                customer_id=order.customer_id,
                type=EventType.ORDER_APPROVED,
                actor=actor,
                message=f"Order {order.number} approved.",
                visibility=EventVisibility.CUSTOMER,
                internal_note=text,
            )
        else:
            order.approval_state = ApprovalState.REJECTED
            await _close(session, ctx.ports.payments, order, actor, EventType.ORDER_APPROVAL_REJECTED, text)
    return order


async def _may_decide(session: AsyncSession, viewer: Viewer, order: Order) -> None:
    if viewer.is_agent:
        return
    membership = await session.get(CompanyBuyer, viewer.customer_id) if viewer.customer_id is not None else None
    if membership is None or membership.company_id != order.company_id:
        raise Refusal("NOT_FOUND", "No such order.", ["orderId"])  # another company's order: as if unknown
    if membership.role not in DECIDERS:
        raise Forbidden("Only your company's approvers and admins approve or reject orders.")
    if order.customer_id == viewer.customer_id:
        raise Forbidden("Another approver of your company decides on your own order.")


async def _close(
    session: AsyncSession,
    gateway: PaymentGateway,
    order: Order,
    actor: tuple[ActorKind, str | None],
    kind: EventType,
    note: str | None,
) -> None:
    """A rejected or expired approval: every line cancelled, so stock, authorisation and credit are released."""
    what = "was not approved" if kind is EventType.ORDER_APPROVAL_REJECTED else "was not approved in time"
    append_event(
        session,
        order=order,
        customer_id=order.customer_id,
        type=kind,
        actor=actor,
        message=f"Order {order.number} {what}.",
        visibility=EventVisibility.CUSTOMER,
        internal_note=note,
    )
    await cancel_in(session, gateway, order, None, code=CancellationReason.OTHER, note=note, actor=actor)
    session.add(order)


async def expire_approvals(write: WriteSession, gateway: PaymentGateway, now: datetime) -> int:
    """Cancels (EXPIRED) every order whose approval is still PENDING at `now` past its expiry, one change per order,
    and answers how many. Run by the server's approval sweep; safe to run anywhere at once (each order is locked
    and checked again)."""
    async with change(write) as session:
        due = (
            await session.exec(
                select(Order.id)
                .where(
                    Order.approval_state == ApprovalState.PENDING,
                    Order.status == OrderStatus.AWAITING_APPROVAL,
                    col(Order.approval_expires_at) <= now,
                )
                .order_by(col(Order.approval_expires_at), col(Order.id))
                .limit(MAX_LISTED)
            )
        ).all()
    expired = 0
    for order_id in due:
        async with change(write) as session:
            order = (await session.exec(select(Order).where(Order.id == order_id).with_for_update())).first()
            if order is None or order.approval_state is not ApprovalState.PENDING:
                continue  # decided meanwhile
            if order.status is not OrderStatus.AWAITING_APPROVAL:
                continue
            order.approval_state, order.approval_decided_at = ApprovalState.EXPIRED, now
            await _close(session, gateway, order, SYSTEM, EventType.ORDER_APPROVAL_EXPIRED, None)
            expired += 1
    return expired


async def pending_approvals(ctx: RequestContext) -> list[Order]:
    """Orders awaiting approval, oldest first: an approver's or company admin's whole company's, a buyer's own,
    every company's for agents."""
    viewer = require_authenticated(ctx.viewer)
    if not (viewer.is_customer or viewer.is_agent):
        raise Forbidden("Analysts do not decide approvals.")
    query = select(Order).where(
        Order.approval_state == ApprovalState.PENDING, Order.status == OrderStatus.AWAITING_APPROVAL
    )
    async with ctx.read() as session:
        if viewer.is_customer:
            membership = await session.get(CompanyBuyer, viewer.customer_id)
            if membership is None:
                return []
            query = query.where(Order.company_id == membership.company_id)
            if membership.role not in DECIDERS:
                query = query.where(Order.customer_id == viewer.customer_id)
        rows = await session.exec(query.order_by(col(Order.placed_at), col(Order.id)).limit(MAX_LISTED))
        return list(rows.all())


# --- invoices on account ----------------------------------------------------------------------------------


async def company_invoices(ctx: RequestContext, company_id: int | None, *, unpaid_only: bool) -> list[Invoice]:
    """A company's invoices, newest first: agents name the company; a customer reads their own company's (an
    approver or company admin all of them, a buyer those of their own orders). Another company is NOT_FOUND."""
    viewer = require_authenticated(ctx.viewer)
    if not (viewer.is_customer or viewer.is_agent):
        raise Forbidden("Company invoices print the company's details: analysts read invoices through orders.")
    async with ctx.read() as session:
        query = select(Invoice).where(Invoice.kind == DocumentKind.INVOICE)
        if viewer.is_customer:
            membership = await session.get(CompanyBuyer, viewer.customer_id)
            if membership is None and company_id is None:
                return []  # a consumer: no company, no company invoices
            if membership is None or company_id not in (None, membership.company_id):
                raise NotFound("No such company.")
            query = query.where(Invoice.company_id == membership.company_id)
            if membership.role not in DECIDERS:
                query = query.where(Invoice.customer_id == viewer.customer_id)
        else:
            if company_id is None or await session.get(Company, company_id) is None:
                raise NotFound("No such company.")
            query = query.where(Invoice.company_id == company_id)
        if unpaid_only:
            query = query.where(col(Invoice.due_at).is_not(None), col(Invoice.settled_at).is_(None))
        rows = await session.exec(
            query.order_by(col(Invoice.issued_at).desc(), col(Invoice.id).desc()).limit(MAX_LISTED)
        )
        return list(rows.all())


async def credited_minor(session: AsyncSession, invoice_id: int) -> int:
    """What the credit notes correcting an invoice took off it."""
    query = select(sa.func.coalesce(sa.func.sum(Invoice.total_minor), 0)).where(
        Invoice.corrects_invoice_id == invoice_id
    )
    return int((await session.exec(query)).one())


async def invoice_currency(ctx: RequestContext, number: str) -> str | None:
    """The currency of an invoice, for reading an amount given for it (agents only, like recording a payment)."""
    require_agent(ctx.viewer, "record invoice payments")
    async with ctx.read() as session:
        query = select(Invoice.currency).where(Invoice.number == number, Invoice.kind == DocumentKind.INVOICE)
        return (await session.exec(query)).first()


async def record_invoice_payment(ctx: RequestContext, number: str, amount_minor: int, reference: str) -> Invoice:
    """Records a payment received against an invoice on account (agents, admins): never more than is still due,
    even when two are recorded at once (one conditional UPDATE); the company's credit grows back by as much."""
    viewer = require_agent(ctx.viewer, "record invoice payments")
    reference = reference.strip()
    if not 1 <= len(reference) <= MAX_PAYMENT_REFERENCE:
        raise Refusal(
            "INVALID_INPUT", f"reference holds 1 to {MAX_PAYMENT_REFERENCE} characters.", ["input", "reference"]
        )
    if not 0 < amount_minor <= MAX_PAYMENT_MINOR:
        raise Refusal("INVALID_INPUT", "A payment is a positive amount.", ["input", "amount"])
    async with change(ctx.write) as session:
        invoice = (
            await session.exec(select(Invoice).where(Invoice.number == number, Invoice.kind == DocumentKind.INVOICE))
        ).first()
        if invoice is None:
            raise Refusal("NOT_FOUND", "No such invoice.", ["input", "invoiceNumber"])
        if invoice.company_id is None or invoice.due_at is None:
            raise Refusal("NOT_ON_ACCOUNT", f"Invoice {number} was paid by card.", ["input", "invoiceNumber"])
        due = invoice.total_minor - await credited_minor(session, id_of(invoice))
        paid = col(Invoice.paid_minor)
        result = await session.exec(
            sa.update(Invoice)
            .where(col(Invoice.id) == invoice.id, paid + amount_minor <= due)
            .values(paid_minor=paid + amount_minor)
        )
        if result.rowcount != 1:
            raise Refusal(
                "AMOUNT_EXCEEDS_DUE", f"That is more than invoice {number} still has due.", ["input", "amount"]
            )
        # Counted under the invoice's row lock the UPDATE took: concurrent payments count one after another.
        count = select(sa.func.count()).select_from(InvoicePayment).where(InvoicePayment.invoice_id == invoice.id)
        if (await session.exec(count)).one() >= MAX_PAYMENTS_PER_INVOICE:
            raise Refusal(
                "TOO_MANY_PAYMENTS", f"Invoice {number} has taken {MAX_PAYMENTS_PER_INVOICE} payments.", ["input"]
            )
        now = ctx.clock()
        await session.exec(
            sa.update(Invoice)
            .where(col(Invoice.id) == invoice.id, paid >= due, col(Invoice.settled_at).is_(None))
            .values(settled_at=now)
        )
        session.add(
            InvoicePayment(
                invoice_id=id_of(invoice),
                amount_minor=amount_minor,
                reference=reference,
                received_at=now,
                recorded_by=viewer.name,
            )
        )
        await release_credit(session, invoice.company_id, amount_minor)
        order = await session.get_one(Order, invoice.order_id)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.INVOICE_PAYMENT_RECORDED,
            actor=actor_of(viewer),
            message=f"{to_decimal(amount_minor, invoice.currency)} {invoice.currency} received against {number}.",
            visibility=EventVisibility.INTERNAL,
        )
        await session.refresh(invoice)
    return invoice
