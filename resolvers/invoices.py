"""Issuing invoices and credit notes, inside the transaction that captures or refunds (resolvers.payments calls
`invoice_capture` and `credit_refund`), and finding them for the graph and the PDF routes.

Invariants (models.invoice states the allocation):

- One invoice per capture, total = the amount captured; per refund a credit note for each invoice it corrects
  (usually one), together the amount refunded. So per order Σ invoices − Σ credit notes = captured −
  refunded, and the journal (resolvers.accounting) books each document and each money movement in the same
  transaction.
- Numbers come from `next_sequence`: an UPDATE … RETURNING of the (series, year) counter row, which PostgreSQL
  row-locks until the transaction ends (concurrent captures in a series queue there; SQLite's write lock
  serialises them anyway). A change that rolls back takes its increment with it: numbers stay gapless. Every
  change takes the counter after any stock row it locks (so a capture follows the stock leaving), never before:
  two changes never wait for each other's locks in opposite orders.
"""

import re
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import (
    AddressFields,
    Company,
    Customer,
    CustomerAddress,
    Order,
    OrderLine,
    ReturnLine,
)
from ordergraph.models.columns import id_of
from ordergraph.models.enums import PaymentMethodKind
from ordergraph.models.invoice import (
    SHIPPING,
    DocumentKind,
    DocumentLedger,
    DocumentSeries,
    Invoice,
    InvoiceLine,
    LineFacts,
    OrderFacts,
    Part,
    allocate_to_invoices,
    credit_parts_for_reduction,
    document_number,
    fit,
    invoice_parts,
    seller_of,
    series_of,
)
from ordergraph.models.journal import JournalEntryKind
from ordergraph.resolvers import accounting
from ordergraph.resolvers.access import Viewer, can_see_customer, may_download_documents, require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Forbidden

# What `models.invoice.document_number` writes: INV-CZ-2026-000001.
NUMBER = re.compile(r"[A-Z]{3}-[A-Z0-9]{1,8}-[0-9]{4}-[0-9]{6,9}")


async def invoice_capture(session: AsyncSession, order: Order, captured_minor: int, *, at: datetime) -> Invoice:
    """The invoice for a capture of `captured_minor`: every unit the line ledger counts as shipped, billed on top
    of what earlier invoices billed (so the units of the fulfillment order leaving now, or, when the capture
    settles what a cancellation left, the shipping still unbilled). Called once the ledger has moved."""
    lines = await _lines(session, order)
    units_left = {id_of(line): line.quantity_shipped for line in lines}
    state = await _documents_of(session, id_of(order))
    parts = invoice_parts(
        _facts(order), [_line_facts(line) for line in lines], units_left, state.billed, captured_minor
    )
    invoice = await _issue(session, order, DocumentKind.INVOICE, parts, at=at, return_id=None)
    await accounting.post_document(session, order, invoice, parts)
    await accounting.post_money(session, order, JournalEntryKind.CAPTURE, captured_minor, invoice.number, at=at)
    return invoice


async def credit_refund(
    session: AsyncSession, order: Order, refunded_minor: int, *, return_id: int | None, at: datetime
) -> list[Invoice]:
    """The credit notes for a refund of `refunded_minor`, one per invoice corrected (usually one), adding up to
    it: a return's received units at their refund value (price and tax, as its lines hold them), or, for a
    reduction without a return, shipping first and then goods (models.invoice.credit_parts_for_reduction). Each
    part corrects the invoices that billed it, oldest first."""
    lines = await _lines(session, order)
    state = await _documents_of(session, id_of(order))
    facts = _facts(order)
    if return_id is not None:
        by_id = {line.id: line for line in lines}
        returned = await session.exec(
            select(ReturnLine).where(ReturnLine.return_id == return_id).order_by(col(ReturnLine.id))
        )
        parts = [
            Part(
                key=rl.order_line_id,
                sku=by_id[rl.order_line_id].sku,
                description=by_id[rl.order_line_id].product_name,
                quantity=rl.quantity_received,
                unit_price_minor=by_id[rl.order_line_id].unit_price_minor,
                tax_rate_ppm=by_id[rl.order_line_id].tax_rate_ppm,
                gross_minor=rl.refund_minor or 0,
                tax_minor=rl.refund_tax_minor or 0,
            )
            for rl in returned.all()
            if rl.refund_minor
        ]
        parts = fit(parts, refunded_minor, facts)
    else:
        parts = credit_parts_for_reduction(facts, [_line_facts(line) for line in lines], state.net, refunded_minor)
    notes: list[Invoice] = []
    by_invoice: dict[int | None, list[Part]] = defaultdict(list)
    for part in allocate_to_invoices(parts, state.creditable):
        by_invoice[part.corrects_invoice_id].append(part)
    for corrects, invoice_parts_ in by_invoice.items():  # oldest invoice first (allocation order)
        note = await _issue(
            session, order, DocumentKind.CREDIT_NOTE, invoice_parts_, at=at, return_id=return_id, corrects=corrects
        )
        await accounting.post_document(session, order, note, invoice_parts_)
        notes.append(note)
    await accounting.post_money(session, order, JournalEntryKind.REFUND, refunded_minor, notes[0].number, at=at)
    return notes


