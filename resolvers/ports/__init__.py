"""Integration ports: tax, payment, fraud, carriers and SMS behind small interfaces. Each has a working
built-in, chosen by name (a setting); a real provider is added to the dictionaries below under a
name of its own, and resolvers, which see only the protocols, do not change. Email is SMTP, which
every provider speaks (resolvers.ports.email)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ordergraph.resolvers.ports.carrier import Carriers, TemplateCarriers
from ordergraph.resolvers.ports.fraud import FraudScreen, RuleFraudScreen
from ordergraph.resolvers.ports.payment import PaymentGateway, TestPaymentGateway
from ordergraph.resolvers.ports.sms import SmsSender, http_sms_sender
from ordergraph.resolvers.ports.tax import TableTaxCalculator, TaxCalculator

T = TypeVar("T")


@dataclass(frozen=True)
class Ports:
    tax: TaxCalculator
    payments: PaymentGateway
    fraud: FraudScreen
    carriers: Carriers


TAX_CALCULATORS: Mapping[str, Callable[[], TaxCalculator]] = {"table": TableTaxCalculator}
PAYMENT_GATEWAYS: Mapping[str, Callable[[], PaymentGateway]] = {"test": TestPaymentGateway}
FRAUD_SCREENS: Mapping[str, Callable[[], FraudScreen]] = {"rules": RuleFraudScreen}
CARRIER_DIRECTORIES: Mapping[str, Callable[[], Carriers]] = {"templates": TemplateCarriers}
# SMS senders are built with the endpoint and the outbox folder from the settings.
SMS_SENDERS: Mapping[str, Callable[..., SmsSender]] = {"http": http_sms_sender}


def load_ports(
    *, tax: str = "table", payments: str = "test", fraud: str = "rules", carriers: str = "templates"
) -> Ports:
    """The ports named, e.g. by ORDERGRAPH_PAYMENT_GATEWAY=test; ValueError names the choices for an unknown one."""
    return Ports(
        tax=_build("tax calculator", TAX_CALCULATORS, tax),
        payments=_build("payment gateway", PAYMENT_GATEWAYS, payments),
        fraud=_build("fraud screen", FRAUD_SCREENS, fraud),
        carriers=_build("carrier directory", CARRIER_DIRECTORIES, carriers),
    )


def load_sms_sender(name: str = "http", *, endpoint: str | None = None, outbox: Path = Path("outbox")) -> SmsSender:
    """The SMS sender named, e.g. by ORDERGRAPH_SMS_SENDER=http; ValueError names the choices for an unknown one."""
    return _build("SMS sender", SMS_SENDERS, name, endpoint=endpoint, outbox=outbox)


def builtin_ports() -> Ports:
    """Every port's built-in default."""
    return load_ports()


def _build(kind: str, choices: Mapping[str, Callable[..., T]], name: str, **options: object) -> T:
    if name not in choices:
        raise ValueError(f"Unknown {kind} {name!r}; choose one of: {', '.join(sorted(choices))}.")
    return choices[name](**options)
