"""Invoices and credit notes: the documents an accountant books, one per capture and one per refund.

Invariants (docs/domain.md, Invoices):

- An invoice's total (Σ line gross) equals the amount captured with it; the credit notes of a refund (one per
  invoice it corrects, usually one) add up to the amount refunded. Σ invoices − Σ credit notes of an order =
  captured − refunded, always.
- Numbers are gapless per series and year: `{series}-{year}-{sequence:06d}`, the sequence taken from the
  `document_series` counter row in the transaction that captures or refunds (a rolled-back change rolls the
  counter back with it, so no number is burnt). Invoices are in series `INV-{market}`, credit notes in
  `CRN-{market}`; the year is the UTC year of issue.
- Every line holds gross = net + tax; a document's tax per rate is the sum of its lines'.
- A document is a snapshot: seller and buyer details, descriptions and prices as they were when it was issued.

How a capture is allocated to lines (`invoice_parts`): an order is billed cumulatively. After a capture, each
line's billed units are the units that left (shipped or picked up) with their cumulative share of the line's
tax, and shipping is billed in proportion to the units that left (all of it once every unit not cancelled has
left) — the same shares the capture amount was computed from (resolvers.fulfillment_steps.capture_amount). An
invoice holds the difference between that target and what earlier invoices billed; whatever the capture differs
from it (a rounding remainder, a capture capped by what is authorised) is taken off the last lines, or added to
the shipping line, so that the total equals the capture exactly.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.money import share
from ordergraph.models.tax import added_tax, rate_of_ppm

SHIPPING = 0  # the component key of shipping (goods lines are keyed by their order line's id, never 0)


class DocumentKind(StrEnum):
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"


@dataclass(frozen=True, slots=True)
class Seller:
    """The legal entity that sells in a market, as printed on its invoices."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    tax_id: str


# The selling entity per market (reference data, snapshotted onto every document); unknown markets use US's.
SELLERS: dict[str, Seller] = {
    "US": Seller("Ordergraph Inc.", "500 Market Street", "San Francisco", "94105", "US", "EIN 12-3456789"),
    "CZ": Seller("Ordergraph s.r.o.", "Na Příkopě 15", "Praha", "110 00", "CZ", "CZ12345678"),
    "SA": Seller("Ordergraph Arabia LLC", "King Fahd Road 1200", "Riyadh", "12271", "SA", "300123456700003"),
    "AE": Seller("Ordergraph FZ-LLC", "Sheikh Zayed Road 1", "Dubai", "00000", "AE", "100123456700003"),
}


def seller_of(market_code: str) -> Seller:
    return SELLERS.get(market_code, SELLERS["US"])


def series_of(kind: DocumentKind, market_code: str) -> str:
    return f"{'INV' if kind is DocumentKind.INVOICE else 'CRN'}-{market_code}"


def document_number(series: str, year: int, sequence: int) -> str:
    return f"{series}-{year}-{sequence:06d}"


class DocumentSeries(SQLModel, table=True):
    """The last number given in a series and year: incremented (row-locked) by the transaction that issues."""

    __tablename__ = "document_series"

    series: str = Field(primary_key=True, max_length=16)
    year: int = Field(primary_key=True)
    last_number: int = 0


