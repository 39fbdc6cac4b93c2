"""The world the demo's orders happen in, built before any order: delivery methods, locations, products and
shoppers, each with what the simulation needs to know of it.

What it builds, for a market profile (markets.py; the US by default, whose profile is this module's constants):
the market's delivery methods (the US's six: standard, next-day, same-day, one-hour metro, weekend, in-store
pickup); fifteen locations of every kind placed on codes of the postal-code table, or for CZ, SA and AE on the
cities of the place table (`read_places`), the first
warehouses one per metro area, carrying everything and customising, so same-day and one-hour orders can
always be sourced inside the metro; a catalog of PRODUCTS products with Zipf-like popularity; and shoppers with
one or two addresses, most of them in a metro area, weighted by loyalty. The first shopper is the showcase
customer (see lifecycle.py): they live in a metro area, so every delivery method is open to them.

Invariants:
- Deterministic: `build_world` draws only from the generator it is given, in a fixed order, and `read_places`
  returns the postal codes sorted by code (places by id, each postal code drawn from a generator of its own);
  the same generator state and places build the same world. Sites
  are numbered 1..N, shoppers 1..N and SKUs SKU-00001.. as they are made: these are their row ids.
- Every warehouse carries the whole catalog, so every product can be shipped from somewhere.
- The world is read, never changed, once built: the lifecycle (lifecycle.py) and the rows (rows.py) share it.
- No database writes and no orders here: this module imports nothing else of the package but, lazily, the US
  profile of markets.py (which imports this module's constants).
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from ordergraph.models import Place as PlaceRow
from ordergraph.models import PostalCode
from ordergraph.models.enums import DeliveryKind, LocationKind

if TYPE_CHECKING:  # markets.py builds its US profile from this module's constants
    from ordergraph.server.seed.markets import MarketProfile

CURRENCY = "USD"
COUNTRY = "US"

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

zone = cache(ZoneInfo)  # a time zone by name: asked for at every step of every order

# --- Reference data: what the world holds before any order -------------------------------------------------


@dataclass(frozen=True, slots=True)
class MethodSpec:
    code: str
    name: str
    kind: DeliveryKind
    price_minor: int
    carrier: str | None
    cutoff_local: time
    transit_days: int = 0
    transit_hours: int = 0
    weekend_delivery: bool = False
    metro_only: bool = False
    carrier_weekdays: str = "12345"  # ISO weekdays the carrier moves parcels (1 = Monday); Monday-Friday by default
    pickup_point_network: str | None = None  # set: ships to a pickup point or parcel locker of this network


DELIVERY_METHODS = (
    MethodSpec("STANDARD", "Standard (3-5 business days)", DeliveryKind.SHIP, 599, "UPS", time(17), transit_days=3),
    MethodSpec("NEXT_DAY", "Next day", DeliveryKind.SHIP, 1499, "FedEx", time(15), transit_days=1),
    MethodSpec(
        "SAME_DAY", "Same day", DeliveryKind.SHIP, 1999, "METRO", time(12), weekend_delivery=True, metro_only=True
    ),
    MethodSpec(
        "ONE_HOUR",
        "One hour",
        DeliveryKind.SHIP,
        2999,
        "METRO",
        time(20),
        transit_hours=1,
        weekend_delivery=True,
        metro_only=True,
    ),
    MethodSpec(
        "WEEKEND", "Weekend delivery", DeliveryKind.SHIP, 999, "USPS", time(16), transit_days=2, weekend_delivery=True
    ),
    MethodSpec(
        "PICKUP", "In-store pickup", DeliveryKind.PICKUP, 0, None, time(18), transit_hours=2, weekend_delivery=True
    ),
)


@dataclass(frozen=True, slots=True)
class KindTraits:
    label: str
    code: str
    assortment: float  # share of the catalog a location of this kind carries
    handling: tuple[timedelta, timedelta]  # from starting work on a fulfillment order to handing it to the carrier
    free_stock: tuple[int, int]  # unreserved units on hand, per SKU
    metro_share: float  # share of these locations inside a metro area


LOCATIONS_PER_KIND = 15
# Opening hours of every location that offers pickup, local time: (ISO weekday, opens, closes); Sunday short.
STORE_HOURS = (*((day, time(10), time(20)) for day in range(1, 7)), (7, time(11), time(17)))
KIND_TRAITS = {
    LocationKind.WAREHOUSE: KindTraits("Warehouse", "WH", 1.0, (HOUR, 6 * HOUR), (40, 400), 1.0),
    LocationKind.DISTRIBUTION_CENTER: KindTraits(
        "Distribution Center", "DC", 0.75, (2 * HOUR, 8 * HOUR), (60, 600), 0.4
    ),
    LocationKind.STORE: KindTraits("Store", "ST", 0.35, (HOUR, 4 * HOUR), (0, 25), 1.0),
    LocationKind.THIRD_PARTY: KindTraits("Fulfillment Partner", "3P", 0.45, (18 * HOUR, 54 * HOUR), (10, 150), 0.5),
}

PRODUCTS = 300
CATEGORIES = (  # nouns and a price range in dollars
    (("Trail Runner", "Hiking Boot", "Court Sneaker", "Slip-On", "Sandal", "Chelsea Boot"), (49, 189)),
    (
        ("Tee", "Hoodie", "Rain Jacket", "Puffer Parka", "Fleece Vest", "Chino Shorts", "Leggings", "Flannel Shirt"),
        (15, 249),
    ),
    (("Cap", "Beanie", "Backpack", "Water Bottle", "Leather Wallet", "Belt", "Wool Socks", "Sunglasses"), (8, 129)),
    (("Coffee Mug", "Throw Blanket", "Candle", "Cutting Board", "Enamel Pot"), (12, 99)),
    (("Tent", "Sleeping Bag", "Headlamp", "Trekking Poles", "Camp Chair", "Cooler"), (24, 399)),
)
CUSTOMIZABLE_NOUNS = {
    "Tee",
    "Hoodie",
    "Cap",
    "Backpack",
    "Water Bottle",
    "Leather Wallet",
    "Coffee Mug",
    "Cutting Board",
}
ADJECTIVES = (
    "Summit",
    "Coastal",
    "Urban",
    "Alpine",
    "Classic",
    "Everyday",
    "Ridge",
    "Harbor",
    "Canyon",
    "Meadow",
    "Granite",
    "Cedar",
    "Prairie",
    "Tidal",
    "Northwind",
    "Juniper",
    "Basalt",
    "Aspen",
)
COLORS = ("Black", "Navy", "Olive", "Sand", "Rust", "Slate", "Forest", "Cream", "Charcoal", "Sky")

FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Isabella",
    "Lucas",
    "Mia",
    "Mateo",
    "Amelia",
    "Ethan",
    "Harper",
    "Aiden",
    "Evelyn",
    "Daniel",
    "Abigail",
    "Henry",
    "Emily",
    "Jackson",
    "Ella",
    "Samuel",
    "Grace",
    "David",
    "Chloe",
    "Joseph",
    "Priya",
    "Wei",
    "Aisha",
    "Carlos",
    "Mei",
    "Omar",
    "Fatima",
    "Diego",
    "Hana",
    "Kofi",
    "Nadia",
    "Ravi",
    "Sofia",
    "Andre",
    "Yuki",
    "Tariq",
    "Lena",
    "Marcus",
    "Rosa",
    "Jamal",
    "Ingrid",
    "Hector",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
)
STREETS = (
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "River",
    "Church",
    "Highland",
    "Mill",
    "Spring",
    "Forest",
    "Union",
    "Madison",
    "Franklin",
)
STREET_SUFFIXES = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
AREA_CODES = ("212", "310", "312", "415", "617", "713", "214", "404", "206", "305", "512", "602", "303", "615", "919")
METRO_SHARE_OF_ADDRESSES = 0.6  # most shoppers live in a metro area, though most postal codes lie outside one


@dataclass(frozen=True, slots=True)
class Place:
    """A row of the postal-code table: where a location or an address is."""

    code: str
    region: str
    city: str
    latitude: float
    longitude: float
    metro_area: str | None
    timezone: str

    @property
    def label(self) -> str:
        return f"{self.city}, {self.region}"


@dataclass(frozen=True, slots=True)
class Point:
    """A pickup point or parcel locker (the pickup_point table), where a point method's parcels go."""

    id: int
    network: str
    external_id: str
    name: str
    line1: str
    city: str
    region: str
    postal_code: str
    latitude: float
    longitude: float


