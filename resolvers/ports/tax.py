"""Tax rates: US sales tax by destination, and VAT by destination country and the goods' tax class; the tax on
an amount in exact minor units (the arithmetic of prices that include tax is in ordergraph.models.tax)."""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol


class TaxCalculator(Protocol):
    def rate(self, country: str, region: str | None) -> Decimal:
        """The rate for a destination, e.g. Decimal("0.0625"); ISO 3166 country and region codes."""
        ...

    def rate_for(self, country: str, region: str | None, tax_class: str) -> Decimal | None:
        """The rate for goods of `tax_class` (STANDARD, REDUCED, ZERO) sent to a destination; None when the
        destination taxes by class and has no rate for this one (TAX_RATE_MISSING)."""
        ...


def _rates(**rates: str) -> dict[str, Decimal]:
    return {region: Decimal(rate) for region, rate in rates.items()}


# State-level sales-tax rates (2025). County and city add-ons are beyond the built-in table.
US_STATE_RATES = _rates(
    AL="0.04",
    AK="0",
    AZ="0.056",
    AR="0.065",
    CA="0.0725",
    CO="0.029",
    CT="0.0635",
    DE="0",
    DC="0.06",
    FL="0.06",
    GA="0.04",
    HI="0.04",
    ID="0.06",
    IL="0.0625",
    IN="0.07",
    IA="0.06",
    KS="0.065",
    KY="0.06",
    LA="0.05",
    ME="0.055",
    MD="0.06",
    MA="0.0625",
    MI="0.06",
    MN="0.06875",
    MS="0.07",
    MO="0.04225",
    MT="0",
    NE="0.055",
    NV="0.0685",
    NH="0",
    NJ="0.06625",
    NM="0.04875",
    NY="0.04",
    NC="0.0475",
    ND="0.05",
    OH="0.0575",
    OK="0.045",
    OR="0",
    PA="0.06",
    RI="0.07",
    SC="0.06",
    SD="0.042",
    TN="0.07",
    TX="0.0625",
    UT="0.061",
    VT="0.06",
    VA="0.053",
    WA="0.065",
    WV="0.06",
    WI="0.05",
    WY="0.04",
)
REGION_RATES: Mapping[str, Mapping[str, Decimal]] = {"US": US_STATE_RATES}
COUNTRY_RATES: Mapping[str, Decimal] = {"US": Decimal(0)}  # no federal sales tax

# VAT by country and tax class (2026). A class missing from a country's table has no rate there.
VAT_RATES: Mapping[str, Mapping[str, Decimal]] = {
    "CZ": {"STANDARD": Decimal("0.21"), "REDUCED": Decimal("0.12"), "ZERO": Decimal("0")},
    "SA": {"STANDARD": Decimal("0.15")},
    "AE": {"STANDARD": Decimal("0.05")},
}


class TableTaxCalculator:
    """The region's rate from the table, else the country's default, else zero. Countries with a VAT table
    (`classes`) tax by the goods' class instead; sales-tax countries charge one rate whatever the class."""

    def __init__(
        self,
        regions: Mapping[str, Mapping[str, Decimal]] = REGION_RATES,
        countries: Mapping[str, Decimal] = COUNTRY_RATES,
        classes: Mapping[str, Mapping[str, Decimal]] = VAT_RATES,
    ) -> None:
        self._regions = {
            country.upper(): {region.upper(): rate for region, rate in rates.items()}
            for country, rates in regions.items()
        }
        self._countries = {country.upper(): rate for country, rate in countries.items()}
        self._classes = {
            country.upper(): {tax_class.upper(): rate for tax_class, rate in rates.items()}
            for country, rates in classes.items()
        }

    def rate(self, country: str, region: str | None) -> Decimal:
        country = country.strip().upper()
        by_region = self._regions.get(country, {})
        if region and region.strip().upper() in by_region:
            return by_region[region.strip().upper()]
        return self._countries.get(country, Decimal(0))

    def rate_for(self, country: str, region: str | None, tax_class: str) -> Decimal | None:
        country = country.strip().upper()
        if country in self._classes:
            return self._classes[country].get(tax_class.strip().upper())
        return self.rate(country, region)


def tax_minor(amount_minor: int, rate: Decimal) -> int:
    """The tax on an amount, rounded half up (1000 at 0.0625 is 62.5, so 63), in exact Decimal arithmetic:
    a float rate is refused (TypeError) rather than rounded wrongly."""
    return int((Decimal(amount_minor) * rate).to_integral_value(rounding=ROUND_HALF_UP))