class Invoice(SQLModel, table=True):
    """An invoice (for a capture) or a credit note (for a refund), numbered in its series. Amounts are positive
    on both; a credit note corrects one invoice (a refund of what several invoices billed gets one each)."""

    __tablename__ = "invoice"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    number: str = Field(unique=True, max_length=40)
    kind: DocumentKind = Field(sa_type=enum_column(DocumentKind))
    series: str = Field(max_length=16)
    year: int
    sequence: int
    order_id: int = Field(sa_type=BigIntId, foreign_key="orders.id", index=True)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    currency: str = Field(max_length=3)
    market_code: str = Field(max_length=8)
    prices_include_tax: bool = False
    net_minor: int
    tax_minor: int
    total_minor: int
    # Credit notes: the invoice corrected, and the return refunded (null for a reduction: a cancellation or
    # cheaper shipping).
    corrects_invoice_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="invoice.id", index=True)
    return_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="return_request.id")
    seller_name: str
    seller_line1: str
    seller_city: str
    seller_postal_code: str
    seller_country: str = Field(max_length=2)
    seller_tax_id: str
    # The buyer as they were when the document was issued (personal data: not for analysts).
    customer_id: int = Field(sa_type=BigIntId, foreign_key="customer.id")
    buyer_name: str
    buyer_email: str
    buyer_tax_id: str | None = None
    buyer_line1: str | None = None
    buyer_line2: str | None = None
    buyer_city: str | None = None
    buyer_region: str | None = None
    buyer_postal_code: str | None = None
    buyer_country: str | None = Field(default=None, max_length=2)
    # On-account invoices (#21): the buyer company, when payment is due, and what has been received against it
    # (settled when paid_minor reaches total_minor). Null/0 on card-paid documents.
    company_id: int | None = Field(default=None, sa_type=BigIntId, index=True)
    buyer_company_name: str | None = None
    purchase_order_number: str | None = Field(default=None, max_length=64)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("series", "year", "sequence", name="uq_invoice_series_year_sequence"),)


class InvoiceLine(SQLModel, table=True):
    """One line of a document: goods (an order line's units) or shipping. gross = net + tax."""

    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    invoice_id: int = Field(sa_type=BigIntId, foreign_key="invoice.id", index=True)
    position: int
    order_line_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="order_line.id")
    is_shipping: bool = False
    sku: str | None = None
    description: str
    quantity: int
    unit_price_minor: int
    tax_rate_ppm: int | None = None
    net_minor: int
    tax_minor: int
    gross_minor: int


# --- the pure rules: what a document holds ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """A document line before it is written: `key` is the order line's id, or SHIPPING."""

    key: int
    sku: str | None
    description: str
    quantity: int
    unit_price_minor: int
    tax_rate_ppm: int | None
    gross_minor: int
    tax_minor: int
    corrects_invoice_id: int | None = None

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.tax_minor


@dataclass(frozen=True, slots=True)
class Billed:
    """What documents of an order hold for one component so far."""

    gross_minor: int = 0
    tax_minor: int = 0
    quantity: int = 0


class DocumentLedger:
    """What an order's documents hold so far, per component (an order line's id, or SHIPPING): `billed` by
    invoices, `net` of credit notes, and per invoice what is still `creditable` (oldest invoice first)."""

    def __init__(self) -> None:
        self._billed: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        self._net: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        self._held: dict[int, dict[int, int]] = defaultdict(dict)

    def add(
        self, kind: DocumentKind, invoice_id: int, corrects: int | None, key: int, gross: int, tax: int, quantity: int
    ) -> None:
        """One line of a document, documents in the order they were issued."""
        if kind is DocumentKind.INVOICE:
            for totals in (self._billed[key], self._net[key]):
                totals[0], totals[1], totals[2] = totals[0] + gross, totals[1] + tax, totals[2] + quantity
            self._held[key][invoice_id] = self._held[key].get(invoice_id, 0) + gross
            return
        net = self._net[key]
        net[0], net[1], net[2] = net[0] - gross, net[1] - tax, net[2] - quantity
        if corrects is not None and corrects in self._held[key]:
            self._held[key][corrects] -= gross

    def add_parts(self, kind: DocumentKind, invoice_id: int, corrects: int | None, parts: Sequence[Part]) -> None:
        for part in parts:
            self.add(kind, invoice_id, corrects, part.key, part.gross_minor, part.tax_minor, part.quantity)

    @property
    def billed(self) -> dict[int, Billed]:
        return {key: Billed(*totals) for key, totals in self._billed.items()}

    @property
    def net(self) -> dict[int, Billed]:
        return {key: Billed(*totals) for key, totals in self._net.items()}

    @property
    def creditable(self) -> dict[int, list[tuple[int, int]]]:
        return {key: sorted(held.items()) for key, held in self._held.items()}


