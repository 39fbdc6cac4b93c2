"""Money is stored as integer minor units with an ISO 4217 currency and is a Decimal on the wire."""

from decimal import Decimal

# ISO 4217 exponents that differ from 2 (every other currency has 2: USD, CZK, SAR and AED, the markets' currencies).
EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


def to_decimal(minor: int, currency: str) -> Decimal:
    """12345 minor units of USD (or CZK, SAR, AED) -> Decimal("123.45"), with the currency's number of places."""
    return Decimal(minor).scaleb(-exponent(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal('123.45') -> 12345; refuses amounts finer than the currency's minor unit."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimal places than {currency} allows")
    return int(scaled)


def share(amount_minor: int, part: int, whole: int) -> int:
    """`part`/`whole` of an amount, rounded half up. Taking shares cumulatively (share of 1..k units minus
    share of 1..k-1) splits the amount exactly: the parts always add back up to it."""
    if whole <= 0:
        raise ValueError("whole must be positive")
    return (2 * amount_minor * part + whole) // (2 * whole)
