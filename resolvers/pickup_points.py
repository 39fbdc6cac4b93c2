"""Pickup points and parcel lockers: the shipped directory, its loader, and the store finder.

The directory is a CSV per country shipped with the models (`models/reference/pickup_points_<cc>.csv`, demo
points); an API-backed directory can later produce the same `PointRecord`s. `load_points` upserts them on
(network, external id) and deactivates the points of a reloaded network that the records no longer hold, so
loading twice changes nothing. Points have no write path in the app (the CLI or the seed loads them), like
locations.

The store finder (`find_points`, `find_locations`, and `find_stores`: the locations that offer pickup) is
public, like the catalogue: it sorts active points, or locations, by great-circle distance from `near`, or from
the place `country`, `postal_code` and `city` locate to; without a centre they come in name order with no
distance. `find_locations` locates strictly: a country neither reference table knows (UNKNOWN_COUNTRY) or a postal
code missing from a country's postal-code table (UNKNOWN_POSTAL_CODE) is refused, never a centroid.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Location, PickupPoint, Place, PostalCode
from ordergraph.models.enums import LocationKind, PickupPointKind
from ordergraph.models.routing import great_circle_km
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import BadUserInput
from ordergraph.resolvers.sourcing import locate

MAX_RESULTS = 50
REFERENCE_PACKAGE = "ordergraph.models.reference"


@dataclass(frozen=True, slots=True)
class PointRecord:
    """One point as a directory lists it."""

    network: str
    external_id: str
    kind: PickupPointKind
    name: str
    line1: str
    city: str
    region: str | None
    postal_code: str
    country: str
    latitude: float
    longitude: float
    timezone: str
    opening_hours: str


def read_points(text: str, country: str) -> list[PointRecord]:
    """Records from a directory CSV (header: network, external_id, kind, name, line1, city, region,
    postal_code, latitude, longitude, timezone, opening_hours); every point is in `country`."""
    return [
        PointRecord(
            network=row["network"].strip(),
            external_id=row["external_id"].strip(),
            kind=PickupPointKind(row["kind"].strip()),
            name=row["name"].strip(),
            line1=row["line1"].strip(),
            city=row["city"].strip(),
            region=row["region"].strip() or None,
            postal_code=row["postal_code"].strip(),
            country=country.upper(),
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            timezone=row["timezone"].strip(),
            opening_hours=row["opening_hours"].strip(),
        )
        for row in csv.DictReader(io.StringIO(text))
    ]


def shipped_points(country: str) -> list[PointRecord]:
    """The demo directory shipped for `country` (CZ today); empty for a country without one."""
    source = resources.files(REFERENCE_PACKAGE).joinpath(f"pickup_points_{country.lower()}.csv")
    if not source.is_file():
        return []
    return read_points(source.read_text(encoding="utf-8"), country)


async def load_points(session: AsyncSession, records: Sequence[PointRecord], *, network: str | None = None) -> int:
    """Upserts `records` (only those of `network` when given) and deactivates the points of each network
    loaded that they no longer hold; returns how many records were loaded. The caller commits."""
    records = [r for r in records if network is None or r.network == network]
    networks = {r.network for r in records} | ({network} if network else set())
    if not networks:
        return 0
    existing = {
        (p.network, p.external_id): p
        for p in (await session.exec(select(PickupPoint).where(col(PickupPoint.network).in_(networks)))).all()
    }
    seen = set()
    for record in records:
        key = (record.network, record.external_id)
        seen.add(key)
        located = await locate(
            session, country=record.country, postal_code=record.postal_code, region=record.region, city=record.city
        )
        values: dict[str, object] = {
            "kind": record.kind,
            "name": record.name,
            "line1": record.line1,
            "city": record.city,
            "region": record.region,
            "postal_code": record.postal_code,
            "country": record.country,
            "latitude": record.latitude,
            "longitude": record.longitude,
            "timezone": record.timezone,
            "metro_area": located.metro_area if located else None,
            "opening_hours": record.opening_hours,
            "active": True,
        }
        point = existing.get(key)
        if point is None:
            point = PickupPoint.model_validate({"network": record.network, "external_id": record.external_id, **values})
        else:
            for name, value in values.items():
                if getattr(point, name) != value:
                    setattr(point, name, value)
        session.add(point)
    for key, point in existing.items():
        if key not in seen and point.active:
            point.active = False
            session.add(point)
    await session.flush()
    return len(records)


class UnknownPlace(BadUserInput):
    """A place to search near that the reference data does not hold."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Near:
    country: str
    postal_code: str | None = None
    city: str | None = None


@dataclass(frozen=True, slots=True)
class LocationSearch:
    kinds: Sequence[LocationKind] = ()
    pickup: bool | None = None
    returns_drop_off: bool | None = None
    near: Near | None = None


