"""The tax arithmetic of models/tax.py and the rate table of the tax port: pure and exact."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordergraph.models.tax import (
    TaxLine,
    added_tax,
    exclusive_tax_minor,
    inclusive_tax_minor,
    price_order,
    rate_of_ppm,
    rate_ppm,
    tax_lines,
)
from ordergraph.resolvers.ports.tax import US_STATE_RATES, VAT_RATES, TableTaxCalculator, tax_minor

TABLE_RATES = sorted({*US_STATE_RATES.values(), *(r for rates in VAT_RATES.values() for r in rates.values())})
amounts = st.integers(min_value=0, max_value=10**9)
rates = st.sampled_from(TABLE_RATES)


@given(amounts, rates)
def test_tax_inside_a_price_is_never_more_than_the_price(amount: int, rate: Decimal) -> None:
    assert 0 <= inclusive_tax_minor(amount, rate) <= amount


@given(amounts, rates)
def test_tax_on_top_is_the_ports_tax(amount: int, rate: Decimal) -> None:
    assert exclusive_tax_minor(amount, rate) == tax_minor(amount, rate)


@given(amounts, rates)
def test_the_net_of_a_gross_price_taxed_on_top_gives_back_about_the_gross(amount: int, rate: Decimal) -> None:
    net = amount - inclusive_tax_minor(amount, rate)
    assert abs(net + exclusive_tax_minor(net, rate) - amount) <= 1


@given(rates)
def test_rates_round_trip_through_parts_per_million(rate: Decimal) -> None:
    assert rate_of_ppm(rate_ppm(rate)) == rate


def test_a_rate_finer_than_a_part_per_million_is_refused() -> None:
    with pytest.raises(ValueError, match="part per million"):
        rate_ppm(Decimal("0.0000001"))


def test_tax_is_rounded_per_line_not_per_unit() -> None:
    # 3 x 0,10 CZK at 21 %: the line's 30 haléř hold 5.2 haléř of tax, so 5; per unit it would be 3 x 2 = 6.
    assert inclusive_tax_minor(30, Decimal("0.21")) == 5
    assert 3 * inclusive_tax_minor(10, Decimal("0.21")) == 6


def test_the_czech_example_prices_exactly() -> None:
    priced = price_order(
        [(599_800, Decimal("0.21")), (104_700, Decimal("0.12"))], 5_900, Decimal("0.21"), included=True
    )
    assert priced.line_tax_minor == (104_098, 11_218)
    assert priced.shipping_tax_minor == 1_024
    assert (priced.subtotal_minor, priced.tax_minor, priced.total_minor) == (704_500, 116_340, 710_400)


def test_tax_on_top_is_added_to_the_total() -> None:
    priced = price_order([(24_000, Decimal("0.04")), (3_750, Decimal("0.04"))], 599, Decimal("0.04"), included=False)
    assert (priced.tax_minor, priced.total_minor) == (1_134, 29_483)  # tests/orders/test_placement.py's 294.83


def test_added_tax_is_nothing_when_prices_include_it() -> None:
    assert added_tax(123, included=True) == 0
    assert added_tax(123, included=False) == 123


def order_and_lines(included: bool) -> tuple[SimpleNamespace, list[SimpleNamespace]]:
    lines = [
        SimpleNamespace(unit_price_minor=299_900, quantity=2, tax_minor=104_098, tax_rate_ppm=210_000),
        SimpleNamespace(unit_price_minor=34_900, quantity=3, tax_minor=11_218, tax_rate_ppm=120_000),
    ]
    order = SimpleNamespace(
        prices_include_tax=included, shipping_minor=5_900, tax_minor=116_340, shipping_tax_rate_ppm=210_000
    )
    return order, lines


def test_tax_lines_group_lines_and_shipping_by_rate() -> None:
    order, lines = order_and_lines(included=True)
    assert tax_lines(order, lines) == [TaxLine(210_000, 605_700, 105_122), TaxLine(120_000, 104_700, 11_218)]
    assert tax_lines(order, lines)[0].net_minor == 500_578
    excluded, lines = order_and_lines(included=False)
    grouped = tax_lines(excluded, lines)
    assert sum(line.tax_minor for line in grouped) == 116_340
    assert sum(line.gross_minor for line in grouped) == 704_500 + 5_900 + 116_340


def test_orders_from_before_markets_have_one_tax_line_without_a_rate() -> None:
    order = SimpleNamespace(prices_include_tax=False, shipping_minor=599, tax_minor=1_176, shipping_tax_rate_ppm=None)
    lines = [SimpleNamespace(unit_price_minor=12_000, quantity=1, tax_minor=1_065, tax_rate_ppm=None)]
    assert tax_lines(order, lines) == [TaxLine(None, 12_000 + 1_065 + 599 + 111, 1_176)]


@pytest.mark.parametrize(
    ("country", "region", "tax_class", "expected"),
    [
        ("CZ", None, "STANDARD", "0.21"),
        ("cz", "64", "reduced", "0.12"),
        ("CZ", None, "ZERO", "0"),
        ("SA", "01", "STANDARD", "0.15"),
        ("SA", "01", "REDUCED", None),
        ("AE", "DU", "STANDARD", "0.05"),
        ("AE", None, "ZERO", None),
        ("US", "NY", "STANDARD", "0.04"),
        ("US", "NY", "REDUCED", "0.04"),  # sales tax: one rate per destination, whatever the class
        ("ZZ", None, "STANDARD", "0"),
    ],
)
def test_rates_by_country_and_tax_class(country: str, region: str | None, tax_class: str, expected: str | None) -> None:
    rate = TableTaxCalculator().rate_for(country, region, tax_class)
    assert rate == (None if expected is None else Decimal(expected))
