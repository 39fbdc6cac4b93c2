"""Markets and tax breakdowns."""

from decimal import Decimal

import strawberry

from ordergraph import models
from ordergraph.models.tax import TaxLine as TaxLineValue
from ordergraph.models.tax import rate_of_ppm
from ordergraph.resolvers import markets
from ordergraph.schema.common import Money, money
from ordergraph.schema.info import Info


@strawberry.type(description="Where orders can go: a currency, and whether its prices include tax (VAT) or not.")
class Market:
    code: str
    name: str
    currency: str
    prices_include_tax: bool = strawberry.field(
        description="True where prices are gross (VAT inside them); false where tax is added on top (US sales tax)."
    )

    @strawberry.field(description="ISO 3166-1 alpha-2 codes of the countries the market serves.")
    async def countries(root: models.Market, info: Info) -> list[str]:
        return await markets.countries_of(info.context, root.code)


@strawberry.type(description="One tax rate's part of an order or a credit note.")
class TaxLine:
    def __init__(self, line: TaxLineValue, currency: str) -> None:
        self._line = line
        self._currency = currency

    @strawberry.field(description="Null on orders placed before markets existed.")
    def rate(self) -> Decimal | None:
        return None if self._line.rate_ppm is None else rate_of_ppm(self._line.rate_ppm)

    @strawberry.field(description="The amount without the tax (net).")
    def taxable_amount(self) -> Money:
        return money(self._line.net_minor, self._currency)

    @strawberry.field
    def tax(self) -> Money:
        return money(self._line.tax_minor, self._currency)

    @strawberry.field(description="The amount with the tax (gross).")
    def total(self) -> Money:
        return money(self._line.gross_minor, self._currency)


def tax_line_list(lines: list[TaxLineValue], currency: str) -> list[TaxLine]:
    return [TaxLine(line, currency) for line in lines]
