"""The store finder: pickup points, parcel lockers and pickup stores near a place. Public, like the catalogue."""

import strawberry

from ordergraph.models import enums
from ordergraph.resolvers import pickup_points
from ordergraph.schema.info import Info
from ordergraph.schema.location import Location
from ordergraph.schema.pickup_point import GeoPointInput, PickupPointKind, PickupPointResult


@strawberry.type
class StoreResult:
    location: Location
    distance_km: float | None = strawberry.field(description="From the place searched; null without one.")


def _near(near: GeoPointInput | None) -> tuple[float, float] | None:
    return (near.latitude, near.longitude) if near else None


@strawberry.type
class StoreFinderQueries:
    @strawberry.field(
        description="Public: no sign-in needed. Active pickup points and parcel lockers of a country, nearest "
        "first from `near`, or from the place `city` and `postalCode` locate to (without either, in name order "
        "and without distances). At most 50."
    )
    async def pickup_points(
        self,
        info: Info,
        country: str,
        city: str | None = None,
        postal_code: str | None = None,
        near: GeoPointInput | None = None,
        network: str | None = None,
        kinds: list[PickupPointKind] | None = None,
        first: int = 20,
    ) -> list[PickupPointResult]:
        found = await pickup_points.find_points(
            info.context,
            country=country,
            city=city,
            postal_code=postal_code,
            near=_near(near),
            network=network,
            kinds=[enums.PickupPointKind(k.value) for k in kinds or []],
            first=first,
        )
        return [PickupPointResult(point=point, distance_km=distance) for point, distance in found]  # type: ignore[arg-type]

    @strawberry.field(
        description="Public: no sign-in needed. Stores of a country that offer pickup, nearest first (as "
        "pickupPoints). At most 50."
    )
    async def stores(
        self,
        info: Info,
        country: str,
        city: str | None = None,
        postal_code: str | None = None,
        near: GeoPointInput | None = None,
        first: int = 20,
    ) -> list[StoreResult]:
        found = await pickup_points.find_stores(
            info.context, country=country, city=city, postal_code=postal_code, near=_near(near), first=first
        )
        return [StoreResult(location=store, distance_km=distance) for store, distance in found]  # type: ignore[arg-type]
