"""The integration ports' built-ins: pure, no database."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ordergraph.models.enums import Channel
from ordergraph.resolvers.ports import Ports, builtin_ports, load_ports
from ordergraph.resolvers.ports.carrier import TemplateCarrier, TemplateCarriers, UnknownCarrier
from ordergraph.resolvers.ports.fraud import FraudCheck, RuleFraudScreen, address_fingerprint
from ordergraph.resolvers.ports.payment import PaymentDeclined, TestPaymentGateway
from ordergraph.resolvers.ports.tax import TableTaxCalculator, tax_minor

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


# Tax


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (1000, "0.0625", 63),  # 62.5: half up
        (999, "0.0625", 62),  # 62.4375
        (5, "0.5", 3),  # 2.5: half up, not to even
        (1, "0.5", 1),  # 0.5
        (12_000, "0.06625", 795),
        (599, "0.04", 24),  # 23.96
        (0, "0.0725", 0),
        (1000, "0", 0),
    ],
)
def test_tax_rounds_half_up_exactly(amount, rate, expected):
    assert tax_minor(amount, Decimal(rate)) == expected


def test_tax_refuses_a_float_rate():
    with pytest.raises(TypeError):
        tax_minor(1000, 0.0625)


@pytest.mark.parametrize(
    ("country", "region", "expected"),
    [
        ("US", "NY", "0.04"),
        ("US", "NJ", "0.06625"),
        ("US", "CA", "0.0725"),
        ("US", "OR", "0"),
        ("us", " ny ", "0.04"),  # codes in any case and spacing
        ("US", None, "0"),  # no region: the country's default
        ("US", "ZZ", "0"),  # unknown region: the country's default
        ("ZZ", "NY", "0"),  # unknown country: no tax
    ],
)
def test_table_rates(country, region, expected):
    assert TableTaxCalculator().rate(country, region) == Decimal(expected)


def test_an_unknown_region_falls_back_to_the_country_default():
    canada = TableTaxCalculator(regions={"CA": {"QC": Decimal("0.14975")}}, countries={"CA": Decimal("0.05")})
    assert canada.rate("CA", "qc") == Decimal("0.14975")
    assert canada.rate("CA", "ON") == Decimal("0.05")
    assert canada.rate("CA", None) == Decimal("0.05")
    assert canada.rate("US", "NY") == Decimal(0)  # a table of its own replaces the built-in one


# Payment


@pytest.mark.parametrize(
    ("token", "description"),
    [
        ("tok_visa", "Visa ending 4242"),
        ("tok_mastercard", "Mastercard ending 4444"),
        ("tok_amex", "Amex ending 0005"),
    ],
)
async def test_test_tokens_are_authorised(token, description):
    authorization = await TestPaymentGateway().authorize(token, 12_599, "USD", reference="OG-1")
    assert authorization.gateway == "test"
    assert authorization.method_description == description
    assert re.fullmatch(r"test_auth_[0-9a-f]{32}", authorization.gateway_reference)


async def test_each_authorisation_has_its_own_reference():
    gateway = TestPaymentGateway()
    first = await gateway.authorize("tok_visa", 100, "USD", reference="OG-1")
    second = await gateway.authorize("tok_visa", 100, "USD", reference="OG-1")
    assert first.gateway_reference != second.gateway_reference


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("tok_declined", "The card was declined."),
        ("tok_insufficient_funds", "The card was declined: insufficient funds."),
        ("tok_unknown", "The payment token is not recognised."),
        ("", "The payment token is not recognised."),
    ],
)
async def test_other_tokens_are_declined(token, message):
    with pytest.raises(PaymentDeclined) as declined:
        await TestPaymentGateway().authorize(token, 12_599, "USD", reference="OG-1")
    assert declined.value.code == "PAYMENT_DECLINED"
    assert declined.value.message == message


async def test_a_stateless_gateway_settles_what_another_instance_authorised():
    authorization = await TestPaymentGateway().authorize("tok_visa", 10_000, "USD", reference="OG-1")
    other = TestPaymentGateway()  # as in another server process
    reference = authorization.gateway_reference
    assert re.fullmatch(r"test_capture_[0-9a-f]{32}", await other.capture(reference, 6_000, "USD"))
    assert re.fullmatch(r"test_refund_[0-9a-f]{32}", await other.refund(reference, 1_000, "USD"))
    assert re.fullmatch(r"test_void_[0-9a-f]{32}", await other.void(reference, 4_000, "USD"))
    assert re.fullmatch(r"test_auth_[0-9a-f]{32}", await other.increment(reference, 500, "USD"))


@pytest.mark.parametrize("amount", [0, -1])
@pytest.mark.parametrize("operation", ["capture", "refund", "void", "increment"])
async def test_amounts_must_be_positive(operation, amount):
    gateway = TestPaymentGateway()
    with pytest.raises(ValueError, match="positive"):
        await gateway.authorize("tok_visa", amount, "USD", reference="OG-1")
    with pytest.raises(ValueError, match="positive"):
        await getattr(gateway, operation)("test_auth_0", amount, "USD")


# Fraud

NEW_ADDRESS = address_fingerprint("12 Main St.", "10001", "US")
RISKY = FraudCheck(
    customer_created_at=NOW - timedelta(days=2),
    customer_order_count=0,
    total_minor=125_000,
    currency="USD",
    shipping_address=NEW_ADDRESS,
    known_addresses=frozenset({address_fingerprint("5 Court St", "11201", "US")}),
    channel=Channel.WEB,
    now=NOW,
)
OLD = NOW - timedelta(days=400)


def test_a_new_customers_high_value_order_to_a_new_address_is_held():
    verdict = RuleFraudScreen().screen(RISKY)
    assert verdict.hold is True
    assert verdict.reason == "Review: new customer's order of 1,250.00 USD to an address never used before."


@pytest.mark.parametrize(
    ("changes", "hold"),
    [
        ({}, True),
        ({"channel": Channel.AGENT}, True),  # agent-placed orders are screened too
        ({"known_addresses": frozenset({NEW_ADDRESS})}, False),  # an address used before
        ({"known_addresses": {address_fingerprint("12  main st", "10001", "us")}}, False),  # written differently
        ({"customer_created_at": OLD, "customer_order_count": 5}, False),  # an established customer
        ({"customer_created_at": OLD, "customer_order_count": 0}, True),  # old account, first order
        ({"customer_created_at": NOW - timedelta(days=5), "customer_order_count": 3}, True),  # recent account
        ({"customer_created_at": NOW - timedelta(days=29), "customer_order_count": 1}, True),
        (
            {"customer_created_at": NOW - timedelta(days=30), "customer_order_count": 1},
            False,
        ),  # 30 days is no longer new
        ({"total_minor": 100_000}, True),  # the threshold itself
        ({"total_minor": 99_999}, False),  # just below it
        ({"shipping_address": None}, False),  # pickup
        ({"shipping_address": None, "known_addresses": frozenset()}, False),
    ],
)
def test_fraud_rule_matrix(changes, hold):
    verdict = RuleFraudScreen().screen(replace(RISKY, **changes))
    assert verdict.hold is hold
    assert (verdict.reason is not None) is hold


def test_fraud_thresholds_are_settings():
    screen = RuleFraudScreen(high_value_minor=200_000, new_customer_days=1)
    assert screen.screen(RISKY).hold is False  # 1,250.00 is below this threshold
    assert screen.screen(replace(RISKY, total_minor=200_000)).hold is True
    returning = replace(RISKY, total_minor=200_000, customer_order_count=1)
    assert screen.screen(returning).hold is False  # two days old is not new here
    assert screen.screen(replace(returning, customer_created_at=NOW - timedelta(hours=23))).hold is True


def test_fraud_reason_uses_the_currency_exponent():
    verdict = RuleFraudScreen().screen(replace(RISKY, currency="JPY", total_minor=1_250_000))
    assert verdict.reason == "Review: new customer's order of 1,250,000 JPY to an address never used before."


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("12 Main St.", "10001", "US"), ("12  main st", "10001", "us"), True),
        (("12 Main St., Apt #4", "10001", "US"), (" 12 MAIN ST APT 4 ", " 10001", "US "), True),
        (("12 Main St.", "10001", "US"), ("21 Main St.", "10001", "US"), False),
        (("12 Main St.", "10001", "US"), ("12 Main St.", "10002", "US"), False),
        (("12 Main St.", "10001", "US"), ("12 Main St.", "10001", "CA"), False),
        (("12 Main St.", "10001", None), ("12 Main St.", "10001", ""), True),
    ],
)
def test_address_fingerprint(a, b, same):
    assert (address_fingerprint(*a) == address_fingerprint(*b)) is same


def test_address_fingerprint_value():
    assert address_fingerprint("12  Main St.", " 10001 ", "us") == "12 main st|10001|us"


# Carriers


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("UPS", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("FedEx", "https://www.fedex.com/fedextrack/?trknbr=1Z999AA10123456784"),
        ("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels=1Z999AA10123456784"),
        ("METRO", "https://track.ordergraph.dev/metro/1Z999AA10123456784"),
        ("fedex", "https://www.fedex.com/fedextrack/?trknbr=1Z999AA10123456784"),  # any case
    ],
)
def test_tracking_urls(name, url):
    assert TemplateCarriers().carrier(name).tracking_url("1Z999AA10123456784") == url


def test_tracking_numbers_cannot_rewrite_the_url():
    ups = TemplateCarriers().carrier("UPS")
    assert ups.tracking_url("1Z 9&x=/y") == "https://www.ups.com/track?tracknum=1Z%209%26x%3D%2Fy"


def test_new_tracking_numbers():
    ups = TemplateCarriers().carrier("UPS")
    numbers = {ups.new_tracking_number() for _ in range(20)}
    assert len(numbers) == 20
    assert all(re.fullmatch(r"1Z[0-9A-F]{16}", number) for number in numbers)
    assert ups.name == "UPS"


def test_an_unknown_carrier_is_a_clear_error():
    with pytest.raises(KeyError) as error:
        TemplateCarriers().carrier("DHL")
    assert isinstance(error.value, UnknownCarrier)
    assert str(error.value) == "No carrier named 'DHL'; known carriers: UPS, FedEx, USPS, METRO."


def test_a_directory_of_its_own_carriers():
    carriers = TemplateCarriers([TemplateCarrier("DHL", "https://dhl.example/{number}", "JD")])
    assert carriers.carrier("dhl").tracking_url("JD1") == "https://dhl.example/JD1"
    with pytest.raises(UnknownCarrier):
        carriers.carrier("UPS")


# Choosing ports


@pytest.mark.parametrize(
    "ports",
    [
        builtin_ports(),
        load_ports(tax="table", payments="test", fraud="rules", carriers="templates"),
    ],
)
def test_builtin_ports(ports):
    assert isinstance(ports, Ports)
    assert isinstance(ports.tax, TableTaxCalculator)
    assert isinstance(ports.payments, TestPaymentGateway)
    assert isinstance(ports.fraud, RuleFraudScreen)
    assert isinstance(ports.carriers, TemplateCarriers)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"tax": "avalara"}, "Unknown tax calculator 'avalara'; choose one of: table."),
        ({"payments": "stripe"}, "Unknown payment gateway 'stripe'; choose one of: test."),
        ({"fraud": "none"}, "Unknown fraud screen 'none'; choose one of: rules."),
        ({"carriers": "shippo"}, "Unknown carrier directory 'shippo'; choose one of: templates."),
    ],
)
def test_an_unknown_port_name_lists_the_valid_ones(setting, message):
    with pytest.raises(ValueError, match=r"^Unknown ") as error:
        load_ports(**setting)
    assert str(error.value) == message
