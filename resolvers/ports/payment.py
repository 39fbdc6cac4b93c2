"""The payment gateway: authorise, capture, refund, void and increase an authorisation.

The ledger of what was authorised, captured and refunded lives in the database (resolvers.payments);
a gateway only carries out each operation and returns its transaction reference."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol


class PaymentDeclined(Exception):
    """The gateway refused the payment: a user error, shown to the payer with its code and message."""

    def __init__(self, message: str, code: str = "PAYMENT_DECLINED") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Authorization:
    gateway: str
    gateway_reference: str
    method_description: str  # what the payer recognises, e.g. "Visa ending 4242"


class PaymentGateway(Protocol):
    """Amounts are positive integer minor units of `currency`; every method returns the gateway's reference."""

    async def authorize(self, token: str, amount_minor: int, currency: str, *, reference: str) -> Authorization:
        """Holds the amount on the payment method `token`; `reference` is ours (the order number)."""
        ...

    async def capture(self, gateway_reference: str, amount_minor: int, currency: str) -> str: ...

    async def refund(self, gateway_reference: str, amount_minor: int, currency: str) -> str: ...

    async def void(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        """Releases part of an authorisation that was never captured."""
        ...

    async def increment(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        """Raises an authorisation by `amount_minor`; may decline like `authorize`."""
        ...


class TestPaymentGateway:
    """Accepts the test tokens below and declines every other; keeps no state, so any process can
    capture or refund what another authorised."""

    __test__ = False  # not a pytest test class, despite the name

    name = "test"
    CARDS: ClassVar[Mapping[str, str]] = {
        "tok_visa": "Visa ending 4242",
        "tok_mastercard": "Mastercard ending 4444",
        "tok_amex": "Amex ending 0005",
    }
    DECLINES: ClassVar[Mapping[str, str]] = {
        "tok_declined": "The card was declined.",
        "tok_insufficient_funds": "The card was declined: insufficient funds.",
    }

    async def authorize(self, token: str, amount_minor: int, currency: str, *, reference: str) -> Authorization:
        _check_amount(amount_minor)
        if token in self.DECLINES:
            raise PaymentDeclined(self.DECLINES[token])
        if token not in self.CARDS:
            raise PaymentDeclined("The payment token is not recognised.")
        return Authorization(self.name, _new_reference("auth"), self.CARDS[token])

    async def capture(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        _check_amount(amount_minor)
        return _new_reference("capture")

    async def refund(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        _check_amount(amount_minor)
        return _new_reference("refund")

    async def void(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        _check_amount(amount_minor)
        return _new_reference("void")

    async def increment(self, gateway_reference: str, amount_minor: int, currency: str) -> str:
        _check_amount(amount_minor)
        return _new_reference("auth")


def _check_amount(amount_minor: int) -> None:
    # A zero or negative amount is a bug in the caller, not something to send to a gateway.
    if amount_minor <= 0:
        raise ValueError(f"amount must be positive, got {amount_minor} minor units")


def _new_reference(kind: str) -> str:
    return f"test_{kind}_{uuid.uuid4().hex}"
