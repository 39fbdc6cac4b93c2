"""The demo data (server/seed/) keeps the domain's rules on both databases, and the same seed loads the same data."""

from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from ordergraph.models import (
    Customer,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryAdjustment,
    InventoryLevel,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentTransaction,
    Shipment,
    ShipmentEvent,
)
from ordergraph.models.database import Database
from ordergraph.models.enums import (
    ActorKind,
    ApprovalState,
    Channel,
    EventType,
    EventVisibility,
    FulfillmentOrderStatus,
    OrderStatus,
    PaymentTransactionKind,
    ShipmentStatus,
)
from ordergraph.models.event import EventRelay, NotificationWatermark
from ordergraph.models.status import LineQuantities, derive_order_status
from ordergraph.server.seed import seed_demo

ANCHOR = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SMALL = {"seed": 7, "customers": 30, "orders": 300, "anchor": ANCHOR}
HOLDING_STOCK = (
    FulfillmentOrderStatus.OPEN,
    FulfillmentOrderStatus.IN_PROGRESS,
    FulfillmentOrderStatus.READY_FOR_PICKUP,
)


@pytest.fixture(scope="module")
async def seeded(database_factory) -> AsyncIterator[Database]:
    """One seeded database per backend, shared by the tests that only read it."""
    db = await database_factory.new()
    summary = await seed_demo(db, **SMALL)
    assert "300 orders" in summary
    yield db
    await db.dispose()


async def fetch(db: Database, query) -> list:
    async with db.read() as session:
        return list((await session.exec(query)).all())


async def test_every_order_status_is_present(seeded: Database):
    statuses = Counter(await fetch(seeded, select(Order.status)))
    assert set(statuses) == set(OrderStatus)
    assert statuses.most_common(1)[0][0] is OrderStatus.DELIVERED


async def test_stored_status_is_the_one_derived_from_the_order(seeded: Database):
    lines = defaultdict(list)
    for line in await fetch(seeded, select(OrderLine)):
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
    for order_id, status in await fetch(seeded, select(FulfillmentOrder.order_id, FulfillmentOrder.status)):
        fulfillment[order_id].append(status)
    orders = await fetch(seeded, select(Order))
    assert len(orders) == 300
    for order in orders:
        derived = derive_order_status(
            on_hold=order.on_hold,
            lines=lines[order.id],
            fulfillment_statuses=fulfillment[order.id],
            awaiting_approval=order.approval_state is ApprovalState.PENDING,
        )
        assert order.status is derived, order.number


async def test_reserved_stock_is_what_open_fulfillment_orders_hold(seeded: Database):
    held = Counter()
    query = (
        select(OrderLine.sku, FulfillmentOrder.location_id, FulfillmentOrderLine.quantity)
        .join(FulfillmentOrderLine, FulfillmentOrderLine.order_line_id == OrderLine.id)
        .join(FulfillmentOrder, FulfillmentOrder.id == FulfillmentOrderLine.fulfillment_order_id)
        .where(FulfillmentOrder.status.in_(HOLDING_STOCK))
    )
    for sku, location_id, quantity in await fetch(seeded, query):
        held[sku, location_id] += quantity
    levels = await fetch(seeded, select(InventoryLevel))
    reserved = {(level.sku, level.location_id): level.reserved for level in levels}
    assert sum(held.values()) > 0
    assert {key: units for key, units in reserved.items() if units} == dict(held)
    assert all(level.reserved <= level.on_hand for level in levels)


async def test_the_inventory_ledger_adds_up_to_the_stock_levels(seeded: Database):
    query = select(
        InventoryAdjustment.sku,
        InventoryAdjustment.location_id,
        sa.func.sum(InventoryAdjustment.on_hand_delta),
        sa.func.sum(InventoryAdjustment.reserved_delta),
    ).group_by(InventoryAdjustment.sku, InventoryAdjustment.location_id)
    ledger = {
        (sku, location): (on_hand, reserved)
        for sku, location, on_hand, reserved in await fetch(seeded, query)
        if on_hand or reserved
    }
    levels = {
        (level.sku, level.location_id): (level.on_hand, level.reserved)
        for level in await fetch(seeded, select(InventoryLevel))
        if level.on_hand or level.reserved
    }
    assert ledger == levels