async def next_sequence(session: AsyncSession, series: str, year: int) -> int:
    """The next number of a series in a year, taken in the caller's transaction (module docstring)."""
    bump = (
        sa.update(DocumentSeries)
        .where(col(DocumentSeries.series) == series, col(DocumentSeries.year) == year)
        .values(last_number=col(DocumentSeries.last_number) + 1)
        .returning(col(DocumentSeries.last_number))
    )
    number = (await session.exec(bump)).scalar_one_or_none()
    if number is None:
        # The series' first number this year: make the row (a concurrent maker wins; we then queue on its lock).
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await session.exec(
            insert(DocumentSeries).values(series=series, year=year, last_number=0).on_conflict_do_nothing()
        )
        number = (await session.exec(bump)).scalar_one()
    return int(number)


# --- reading ----------------------------------------------------------------------------------------------


def document_path(invoice: Invoice, viewer: Viewer | None = None) -> str | None:
    """Where a document's PDF is served (`pdfUrl`): for viewers who may download it (not analysts)."""
    if viewer is not None and not may_download_documents(viewer):
        return None
    folder = "invoices" if invoice.kind is DocumentKind.INVOICE else "credit-notes"
    return f"/{folder}/{invoice.number}.pdf"


async def document_for_download(
    ctx: RequestContext, kind: DocumentKind, number: str
) -> tuple[Invoice, list[InvoiceLine], str | None] | None:
    """An invoice or credit note with its lines (and, for a credit note, the number it corrects) for its
    customer or an agent; None for an unknown number or another customer's document (answered alike, so a
    probe learns nothing). Analysts are refused before anything is looked up: documents print personal data."""
    viewer = require_authenticated(ctx.viewer)
    if not may_download_documents(viewer):
        raise Forbidden("Invoices and credit notes print personal data: analysts cannot download them.")
    if NUMBER.fullmatch(number) is None:
        return None  # not a number this system issues (nothing to look up, whatever bytes came in the path)
    async with ctx.read() as session:
        invoice = (await session.exec(select(Invoice).where(Invoice.number == number, Invoice.kind == kind))).first()
        if invoice is None or not can_see_customer(viewer, invoice.customer_id):
            return None
        lines = list(
            (
                await session.exec(
                    select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(col(InvoiceLine.position))
                )
            ).all()
        )
        corrected = None
        if invoice.corrects_invoice_id is not None:
            corrected = await session.get(Invoice, invoice.corrects_invoice_id)
    return invoice, lines, corrected.number if corrected else None


# --- the shared steps -------------------------------------------------------------------------------------


async def _documents_of(session: AsyncSession, order_id: int) -> DocumentLedger:
    rows = (
        await session.exec(
            select(Invoice, InvoiceLine)
            .join(InvoiceLine, col(InvoiceLine.invoice_id) == col(Invoice.id))
            .where(Invoice.order_id == order_id)
            .order_by(col(Invoice.id), col(InvoiceLine.position))
        )
    ).all()
    ledger = DocumentLedger()
    for document, line in rows:
        key = SHIPPING if line.order_line_id is None else line.order_line_id
        ledger.add(
            document.kind,
            id_of(document),
            document.corrects_invoice_id,
            key,
            line.gross_minor,
            line.tax_minor,
            line.quantity,
        )
    return ledger


async def _lines(session: AsyncSession, order: Order) -> list[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order.id).order_by(col(OrderLine.line_number))
    return list((await session.exec(query)).all())


def _facts(order: Order) -> OrderFacts:
    return OrderFacts(order.shipping_minor, order.tax_minor, order.prices_include_tax, order.shipping_tax_rate_ppm)


