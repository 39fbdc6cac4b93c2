"""Routing, pure: which locations fulfil a cart for a delivery method and destination, and by when.

Placement, shipping changes and the product page all call `route`, so what the product page promises
is what placement stores. Rules (docs/domain.md, Routing and Shipping options):
- fewest locations first, then nearest: the total great-circle distance of the chosen locations;
- customised lines only from locations that customise; pickup only at the chosen store;
- metro-only methods (same-day, one-hour) only from locations in the destination's metro area;
- an order accepted before the method's cut-off (the shipping location's local time) on a day the
  carrier runs leaves that day, otherwise on the next such day; same-day methods that cannot leave
  today are unavailable; carriers run Monday to Friday, and at weekends where the method says so;
- a store with opening hours (models.opening_hours) prepares a pickup only while it is open: the order is
  ready once the method's transit hours of opening time have passed since work could start (so an order
  placed after closing is ready after the next opening, closed dates skipped); a store that does not open
  within the calendar's horizon cannot take the pickup.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from ordergraph.models.columns import id_of
from ordergraph.models.delivery import DeliveryMethod
from ordergraph.models.enums import DeliveryKind
from ordergraph.models.location import Location
from ordergraph.models.opening_hours import StoreCalendar

EARTH_RADIUS_KM = 6371.0088
# Every combination of up to this many locations is weighed; beyond it a greedy cover takes over,
# which keeps a cart's routing cheap however many locations stock it.
EXHAUSTIVE_SPLITS = 3
# Day-based deliveries are promised by this local time at the destination.
DELIVERED_BY = time(20)
# An order that misses the cut-off starts being worked on at this local time on the next carrier day.
NEXT_DAY_START = time(9)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Destination:
    latitude: float
    longitude: float
    metro_area: str | None
    timezone: str


@dataclass(frozen=True, slots=True)
class Source:
    """A location as routing sees it, with what it has available of the cart's SKUs."""

    location_id: int
    latitude: float
    longitude: float
    metro_area: str | None
    timezone: str
    ships: bool
    pickup: bool
    customization: bool
    available: Mapping[str, int] = field(default_factory=dict)
    calendar: StoreCalendar | None = None  # opening hours, when the location has them

    @classmethod
    def of(cls, location: Location, available: Mapping[str, int], calendar: StoreCalendar | None = None) -> "Source":
        return cls(
            id_of(location),
            location.latitude,
            location.longitude,
            location.metro_area,
            location.timezone,
            location.ships,
            location.pickup,
            location.customization,
            dict(available),
            calendar,
        )


@dataclass(frozen=True, slots=True)
class CartLine:
    key: int  # the caller's handle on the line (its line number)
    sku: str
    quantity: int
    customized: bool = False


@dataclass(frozen=True, slots=True)
class Method:
    code: str
    kind: DeliveryKind
    cutoff_local: time
    transit_days: int = 0
    transit_hours: int = 0
    weekend_delivery: bool = False
    metro_only: bool = False
    workdays: frozenset[int] = frozenset(range(5))  # date.weekday() of the carrier's working days

    @classmethod
    def of(cls, method: DeliveryMethod) -> "Method":
        return cls(
            method.code,
            method.kind,
            method.cutoff_local,
            method.transit_days,
            method.transit_hours,
            method.weekend_delivery,
            method.metro_only,
            frozenset(int(digit) - 1 for digit in method.carrier_weekdays),
        )

    @property
    def same_day(self) -> bool:
        """A shipped method that delivers the day it leaves: it cannot roll over to tomorrow."""
        return self.kind is DeliveryKind.SHIP and self.transit_days == 0

    def runs_on(self, day: date) -> bool:
        return self.weekend_delivery or day.weekday() in self.workdays


def carrier_days_after(method: Method, day: date, days: int) -> date:
    """The date `days` of the method's carrier days after `day`."""
    while days:
        day += timedelta(days=1)
        if method.runs_on(day):
            days -= 1
    return day


