"""Routing against the database: where a destination is, which locations hold the SKUs, and the
reservation and fulfillment orders a plan makes. The rules themselves are pure (models.routing);
placement, availability and shipping changes all read their inputs here, so the product page
promises what placement does."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.loaders.base import LoaderStatement
from ordergraph.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryLevel,
    Location,
    Order,
    OrderLine,
    Place,
    PlaceName,
    PostalCode,
)
from ordergraph.models.columns import id_of
from ordergraph.models.enums import ActorKind, DeliveryKind, FulfillmentOrderStatus
from ordergraph.models.inventory import sellable
from ordergraph.models.opening_hours import StoreCalendar
from ordergraph.models.routing import CartLine, Destination, Method, RoutePlan, Source, Unroutable, route
from ordergraph.models.text import place_key, without_trailing_number
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.opening_hours import calendars
from ordergraph.resolvers.stock import StockMove, StockUnavailable, reserve_stock


async def locate(
    session: AsyncSession,
    *,
    country: str,
    postal_code: str | None,
    region: str | None = None,
    city: str | None = None,
) -> Destination | None:
    """A destination through the postal-code table (the US); then, for the countries with places (CZ, SA, AE),
    by its city: the same region first, then the most populous ("Praha 5" is Praha). An unknown code or city
    falls back to its region's, then its country's centroid, or to their most populous place (no metro area
    then). None for a country neither table knows."""
    country = country.upper()
    if postal_code:
        known = await session.get(PostalCode, (country, postal_code.strip()))
        if known is not None:
            return Destination(known.latitude, known.longitude, known.metro_area, known.timezone)
    if city and (place := await _place_by_city(session, country, city, region)) is not None:
        return Destination(place.latitude, place.longitude, place.metro_area, place.timezone)
    for condition in (
        [PostalCode.country == country, PostalCode.region == region] if region else None,
        [PostalCode.country == country],
    ):
        if condition is None:
            continue
        row = (
            await session.exec(
                select(
                    sa.func.avg(PostalCode.latitude),
                    sa.func.avg(PostalCode.longitude),
                    sa.func.min(PostalCode.timezone),
                ).where(*condition)
            )
        ).one()
        if row[0] is not None:
            return Destination(float(row[0]), float(row[1]), None, row[2])
        largest = await _largest_place(session, country, region if len(condition) == 2 else None)
        if largest is not None:
            return Destination(largest.latitude, largest.longitude, None, largest.timezone)
    return None


async def _place_by_city(session: AsyncSession, country: str, city: str, region: str | None) -> Place | None:
    key = place_key(city)
    for candidate in dict.fromkeys((key, without_trailing_number(key))):
        if not candidate:
            continue
        same_region = sa.case((col(Place.region) == region, 0), else_=1) if region else sa.literal(0)
        place = (
            await session.exec(
                select(Place)
                .join(PlaceName, col(PlaceName.place_id) == col(Place.id))
                .where(col(PlaceName.country) == country, col(PlaceName.key) == candidate)
                .order_by(same_region, col(Place.population).desc(), col(Place.id))
                .limit(1)
            )
        ).first()
        if place is not None:
            return place
    return None


async def _largest_place(session: AsyncSession, country: str, region: str | None) -> Place | None:
    conditions = [col(Place.country) == country]
    if region is not None:
        conditions.append(col(Place.region) == region)
    return (
        await session.exec(
            select(Place).where(*conditions).order_by(col(Place.population).desc(), col(Place.id)).limit(1)
        )
    ).first()


def at_location(location: Location) -> Destination:
    """A pickup order's destination is the store itself."""
    return Destination(location.latitude, location.longitude, location.metro_area, location.timezone)


_STOCK_SOURCES = LoaderStatement(
    sa.select(
        col(InventoryLevel.location_id),
        col(InventoryLevel.sku),
        col(InventoryLevel.on_hand),
        col(InventoryLevel.reserved),
        col(InventoryLevel.safety_stock),
        col(Location.latitude),
        col(Location.longitude),
        col(Location.metro_area),
        col(Location.timezone),
        col(Location.ships),
        col(Location.pickup),
        col(Location.customization),
    )
    .join(Location, col(Location.id) == col(InventoryLevel.location_id))
    .where(col(InventoryLevel.sku).in_(sa.bindparam("skus", expanding=True)))
    .order_by(col(Location.id))
)