def _limit(first: int) -> int:
    if not 0 <= first <= MAX_RESULTS:
        raise BadUserInput(f"`first` must be between 0 and {MAX_RESULTS}.")
    return first


async def _centre(
    session: AsyncSession,
    country: str,
    city: str | None,
    postal_code: str | None,
    near: tuple[float, float] | None,
) -> tuple[float, float] | None:
    if near is not None:
        latitude, longitude = near
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise BadUserInput("`near` must be a latitude of -90 to 90 and a longitude of -180 to 180.")
        return near
    if not (city or postal_code):
        return None
    found = await locate(session, country=country, postal_code=postal_code, city=city)
    return (found.latitude, found.longitude) if found else None


class _Placed(Protocol):
    latitude: float
    longitude: float


P = TypeVar("P", bound=_Placed)


def _nearest(rows: Iterable[P], centre: tuple[float, float] | None, first: int) -> list[tuple[P, float | None]]:
    if centre is None:
        unmeasured: list[tuple[P, float | None]] = [(row, None) for row in rows]
        return unmeasured[:first]
    measured: list[tuple[P, float | None]] = [
        (row, round(great_circle_km(centre[0], centre[1], row.latitude, row.longitude), 3)) for row in rows
    ]
    measured.sort(key=lambda pair: pair[1] or 0.0)
    return measured[:first]


async def find_points(
    ctx: RequestContext,
    *,
    country: str,
    city: str | None = None,
    postal_code: str | None = None,
    near: tuple[float, float] | None = None,
    network: str | None = None,
    kinds: Sequence[PickupPointKind] | None = None,
    first: int = 20,
) -> list[tuple[PickupPoint, float | None]]:
    """Active pickup points of `country` (of `network` and `kinds` when given), nearest first, with their
    distance in km from the centre (None without one)."""
    first = _limit(first)
    query = select(PickupPoint).where(PickupPoint.country == country.strip().upper(), col(PickupPoint.active))
    if network:
        query = query.where(PickupPoint.network == network.strip().upper())
    if kinds:
        query = query.where(col(PickupPoint.kind).in_(list(kinds)))
    async with ctx.read() as session:
        points = (await session.exec(query.order_by(col(PickupPoint.name), col(PickupPoint.id)))).all()
        centre = await _centre(session, country.strip().upper(), city, postal_code, near)
    return _nearest(points, centre, first)


async def find_stores(
    ctx: RequestContext,
    *,
    country: str,
    city: str | None = None,
    postal_code: str | None = None,
    near: tuple[float, float] | None = None,
    first: int = 20,
) -> list[tuple[Location, float | None]]:
    """Stores of `country` that offer pickup, nearest first, with their distance in km from the centre."""
    first = _limit(first)
    query = select(Location).where(Location.country == country.strip().upper(), col(Location.pickup))
    async with ctx.read() as session:
        stores = (await session.exec(query.order_by(col(Location.name), col(Location.id)))).all()
        centre = await _centre(session, country.strip().upper(), city, postal_code, near)
    return _nearest(stores, centre, first)


async def _located(session: AsyncSession, near: Near) -> tuple[float, float] | None:
    country = near.country.strip().upper()
    postal_code = (near.postal_code or "").strip() or None
    has_codes = (await session.exec(select(PostalCode.code).where(PostalCode.country == country).limit(1))).first()
    if has_codes is None:
        has_places = (await session.exec(select(Place.id).where(Place.country == country).limit(1))).first()
        if has_places is None:
            raise UnknownPlace("UNKNOWN_COUNTRY", f"We know no places in {near.country!r}.")
    elif postal_code and await session.get(PostalCode, (country, postal_code)) is None:
        raise UnknownPlace("UNKNOWN_POSTAL_CODE", f"{postal_code!r} is not a postal code of {country}.")
    found = await locate(session, country=country, postal_code=postal_code, city=near.city)
    return (found.latitude, found.longitude) if found else None


async def find_locations(
    ctx: RequestContext, search: LocationSearch, *, first: int = 20
) -> list[tuple[Location, float | None]]:
    """Locations matching `search`, nearest first from the place `near` locates to (only that country's), with
    their distance in km; without `near`, every country's, in name order without distances."""
    first = _limit(first)
    query = select(Location)
    if search.kinds:
        query = query.where(col(Location.kind).in_(list(search.kinds)))
    if search.pickup is not None:
        query = query.where(col(Location.pickup) == search.pickup)
    if search.returns_drop_off is not None:
        query = query.where(col(Location.returns_drop_off) == search.returns_drop_off)
    async with ctx.read() as session:
        centre = None
        if search.near is not None:
            centre = await _located(session, search.near)
            query = query.where(Location.country == search.near.country.strip().upper())
        found = (await session.exec(query.order_by(col(Location.name), col(Location.id)))).all()
    return _nearest(found, centre, first)
