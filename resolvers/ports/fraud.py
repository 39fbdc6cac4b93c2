"""Fraud screening at placement: a verdict to hold an order for review, or to let it through."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ordergraph.models.enums import Channel
from ordergraph.models.money import to_decimal


@dataclass(frozen=True)
class FraudCheck:
    """What placement knows about the order; addresses are `address_fingerprint`s, None for pickup."""

    customer_created_at: datetime
    customer_order_count: int  # orders placed before this one
    total_minor: int
    currency: str
    shipping_address: str | None
    known_addresses: set[str] | frozenset[str]  # saved or shipped to before
    channel: Channel
    now: datetime


@dataclass(frozen=True)
class FraudVerdict:
    hold: bool
    reason: str | None  # why it is held, for the agent who reviews it


class FraudScreen(Protocol):
    def screen(self, check: FraudCheck) -> FraudVerdict: ...


# About 1,000 USD in the markets' currencies; USD (and any other currency) uses `high_value_minor`.
HIGH_VALUE_BY_CURRENCY: Mapping[str, int] = {"CZK": 2_500_000, "SAR": 400_000, "AED": 400_000}


class RuleFraudScreen:
    """Holds a new customer's high-value order to an address never used before. Orders agents place are
    screened too: an agent keys in what the caller says, and the caller may not be the customer."""

    def __init__(
        self,
        high_value_minor: int = 100_000,
        new_customer_days: int = 30,
        by_currency: Mapping[str, int] = HIGH_VALUE_BY_CURRENCY,
    ) -> None:
        self.high_value_minor = high_value_minor  # in the order's minor units, for currencies not in by_currency
        self.by_currency = dict(by_currency)  # a high value per currency, in its minor units
        self.new_customer_days = new_customer_days

    def high_value_in(self, currency: str) -> int:
        return self.by_currency.get(currency, self.high_value_minor)

    def screen(self, check: FraudCheck) -> FraudVerdict:
        new_customer = check.customer_order_count == 0 or check.now - check.customer_created_at < timedelta(
            days=self.new_customer_days
        )
        unfamiliar_address = check.shipping_address is not None and check.shipping_address not in check.known_addresses
        if new_customer and unfamiliar_address and check.total_minor >= self.high_value_in(check.currency):
            amount = f"{to_decimal(check.total_minor, check.currency):,} {check.currency}"
            return FraudVerdict(True, f"Review: new customer's order of {amount} to an address never used before.")
        return FraudVerdict(False, None)


def address_fingerprint(line1: str | None, postal_code: str | None, country: str | None) -> str:
    """One key per street address, whatever its case, spacing or punctuation: "12 Main St." and
    "12  main st" match."""
    return "|".join(re.sub(r"[\W_]+", " ", part or "").casefold().strip() for part in (line1, postal_code, country))
