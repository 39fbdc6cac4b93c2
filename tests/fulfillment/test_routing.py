"""models.routing on a fixture of locations: splits, distance, metro-only, customisation, pickup, cut-offs."""

from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordergraph.models.enums import DeliveryKind
from ordergraph.models.routing import (
    CartLine,
    Destination,
    Method,
    RoutePlan,
    Source,
    Unroutable,
    great_circle_km,
    route,
)

NY = "America/New_York"
# Midtown Manhattan; Chicago Loop.
MANHATTAN = Destination(40.754, -73.984, "New York", NY)
CHICAGO = Destination(41.881, -87.630, "Chicago", "America/Chicago")
RURAL = Destination(44.26, -72.58, None, NY)  # Montpelier, VT: no metro area

STANDARD = Method("STANDARD", DeliveryKind.SHIP, time(17), transit_days=3)
NEXT_DAY = Method("NEXT_DAY", DeliveryKind.SHIP, time(15), transit_days=1)
SAME_DAY = Method("SAME_DAY", DeliveryKind.SHIP, time(12), metro_only=True)
ONE_HOUR = Method("ONE_HOUR", DeliveryKind.SHIP, time(20), transit_hours=1, metro_only=True)
WEEKEND = Method("WEEKEND", DeliveryKind.SHIP, time(17), transit_days=1, weekend_delivery=True)
PICKUP = Method("PICKUP", DeliveryKind.PICKUP, time(18), transit_hours=2, weekend_delivery=True)

# Wednesday 2026-11-18, 10:00 in New York.
WEDNESDAY_MORNING = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def source(
    location_id: int,
    lat: float,
    lon: float,
    metro: str | None,
    stock: dict[str, int],
    *,
    tz: str = NY,
    ships: bool = True,
    pickup: bool = False,
    customization: bool = False,
) -> Source:
    return Source(location_id, lat, lon, metro, tz, ships, pickup, customization, stock)


def newark(stock: dict[str, int], **kw) -> Source:
    return source(1, 40.70, -74.17, "New York", stock, **kw)


def brooklyn(stock: dict[str, int], **kw) -> Source:
    return source(2, 40.69, -73.99, "New York", stock, pickup=True, **kw)


def chicago(stock: dict[str, int], **kw) -> Source:
    return source(3, 41.85, -87.65, "Chicago", stock, tz="America/Chicago", **kw)


def plan(*args, **kwargs) -> RoutePlan:
    result = route(*args, now=kwargs.pop("now", WEDNESDAY_MORNING), **kwargs)
    assert isinstance(result, RoutePlan), result
    return result


def test_great_circle_distance_new_york_to_chicago() -> None:
    assert great_circle_km(40.7128, -74.0060, 41.8781, -87.6298) == pytest.approx(1145, abs=5)


def test_one_location_holding_everything_beats_a_nearer_split() -> None:
    cart = [CartLine(1, "A", 1), CartLine(2, "B", 1)]
    sources = [brooklyn({"A": 5}), newark({"B": 5}), chicago({"A": 5, "B": 5})]
    assert plan(cart, sources, STANDARD, MANHATTAN).allocations == {3: ((1, 1), (2, 1))}


def test_the_nearest_of_equally_complete_locations_is_chosen() -> None:
    cart = [CartLine(1, "A", 2)]
    sources = [chicago({"A": 5}), newark({"A": 5}), brooklyn({"A": 5})]
    assert plan(cart, sources, STANDARD, MANHATTAN).allocations == {2: ((1, 2),)}
    assert plan(cart, sources, STANDARD, CHICAGO).allocations == {3: ((1, 2),)}


def test_a_split_takes_the_nearest_pair_and_one_fulfillment_order_per_location() -> None:
    cart = [CartLine(1, "A", 1), CartLine(2, "B", 1)]
    sources = [brooklyn({"A": 5}), newark({"B": 5}), chicago({"B": 5})]
    assert plan(cart, sources, STANDARD, MANHATTAN).allocations == {2: ((1, 1),), 1: ((2, 1),)}


