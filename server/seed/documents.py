"""Invoices, credit notes and journal entries for the demo's orders, from their payment transactions, by the rules
the live system issues them with (models.invoice, models.journal): an invoice per capture, a credit note per
refund and invoice it corrects, a balanced journal entry for each of them and for each capture and refund, all
dated when the transaction happened.

Invariants: per order Σ invoices − Σ credit notes = captured − refunded, and the journal's CASH_CLEARING lines add
up to the same per currency. Numbers are gapless per series and year, given in the order the seed makes the
documents (order by order, which is not strictly the order of their dates); `series_rows` leaves each counter
at the last number given, so live captures go on from there. Rows never touch the database.
"""

from collections import Counter, defaultdict
from collections.abc import Callable

from ordergraph.models.enums import PaymentTransactionKind
from ordergraph.models.invoice import (
    SHIPPING,
    DocumentKind,
    DocumentLedger,
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
from ordergraph.models.journal import JournalEntryKind, Posting, entry_for_document, money_postings
from ordergraph.models.money import share
from ordergraph.models.tax import added_tax, rate_ppm
from ordergraph.server.seed.lifecycle import LineDraft, OrderDraft, TransactionDraft

COLUMNS: dict[str, tuple[str, ...]] = {
    "invoice": (
        "id",
        "number",
        "kind",
        "series",
        "year",
        "sequence",
        "order_id",
        "issued_at",
        "currency",
        "market_code",
        "prices_include_tax",
        "net_minor",
        "tax_minor",
        "total_minor",
        "corrects_invoice_id",
        "return_id",
        "seller_name",
        "seller_line1",
        "seller_city",
        "seller_postal_code",
        "seller_country",
        "seller_tax_id",
        "customer_id",
        "buyer_name",
        "buyer_email",
        "buyer_tax_id",
        "buyer_line1",
        "buyer_line2",
        "buyer_city",
        "buyer_region",
        "buyer_postal_code",
        "buyer_country",
    ),
    "invoice_line": (
        "id",
        "invoice_id",
        "position",
        "order_line_id",
        "is_shipping",
        "sku",
        "description",
        "quantity",
        "unit_price_minor",
        "tax_rate_ppm",
        "net_minor",
        "tax_minor",
        "gross_minor",
    ),
    "journal_entry": ("id", "posted_at", "kind", "currency", "order_id", "order_number", "document_number"),
    "journal_line": ("id", "entry_id", "position", "account", "debit_minor", "credit_minor", "tax_rate_ppm"),
    "document_series": ("series", "year", "last_number"),
}

Batch = dict[str, list[tuple]]


class DocumentMaker:
    """Makes an order's documents and journal from its drafts; `next_id` is the RowMaker's id counter."""

    def __init__(self, next_id: Callable[[str], int], market: str, currency: str, country: str) -> None:
        self.next_id = next_id
        self.market, self.currency, self.country = market, currency, country
        self.sequences: Counter[tuple[str, int]] = Counter()

    def order_documents(
        self,
        batch: Batch,
        order: OrderDraft,
        *,
        order_id: int,
        order_number: str,
        line_ids: dict[LineDraft, int],
        return_id: int | None,
        buyer: tuple[str | None, str | None, str | None, str | None, str | None],
    ) -> None:
        """`buyer`: the address the order ships to (line1, line2, city, region, postal code), as on the order."""
        facts = OrderFacts(
            order.shipping_minor,
            order.tax_minor,
            order.prices_include_tax,
            rate_ppm(order.shipping_tax_rate) if order.shipping_tax_rate is not None else None,
        )
        lines = [
            LineFacts(
                id=line_ids[line],
                sku=line.item.sku,
                product_name=line.item.name,
                quantity=line.quantity,
                quantity_cancelled=line.quantity_cancelled,
                unit_price_minor=line.item.price_minor,
                tax_minor=line.tax_minor,
                tax_rate_ppm=rate_ppm(line.tax_rate) if line.tax_rate is not None else None,
            )
            for line in order.lines
        ]
        ledger = DocumentLedger()
        units_left: Counter[int] = Counter()
        context = _Context(order, order_id, order_number, return_id, buyer)
        for t in order.payment.transactions:
            if t.kind is PaymentTransactionKind.CAPTURE:
                if t.fulfillment is not None:
                    for line in t.fulfillment.lines:
                        units_left[line_ids[line]] += line.active
                parts = invoice_parts(facts, lines, units_left, ledger.billed, t.amount_minor)
                invoice = self._document(batch, context, DocumentKind.INVOICE, parts, t, corrects=None)
                ledger.add_parts(DocumentKind.INVOICE, invoice, None, parts)
                self._entry(
                    batch,
                    context,
                    JournalEntryKind.CAPTURE,
                    money_postings(JournalEntryKind.CAPTURE, t.amount_minor),
                    t,
                    invoice,
                )
            elif t.kind is PaymentTransactionKind.REFUND:
                parts = (
                    self._returned(facts, order, line_ids, t.amount_minor)
                    if t.for_return
                    else credit_parts_for_reduction(facts, lines, ledger.net, t.amount_minor)
                )
                by_invoice: dict[int | None, list[Part]] = defaultdict(list)
                for part in allocate_to_invoices(parts, ledger.creditable):
                    by_invoice[part.corrects_invoice_id].append(part)
                first = None
                for corrects, note_parts in by_invoice.items():
                    note = self._document(batch, context, DocumentKind.CREDIT_NOTE, note_parts, t, corrects=corrects)
                    ledger.add_parts(DocumentKind.CREDIT_NOTE, note, corrects, note_parts)
                    first = first or note
                if first is not None:
                    self._entry(
                        batch,
                        context,
                        JournalEntryKind.REFUND,
                        money_postings(JournalEntryKind.REFUND, t.amount_minor),
                        t,
                        first,
                    )

    def series_rows(self, batch: Batch) -> None:
        for (series, year), last in sorted(self.sequences.items()):
            batch["document_series"].append((series, year, last))

    @staticmethod
    def _returned(facts: OrderFacts, order: OrderDraft, line_ids: dict[LineDraft, int], amount: int) -> list[Part]:
        """A return's received units at their price and tax share (one return per demo order), fitted to the
        refund (which never exceeds what was captured)."""
        parts: list[Part] = []
        for rl in order.return_.lines if order.return_ else []:
            if rl.received <= 0:
                continue
            line = rl.line
            tax = share(line.tax_minor, rl.received, line.quantity)
            parts.append(
                Part(
                    key=line_ids[line],
                    sku=line.item.sku,
                    description=line.item.name,
                    quantity=rl.received,
                    unit_price_minor=line.item.price_minor,
                    tax_rate_ppm=rate_ppm(line.tax_rate) if line.tax_rate is not None else None,
                    gross_minor=line.item.price_minor * rl.received + added_tax(tax, included=facts.prices_include_tax),
                    tax_minor=tax,
                )
            )
        return fit(parts, amount, facts)

    def _document(
        self,
        batch: Batch,
        c: "_Context",
        kind: DocumentKind,
        parts: list[Part],
        t: TransactionDraft,
        *,
        corrects: int | None,
    ) -> int:
        series = series_of(kind, self.market)
        year = t.at.year
        self.sequences[series, year] += 1
        sequence = self.sequences[series, year]
        number = document_number(series, year, sequence)
        document_id = self.next_id("invoice")
        seller = seller_of(self.market)
        tax = sum(p.tax_minor for p in parts)
        total = sum(p.gross_minor for p in parts)
        line1, line2, city, region, postal_code = c.buyer
        batch["invoice"].append(
            (
                document_id,
                number,
                kind.value,
                series,
                year,
                sequence,
                c.order_id,
                t.at,
                self.currency,
                self.market,
                c.order.prices_include_tax,
                total - tax,
                tax,
                total,
                corrects,
                c.return_id if kind is DocumentKind.CREDIT_NOTE and t.for_return else None,
                seller.name,
                seller.line1,
                seller.city,
                seller.postal_code,
                seller.country,
                seller.tax_id,
                c.order.shopper.id,
                (c.order.address.name if c.order.address else None) or c.order.shopper.name,
                c.order.shopper.email,
                None,
                line1,
                line2,
                city,
                region,
                postal_code,
                self.country if line1 else None,
            )
        )
        for position, part in enumerate(parts, 1):
            batch["invoice_line"].append(
                (
                    self.next_id("invoice_line"),
                    document_id,
                    position,
                    None if part.key == SHIPPING else part.key,
                    part.key == SHIPPING,
                    part.sku,
                    part.description,
                    part.quantity,
                    part.unit_price_minor,
                    part.tax_rate_ppm,
                    part.net_minor,
                    part.tax_minor,
                    part.gross_minor,
                )
            )
        entry_kind, postings = entry_for_document(kind, parts)
        self._entry(batch, c, entry_kind, postings, t, document_id, number=number)
        c.numbers[document_id] = number
        return document_id

    def _entry(
        self,
        batch: Batch,
        c: "_Context",
        kind: JournalEntryKind,
        postings: list[Posting],
        t: TransactionDraft,
        document_id: int,
        *,
        number: str | None = None,
    ) -> None:
        entry_id = self.next_id("journal_entry")
        batch["journal_entry"].append(
            (entry_id, t.at, kind.value, self.currency, c.order_id, c.order_number, number or c.numbers[document_id])
        )
        for position, (account, debit, credit, ppm) in enumerate(postings, 1):
            batch["journal_line"].append(
                (self.next_id("journal_line"), entry_id, position, account.value, debit, credit, ppm)
            )


class _Context:
    """One order's facts the rows repeat."""

    def __init__(
        self,
        order: OrderDraft,
        order_id: int,
        order_number: str,
        return_id: int | None,
        buyer: tuple[str | None, str | None, str | None, str | None, str | None],
    ) -> None:
        self.order, self.order_id, self.order_number, self.return_id, self.buyer = (
            order,
            order_id,
            order_number,
            return_id,
            buyer,
        )
        self.numbers: dict[int, str] = {}