async def test_payment_totals_are_the_sums_of_their_ledger(seeded: Database):
    sums = defaultdict(Counter)
    for payment_id, kind, amount in await fetch(
        seeded, select(PaymentTransaction.payment_id, PaymentTransaction.kind, PaymentTransaction.amount_minor)
    ):
        assert amount > 0
        sums[payment_id][kind] += amount
    orders = {order.id: order for order in await fetch(seeded, select(Order))}
    kinds = PaymentTransactionKind
    refunded = 0
    for payment in await fetch(seeded, select(Payment)):
        ledger, order = sums[payment.id], orders[payment.order_id]
        assert (payment.authorized_minor, payment.captured_minor, payment.refunded_minor, payment.voided_minor) == (
            ledger[kinds.AUTHORIZATION],
            ledger[kinds.CAPTURE],
            ledger[kinds.REFUND],
            ledger[kinds.VOID],
        )
        assert payment.authorized_minor == order.total_minor
        assert payment.captured_minor + payment.voided_minor <= payment.authorized_minor
        assert payment.refunded_minor <= payment.captured_minor
        assert payment.voided_minor == order.cancelled_minor  # everything is cancelled before it ships
        assert payment.refunded_minor == order.refunded_minor
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED):
            assert payment.captured_minor == order.total_minor - order.cancelled_minor, order.number
        refunded += payment.refunded_minor
    assert refunded > 0


async def test_order_money_adds_up(seeded: Database):
    lines = defaultdict(list)
    for line in await fetch(seeded, select(OrderLine)):
        lines[line.order_id].append(line)
    for order in await fetch(seeded, select(Order)):
        assert order.total_minor == order.subtotal_minor + order.shipping_minor + order.tax_minor
        assert order.subtotal_minor == sum(line.unit_price_minor * line.quantity for line in lines[order.id])
        assert order.tax_minor >= sum(line.tax_minor for line in lines[order.id])
        assert (order.shipping_address is None) == (order.pickup_location_id is not None)


async def test_fulfillment_orders_hold_every_unit_not_cancelled(seeded: Database):
    placed = Counter()
    query = select(FulfillmentOrderLine.order_line_id, FulfillmentOrderLine.quantity)
    for line_id, quantity in await fetch(seeded, query):
        placed[line_id] += quantity
    for line in await fetch(seeded, select(OrderLine)):
        assert placed[line.id] == line.quantity - line.quantity_cancelled
    shipped = await fetch(
        seeded,
        select(FulfillmentOrder.id).where(
            FulfillmentOrder.status.in_((FulfillmentOrderStatus.SHIPPED, FulfillmentOrderStatus.DELIVERED))
        ),
    )
    shipments = await fetch(seeded, select(Shipment))
    assert sorted(shipped) == sorted(s.fulfillment_order_id for s in shipments)
    assert all(s.tracking_url and s.tracking_number in s.tracking_url for s in shipments)


async def test_a_shipment_is_where_its_latest_carrier_scan_says(seeded: Database):
    scans = defaultdict(list)
    for scan in await fetch(seeded, select(ShipmentEvent).order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)):
        scans[scan.shipment_id].append(scan)
    for shipment in await fetch(seeded, select(Shipment)):
        assert scans[shipment.id][0].occurred_at == shipment.shipped_at
        assert shipment.status is scans[shipment.id][-1].status
        delivered_at = scans[shipment.id][-1].occurred_at if shipment.status is ShipmentStatus.DELIVERED else None
        assert shipment.delivered_at == delivered_at


async def test_events_are_numbered_in_the_order_they_happened(seeded: Database):
    events = await fetch(seeded, select(OrderEvent).order_by(OrderEvent.sequence))
    assert [event.sequence for event in events] == list(range(1, len(events) + 1))
    times = [event.occurred_at for event in events]
    assert times == sorted(times)
    assert times[-1] <= ANCHOR
    assert {event.visibility for event in events} == set(EventVisibility)
    placed = dict(await fetch(seeded, select(Order.id, Order.placed_at)))
    firsts = {}
    for event in events:
        if event.order_id is not None:
            firsts.setdefault(event.order_id, event)
    assert all(
        firsts[order_id].type == EventType.ORDER_PLACED and firsts[order_id].occurred_at == at
        for order_id, at in placed.items()
    )


