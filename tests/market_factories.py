"""The `market_shop` fixture: `build_shop`'s US shop plus the CZ, SA and AE markets.

Import the fixture into a test module: `from market_factories import market_shop  # noqa: F401`.

What it adds (keys in `world.customers`, `world.locations`, `world.pickup_points`):
- delivery methods (the market's currency, its market_code):
  CZ_STANDARD 89,00 CZK (UPS, cut-off 14:00, 1 day), CZ_BOX 59,00 CZK (METRO, network PARCELBOX, 14:00, 1 day),
  CZ_POINT 49,00 CZK (METRO, network VYDEJNA, 14:00, 1 day),
  SA_STANDARD 25,00 SAR (FedEx, 15:00, 2 days, carrier weekdays "71234" = Sunday to Thursday),
  AE_SAME_DAY 25,00 AED (METRO, metro only, cut-off 12:00), AE_STANDARD 15,00 AED (UPS, 15:00, 1 day, "71234");
- products (base price in USD, so the US market sells them too):
  BOOT (STANDARD): CZ 2 999,00 CZK, SA 449,00 SAR, AE 439,00 AED;
  BOOK (REDUCED): CZ 349,00 CZK, SA 39,00 SAR, no AE price;
- locations: "praha" (warehouse, BOOT 50), "brno" (store with pickup and returns, BOOK 50),
  "riyadh" (warehouse, BOOT 50), "dubai" (warehouse, BOOT 50);
- customers: "jiri" (Jiří Šťastný, CZ address, no phone), "mohammed" (محمد العتيبي, SA, +966501234567),
  "fatima" (فاطمة الكعبي, AE, +971501234567), plus build_shop's alice, bob and newbie;
- pickup points: "PB-PRG-001" (PARCELBOX locker, Václavské náměstí 1, Praha), "VM-PRG-001" (VYDEJNA point,
  Praha), "PB-PRG-099" (PARCELBOX locker, inactive).
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import time

import pytest
from conftest import DatabaseFactory, serving
from factories import NOW, World, build_shop

from ordergraph.models import (
    Customer,
    CustomerAddress,
    DeliveryMethod,
    InventoryLevel,
    Location,
    PickupPoint,
    Product,
    ProductPrice,
)
from ordergraph.models.database import Database
from ordergraph.models.enums import DeliveryKind, LocationKind, PickupPointKind


@dataclass
class MarketWorld(World):
    pickup_points: dict[str, int] = field(default_factory=dict)  # external id -> id


def market_methods() -> list[DeliveryMethod]:
    def method(code: str, name: str, price: int, currency: str, market: str, **more: object) -> DeliveryMethod:
        return DeliveryMethod(
            code=code,
            name=name,
            kind=DeliveryKind.SHIP,
            price_minor=price,
            currency=currency,
            market_code=market,
            **more,  # type: ignore[arg-type]
        )

    return [
        method(
            "CZ_STANDARD",
            "Standardní doručení",
            8_900,
            "CZK",
            "CZ",
            carrier="UPS",
            cutoff_local=time(14),
            transit_days=1,
            position=11,
        ),
        method(
            "CZ_BOX",
            "Výdejní box",
            5_900,
            "CZK",
            "CZ",
            carrier="METRO",
            cutoff_local=time(14),
            transit_days=1,
            pickup_point_network="PARCELBOX",
            position=12,
        ),
        method(
            "CZ_POINT",
            "Výdejní místo",
            4_900,
            "CZK",
            "CZ",
            carrier="METRO",
            cutoff_local=time(14),
            transit_days=1,
            pickup_point_network="VYDEJNA",
            position=13,
        ),
        method(
            "SA_STANDARD",
            "التوصيل القياسي",
            2_500,
            "SAR",
            "SA",
            carrier="FedEx",
            cutoff_local=time(15),
            transit_days=2,
            carrier_weekdays="71234",
            position=21,
        ),
        method(
            "AE_SAME_DAY",
            "توصيل في نفس اليوم",
            2_500,
            "AED",
            "AE",
            carrier="METRO",
            cutoff_local=time(12),
            metro_only=True,
            position=31,
        ),
        method(
            "AE_STANDARD",
            "التوصيل القياسي",
            1_500,
            "AED",
            "AE",
            carrier="UPS",
            cutoff_local=time(15),
            transit_days=1,
            carrier_weekdays="71234",
            position=32,
        ),
    ]


# key: (code, name, kind, line1, city, region, postal code, country, metro, lat, lon, timezone, pickup)
MARKET_LOCATIONS = {
    "praha": (
        "PRG-WH",
        "Sklad Praha",
        LocationKind.WAREHOUSE,
        "Průmyslová 11",
        "Praha",
        "10",
        "102 00",
        "CZ",
        "Praha",
        50.0630,
        14.5270,
        "Europe/Prague",
        False,
    ),
    "brno": (
        "BRN-ST",
        "Prodejna Brno",
        LocationKind.STORE,
        "Masarykova 5",
        "Brno",
        "64",
        "602 00",
        "CZ",
        "Brno",
        49.1930,
        16.6100,
        "Europe/Prague",
        True,
    ),
    "riyadh": (
        "RUH-WH",
        "مستودع الرياض",
        LocationKind.WAREHOUSE,
        "طريق الملك فهد 1",
        "الرياض",
        "01",
        "12211",
        "SA",
        "Riyadh",
        24.7136,
        46.6753,
        "Asia/Riyadh",
        False,
    ),
    "dubai": (
        "DXB-WH",
        "مستودع دبي",
        LocationKind.WAREHOUSE,
        "شارع الشيخ زايد 1",
        "دبي",
        "DU",
        "",
        "AE",
        "Dubai",
        25.2048,
        55.2708,
        "Asia/Dubai",
        False,
    ),
}

# (sku, location key, on hand)
MARKET_STOCK = [
    ("BOOT", "praha", 50),
    ("BOOK", "brno", 50),
    ("BOOT", "riyadh", 50),
    ("BOOT", "dubai", 50),
]

# (external id, network, kind, name, line1, postal code, lat, lon, opening hours, active)
MARKET_POINTS = [
    (
        "PB-PRG-001",
        "PARCELBOX",
        PickupPointKind.PARCEL_LOCKER,
        "ParcelBox Václavské náměstí (demo)",
        "Václavské náměstí 1",
        "110 00",
        50.0843,
        14.4237,
        "24/7",
        True,
    ),
    (
        "VM-PRG-001",
        "VYDEJNA",
        PickupPointKind.PICKUP_POINT,
        "Výdejní místo Vinohrady (demo)",
        "Vinohradská 50",
        "120 00",
        50.0771,
        14.4441,
        "Mo-Fr 08:00-20:00; Sa 09:00-13:00",
        True,
    ),
    (
        "PB-PRG-099",
        "PARCELBOX",
        PickupPointKind.PARCEL_LOCKER,
        "ParcelBox Karlín (demo, closed)",
        "Karlínské náměstí 1",
        "186 00",
        50.0925,
        14.4497,
        "24/7",
        False,
    ),
]

# key: (name, email, phone, line1, city, region, postal code, country)
MARKET_CUSTOMERS = {
    "jiri": ("Jiří Šťastný", "jiri@shop.example", None, "Vinohradská 12", "Praha", "10", "120 00", "CZ"),
    "mohammed": (
        "محمد العتيبي",
        "mohammed@shop.example",
        "+966501234567",
        "شارع الملك فهد 123",
        "الرياض",
        "01",
        "",
        "SA",
    ),
    "fatima": ("فاطمة الكعبي", "fatima@shop.example", "+971501234567", "شارع الوصل 7", "دبي", "DU", "", "AE"),
}


async def build_market_shop(db: Database) -> MarketWorld:
    world = MarketWorld(**vars(await build_shop(db)))
    async with db.write() as session:
        session.add_all(market_methods())
        session.add_all(
            [
                Product(sku="BOOT", name="Horská bota", price_minor=12_900, currency="USD"),
                Product(sku="BOOK", name="Kniha o horách", price_minor=1_500, currency="USD", tax_class="REDUCED"),
            ]
        )
        await session.flush()
        session.add_all(
            [
                ProductPrice(sku="BOOT", market_code="CZ", price_minor=299_900, currency="CZK"),
                ProductPrice(sku="BOOT", market_code="SA", price_minor=44_900, currency="SAR"),
                ProductPrice(sku="BOOT", market_code="AE", price_minor=43_900, currency="AED"),
                ProductPrice(sku="BOOK", market_code="CZ", price_minor=34_900, currency="CZK"),
                ProductPrice(sku="BOOK", market_code="SA", price_minor=3_900, currency="SAR"),
            ]
        )
        locations = {
            key: Location(
                code=code,
                name=name,
                kind=kind,
                line1=line1,
                city=city,
                region=region,
                postal_code=postal,
                country=country,
                metro_area=metro,
                latitude=lat,
                longitude=lon,
                timezone=tz,
                pickup=pickup,
                returns_drop_off=pickup,
            )
            for key, (
                code,
                name,
                kind,
                line1,
                city,
                region,
                postal,
                country,
                metro,
                lat,
                lon,
                tz,
                pickup,
            ) in MARKET_LOCATIONS.items()
        }
        session.add_all(locations.values())
        points = {
            external_id: PickupPoint(
                network=network,
                external_id=external_id,
                kind=kind,
                name=name,
                line1=line1,
                city="Praha",
                region="10",
                postal_code=postal,
                country="CZ",
                latitude=lat,
                longitude=lon,
                timezone="Europe/Prague",
                metro_area="Praha",
                opening_hours=hours,
                active=active,
            )
            for external_id, network, kind, name, line1, postal, lat, lon, hours, active in MARKET_POINTS
        }
        session.add_all(points.values())
        await session.flush()
        world.locations.update({key: location.id for key, location in locations.items()})
        world.pickup_points = {key: point.id for key, point in points.items()}
        session.add_all(
            InventoryLevel(sku=sku, location_id=locations[key].id, on_hand=on_hand)
            for sku, key, on_hand in MARKET_STOCK
        )
        for key, (name, email, phone, line1, city, region, postal, country) in MARKET_CUSTOMERS.items():
            customer = Customer(name=name, email=email, phone=phone, created_at=NOW.replace(year=2025))
            session.add(customer)
            await session.flush()
            world.customers[key] = customer.id
            session.add(
                CustomerAddress(
                    customer_id=customer.id,
                    name=name,
                    line1=line1,
                    city=city,
                    region=region,
                    postal_code=postal,
                    country=country,
                    phone=phone,
                )
            )
    return world


@pytest.fixture
async def market_shop(database_factory: DatabaseFactory) -> AsyncIterator:
    """`shop` plus the CZ, SA and AE markets (see the module docstring), its clock at NOW."""
    url = await database_factory.new_url()
    db = Database(url)
    world = await build_market_shop(db)
    await db.dispose()
    async with serving(url, world, database_factory.backend) as served:
        yield served
