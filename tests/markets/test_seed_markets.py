"""`ordergraph seed --market cz|sa|ae`: a demo world in the market's currency with VAT inside the prices, whose
money adds up as the API's own rules say, on both databases; the same seed loads the same data."""

from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from ordergraph.models import (
    Customer,
    CustomerAddress,
    DeliveryMethod,
    FulfillmentOrder,
    Market,
    Order,
    OrderLine,
    Payment,
    PaymentTransaction,
    PickupPoint,
    Product,
)
from ordergraph.models.database import Database
from ordergraph.models.enums import ApprovalState, OrderStatus, PaymentTransactionKind
from ordergraph.models.status import LineQuantities, derive_order_status
from ordergraph.models.tax import inclusive_tax_minor, rate_of_ppm
from ordergraph.server.seed import seed_demo

ANCHOR = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SMALL = {"seed": 7, "customers": 30, "orders": 200, "anchor": ANCHOR}
CURRENCY = {"cz": "CZK", "sa": "SAR", "ae": "AED"}
RATES = {"cz": {210000, 120000}, "sa": {150000}, "ae": {50000}}


@pytest.fixture(scope="module", params=["cz", "sa", "ae"])
async def market_db(request, database_factory) -> AsyncIterator[tuple[str, Database]]:
    db = await database_factory.new()
    summary = await seed_demo(db, **SMALL, market=request.param)
    assert "200 orders" in summary
    assert f"market {request.param.upper()}" in summary
    yield request.param, db
    await db.dispose()


async def fetch(db: Database, query) -> list:
    async with db.read() as session:
        return list((await session.exec(query)).all())


async def test_everything_is_in_the_markets_currency(market_db: tuple[str, Database]):
    market, db = market_db
    code, currency = market.upper(), CURRENCY[market]
    orders = await fetch(db, select(Order))
    assert len(orders) == 200
    assert {o.currency for o in orders} == {currency}
    assert {o.market_code for o in orders} == {code}
    assert all(o.prices_include_tax for o in orders)
    assert {line.currency for line in await fetch(db, select(OrderLine))} == {currency}
    assert {p.currency for p in await fetch(db, select(Payment))} == {currency}
    assert {p.currency for p in await fetch(db, select(Product))} == {currency}
    assert {m.market_code for m in await fetch(db, select(DeliveryMethod))} == {code}
    assert {a.country for a in await fetch(db, select(CustomerAddress))} == {code}
    defaults = await fetch(db, select(Market.code).where(col(Market.is_default)))
    assert defaults == [code]  # the shop shows this market's methods and prices


async def test_order_money_adds_up_with_tax_inside_the_prices(market_db: tuple[str, Database]):
    market, db = market_db
    lines = defaultdict(list)
    for line in await fetch(db, select(OrderLine)):
        lines[line.order_id].append(line)
    for order in await fetch(db, select(Order)):
        own = lines[order.id]
        assert order.total_minor == order.subtotal_minor + order.shipping_minor, order.number  # tax is inside
        assert order.subtotal_minor == sum(line.unit_price_minor * line.quantity for line in own)
        for line in own:
            assert line.tax_rate_ppm in RATES[market]
            rate = rate_of_ppm(line.tax_rate_ppm)
            assert line.tax_minor == inclusive_tax_minor(line.unit_price_minor * line.quantity, rate)
        shipping_tax = inclusive_tax_minor(order.shipping_minor, rate_of_ppm(order.shipping_tax_rate_ppm))
        assert order.tax_minor == sum(line.tax_minor for line in own) + shipping_tax, order.number


async def test_payments_equal_their_ledger(market_db: tuple[str, Database]):
    _, db = market_db
    sums: dict[int, Counter] = defaultdict(Counter)
    for payment_id, kind, amount in await fetch(
        db, select(PaymentTransaction.payment_id, PaymentTransaction.kind, PaymentTransaction.amount_minor)
    ):
        assert amount > 0
        sums[payment_id][kind] += amount
    orders = {order.id: order for order in await fetch(db, select(Order))}
    kinds = PaymentTransactionKind
    for payment in await fetch(db, select(Payment)):
        ledger, order = sums[payment.id], orders[payment.order_id]
        assert (payment.authorized_minor, payment.captured_minor, payment.refunded_minor, payment.voided_minor) == (
            ledger[kinds.AUTHORIZATION],
            ledger[kinds.CAPTURE],
            ledger[kinds.REFUND],
            ledger[kinds.VOID],
        )
        assert payment.authorized_minor == order.total_minor
        assert payment.voided_minor == order.cancelled_minor
        assert payment.refunded_minor == order.refunded_minor <= payment.captured_minor
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED):
            assert payment.captured_minor == order.total_minor - order.cancelled_minor, order.number


async def test_statuses_are_the_derived_ones(market_db: tuple[str, Database]):
    _, db = market_db
    lines = defaultdict(list)
    for line in await fetch(db, select(OrderLine)):
        lines[line.order_id].append(
            LineQuantities(
                line.quantity,
                line.quantity_cancelled,
                line.quantity_shipped,
                line.quantity_delivered,
                line.quantity_returned,
            )
        )
    fulfillment = defaultdict(list)
    for order_id, status in await fetch(db, select(FulfillmentOrder.order_id, FulfillmentOrder.status)):
        fulfillment[order_id].append(status)
    statuses = Counter()
    for order in await fetch(db, select(Order)):
        derived = derive_order_status(
            on_hold=order.on_hold,
            lines=lines[order.id],
            fulfillment_statuses=fulfillment[order.id],
            awaiting_approval=order.approval_state is ApprovalState.PENDING,
        )
        assert order.status is derived, order.number
        statuses[order.status] += 1
    assert statuses[OrderStatus.DELIVERED] > 0


async def test_names_are_local(market_db: tuple[str, Database]):
    market, db = market_db
    names = [c.name for c in await fetch(db, select(Customer))]
    phones = [c.phone for c in await fetch(db, select(Customer))]
    prefix = {"cz": "+420", "sa": "+966", "ae": "+971"}[market]
    assert all(phone.startswith(prefix) for phone in phones)
    if market == "cz":
        assert any(set(name) & set("áčďéěíňóřšťúůýž") for name in names)
    else:
        assert all(any("\u0600" <= ch <= "\u06ff" for ch in name) for name in names)


async def test_czech_parcels_go_to_lockers_and_pickup_points(market_db: tuple[str, Database]):
    market, db = market_db
    if market != "cz":
        pytest.skip("only the Czech demo ships to pickup points")
    points = {p.id: p for p in await fetch(db, select(PickupPoint))}
    assert points
    to_points = await fetch(db, select(Order).where(col(Order.pickup_point_id).is_not(None)))
    assert to_points
    for order in to_points:
        point = points[order.pickup_point_id]
        assert order.delivery_method_code in ("CZ_BOX", "CZ_POINT")
        assert (order.ship_line1, order.ship_city, order.ship_country) == (point.line1, point.city, "CZ")
        assert point.external_id in order.ship_line2


async def test_the_same_seed_loads_the_same_data(market_db: tuple[str, Database], database_factory):
    market, db = market_db
    fingerprint = select(
        Order.id, Order.number, Order.status, Order.total_minor, Order.tax_minor, Order.placed_at, Order.ship_city
    ).order_by(Order.id)
    again = await database_factory.new()
    try:
        await seed_demo(again, **SMALL, market=market)
        assert await fetch(again, fingerprint) == await fetch(db, fingerprint)
    finally:
        await again.dispose()