@dataclass(frozen=True, slots=True)
class RoutePlan:
    # location id → ((line key, quantity), …), locations nearest first
    allocations: dict[int, tuple[tuple[int, int], ...]]
    promised_delivery_by: datetime


@dataclass(frozen=True, slots=True)
class Unroutable:
    code: str  # INSUFFICIENT_STOCK or DELIVERY_METHOD_UNAVAILABLE
    message: str


def route(
    cart: Sequence[CartLine],
    sources: Iterable[Source],
    method: Method,
    destination: Destination | None,
    *,
    now: datetime,
    pickup_location_id: int | None = None,
) -> RoutePlan | Unroutable:
    """The plan for `cart`, or why there is none. `destination` None means unknown (no metro area)."""
    sources = list(sources)
    eligible = [
        s
        for s in sources
        if _serves(s, method, destination, pickup_location_id) and _ready(s, method, now, destination)
    ]
    if not _feasible(cart, eligible):
        if _feasible(cart, sources):  # the stock exists, only not where this method may take it from
            return Unroutable("DELIVERY_METHOD_UNAVAILABLE", _unavailable_reason(method, destination))
        return Unroutable("INSUFFICIENT_STOCK", "Not enough stock for this order.")
    distance = {s.location_id: _distance(s, destination) for s in eligible}
    chosen = _fewest_nearest(cart, eligible, distance)
    allocations = _allocate(cart, chosen)
    promises: dict[int, datetime] = {}
    for s in chosen:
        promise = _ready(s, method, now, destination)
        assert promise is not None  # chosen among the eligible sources, which all have a promise
        promises[s.location_id] = promise
    return RoutePlan(allocations, max(promises[i] for i in allocations).astimezone(UTC))


def _serves(source: Source, method: Method, destination: Destination | None, pickup_location_id: int | None) -> bool:
    if method.kind is DeliveryKind.PICKUP:
        return source.pickup and source.location_id == pickup_location_id
    if not source.ships:
        return False
    if method.metro_only:
        return (
            destination is not None
            and destination.metro_area is not None
            and source.metro_area == destination.metro_area
        )
    return True


def _unavailable_reason(method: Method, destination: Destination | None) -> str:
    if method.kind is DeliveryKind.PICKUP:
        return "Not enough stock at that store for pickup."
    if method.metro_only and (destination is None or destination.metro_area is None):
        return f"{method.code} is offered only inside our metro areas."
    return f"{method.code} is not available for this destination at this time."


def _needs(cart: Sequence[CartLine]) -> dict[str, tuple[int, int]]:
    """Per SKU: (units in all, units customised)."""
    needs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line in cart:
        needs[line.sku][0] += line.quantity
        if line.customized:
            needs[line.sku][1] += line.quantity
    return {sku: (total, customized) for sku, (total, customized) in needs.items()}


def _feasible(cart: Sequence[CartLine], sources: Sequence[Source]) -> bool:
    """Whether the sources together can supply the cart. Customising locations are a subset of all, so
    it suffices that they cover the customised units and that all together cover every unit."""
    for sku, (total, customized) in _needs(cart).items():
        if sum(s.available.get(sku, 0) for s in sources if s.customization) < customized:
            return False
        if sum(s.available.get(sku, 0) for s in sources) < total:
            return False
    return True


def _fewest_nearest(cart: Sequence[CartLine], sources: list[Source], distance: dict[int, float]) -> list[Source]:
    useful = sorted(
        (s for s in sources if any(s.available.get(line.sku, 0) > 0 for line in cart)),
        key=lambda s: (distance[s.location_id], s.location_id),
    )
    for size in range(1, min(EXHAUSTIVE_SPLITS, len(useful)) + 1):
        best = min(
            (combo for combo in combinations(useful, size) if _feasible(cart, combo)),
            key=lambda combo: (sum(distance[s.location_id] for s in combo), [s.location_id for s in combo]),
            default=None,
        )
        if best is not None:
            return list(best)
    return _greedy_cover(cart, useful)


