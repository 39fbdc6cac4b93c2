"""Invoices, credit notes and the accounting export (#17).

Documents are seen by whoever sees their order (its customer, agents, admins, analysts); the buyer's details
are personal data, null for analysts (resolvers.access), and so is `pdfUrl` (the PDF prints them).
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from ordergraph import models
from ordergraph.models.invoice import DocumentKind
from ordergraph.models.tax import TaxLine as TaxLineValue
from ordergraph.models.tax import group_by_rate, rate_of_ppm
from ordergraph.resolvers import accounting
from ordergraph.resolvers.access import free_text
from ordergraph.resolvers.invoices import document_path
from ordergraph.resolvers.pagination import Connection as Page
from ordergraph.schema.common import Address, Connection, Money, money
from ordergraph.schema.info import Info
from ordergraph.schema.market import TaxLine, tax_line_list
from ordergraph.schema.permissions import PersonalData

if TYPE_CHECKING:
    from ordergraph.schema.companies import Company


@strawberry.type(description="A seller or buyer as printed on a document when it was issued.")
class InvoiceParty:
    name: str | None
    address: Address | None
    tax_id: str | None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class _LineOf:
    """A document's or journal entry's line with the currency of its parent (lines do not store it)."""

    row: Any
    currency: str


@strawberry.type(description="One line of an invoice or credit note: goods, or shipping. total = net + tax.")
class InvoiceLine:
    @strawberry.field(description="Null on the shipping line.")
    def sku(root: _LineOf) -> str | None:
        return root.row.sku

    @strawberry.field
    def description(root: _LineOf) -> str:
        return root.row.description

    @strawberry.field(description="Units; 0 on a credit for a price reduction.")
    def quantity(root: _LineOf) -> int:
        return root.row.quantity

    @strawberry.field
    def is_shipping(root: _LineOf) -> bool:
        return root.row.is_shipping

    @strawberry.field(description="The order line's unit price (gross where prices include tax).")
    def unit_price(root: _LineOf) -> Money:
        return money(root.row.unit_price_minor, root.currency)

    @strawberry.field(description="Null on orders placed before markets existed.")
    def tax_rate(root: _LineOf) -> Decimal | None:
        return None if root.row.tax_rate_ppm is None else rate_of_ppm(root.row.tax_rate_ppm)

    @strawberry.field
    def net(root: _LineOf) -> Money:
        return money(root.row.net_minor, root.currency)

    @strawberry.field
    def tax(root: _LineOf) -> Money:
        return money(root.row.tax_minor, root.currency)

    @strawberry.field
    def total(root: _LineOf) -> Money:
        return money(root.row.gross_minor, root.currency)


@strawberry.interface(description="What invoices and credit notes share: numbered, dated, with lines and taxes.")
class AccountingDocument:
    """The fields invoices and credit notes share."""

    number: str
    issued_at: datetime
    currency: str

    @strawberry.field
    def seller(root: models.Invoice) -> InvoiceParty:
        return InvoiceParty(
            name=root.seller_name,
            address=Address(
                name=None,
                line1=root.seller_line1,
                line2=None,
                city=root.seller_city,
                region=None,
                postal_code=root.seller_postal_code,
                country=root.seller_country,
                phone=None,
            ),
            tax_id=root.seller_tax_id,
        )

    @strawberry.field(
        description="The buyer when the document was issued (personal data): null for analysts.",
        extensions=[PersonalData()],
    )
    def buyer(root: models.Invoice) -> InvoiceParty | None:
        address = None
        if root.buyer_line1 and root.buyer_city and root.buyer_postal_code and root.buyer_country:
            address = Address(
                name=root.buyer_name,
                line1=root.buyer_line1,
                line2=root.buyer_line2,
                city=root.buyer_city,
                region=root.buyer_region,
                postal_code=root.buyer_postal_code,
                country=root.buyer_country,
                phone=None,
            )
        return InvoiceParty(name=root.buyer_name, address=address, tax_id=root.buyer_tax_id, email=root.buyer_email)

    @strawberry.field
    async def lines(root: models.Invoice, info: Info) -> list[InvoiceLine]:
        lines = await info.context.loaders.lines_by_document.load(root.id)
        return [_LineOf(line, root.currency) for line in lines]  # type: ignore[misc]

    @strawberry.field(description="Tax per rate, highest rate first.")
    async def taxes(root: models.Invoice, info: Info) -> list[TaxLine]:
        lines = await info.context.loaders.lines_by_document.load(root.id)
        summary: list[TaxLineValue] = group_by_rate([(li.tax_rate_ppm, li.gross_minor, li.tax_minor) for li in lines])
        return tax_line_list(summary, root.currency)

    @strawberry.field
    def net_total(root: models.Invoice) -> Money:
        return money(root.net_minor, root.currency)

    @strawberry.field
    def tax_total(root: models.Invoice) -> Money:
        return money(root.tax_minor, root.currency)

    @strawberry.field(description="What was captured (an invoice) or refunded (a credit note).")
    def total(root: models.Invoice) -> Money:
        return money(root.total_minor, root.currency)

    @strawberry.field(description="The PDF, with the API's bearer token: null for analysts (it prints personal data).")
    def pdf_url(root: models.Invoice, info: Info) -> str | None:
        return document_path(root, info.context.viewer)


@strawberry.type(description="A credit note: a refund (or the part of one) correcting one invoice.")
class CreditNote(AccountingDocument):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Invoice) and obj.kind is DocumentKind.CREDIT_NOTE

    @strawberry.field(description="The number of the invoice it corrects.")
    async def corrects(root: models.Invoice, info: Info) -> str | None:
        if root.corrects_invoice_id is None:
            return None
        invoice = await info.context.loaders.document.load(root.corrects_invoice_id)
        return None if invoice is None else invoice.number


@strawberry.type(description="A payment received against an invoice on account.")
class InvoicePayment:
    @strawberry.field
    def amount(root: _LineOf) -> Money:
        return money(root.row.amount_minor, root.currency)

    @strawberry.field(description="The bank's or payer's reference as recorded (free text): null for analysts.")
    def reference(root: _LineOf, info: Info) -> str | None:
        return free_text(info.context.viewer, root.row.reference)

    @strawberry.field
    def received_at(root: _LineOf) -> datetime:
        return root.row.received_at


@strawberry.type(description="An invoice: issued when a payment is captured, its total the amount captured.")
class Invoice(AccountingDocument):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Invoice) and obj.kind is DocumentKind.INVOICE

    @strawberry.field(description="Credit notes correcting this invoice, oldest first.")
    async def credit_notes(root: models.Invoice, info: Info) -> list[CreditNote]:
        return await info.context.loaders.credit_notes_by_invoice.load(root.id)

    @strawberry.field(description="The buyer company of a company order's invoice (#21); else null.")
    async def company(
        root: models.Invoice, info: Info
    ) -> Annotated["Company", strawberry.lazy("ordergraph.schema.companies")] | None:
        if root.company_id is None:
            return None
        return await info.context.loaders.company.load(root.company_id)

    @strawberry.field(description="A company order's (#21): the buyer company's name as billed.")
    def buyer_company_name(root: models.Invoice) -> str | None:
        return root.buyer_company_name

    @strawberry.field(description="A company order's purchase-order number.")
    def purchase_order_number(root: models.Invoice) -> str | None:
        return root.purchase_order_number

    @strawberry.field(description="On account: when payment is due (issued + the order's net terms); else null.")
    def due_at(root: models.Invoice) -> datetime | None:
        return root.due_at

    @strawberry.field(description="On account: what has been received against it.")
    def amount_paid(root: models.Invoice) -> Money:
        return money(root.paid_minor, root.currency)

    @strawberry.field(description="On account: total less credit notes less payments; 0 once settled or paid by card.")
    async def amount_due(root: models.Invoice, info: Info) -> Money:
        if root.due_at is None:
            return money(0, root.currency)
        notes = await info.context.loaders.credit_notes_by_invoice.load(root.id)
        return money(max(root.total_minor - sum(n.total_minor for n in notes) - root.paid_minor, 0), root.currency)

    @strawberry.field(description="On account: when its payments reached what was due.")
    def settled_at(root: models.Invoice) -> datetime | None:
        return root.settled_at

    @strawberry.field(description="Payments received against it (on account), oldest first.")
    async def payments(root: models.Invoice, info: Info) -> list[InvoicePayment]:
        rows = await info.context.loaders.payments_by_invoice.load(root.id)
        return [_LineOf(row, root.currency) for row in rows]  # type: ignore[misc]


async def invoices_of(info: Info, order_id: int) -> list[models.Invoice]:
    documents = await info.context.loaders.documents_by_order.load(order_id)
    return [d for d in documents if d.kind is DocumentKind.INVOICE]


# --- the accounting export --------------------------------------------------------------------------------

Account = strawberry.enum(models.journal.Account, name="AccountingAccount")
EntryKind = strawberry.enum(models.journal.JournalEntryKind, name="AccountingEntryKind")


@strawberry.type(description="One side of a journal entry: a debit or a credit on one account.")
class AccountingLine:
    @strawberry.field
    def account(root: _LineOf) -> Account:
        return root.row.account

    @strawberry.field(description="On TAX_PAYABLE lines: the rate.")
    def tax_rate(root: _LineOf) -> Decimal | None:
        return None if root.row.tax_rate_ppm is None else rate_of_ppm(root.row.tax_rate_ppm)

    @strawberry.field
    def debit(root: _LineOf) -> Money:
        return money(root.row.debit_minor, root.currency)

    @strawberry.field
    def credit(root: _LineOf) -> Money:
        return money(root.row.credit_minor, root.currency)


@strawberry.type(description="A balanced journal entry: Σ debit = Σ credit. No personal data.")
class AccountingEntry:
    posted_at: datetime
    kind: EntryKind
    currency: str
    order_number: str
    document_number: str = strawberry.field(description="The invoice or credit note it books or was issued with.")

    @strawberry.field
    async def lines(root: models.JournalEntry, info: Info) -> list[AccountingLine]:
        lines = await info.context.loaders.lines_by_journal_entry.load(root.id)
        return [_LineOf(line, root.currency) for line in lines]  # type: ignore[misc]


@strawberry.type
class InvoiceQueries:
    """Mixed into the root Query type (schema/query.py)."""

    @strawberry.field(
        description="The journal, oldest first, for days `from` … `to` (UTC, both included): admins, agents, analysts."
    )
    async def accounting_entries(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AccountingEntry]:
        result: Page = await accounting.list_entries(
            info.context, accounting.period(from_, to), first=first, after=after
        )
        return result  # type: ignore[return-value]


@strawberry.type
class InvoiceMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""
