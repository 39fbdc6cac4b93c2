"""The public catalogue: products and where and how soon they can be had.

Delivery options come from the routing code placement uses (models.routing), so that what the
product page promises is what placement does. They are the methods of one market: the market of `country` when
the page names one (located by postal code or city, resolvers/sourcing.locate), the default market otherwise (a
US database lists exactly the US methods). Prices per market: resolvers/markets.price_in.

Pickup is promised from the nearest store within `ctx.pickup_max_distance_km` of the destination that has the
SKU and can have it ready (its opening hours and closures, as placement reads them); with no known destination
no store is near, so pickup is not promised. The option names that store: placing a pickup there is what the
page promised. Out of stock, the page says when stock is back: the earliest expected date of an open inbound
shipment of the SKU to a location routing may use (one that ships or offers pickup).
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col, or_, select

from ordergraph.models import (
    DeliveryMethod,
    InboundShipment,
    InboundShipmentLine,
    Location,
    Market,
    Product,
    ProductPrice,
)
from ordergraph.models.enums import DeliveryKind, InboundStatus, StockStatus
from ordergraph.models.routing import CartLine, Destination, Method, RoutePlan, Source, great_circle_km, route
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import BadUserInput
from ordergraph.resolvers.markets import market_for_country, price_in
from ordergraph.resolvers.opening_hours import calendars
from ordergraph.resolvers.sourcing import at_location, locate, sources_from, with_calendars

MAX_SKUS_PER_REQUEST = 100
DEFAULT_MARKET = "default"  # the key of the default-market and all-markets loaders
LOW_STOCK_THRESHOLD = 10


@dataclass(frozen=True, slots=True)
class LocationAvailability:
    location: Location
    available: int
    pickup_available: bool


@dataclass(frozen=True, slots=True)
class DeliveryOption:
    method: DeliveryMethod
    estimated_delivery_by: datetime | None
    available: bool
    pickup_location: Location | None = None  # the store a pickup is promised from


@dataclass(frozen=True, slots=True)
class Availability:
    total_available: int
    stock_status: StockStatus
    locations: list[LocationAvailability]
    delivery_options: list[DeliveryOption]
    back_in_stock_by: date | None = None


async def products(ctx: RequestContext, skus: list[str]) -> list[Product]:
    """The known SKUs among those asked for, in the order asked; unknown SKUs are left out."""
    if len(skus) > MAX_SKUS_PER_REQUEST:
        raise BadUserInput(f"Ask for at most {MAX_SKUS_PER_REQUEST} SKUs at a time.")
    found = await ctx.loaders.product.load_many(list(dict.fromkeys(skus)))
    return [p for p in found if p is not None]


def stock_status(available: int) -> StockStatus:
    if available <= 0:
        return StockStatus.OUT_OF_STOCK
    return StockStatus.LOW_STOCK if available < LOW_STOCK_THRESHOLD else StockStatus.IN_STOCK


async def availability(
    ctx: RequestContext,
    product: Product,
    postal_code: str | None,
    country: str | None = None,
    city: str | None = None,
) -> Availability:
    """Stock per location and, per delivery method of the market, whether one unit can reach the destination
    (`postal_code`, or `country` with a postal code or city) and by when: the same `route` placement runs, on the
    same stock, so the page promises what placement does. A country no market serves has no delivery options."""
    levels = await ctx.loaders.inventory_by_sku.load(product.sku)
    locations = await ctx.loaders.location.load_many([level.location_id for level in levels])
    methods: list[DeliveryMethod] = await ctx.loaders.delivery_methods.load("all")
    destination: Destination | None
    market: Market | None
    if country is None or not country.strip():
        known = await ctx.loaders.postal_code.load(postal_code.strip()) if postal_code else None
        destination = Destination(known.latitude, known.longitude, known.metro_area, known.timezone) if known else None
        market = await ctx.loaders.default_market.load(DEFAULT_MARKET)
    else:
        async with ctx.read() as session:
            market = await market_for_country(session, country)
            destination = await locate(session, country=country.strip().upper(), postal_code=postal_code, city=city)
    methods = [m for m in methods if market is not None and m.market_code == market.code]

    sources = sources_from(zip(levels, locations, strict=True))
    total = sum(level.available for level in levels)
    per_location = [
        LocationAvailability(loc, level.available, loc.pickup and level.available > 0)
        for level, loc in zip(levels, locations, strict=True)
    ]
    cart = [CartLine(1, product.sku, 1)]
    now = ctx.clock()
    near_stores = _pickup_stores_near(sources, product.sku, destination, ctx.pickup_max_distance_km)
    if near_stores and any(m.kind is DeliveryKind.PICKUP for m in methods):
        async with ctx.read() as session:
            found = await calendars(session, [loc for loc in locations if loc.id in near_stores], now)
        sources = with_calendars(sources, found)
    options = []
    for method in methods:
        routing = Method.of(method)
        if method.kind is DeliveryKind.PICKUP:
            options.append(_pickup_option(cart, sources, method, routing, near_stores, now, locations))
            continue
        plan = route(cart, sources, routing, destination, now=now)
        if isinstance(plan, RoutePlan):
            options.append(DeliveryOption(method, plan.promised_delivery_by, True))
        else:
            options.append(DeliveryOption(method, None, False))
    back = await back_in_stock_by(ctx, product.sku) if total == 0 else None
    return Availability(total, stock_status(total), per_location, options, back)


def _pickup_option(
    cart: list[CartLine],
    sources: list[Source],
    method: DeliveryMethod,
    routing: Method,
    near_stores: list[int],
    now: datetime,
    locations: list[Location],
) -> DeliveryOption:
    """Pickup from the nearest near store that can have the cart ready, with that store's promise (what placing
    a pickup there routes: the store is the destination)."""
    by_id = {loc.id: loc for loc in locations}
    for store_id in near_stores:
        store = by_id[store_id]
        plan = route(cart, sources, routing, at_location(store), now=now, pickup_location_id=store_id)
        if isinstance(plan, RoutePlan):
            return DeliveryOption(method, plan.promised_delivery_by, True, store)
    return DeliveryOption(method, None, False)


async def back_in_stock_by(ctx: RequestContext, sku: str) -> date | None:
    """The earliest expected date (today at the earliest: a late shipment is due now) of units of `sku` still
    outstanding on an open inbound shipment to a location that ships or offers pickup."""
    async with ctx.read() as session:
        earliest = (
            await session.exec(
                select(sa.func.min(InboundShipment.expected_on))
                .join(InboundShipmentLine, col(InboundShipmentLine.shipment_id) == col(InboundShipment.id))
                .join(Location, col(Location.id) == col(InboundShipment.location_id))
                .where(
                    col(InboundShipmentLine.sku) == sku,
                    col(InboundShipment.status) != InboundStatus.RECEIVED,
                    col(InboundShipmentLine.received) + col(InboundShipmentLine.damaged)
                    < col(InboundShipmentLine.quantity),
                    or_(col(Location.ships), col(Location.pickup)),
                )
            )
        ).one()
    if earliest is None:
        return None
    return max(earliest, ctx.clock().date())


async def price_in_market(ctx: RequestContext, product: Product, market_code: str) -> int | None:
    """The product's unit price in the market (minor units of its currency), or None when it has none there."""
    market: Market | None = await ctx.loaders.market.load(market_code.strip().upper())
    if market is None:
        return None
    rows: list[ProductPrice] = await ctx.loaders.product_prices_by_sku.load(product.sku)
    return price_in(product, market, {row.sku: row for row in rows if row.market_code == market.code})


async def prices(ctx: RequestContext, product: Product) -> list[tuple[Market, int]]:
    """The product's price in every market where it has one, by market position."""
    markets: list[Market] = await ctx.loaders.markets.load(DEFAULT_MARKET)
    rows: list[ProductPrice] = await ctx.loaders.product_prices_by_sku.load(product.sku)
    found = []
    for market in markets:
        price = price_in(product, market, {row.sku: row for row in rows if row.market_code == market.code})
        if price is not None:
            found.append((market, price))
    return found


def _pickup_stores_near(sources: list[Source], sku: str, destination: Destination | None, max_km: float) -> list[int]:
    """The stores within `max_km` of the destination that have the SKU to hand over, nearest first."""
    if destination is None:
        return []
    measured = [
        (great_circle_km(s.latitude, s.longitude, destination.latitude, destination.longitude), s.location_id)
        for s in sources
        if s.pickup and s.available.get(sku, 0) > 0
    ]
    return [location_id for km, location_id in sorted(measured) if km <= max_km]