async def test_the_first_customer_has_a_history_in_every_status(seeded: Database):
    first = (await fetch(seeded, select(Customer).order_by(Customer.id).limit(1)))[0]
    statuses = await fetch(seeded, select(Order.status).where(Order.customer_id == first.id))
    assert len(statuses) >= 20
    assert set(statuses) == set(OrderStatus)


async def test_the_same_seed_loads_the_same_data(seeded: Database, empty_db: Database, database_factory):
    await seed_demo(empty_db, **SMALL)
    fingerprint = select(Order.id, Order.number, Order.status, Order.total_minor, Order.placed_at).order_by(Order.id)
    timeline = select(OrderEvent.sequence, OrderEvent.order_id, OrderEvent.type, OrderEvent.occurred_at).order_by(
        OrderEvent.sequence
    )
    assert await fetch(empty_db, fingerprint) == await fetch(seeded, fingerprint)
    assert await fetch(empty_db, timeline) == await fetch(seeded, timeline)
    other = await database_factory.new()
    try:
        await seed_demo(other, **{**SMALL, "seed": 8})
        assert await fetch(other, fingerprint) != await fetch(seeded, fingerprint)
    finally:
        await other.dispose()


def _schema(connection: sa.Connection) -> dict:
    inspector = sa.inspect(connection)
    return {
        table: (
            inspector.get_pk_constraint(table),
            inspector.get_unique_constraints(table),
            inspector.get_foreign_keys(table),
            inspector.get_indexes(table),
        )
        for table in sorted(inspector.get_table_names())
    }


async def test_seeding_leaves_the_schema_as_migrated(seeded: Database, empty_db: Database):
    # On PostgreSQL the load adds the foreign keys back after the rows.
    schemas = []
    for db in (seeded, empty_db):
        async with db.read() as session:
            schemas.append(await (await session.connection()).run_sync(_schema))
    assert schemas[0] == schemas[1]
    assert schemas[0]["order_event"][3]  # it does have indexes to compare


async def test_the_application_inserts_after_the_seeded_ids(empty_db: Database):
    await seed_demo(empty_db, **SMALL)
    async with empty_db.write() as session:
        last_order = (await session.exec(select(sa.func.max(Order.id)))).one()
        last_event, last_sequence = (
            await session.exec(select(sa.func.max(OrderEvent.id), sa.func.max(OrderEvent.sequence)))
        ).one()
        order = Order(
            number="OG-AFTER-SEED",
            customer_id=1,
            channel=Channel.WEB,
            status=OrderStatus.CONFIRMED,
            placed_by_kind=ActorKind.CUSTOMER,
            currency="USD",
            subtotal_minor=100,
            shipping_minor=0,
            tax_minor=0,
            total_minor=100,
            delivery_method_code="STANDARD",
        )
        session.add(order)
        await session.flush()
        event = OrderEvent(
            sequence=last_sequence + 1,
            order_id=order.id,
            customer_id=1,
            type=EventType.ORDER_PLACED,
            visibility=EventVisibility.CUSTOMER,
            actor_kind=ActorKind.CUSTOMER,
        )
        session.add(event)
        await session.flush()
    assert order.id == last_order + 1
    assert event.id == last_event + 1


async def test_the_outbox_relay_and_the_notifier_start_after_the_seeded_history(empty_db: Database):
    # A server ran on the empty database before the demo data was loaded: its notifier has a watermark at 0.
    async with empty_db.write() as session:
        session.add(NotificationWatermark(id=1, queued_sequence=0))
    await seed_demo(empty_db, **SMALL)
    async with empty_db.read() as session:
        published = (await session.exec(sa.select(EventRelay.published_sequence))).scalar_one()
        queued = (await session.exec(sa.select(NotificationWatermark.queued_sequence))).scalar_one()
        newest = (await session.exec(sa.select(sa.func.max(OrderEvent.sequence)))).scalar_one()
    assert published == queued == newest > 0