@dataclass(frozen=True, slots=True)
class OrderFacts:
    shipping_minor: int
    tax_minor: int
    prices_include_tax: bool
    shipping_tax_rate_ppm: int | None


@dataclass(frozen=True, slots=True)
class LineFacts:
    id: int
    sku: str
    product_name: str
    quantity: int
    quantity_cancelled: int
    unit_price_minor: int
    tax_minor: int
    tax_rate_ppm: int | None


def invoice_parts(
    order: OrderFacts,
    lines: Sequence[LineFacts],
    units_left: Mapping[int, int],
    billed: Mapping[int, Billed],
    captured_minor: int,
) -> list[Part]:
    """The lines of the invoice for a capture of `captured_minor`, after which `units_left[line id]` units of each
    line have left; `billed` is what earlier invoices of the order hold per component. Σ gross = captured."""
    included = order.prices_include_tax
    parts: list[Part] = []
    for line in lines:
        units = units_left.get(line.id, 0)
        tax = share(line.tax_minor, units, line.quantity)
        gross = line.unit_price_minor * units + added_tax(tax, included=included)
        before = billed.get(line.id, Billed())
        if gross - before.gross_minor > 0:
            parts.append(
                Part(
                    key=line.id,
                    sku=line.sku,
                    description=line.product_name,
                    quantity=max(units - before.quantity, 0),
                    unit_price_minor=line.unit_price_minor,
                    tax_rate_ppm=line.tax_rate_ppm,
                    gross_minor=gross - before.gross_minor,
                    tax_minor=max(tax - before.tax_minor, 0),
                )
            )
    shipping_tax = order.tax_minor - sum(line.tax_minor for line in lines)
    shipping_gross = order.shipping_minor + added_tax(shipping_tax, included=included)
    active = sum(line.quantity - line.quantity_cancelled for line in lines)
    left = min(sum(units_left.get(line.id, 0) for line in lines), active)
    if active > 0 and shipping_gross > 0:
        gross, tax = share(shipping_gross, left, active), share(shipping_tax, left, active)
        before = billed.get(SHIPPING, Billed())
        if gross - before.gross_minor > 0:
            parts.append(_shipping(order, gross - before.gross_minor, max(tax - before.tax_minor, 0)))
    return fit(parts, captured_minor, order)


def credit_parts_for_reduction(
    order: OrderFacts, lines: Sequence[LineFacts], net_billed: Mapping[int, Billed], amount_minor: int
) -> list[Part]:
    """A refund with no return behind it (the total fell after a capture: cheaper shipping, a cancellation):
    it corrects shipping first, then goods from the last line back, never more than each holds net of earlier
    credit notes. Σ gross = amount."""
    parts: list[Part] = []
    remaining = amount_minor
    shipping = net_billed.get(SHIPPING, Billed())
    if remaining > 0 and shipping.gross_minor > 0:
        gross = min(remaining, shipping.gross_minor)
        parts.append(_shipping(order, gross, share(shipping.tax_minor, gross, shipping.gross_minor)))
        remaining -= gross
    for line in reversed(lines):
        held = net_billed.get(line.id, Billed())
        if remaining <= 0 or held.gross_minor <= 0:
            continue
        gross = min(remaining, held.gross_minor)
        parts.append(
            Part(
                key=line.id,
                sku=line.sku,
                description=f"Price reduction: {line.product_name}",
                quantity=0,
                unit_price_minor=0,
                tax_rate_ppm=line.tax_rate_ppm,
                gross_minor=gross,
                tax_minor=share(held.tax_minor, gross, held.gross_minor),
            )
        )
        remaining -= gross
    return fit(parts, amount_minor, order)


