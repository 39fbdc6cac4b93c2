"""Small, explicit test data: a few locations, products and customers with orders in known states."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from ordergraph.models import (
    Customer,
    CustomerAddress,
    DeliveryMethod,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryLevel,
    Location,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Product,
    Return,
    ReturnLine,
    Shipment,
    ShipmentEvent,
)
from ordergraph.models.database import Database
from ordergraph.models.enums import (
    ActorKind,
    Channel,
    DeliveryKind,
    EventType,
    EventVisibility,
    FulfillmentOrderStatus,
    LocationKind,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
    ShipmentStatus,
)
from ordergraph.models.status import LineQuantities, derive_order_status

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@dataclass
class World:
    customers: dict[str, int] = field(default_factory=dict)
    orders: dict[str, list[int]] = field(default_factory=dict)  # customer key -> order ids, newest first
    shipments: dict[str, list[int]] = field(default_factory=dict)
    returns: dict[str, list[int]] = field(default_factory=dict)
    payments: dict[str, list[int]] = field(default_factory=dict)
    fulfillment_orders: dict[str, list[int]] = field(default_factory=dict)
    order_lines: dict[str, list[int]] = field(default_factory=dict)
    locations: dict[str, int] = field(default_factory=dict)
    next_sequence: int = 1


async def reference_data(db: Database, world: World) -> None:
    async with db.write() as session:
        session.add_all(
            [
                DeliveryMethod(
                    code="STANDARD",
                    name="Standard",
                    kind=DeliveryKind.SHIP,
                    price_minor=599,
                    currency="USD",
                    carrier="UPS",
                    cutoff_local=time(17),
                    transit_days=3,
                    position=1,
                ),
                DeliveryMethod(
                    code="SAME_DAY",
                    name="Same day",
                    kind=DeliveryKind.SHIP,
                    price_minor=1999,
                    currency="USD",
                    carrier="Courier",
                    cutoff_local=time(12),
                    metro_only=True,
                    position=2,
                ),
                DeliveryMethod(
                    code="PICKUP",
                    name="In-store pickup",
                    kind=DeliveryKind.PICKUP,
                    price_minor=0,
                    currency="USD",
                    cutoff_local=time(18),
                    transit_hours=2,
                    position=3,
                ),
                Product(sku="SKU-1", name="Trail Runner", price_minor=12_000, currency="USD"),
                Product(sku="SKU-2", name="Wool Socks", price_minor=1_250, currency="USD"),
            ]
        )
        warehouse = Location(
            code="NJ-WH",
            name="Newark Warehouse",
            kind=LocationKind.WAREHOUSE,
            line1="1 Port St",
            city="Newark",
            region="NJ",
            postal_code="07114",
            country="US",
            metro_area="New York",
            latitude=40.70,
            longitude=-74.17,
            timezone="America/New_York",
        )
        store = Location(
            code="BK-ST",
            name="Brooklyn Store",
            kind=LocationKind.STORE,
            line1="5 Court St",
            city="Brooklyn",
            region="NY",
            postal_code="11201",
            country="US",
            metro_area="New York",
            latitude=40.69,
            longitude=-73.99,
            timezone="America/New_York",
            pickup=True,
            returns_drop_off=True,
        )
        session.add_all([warehouse, store])
        await session.flush()
        world.locations = {"warehouse": warehouse.id, "store": store.id}
        session.add_all(
            [
                InventoryLevel(sku="SKU-1", location_id=warehouse.id, on_hand=40, reserved=2),
                InventoryLevel(sku="SKU-1", location_id=store.id, on_hand=3, reserved=0, safety_stock=1),
                InventoryLevel(sku="SKU-2", location_id=warehouse.id, on_hand=0, incoming=50),
            ]
        )


async def add_customer(
    db: Database, world: World, key: str, *, orders: int, delivered_and_returned: bool = True
) -> None:
    """A customer with `orders` orders; the newest is shipped, the one before it delivered with a return."""
    async with db.write() as session:
        customer = Customer(
            name=f"{key.title()} Example",
            email=f"{key}@example.com",
            phone="+12125550100",
            created_at=NOW - timedelta(days=400),
            notify_sms=True,
            sms_phone="+12125550199",
        )
        session.add(customer)
        await session.flush()
        world.customers[key] = customer.id
        session.add(
            CustomerAddress(
                customer_id=customer.id,
                name=customer.name,
                line1="10 Main St",
                city="New York",
                region="NY",
                postal_code="10001",
                country="US",
            )
        )
        order_ids, shipment_ids, return_ids, payment_ids, fulfillment_ids, line_ids = [], [], [], [], [], []
        for n in range(orders):
            placed = NOW - timedelta(days=n, hours=1)
            shipped = n == 0 or (n == 1 and delivered_and_returned)
            delivered = n == 1 and delivered_and_returned
            fo_status = (
                FulfillmentOrderStatus.DELIVERED
                if delivered
                else FulfillmentOrderStatus.SHIPPED
                if shipped
                else FulfillmentOrderStatus.OPEN
            )
            order = Order(
                number=f"OG-{customer.id:04d}{n:04d}",
                customer_id=customer.id,
                channel=Channel.WEB,
                status=derive_order_status(
                    on_hold=False,
                    lines=[
                        LineQuantities(1, 0, int(shipped), int(delivered), int(delivered)),
                        LineQuantities(1, 0, int(shipped), int(delivered), 0),
                    ],
                    fulfillment_statuses=[fo_status],
                ),
                placed_at=placed,
                placed_by_kind=ActorKind.CUSTOMER,
                placed_by_name=customer.name,
                currency="USD",
                subtotal_minor=13_250,
                shipping_minor=599,
                tax_minor=1_176,
                total_minor=15_025,
                delivery_method_code="STANDARD",
                ship_name=customer.name,
                ship_line1="10 Main St",
                ship_city="New York",
                ship_region="NY",
                ship_postal_code="10001",
                ship_country="US",
                ship_phone="+12125550100",
            )
            session.add(order)
            await session.flush()
            order_ids.append(order.id)
            line1 = OrderLine(
                order_id=order.id,
                line_number=1,
                sku="SKU-1",
                product_name="Trail Runner",
                quantity=1,
                unit_price_minor=12_000,
                tax_minor=1_065,
                currency="USD",
                quantity_shipped=int(shipped),
                quantity_delivered=int(delivered),
                quantity_returned=int(delivered),
            )
            line2 = OrderLine(
                order_id=order.id,
                line_number=2,
                sku="SKU-2",
                product_name="Wool Socks",
                quantity=1,
                unit_price_minor=1_250,
                tax_minor=111,
                currency="USD",
                quantity_shipped=int(shipped),
                quantity_delivered=int(delivered),
            )
            session.add_all([line1, line2])
            fulfillment = FulfillmentOrder(
                order_id=order.id,
                location_id=world.locations["warehouse"],
                kind=DeliveryKind.SHIP,
                status=fo_status,
                created_at=placed,
                updated_at=placed,
            )
            session.add(fulfillment)
            await session.flush()
            fulfillment_ids.append(fulfillment.id)
            line_ids += [line1.id, line2.id]
            session.add_all(
                [
                    FulfillmentOrderLine(fulfillment_order_id=fulfillment.id, order_line_id=line.id, quantity=1)
                    for line in (line1, line2)
                ]
            )
            payment = Payment(
                order_id=order.id,
                gateway="builtin",
                gateway_reference=f"auth_{order.id}",
                currency="USD",
                authorized_minor=15_025,
                captured_minor=15_025 if shipped else 0,
                created_at=placed,
            )
            session.add(payment)
            await session.flush()
            payment_ids.append(payment.id)
            if shipped:
                shipment = Shipment(
                    order_id=order.id,
                    fulfillment_order_id=fulfillment.id,
                    carrier="UPS",
                    tracking_number=f"1Z{order.id:08d}",
                    tracking_url=f"https://ups.example/{order.id}",
                    status=ShipmentStatus.DELIVERED if delivered else ShipmentStatus.IN_TRANSIT,
                    shipped_at=placed + timedelta(hours=5),
                    estimated_delivery_at=placed + timedelta(days=3),
                    delivered_at=placed + timedelta(days=2) if delivered else None,
                )
                session.add(shipment)
                await session.flush()
                shipment_ids.append(shipment.id)
                session.add(
                    ShipmentEvent(
                        shipment_id=shipment.id,
                        status=ShipmentStatus.IN_TRANSIT,
                        carrier="UPS",
                        occurred_at=placed + timedelta(hours=6),
                        description="Departed facility",
                        location="Newark, NJ",
                    )
                )
            if delivered:
                returned = Return(
                    order_id=order.id,
                    rma_number=f"RMA-{order.id:06d}",
                    status=ReturnStatus.REFUNDED,
                    method=ReturnMethod.MAIL,
                    currency="USD",
                    refund_minor=13_065,
                    requested_at=placed + timedelta(days=3),
                )
                session.add(returned)
                await session.flush()
                return_ids.append(returned.id)
                session.add(
                    ReturnLine(
                        return_id=returned.id,
                        order_line_id=line1.id,
                        quantity=1,
                        reason=ReturnReason.SIZE_OR_FIT,
                        quantity_received=1,
                    )
                )
            for event_type, visibility, actor in (
                (EventType.ORDER_PLACED, EventVisibility.CUSTOMER, ActorKind.CUSTOMER),
                (EventType.PAYMENT_AUTHORIZED, EventVisibility.INTERNAL, ActorKind.SYSTEM),
            ):
                session.add(
                    OrderEvent(
                        sequence=world.next_sequence,
                        order_id=order.id,
                        customer_id=customer.id,
                        type=event_type,
                        message=f"{event_type} {order.number}",
                        visibility=visibility,
                        actor_kind=actor,
                        actor_name=customer.name if actor is ActorKind.CUSTOMER else None,
                        occurred_at=placed,
                    )
                )
                world.next_sequence += 1
        world.orders[key] = order_ids
        world.shipments[key] = shipment_ids
        world.returns[key] = return_ids
        world.payments[key] = payment_ids
        world.fulfillment_orders[key] = fulfillment_ids
        world.order_lines[key] = line_ids


async def build_world(db: Database) -> World:
    world = World()
    await reference_data(db, world)
    await add_customer(db, world, "alice", orders=5)
    await add_customer(db, world, "bob", orders=50)
    await add_customer(db, world, "carol", orders=1, delivered_and_returned=False)
    return world


# A shop to place orders in: every delivery method, locations of each kind in two metro areas and
# beyond, and customers old and new. Capture tests each get a fresh one.


def shop_catalog() -> list:
    """Delivery methods and products (new instances each time: a row object belongs to one session)."""
    return [
        DeliveryMethod(
            code="STANDARD",
            name="Standard",
            kind=DeliveryKind.SHIP,
            price_minor=599,
            currency="USD",
            carrier="UPS",
            cutoff_local=time(17),
            transit_days=3,
            position=1,
        ),
        DeliveryMethod(
            code="NEXT_DAY",
            name="Next day",
            kind=DeliveryKind.SHIP,
            price_minor=1_499,
            currency="USD",
            carrier="FedEx",
            cutoff_local=time(15),
            transit_days=1,
            position=2,
        ),
        DeliveryMethod(
            code="SAME_DAY",
            name="Same day",
            kind=DeliveryKind.SHIP,
            price_minor=1_999,
            currency="USD",
            carrier="METRO",
            cutoff_local=time(12),
            metro_only=True,
            position=3,
        ),
        DeliveryMethod(
            code="ONE_HOUR",
            name="One hour",
            kind=DeliveryKind.SHIP,
            price_minor=2_999,
            currency="USD",
            carrier="METRO",
            cutoff_local=time(20),
            transit_hours=1,
            metro_only=True,
            position=4,
        ),
        DeliveryMethod(
            code="WEEKEND",
            name="Weekend",
            kind=DeliveryKind.SHIP,
            price_minor=999,
            currency="USD",
            carrier="FedEx",
            cutoff_local=time(17),
            transit_days=1,
            weekend_delivery=True,
            position=5,
        ),
        DeliveryMethod(
            code="PICKUP",
            name="In-store pickup",
            kind=DeliveryKind.PICKUP,
            price_minor=0,
            currency="USD",
            cutoff_local=time(18),
            transit_hours=2,
            weekend_delivery=True,
            position=6,
        ),
        Product(sku="SKU-1", name="Trail Runner", price_minor=12_000, currency="USD"),
        Product(sku="SKU-2", name="Wool Socks", price_minor=1_250, currency="USD"),
        Product(sku="MUG", name="Monogram Mug", price_minor=1_999, currency="USD", customizable=True),
        Product(sku="LAST", name="Limited Print", price_minor=5_000, currency="USD"),
        Product(sku="TV", name="Studio Monitor", price_minor=150_000, currency="USD"),
    ]


# key: (code, name, kind, city, region, postal code, metro, lat, lon, timezone, pickup, customises)
SHOP_LOCATIONS = {
    "newark": (
        "NJ-WH",
        "Newark Warehouse",
        LocationKind.WAREHOUSE,
        "Newark",
        "NJ",
        "07114",
        "New York",
        40.7082,
        -74.1891,
        "America/New_York",
        False,
        False,
    ),
    "brooklyn": (
        "BK-ST",
        "Brooklyn Store",
        LocationKind.STORE,
        "Brooklyn",
        "NY",
        "11201",
        "New York",
        40.6940,
        -73.9903,
        "America/New_York",
        True,
        False,
    ),
    "studio": (
        "NY-ST",
        "Chelsea Studio",
        LocationKind.STORE,
        "New York",
        "NY",
        "10001",
        "New York",
        40.7484,
        -73.9967,
        "America/New_York",
        True,
        True,
    ),
    "chicago": (
        "CHI-DC",
        "Chicago DC",
        LocationKind.DISTRIBUTION_CENTER,
        "Chicago",
        "IL",
        "60607",
        "Chicago",
        41.8721,
        -87.6578,
        "America/Chicago",
        False,
        False,
    ),
    "la": (
        "LA-3P",
        "LA Fulfilment Partner",
        LocationKind.THIRD_PARTY,
        "Los Angeles",
        "CA",
        "90021",
        "Los Angeles",
        34.0333,
        -118.2447,
        "America/Los_Angeles",
        False,
        False,
    ),
}

# (sku, location key, on hand)
SHOP_STOCK = [
    ("SKU-1", "newark", 100),
    ("SKU-1", "brooklyn", 5),
    ("SKU-1", "chicago", 50),
    ("SKU-1", "la", 50),
    ("SKU-2", "newark", 200),
    ("SKU-2", "chicago", 80),
    ("MUG", "studio", 20),
    ("MUG", "newark", 30),
    ("LAST", "chicago", 10),
    ("TV", "newark", 10),
]


async def build_shop(db: Database) -> World:
    world = World()
    async with db.write() as session:
        session.add_all(shop_catalog())
        locations = {
            key: Location(
                code=code,
                name=name,
                kind=kind,
                line1="1 Commerce St",
                city=city,
                region=region,
                postal_code=postal,
                country="US",
                metro_area=metro,
                latitude=lat,
                longitude=lon,
                timezone=tz,
                pickup=pickup,
                returns_drop_off=pickup,
                customization=customises,
            )
            for key, (
                code,
                name,
                kind,
                city,
                region,
                postal,
                metro,
                lat,
                lon,
                tz,
                pickup,
                customises,
            ) in SHOP_LOCATIONS.items()
        }
        session.add_all(locations.values())
        await session.flush()
        world.locations = {key: location.id for key, location in locations.items()}
        session.add_all(
            InventoryLevel(sku=sku, location_id=locations[key].id, on_hand=on_hand) for sku, key, on_hand in SHOP_STOCK
        )
        for key, age in (("alice", timedelta(days=400)), ("bob", timedelta(days=400)), ("newbie", timedelta(days=2))):
            customer = Customer(name=f"{key.title()} Shopper", email=f"{key}@shop.example", created_at=NOW - age)
            session.add(customer)
            await session.flush()
            world.customers[key] = customer.id
            session.add(
                CustomerAddress(
                    customer_id=customer.id,
                    name=customer.name,
                    line1="10 Main St",
                    city="New York",
                    region="NY",
                    postal_code="10001",
                    country="US",
                )
            )
    return world