def test_a_line_is_split_across_locations_only_when_no_location_holds_all_of_it() -> None:
    cart = [CartLine(1, "A", 7)]
    result = plan(cart, [brooklyn({"A": 4}), newark({"A": 4})], STANDARD, MANHATTAN)
    assert result.allocations == {2: ((1, 4),), 1: ((1, 3),)}


def test_same_day_ships_only_from_the_destination_metro_area() -> None:
    cart = [CartLine(1, "A", 1)]
    assert plan(cart, [chicago({"A": 5}), newark({"A": 5})], SAME_DAY, MANHATTAN).allocations == {1: ((1, 1),)}
    refused = route(cart, [chicago({"A": 5})], SAME_DAY, MANHATTAN, now=WEDNESDAY_MORNING)
    assert refused == Unroutable(
        "DELIVERY_METHOD_UNAVAILABLE", "SAME_DAY is not available for this destination at this time."
    )
    outside = route(cart, [newark({"A": 5})], ONE_HOUR, RURAL, now=WEDNESDAY_MORNING)
    assert isinstance(outside, Unroutable)
    assert outside.code == "DELIVERY_METHOD_UNAVAILABLE"


def test_customised_lines_come_only_from_locations_that_customise() -> None:
    cart = [CartLine(1, "A", 1, customized=True), CartLine(2, "A", 1)]
    sources = [brooklyn({"A": 5}), chicago({"A": 1}, customization=True)]
    assert plan(cart, sources, STANDARD, MANHATTAN).allocations == {2: ((2, 1),), 3: ((1, 1),)}
    nowhere = route(
        [CartLine(1, "A", 1, customized=True)], [brooklyn({"A": 5})], STANDARD, MANHATTAN, now=WEDNESDAY_MORNING
    )
    assert nowhere == Unroutable("INSUFFICIENT_STOCK", "Not enough stock for this order.")


def test_pickup_is_only_at_the_chosen_store() -> None:
    cart = [CartLine(1, "A", 1)]
    sources = [newark({"A": 5}), brooklyn({"A": 5})]
    assert plan(cart, sources, PICKUP, MANHATTAN, pickup_location_id=2).allocations == {2: ((1, 1),)}
    empty_store = route(
        cart, [newark({"A": 5}), brooklyn({})], PICKUP, MANHATTAN, now=WEDNESDAY_MORNING, pickup_location_id=2
    )
    assert empty_store.code == "DELIVERY_METHOD_UNAVAILABLE"


def test_stock_short_everywhere_is_insufficient_stock() -> None:
    result = route(
        [CartLine(1, "A", 11)], [newark({"A": 5}), brooklyn({"A": 5})], STANDARD, MANHATTAN, now=WEDNESDAY_MORNING
    )
    assert result == Unroutable("INSUFFICIENT_STOCK", "Not enough stock for this order.")


def test_before_the_cut_off_standard_arrives_three_carrier_days_later_skipping_the_weekend() -> None:
    result = plan([CartLine(1, "A", 1)], [newark({"A": 5})], STANDARD, MANHATTAN)
    # Thursday, Friday, (weekend), Monday: by 20:00 New York time
    assert result.promised_delivery_by == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def test_after_the_cut_off_the_order_leaves_the_next_carrier_day_skipping_the_weekend() -> None:
    friday_evening = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # 18:00 in New York, after the 17:00 cut-off
    result = plan([CartLine(1, "A", 1)], [newark({"A": 5})], STANDARD, MANHATTAN, now=friday_evening)
    # leaves Monday 23rd, arrives Thursday 26th by 20:00 local
    assert result.promised_delivery_by == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def test_weekend_delivery_runs_on_saturday() -> None:
    friday_morning = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    result = plan([CartLine(1, "A", 1)], [newark({"A": 5})], WEEKEND, MANHATTAN, now=friday_morning)
    assert result.promised_delivery_by == datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # Saturday 20:00 New York
    assert plan(
        [CartLine(1, "A", 1)], [newark({"A": 5})], NEXT_DAY, MANHATTAN, now=friday_morning
    ).promised_delivery_by == (
        datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Monday
    )