@dataclass(eq=False, slots=True)
class Site:
    """A location as the simulation sees it: what it carries and how fast it works."""

    id: int
    code: str
    name: str
    kind: LocationKind
    place: Place
    line1: str
    ships: bool
    pickup: bool
    returns_drop_off: bool
    customization: bool
    skus: frozenset[str]
    tz: ZoneInfo


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    name: str
    price_minor: int
    customizable: bool
    tax_class: str = "STANDARD"


@dataclass(frozen=True, slots=True)
class Address:
    position: int
    name: str
    line1: str
    line2: str | None
    place: Place
    phone: str


@dataclass(slots=True)
class Shopper:
    id: int
    name: str
    email: str
    phone: str
    created_at: datetime
    notify_email: bool
    notify_sms: bool
    sms_phone: str | None
    addresses: tuple[Address, ...]


@dataclass(slots=True)
class World:
    """Everything orders are made from."""

    methods: dict[str, MethodSpec]
    sites: list[Site]
    items: list[Item]
    item_popularity: list[float]  # cumulative weights over `items`
    shoppers: list[Shopper]
    shopper_loyalty: list[float]  # cumulative weights over shoppers
    profile: "MarketProfile"
    points: list[Point] = field(default_factory=list)  # the market's active pickup points, by id


def between(rng: random.Random, low: timedelta, high: timedelta) -> timedelta:
    """A duration drawn uniformly from [low, high)."""
    return low + (high - low) * rng.random()


