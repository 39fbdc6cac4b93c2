"""Tax arithmetic, pure and exact: rates are Decimals, amounts integer minor units, rounding half up per line.

With tax excluded (US sales tax) a line's tax is added on top: t = round(A × r). With tax included (VAT) the
price is gross and the tax is inside it: t = round(A × r / (1 + r)), taken exactly as `share(A, p, q + p)` for
r = p/q. Every later split of a line's stored tax (cancel, capture, refund) takes cumulative shares of it, so
the documents add up to the ledger. Whatever is added on top of prices goes through `added_tax`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Protocol

from ordergraph.models.money import share

PPM = 1_000_000  # rates are stored as integer parts per million: 0.21 -> 210000


def rate_ppm(rate: Decimal) -> int:
    """Decimal("0.04225") -> 42250; refuses a rate finer than one part per million."""
    scaled = rate * PPM
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{rate} is finer than one part per million")
    return int(scaled)


def rate_of_ppm(ppm: int) -> Decimal:
    """42250 -> Decimal("0.04225"), exactly."""
    return (Decimal(ppm) / PPM).normalize()


def exclusive_tax_minor(amount_minor: int, rate: Decimal) -> int:
    """The tax to add on top of a net amount, rounded half up."""
    return int((Decimal(amount_minor) * rate).to_integral_value(rounding=ROUND_HALF_UP))


def inclusive_tax_minor(amount_minor: int, rate: Decimal) -> int:
    """The tax inside a gross amount, rounded half up: amount × r / (1 + r), exactly."""
    fraction = Fraction(rate)
    if fraction < 0:
        raise ValueError("a tax rate cannot be negative")
    return share(amount_minor, fraction.numerator, fraction.denominator + fraction.numerator)


def line_tax_minor(amount_minor: int, rate: Decimal, *, included: bool) -> int:
    return inclusive_tax_minor(amount_minor, rate) if included else exclusive_tax_minor(amount_minor, rate)


def added_tax(tax_minor: int, *, included: bool) -> int:
    """What a tax adds on top of prices: all of it when prices exclude tax, nothing when they include it."""
    return 0 if included else tax_minor


@dataclass(frozen=True, slots=True)
class Priced:
    subtotal_minor: int
    shipping_minor: int
    tax_minor: int
    total_minor: int
    line_tax_minor: tuple[int, ...]
    shipping_tax_minor: int


def price_order(
    lines: Sequence[tuple[int, Decimal]], shipping_minor: int, shipping_rate: Decimal, *, included: bool
) -> Priced:
    """Totals of an order from its line amounts (unit price × quantity) with their rates, and its shipping."""
    line_taxes = tuple(line_tax_minor(amount, rate, included=included) for amount, rate in lines)
    shipping_tax = line_tax_minor(shipping_minor, shipping_rate, included=included)
    subtotal = sum(amount for amount, _ in lines)
    tax = sum(line_taxes) + shipping_tax
    return Priced(
        subtotal_minor=subtotal,
        shipping_minor=shipping_minor,
        tax_minor=tax,
        total_minor=subtotal + shipping_minor + added_tax(tax, included=included),
        line_tax_minor=line_taxes,
        shipping_tax_minor=shipping_tax,
    )


@dataclass(frozen=True, slots=True)
class TaxLine:
    """One rate's part of a document: `gross_minor` is what the customer pays for it, tax included."""

    rate_ppm: int | None
    gross_minor: int
    tax_minor: int

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.tax_minor


class _TaxedOrder(Protocol):
    @property
    def prices_include_tax(self) -> bool: ...
    @property
    def shipping_minor(self) -> int: ...
    @property
    def tax_minor(self) -> int: ...
    @property
    def shipping_tax_rate_ppm(self) -> int | None: ...


class _TaxedLine(Protocol):
    @property
    def unit_price_minor(self) -> int: ...
    @property
    def quantity(self) -> int: ...
    @property
    def tax_minor(self) -> int: ...
    @property
    def tax_rate_ppm(self) -> int | None: ...


def group_by_rate(parts: Sequence[tuple[int | None, int, int]]) -> list[TaxLine]:
    """(rate ppm, gross, tax) parts summed per rate, highest rate first (unknown rates last)."""
    totals: dict[int | None, tuple[int, int]] = {}
    for ppm, gross, tax in parts:
        before = totals.get(ppm, (0, 0))
        totals[ppm] = (before[0] + gross, before[1] + tax)
    order = sorted(totals, key=lambda ppm: (ppm is None, -(ppm or 0)))
    return [TaxLine(ppm, *totals[ppm]) for ppm in order]


def tax_lines(order: _TaxedOrder, lines: Sequence[_TaxedLine]) -> list[TaxLine]:
    """The order's tax per rate as placed: Σ tax = order.tax_minor, Σ gross = order.total_minor."""
    included = order.prices_include_tax
    parts: list[tuple[int | None, int, int]] = [
        (
            line.tax_rate_ppm,
            line.unit_price_minor * line.quantity + added_tax(line.tax_minor, included=included),
            line.tax_minor,
        )
        for line in lines
    ]
    shipping_tax = order.tax_minor - sum(line.tax_minor for line in lines)
    if order.shipping_minor or shipping_tax:
        parts.append(
            (
                order.shipping_tax_rate_ppm,
                order.shipping_minor + added_tax(shipping_tax, included=included),
                shipping_tax,
            )
        )
    return group_by_rate(parts)