def fit(parts: list[Part], amount_minor: int, order: OrderFacts) -> list[Part]:
    """The parts made to add up to `amount_minor` exactly: an excess is taken off from the last part back (each
    keeping its tax in proportion), a shortfall added to the shipping part (made if there is none) with the tax
    the shipping rate puts inside it."""
    total = sum(p.gross_minor for p in parts)
    fitted = list(parts)
    excess = total - amount_minor
    for i in range(len(fitted) - 1, -1, -1):
        if excess <= 0:
            break
        part = fitted[i]
        cut = min(excess, part.gross_minor)
        gross = part.gross_minor - cut
        fitted[i] = replace(part, gross_minor=gross, tax_minor=share(part.tax_minor, gross, part.gross_minor))
        excess -= cut
    fitted = [p for p in fitted if p.gross_minor > 0]
    shortfall = amount_minor - sum(p.gross_minor for p in fitted)
    if shortfall > 0:
        index = next((i for i, p in enumerate(fitted) if p.key == SHIPPING), None)
        tax = inclusive_tax_at(shortfall, order.shipping_tax_rate_ppm)
        if index is None:
            fitted.append(_shipping(order, shortfall, tax))
        else:
            part = fitted[index]
            fitted[index] = replace(part, gross_minor=part.gross_minor + shortfall, tax_minor=part.tax_minor + tax)
    return fitted


def inclusive_tax_at(gross_minor: int, ppm: int | None) -> int:
    """The tax inside a gross amount at a rate in parts per million (none when the rate is unknown)."""
    if not ppm:
        return 0
    rate = Fraction(rate_of_ppm(ppm))
    return share(gross_minor, rate.numerator, rate.denominator + rate.numerator)


def _shipping(order: OrderFacts, gross_minor: int, tax_minor: int) -> Part:
    unit = gross_minor - added_tax(tax_minor, included=order.prices_include_tax)
    return Part(
        key=SHIPPING,
        sku=None,
        description="Shipping",
        quantity=1,
        unit_price_minor=unit,
        tax_rate_ppm=order.shipping_tax_rate_ppm,
        gross_minor=gross_minor,
        tax_minor=tax_minor,
    )


def allocate_to_invoices(parts: Sequence[Part], creditable: Mapping[int, list[tuple[int, int]]]) -> list[Part]:
    """Each credit part split over the invoices that billed its component, oldest first, never more than an
    invoice still holds for it net of earlier credit notes (`creditable[key]`: (invoice id, gross) pairs, oldest
    first); what no invoice holds corrects the newest invoice of the order. Tax is split in proportion."""
    newest = max((invoice_id for pools in creditable.values() for invoice_id, _ in pools), default=None)
    allocated: list[Part] = []
    for part in parts:
        remaining_gross, remaining_tax = part.gross_minor, part.tax_minor
        for invoice_id, holds in creditable.get(part.key, []):
            if remaining_gross <= 0:
                break
            gross = min(holds, remaining_gross)
            if gross <= 0:
                continue
            tax = remaining_tax if gross == remaining_gross else share(remaining_tax, gross, remaining_gross)
            allocated.append(replace(part, gross_minor=gross, tax_minor=tax, corrects_invoice_id=invoice_id))
            remaining_gross, remaining_tax = remaining_gross - gross, remaining_tax - tax
        if remaining_gross > 0:
            allocated.append(
                replace(part, gross_minor=remaining_gross, tax_minor=remaining_tax, corrects_invoice_id=newest)
            )
    return allocated


def tax_summary(parts: Sequence[Part] | Sequence[InvoiceLine]) -> list[tuple[int | None, int, int]]:
    """(rate ppm, net, tax) per rate, highest rate first, unknown rates last."""
    totals: dict[int | None, tuple[int, int]] = {}
    for part in parts:
        net, tax = totals.get(part.tax_rate_ppm, (0, 0))
        totals[part.tax_rate_ppm] = (net + part.net_minor, tax + part.tax_minor)
    order = sorted(totals, key=lambda ppm: (ppm is None, -(ppm or 0)))
    return [(ppm, *totals[ppm]) for ppm in order]