def _street(rng: random.Random) -> str:
    return f"{rng.randint(10, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}"


def _phone(rng: random.Random) -> str:
    # 555-01xx numbers are reserved for fiction.
    return f"+1{rng.choice(AREA_CODES)}55501{rng.randint(0, 99):02d}"


async def read_places(connection: AsyncConnection, profile: "MarketProfile | None" = None) -> list[Place]:
    """Where the world can be: the US's postal codes, by code; another market's cities (the place table), by
    id, each with a postal code drawn from a generator of its own (so the main generator's draws and the world
    built on them are the same on every backend)."""
    if profile is not None and profile.country != COUNTRY:
        return await _read_market_places(connection, profile)
    query = (
        select(
            PostalCode.code,
            PostalCode.region,
            PostalCode.city,
            PostalCode.latitude,
            PostalCode.longitude,
            PostalCode.metro_area,
            PostalCode.timezone,
        )
        .where(PostalCode.country == COUNTRY)
        .order_by(PostalCode.code)
    )
    places = [Place(*row) for row in (await connection.execute(query)).all()]
    if not any(place.metro_area for place in places):
        raise RuntimeError("the postal_code table holds no metro areas: migrate the database before seeding")
    return places


async def _read_market_places(connection: AsyncConnection, profile: "MarketProfile") -> list[Place]:
    query = (
        select(
            PlaceRow.id,
            PlaceRow.region,
            PlaceRow.name,
            PlaceRow.latitude,
            PlaceRow.longitude,
            PlaceRow.metro_area,
            PlaceRow.timezone,
        )
        .where(PlaceRow.country == profile.country)
        .order_by(col(PlaceRow.id))
    )
    places = [
        Place(
            profile.postal_code(random.Random(f"{profile.code}-{place_id}"), region),
            region or "",
            profile.city_names.get(name, name),
            latitude,
            longitude,
            metro_area,
            timezone,
        )
        for place_id, region, name, latitude, longitude, metro_area, timezone in (await connection.execute(query)).all()
    ]
    if not any(place.metro_area for place in places):
        raise RuntimeError(f"the place table holds no {profile.country} metro areas: migrate the database first")
    return places


