"""The public catalogue: products and where and how soon they can be had.

The capture issue replaces `delivery_options`' estimate with the routing code placement uses, so that
what the product page promises is what placement does; until then it follows the delivery method's
transit calendar from now.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models import DeliveryMethod, Location, Product
from models.enums import DeliveryKind, StockStatus
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput

MAX_SKUS_PER_REQUEST = 100
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


def arrival(method: DeliveryMethod, now: datetime) -> datetime:
    """Transit from now on the carrier's calendar: Monday to Friday, weekends where offered."""
    if method.transit_hours:
        return now + timedelta(hours=method.transit_hours)
    day, remaining = now, method.transit_days
    while remaining > 0 or (day.weekday() >= 5 and not method.weekend_delivery):
        day += timedelta(days=1)
        if day.weekday() < 5 or method.weekend_delivery:
            remaining -= 1
    return day


async def availability(ctx: RequestContext, product: Product, postal_code: str | None) -> Availability:
    levels = await ctx.loaders.inventory_by_sku.load(product.sku)
    locations = await ctx.loaders.location.load_many([level.location_id for level in levels])
    destination = await ctx.loaders.postal_code.load(postal_code) if postal_code else None
    methods: list[DeliveryMethod] = await ctx.loaders.delivery_methods.load("all")

    stocked = [(loc, level.available) for loc, level in zip(locations, levels, strict=True)]
    total = sum(available for _, available in stocked)
    per_location = [LocationAvailability(loc, available, loc.pickup and available > 0) for loc, available in stocked]

    now = datetime.now(UTC)
    options = []
    for method in methods:
        if method.kind is DeliveryKind.PICKUP:
            possible = any(la.pickup_available for la in per_location)
        elif method.metro_only:
            metro = destination.metro_area if destination else None
            possible = metro is not None and any(loc.ships and loc.metro_area == metro and n > 0 for loc, n in stocked)
        else:
            possible = any(loc.ships and n > 0 for loc, n in stocked)
        options.append(DeliveryOption(method, arrival(method, now) if possible else None, possible))
    return Availability(total, stock_status(total), per_location, options)