async def stock_sources(
    session: AsyncSession, skus: Iterable[str], *, pickup: Location | None = None, now: datetime | None = None
) -> list[Source]:
    """Every location holding any of the SKUs, with what is available there now; the `pickup` store with its
    opening hours (as of `now`), which a pickup's promise follows."""
    # Plain rows through one statement built once, not entities: the hot SKUs of a sale are held at dozens of
    # locations and read by every order.
    rows = await _STOCK_SOURCES.rows(await session.connection(), {"skus": sorted(set(skus))})
    available: dict[int, dict[str, int]] = defaultdict(dict)
    places = {}
    for location_id, sku, on_hand, reserved, safety_stock, *place in rows:
        available[location_id][sku] = sellable(on_hand, reserved, safety_stock)
        places[location_id] = place
    sources = [
        Source(
            location_id=i,
            latitude=latitude,
            longitude=longitude,
            metro_area=metro_area,
            timezone=timezone,
            ships=ships,
            pickup=pickup_there,
            customization=customization,
            available=available[i],
        )
        for i, (latitude, longitude, metro_area, timezone, ships, pickup_there, customization) in sorted(places.items())
    ]
    if pickup is None or now is None:
        return sources
    return with_calendars(sources, await calendars(session, [pickup], now))


def with_calendars(sources: Iterable[Source], found: Mapping[int, StoreCalendar]) -> list[Source]:
    return [replace(s, calendar=found[s.location_id]) if s.location_id in found else s for s in sources]


def sources_from(pairs: Iterable[tuple[InventoryLevel, Location]]) -> list[Source]:
    available: dict[int, dict[str, int]] = defaultdict(dict)
    locations: dict[int, Location] = {}
    for level, location in pairs:
        location_id = id_of(location)
        locations[location_id] = location
        available[location_id][level.sku] = level.available
    return [Source.of(locations[i], available[i]) for i in sorted(locations)]


async def plan_route(
    session: AsyncSession,
    cart: list[CartLine],
    method: Method,
    destination: Destination,
    pickup: Location | None,
    now: datetime,
) -> RoutePlan:
    """Routes the cart on the stock available now (read, not yet reserved), or refuses."""
    plan = route(
        cart,
        await stock_sources(session, {line.sku for line in cart}, pickup=pickup, now=now),
        method,
        destination,
        now=now,
        pickup_location_id=pickup.id if pickup else None,
    )
    if isinstance(plan, Unroutable):
        raise Refusal(
            plan.code, plan.message, ["lines"] if plan.code == "INSUFFICIENT_STOCK" else ["deliveryMethodCode"]
        )
    return plan


# Stock read for routing can be taken by a concurrent order before this one reserves it: route again on
# what is left, a few times, before saying it is gone.
ROUTING_ATTEMPTS = 3


async def reserve_and_fulfil(
    session: AsyncSession,
    order: Order,
    lines: list[OrderLine],
    plan: RoutePlan,
    method: Method,
    destination: Destination,
    pickup: Location | None,
    now: datetime,
    actor: tuple[ActorKind, str | None],
) -> RoutePlan:
    """Reserves what `plan` takes and makes its fulfillment orders, routing again if the stock went meanwhile.

    The reservation's row locks are held until commit, and every order for the same SKU queues on them,
    so they are taken last: the fulfillment orders and ledger rows are written first, then the
    conditional UPDATEs."""
    cart = [
        CartLine(line.line_number, line.sku, line.quantity_open, bool(line.customization))
        for line in lines
        if line.quantity_open
    ]
    by_key = {line.line_number: line for line in lines}
    for attempt in range(ROUTING_ATTEMPTS):
        moves = [
            StockMove(by_key[key].sku, location_id, quantity)
            for location_id, allocations in plan.allocations.items()
            for key, quantity in allocations
        ]
        try:
            async with session.begin_nested():
                await _create_fulfillment_orders(session, order, by_key, plan, method.kind, now)
                await reserve_stock(session, moves, order_id=id_of(order), reason=f"order {order.number}", actor=actor)
            return plan
        except StockUnavailable as gone:
            if attempt == ROUTING_ATTEMPTS - 1:
                raise Refusal("INSUFFICIENT_STOCK", f"Not enough {gone.sku} in stock.", ["lines"]) from None
        plan = await plan_route(session, cart, method, destination, pickup, now)
    raise AssertionError("unreachable")


async def _create_fulfillment_orders(
    session: AsyncSession,
    order: Order,
    lines_by_key: dict[int, OrderLine],
    plan: RoutePlan,
    kind: DeliveryKind,
    now: datetime,
) -> None:
    """One fulfillment order per source location, holding what the plan takes from there (Core inserts: the
    placement's answer reads no fulfillment order back)."""
    connection = await session.connection()
    locations = list(plan.allocations)
    created = await connection.execute(
        sa.insert(FulfillmentOrder).returning(col(FulfillmentOrder.id), sort_by_parameter_order=True),
        [
            {
                "order_id": id_of(order),
                "location_id": location_id,
                "kind": kind,
                "status": FulfillmentOrderStatus.OPEN,
                "created_at": now,
                "updated_at": now,
            }
            for location_id in locations
        ],
    )
    await connection.execute(
        sa.insert(FulfillmentOrderLine),
        [
            {"fulfillment_order_id": fulfillment_id, "order_line_id": id_of(lines_by_key[key]), "quantity": quantity}
            for fulfillment_id, location_id in zip(created.scalars().all(), locations, strict=True)
            for key, quantity in plan.allocations[location_id]
        ],
    )