def _build_sites(rng: random.Random, places: list[Place], items: list[Item], profile: "MarketProfile") -> list[Site]:
    """Fifteen locations of every kind; every metro area gets a full, customising warehouse, so same-day and
    one-hour orders can always be sourced inside the metro."""
    metros = sorted({place.metro_area for place in places if place.metro_area})
    in_metro = {metro: [p for p in places if p.metro_area == metro] for metro in metros}
    outside = [p for p in places if not p.metro_area]
    all_skus = [item.sku for item in items]
    sites: list[Site] = []
    names: Counter[str] = Counter()
    for kind, traits in KIND_TRAITS.items():
        for index in range(LOCATIONS_PER_KIND):
            first_in_metro = kind is LocationKind.WAREHOUSE and index < len(metros)
            metro = metros[index % len(metros)] if first_in_metro or rng.random() < traits.metro_share else None
            place = rng.choice(in_metro[metro] if metro else outside)
            name = profile.site_name(place.city, kind)
            names[name] += 1
            carried = [sku for sku in all_skus if traits.assortment >= 1 or rng.random() < traits.assortment]
            sites.append(
                Site(
                    id=len(sites) + 1,
                    code=f"{traits.code}-{index + 1:02d}",
                    name=name if names[name] == 1 else f"{name} {names[name]}",
                    kind=kind,
                    place=place,
                    line1=profile.street(rng),
                    ships=True,
                    pickup=kind is LocationKind.STORE,
                    returns_drop_off=kind is LocationKind.STORE,
                    customization=first_in_metro or (kind is not LocationKind.THIRD_PARTY and rng.random() < 0.35),
                    skus=frozenset(carried),
                    tz=zone(place.timezone),
                )
            )
    return sites


def _build_items(rng: random.Random, profile: "MarketProfile") -> list[Item]:
    items: list[Item] = []
    seen: set[str] = set()
    while len(items) < PRODUCTS:
        nouns, (low, high) = rng.choice(profile.categories)
        noun = rng.choice(nouns)
        name = profile.item_name(rng.choice(profile.adjectives), noun, rng.choice(profile.colors))
        if name in seen:
            continue
        seen.add(name)
        price = profile.price_minor(rng, low, high)  # US: mostly .99, some .00 and .49
        customizable = noun in profile.customizable_nouns and rng.random() < 0.7
        items.append(Item(f"SKU-{len(items) + 1:05d}", name, price, customizable, profile.tax_class(noun)))
    return items


def _popularity(rng: random.Random, count: int) -> list[float]:
    """Cumulative Zipf-like weights in a shuffled order: a few best sellers, a long tail."""
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    return list(accumulate(1 / rank**0.9 for rank in ranks))


def _build_shoppers(
    rng: random.Random, places: list[Place], count: int, window_start: datetime, profile: "MarketProfile"
) -> list[Shopper]:
    metro_places = [p for p in places if p.metro_area]
    shoppers = []
    for customer_id in range(1, count + 1):
        person = profile.person(rng)
        name, phone = person.name, profile.phone(rng)
        sms = customer_id == 1 or rng.random() < 0.25
        addresses = tuple(
            Address(
                position,
                name,
                profile.street(rng),
                profile.line2(rng),
                # The showcase customer lives in a metro area, so every delivery method is open to them.
                rng.choice(metro_places if customer_id == 1 or rng.random() < METRO_SHARE_OF_ADDRESSES else places),
                phone,
            )
            for position in range(1 if rng.random() < 0.7 else 2)
        )
        shoppers.append(
            Shopper(
                id=customer_id,
                name=name,
                phone=phone,
                email=profile.email(person, customer_id, rng),
                created_at=window_start - between(rng, DAY, 3 * 365 * DAY),
                notify_email=customer_id == 1 or rng.random() < 0.92,
                notify_sms=sms,
                sms_phone=phone if sms else None,
                addresses=addresses,
            )
        )
    return shoppers


def build_world(
    rng: random.Random,
    places: list[Place],
    customers: int,
    window_start: datetime,
    profile: "MarketProfile | None" = None,
    points: list[Point] | None = None,
) -> World:
    """The world of a market (default: the US, today's demo, drawn in the same order)."""
    if profile is None:
        from ordergraph.server.seed.markets import US_PROFILE

        profile = US_PROFILE
    items = _build_items(rng, profile)
    shoppers = _build_shoppers(rng, places, customers, window_start, profile)
    return World(
        methods={method.code: method for method in profile.methods},
        sites=_build_sites(rng, places, items, profile),
        items=items,
        item_popularity=_popularity(rng, len(items)),
        shoppers=shoppers,
        # The first customer's orders are placed by order_stream itself, so it weighs nothing here.
        shopper_loyalty=list(accumulate(0.0 if shopper.id == 1 else rng.lognormvariate(0, 1) for shopper in shoppers)),
        profile=profile,
        points=points or [],
    )
