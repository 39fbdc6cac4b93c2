"""The store finder: pickup points, parcel lockers and pickup stores near a place. Public, like the catalogue."""

import strawberry

from ordergraph.models import enums
from ordergraph.resolvers import pickup_points
from ordergraph.schema.enums import LocationKind
from ordergraph.schema.info import Info
from ordergraph.schema.location import Location
from ordergraph.schema.pickup_point import GeoPointInput, PickupPointKind, PickupPointResult


@strawberry.type
class StoreResult:
    location: Location
    distance_km: float | None = strawberry.field(description="From the place searched; null without one.")


@strawberry.input(description="A place to search near: a postal code of the country (US), or a city there.")
class PlaceInput:
    country: str
    postal_code: str | None = None
    city: str | None = None


@strawberry.input
class LocationFilter:
    kind: list[LocationKind] | None = None
    pickup: bool | None = strawberry.field(default=None, description="Only locations that do (or do not) offer pickup.")
    returns_drop_off: bool | None = None
    near: PlaceInput | None = strawberry.field(
        default=None, description="Nearest first, with distances, that country's locations only."
    )

    def to_domain(self) -> pickup_points.LocationSearch:
        return pickup_points.LocationSearch(
            kinds=[enums.LocationKind(k.value) for k in self.kind or []],
            pickup=self.pickup,
            returns_drop_off=self.returns_drop_off,
            near=pickup_points.Near(self.near.country, self.near.postal_code, self.near.city) if self.near else None,
        )


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

    @strawberry.field(
        description="Public: no sign-in needed. Locations (stores, warehouses…) matching the filter, nearest first "
        "from `filter.near` (UNKNOWN_COUNTRY, UNKNOWN_POSTAL_CODE when it cannot be located), else in name order. "
        "Anyone reads name, address, opening hours, closures, services and distance; staff also the internal "
        "fields. 10 unless `first` says otherwise; at most 50."
    )
    async def locations(self, info: Info, filter: LocationFilter | None = None, first: int = 10) -> list[StoreResult]:
        found = await pickup_points.find_locations(info.context, (filter or LocationFilter()).to_domain(), first=first)
        return [StoreResult(location=location, distance_km=distance) for location, distance in found]  # type: ignore[arg-type]
