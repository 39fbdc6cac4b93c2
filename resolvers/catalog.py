"""The public catalogue: products and where and how soon they can be had.

Delivery options come from the routing code placement uses (models.routing), so that what the
product page promises is what placement does. They are the methods of one market: the market of `country` when
the page names one (located by postal code or city, resolvers/sourcing.locate), the default market otherwise (a
US database lists exactly the US methods). Prices per market: resolvers/markets.price_in.
"""

from dataclasses import dataclass
from datetime import datetime

from ordergraph.models import DeliveryMethod, Location, Market, Product, ProductPrice
from ordergraph.models.enums import DeliveryKind, StockStatus
from ordergraph.models.routing import CartLine, Destination, Method, RoutePlan, Source, great_circle_km, route
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import BadUserInput
from ordergraph.resolvers.markets import market_for_country, price_in
from ordergraph.resolvers.sourcing import locate, sources_from

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


@dataclass(frozen=True, slots=True)
class Availability:
    total_available: int
    stock_status: StockStatus
    locations: list[LocationAvailability]
    delivery_options: list[DeliveryOption]


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
    options = []
    for method in methods:
        pickup_store = (
            _nearest_pickup_store(sources, product.sku, destination) if method.kind is DeliveryKind.PICKUP else None
        )
        plan = route(cart, sources, Method.of(method), destination, now=now, pickup_location_id=pickup_store)
        if isinstance(plan, RoutePlan):
            options.append(DeliveryOption(method, plan.promised_delivery_by, True))
        else:
            options.append(DeliveryOption(method, None, False))
    return Availability(total, stock_status(total), per_location, options)


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


def _nearest_pickup_store(sources: list[Source], sku: str, destination: Destination | None) -> int | None:
    """Pickup is promised from the nearest store that has the SKU to hand over."""
    stores = [s for s in sources if s.pickup and s.available.get(sku, 0) > 0]
    if not stores:
        return None
    if destination is None:
        return stores[0].location_id
    return min(
        stores, key=lambda s: great_circle_km(s.latitude, s.longitude, destination.latitude, destination.longitude)
    ).location_id