def _line_facts(line: OrderLine) -> LineFacts:
    return LineFacts(
        id=id_of(line),
        sku=line.sku,
        product_name=line.product_name,
        quantity=line.quantity,
        quantity_cancelled=line.quantity_cancelled,
        unit_price_minor=line.unit_price_minor,
        tax_minor=line.tax_minor,
        tax_rate_ppm=line.tax_rate_ppm,
    )


async def _buyer_address(session: AsyncSession, order: Order) -> AddressFields | CustomerAddress | None:
    """The address the order ships to; for a pickup order, the customer's first saved address (if any)."""
    if order.shipping_address is not None:
        return order.shipping_address
    query = (
        select(CustomerAddress)
        .where(CustomerAddress.customer_id == order.customer_id)
        .order_by(col(CustomerAddress.position))
    )
    return (await session.exec(query)).first()


async def _issue(
    session: AsyncSession,
    order: Order,
    kind: DocumentKind,
    parts: list[Part],
    *,
    at: datetime,
    return_id: int | None,
    corrects: int | None = None,
) -> Invoice:
    now = at
    series = series_of(kind, order.market_code)
    sequence = await next_sequence(session, series, now.year)
    customer = await session.get_one(Customer, order.customer_id)
    address = await _buyer_address(session, order)
    seller = seller_of(order.market_code)
    tax = sum(p.tax_minor for p in parts)
    total = sum(p.gross_minor for p in parts)
    invoice = Invoice(
        number=document_number(series, now.year, sequence),
        kind=kind,
        series=series,
        year=now.year,
        sequence=sequence,
        order_id=id_of(order),
        issued_at=now,
        currency=order.currency,
        market_code=order.market_code,
        prices_include_tax=order.prices_include_tax,
        net_minor=total - tax,
        tax_minor=tax,
        total_minor=total,
        return_id=return_id,
        corrects_invoice_id=corrects,
        seller_name=seller.name,
        seller_line1=seller.line1,
        seller_city=seller.city,
        seller_postal_code=seller.postal_code,
        seller_country=seller.country,
        seller_tax_id=seller.tax_id,
        customer_id=order.customer_id,
        buyer_name=(address.name if address is not None and address.name else customer.name),
        buyer_email=customer.email,
        buyer_line1=address.line1 if address else None,
        buyer_line2=address.line2 if address else None,
        buyer_city=address.city if address else None,
        buyer_region=address.region if address else None,
        buyer_postal_code=address.postal_code if address else None,
        buyer_country=address.country if address else None,
    )
    if order.company_id is not None:
        await _bill_company(session, order, invoice)
    session.add(invoice)
    await session.flush()
    for position, part in enumerate(parts, 1):
        session.add(
            InvoiceLine(
                invoice_id=id_of(invoice),
                position=position,
                order_line_id=None if part.key == SHIPPING else part.key,
                is_shipping=part.key == SHIPPING,
                sku=part.sku,
                description=part.description,
                quantity=part.quantity,
                unit_price_minor=part.unit_price_minor,
                tax_rate_ppm=part.tax_rate_ppm,
                net_minor=part.net_minor,
                tax_minor=part.tax_minor,
                gross_minor=part.gross_minor,
            )
        )
    return invoice


async def _bill_company(session: AsyncSession, order: Order, document: Invoice) -> None:
    """A business order's documents (#21) bill its company at its billing address, with its tax id and the order's
    purchase-order number; an invoice for an order on account is due `payment_terms_days` after it is issued."""
    company = await session.get_one(Company, order.company_id)
    document.company_id = company.id
    document.buyer_company_name = company.name
    document.buyer_tax_id = company.tax_id
    document.purchase_order_number = order.purchase_order_number
    document.buyer_name = company.billing_name or company.name
    document.buyer_line1 = company.billing_line1
    document.buyer_line2 = company.billing_line2
    document.buyer_city = company.billing_city
    document.buyer_region = company.billing_region
    document.buyer_postal_code = company.billing_postal_code
    document.buyer_country = company.billing_country
    on_account = order.payment_method is PaymentMethodKind.ON_ACCOUNT and order.payment_terms_days is not None
    if document.kind is DocumentKind.INVOICE and on_account and order.payment_terms_days is not None:
        document.due_at = document.issued_at + timedelta(days=order.payment_terms_days)