def test_the_cut_off_is_the_shipping_locations_local_time() -> None:
    # 11:30 in Chicago is 12:30 in New York: Chicago is still before SAME_DAY's 12:00 cut-off, New York is not.
    now = datetime(2026, 11, 18, 17, 30, tzinfo=UTC)
    chicago_dest = Destination(41.88, -87.63, "Chicago", "America/Chicago")
    assert plan([CartLine(1, "A", 1)], [chicago({"A": 5})], SAME_DAY, chicago_dest, now=now).allocations == {
        3: ((1, 1),)
    }
    late = route([CartLine(1, "A", 1)], [newark({"A": 5})], SAME_DAY, MANHATTAN, now=now)
    assert late.code == "DELIVERY_METHOD_UNAVAILABLE"


def test_one_hour_is_promised_within_the_hour_and_not_on_a_sunday() -> None:
    result = plan([CartLine(1, "A", 1)], [brooklyn({"A": 5})], ONE_HOUR, MANHATTAN)
    assert result.promised_delivery_by == datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    sunday = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    assert (
        route([CartLine(1, "A", 1)], [brooklyn({"A": 5})], ONE_HOUR, MANHATTAN, now=sunday).code
        == "DELIVERY_METHOD_UNAVAILABLE"
    )


def test_pickup_after_the_cut_off_is_ready_the_next_morning() -> None:
    evening = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)  # 18:30 in New York
    result = plan([CartLine(1, "A", 1)], [brooklyn({"A": 5})], PICKUP, MANHATTAN, now=evening, pickup_location_id=2)
    assert result.promised_delivery_by == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)  # 09:00 + 2 h New York


# Properties over random carts and stock: a plan never takes more than a location has, places every unit
# exactly once, and uses a single location whenever one can supply the whole cart.

skus = st.sampled_from(["A", "B", "C"])
carts = st.lists(st.tuples(skus, st.integers(1, 6), st.booleans()), min_size=1, max_size=5).map(
    lambda lines: [CartLine(n, sku, q, custom) for n, (sku, q, custom) in enumerate(lines, start=1)]
)
stocks = st.dictionaries(skus, st.integers(0, 12))
locations = st.lists(
    st.tuples(st.floats(25, 48), st.floats(-122, -70), stocks, st.booleans()), min_size=1, max_size=6
).map(
    lambda rows: [
        source(i, lat, lon, None, stock, customization=custom) for i, (lat, lon, stock, custom) in enumerate(rows, 1)
    ]
)


@settings(max_examples=300, deadline=None)
@given(cart=carts, sources=locations)
def test_plans_respect_stock_and_place_every_unit_once(cart: list[CartLine], sources: list[Source]) -> None:
    result = route(cart, sources, STANDARD, MANHATTAN, now=WEDNESDAY_MORNING)
    if isinstance(result, Unroutable):
        assert result.code == "INSUFFICIENT_STOCK"
        return
    by_id = {s.location_id: s for s in sources}
    placed: dict[int, int] = {}
    for location_id, allocations in result.allocations.items():
        taken: dict[str, int] = {}
        for key, quantity in allocations:
            line = next(line for line in cart if line.key == key)
            assert not line.customized or by_id[location_id].customization
            taken[line.sku] = taken.get(line.sku, 0) + quantity
            placed[key] = placed.get(key, 0) + quantity
        assert all(by_id[location_id].available.get(sku, 0) >= n for sku, n in taken.items())
    assert placed == {line.key: line.quantity for line in cart}
    whole = [s for s in sources if route(cart, [s], STANDARD, MANHATTAN, now=WEDNESDAY_MORNING).__class__ is RoutePlan]
    if whole:
        assert len(result.allocations) == 1