def _greedy_cover(cart: Sequence[CartLine], useful: list[Source]) -> list[Source]:
    """Adds the location that supplies the most still-missing units (nearest on ties) until the cart is covered."""
    chosen: list[Source] = []
    while not _feasible(cart, chosen):
        missing = _missing(cart, chosen)
        candidates = [s for s in useful if s not in chosen]
        chosen.append(
            max(
                candidates,
                key=lambda s: (sum(min(s.available.get(sku, 0), n) for sku, n in missing.items()), -useful.index(s)),
            )
        )
    return sorted(chosen, key=useful.index)


def _missing(cart: Sequence[CartLine], chosen: list[Source]) -> dict[str, int]:
    return {
        sku: max(total - sum(s.available.get(sku, 0) for s in chosen), 0) for sku, (total, _) in _needs(cart).items()
    }


def _allocate(cart: Sequence[CartLine], chosen: list[Source]) -> dict[int, tuple[tuple[int, int], ...]]:
    """Takes each line from the nearest chosen location that holds all of it, splitting only when none does.
    Customised lines go first, so the plain ones never take stock only a customising location could give."""
    left = {s.location_id: dict(s.available) for s in chosen}
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for line in sorted(cart, key=lambda line: not line.customized):
        candidates = [s for s in chosen if s.customization or not line.customized]
        whole = next((s for s in candidates if left[s.location_id].get(line.sku, 0) >= line.quantity), None)
        remaining = line.quantity
        for source in [whole] if whole else candidates:
            quantity = min(remaining, left[source.location_id].get(line.sku, 0))
            if quantity:
                left[source.location_id][line.sku] -= quantity
                taken[source.location_id].append((line.key, quantity))
                remaining -= quantity
        assert remaining == 0, "allocation of a feasible cart left units unplaced"
    order = [s.location_id for s in chosen]
    return {i: tuple(sorted(taken[i])) for i in sorted(taken, key=order.index)}


def _distance(source: Source, destination: Destination | None) -> float:
    if destination is None:
        return 0.0
    return great_circle_km(source.latitude, source.longitude, destination.latitude, destination.longitude)


def _ready(source: Source, method: Method, now: datetime, destination: Destination | None) -> datetime | None:
    """When the source's part arrives (or, for pickup, is ready at the store); None when it cannot be promised."""
    departure = _departure(source, method, now)
    if departure is None:
        return None
    if method.kind is DeliveryKind.PICKUP and source.calendar is not None:
        return source.calendar.after_open_time(departure, timedelta(hours=method.transit_hours))
    return _arrival(method, departure, destination, source.timezone)


def estimated_delivery(
    method: Method,
    shipped_at: datetime,
    source_timezone: str,
    destination: Destination | None,
) -> datetime:
    """When a parcel handed to the carrier at `shipped_at` arrives, by the calendar promises are made with:
    it leaves that day before the method's cut-off on a carrier day, else on the next carrier day."""
    departure = _departure_at(source_timezone, method, shipped_at) or shipped_at.astimezone(ZoneInfo(source_timezone))
    return _arrival(method, departure, destination, source_timezone).astimezone(UTC)


def _departure(source: Source, method: Method, now: datetime) -> datetime | None:
    return _departure_at(source.timezone, method, now)


def _departure_at(timezone: str, method: Method, now: datetime) -> datetime | None:
    """When work on the order starts at a location in `timezone`: now if before the cut-off on a carrier day,
    else the next carrier day's morning; None when a same-day method cannot leave today."""
    local = now.astimezone(ZoneInfo(timezone))
    if method.runs_on(local) and local.time() < method.cutoff_local:
        return local
    if method.same_day:
        return None
    return datetime.combine(carrier_days_after(method, local.date(), 1), NEXT_DAY_START, tzinfo=local.tzinfo)


def _arrival(method: Method, departure: datetime, destination: Destination | None, source_tz: str) -> datetime:
    if method.transit_hours:
        return departure + timedelta(hours=method.transit_hours)
    day = carrier_days_after(method, departure.date(), method.transit_days)
    tz = ZoneInfo(destination.timezone if destination else source_tz)
    return datetime.combine(day, DELIVERED_BY, tzinfo=tz)
