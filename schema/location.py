from datetime import date
from enum import Enum

import strawberry

from ordergraph import models
from ordergraph.resolvers import inventory, opening_hours
from ordergraph.schema.common import Address, Connection, UserError
from ordergraph.schema.enums import LocationKind
from ordergraph.schema.info import Info
from ordergraph.schema.node import Node, encode_global_id


@strawberry.enum(description="What a location offers shoppers.")
class LocationService(Enum):
    PICKUP = "PICKUP"
    RETURNS_DROP_OFF = "RETURNS_DROP_OFF"
    CUSTOMIZATION = "CUSTOMIZATION"


@strawberry.type(description="One opening interval, local time (HH:MM, 24-hour) in the location's time zone.")
class OpeningInterval:
    opens: str
    closes: str


@strawberry.type(description="A weekday's opening intervals, in order; none: closed that day.")
class OpeningDay:
    weekday: int = strawberry.field(description="ISO weekday: 1 = Monday … 7 = Sunday.")
    intervals: list[OpeningInterval]


@strawberry.type(description="A whole local date the location is closed.")
class LocationClosure:
    date: date
    reason: str | None


@strawberry.type
class Location(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Location)

    @strawberry.field
    def id(root: models.Location) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Location", root.id))

    name: str
    kind: LocationKind
    city: str | None
    metro_area: str | None
    timezone: str
    pickup: bool = strawberry.field(description="Offers in-store pickup.")
    returns_drop_off: bool = strawberry.field(description="Accepts returns dropped off in person.")
    country: str
    latitude: float
    longitude: float

    @strawberry.field(
        description="Opening hours per weekday (all seven, Monday first) in `timezone`; empty when the location has "
        "no hours set (then only the delivery methods' cut-offs apply)."
    )
    async def opening_hours(root: models.Location, info: Info) -> list[OpeningDay]:
        rows = await opening_hours.opening_hours(info.context, root)
        if not rows:
            return []
        return [
            OpeningDay(
                weekday=weekday,
                intervals=[
                    OpeningInterval(opens=f"{row.opens:%H:%M}", closes=f"{row.closes:%H:%M}")
                    for row in rows
                    if row.weekday == weekday
                ],
            )
            for weekday in range(1, 8)
        ]

    @strawberry.field(description="Closures from the location's local today on, by date.")
    async def closures(root: models.Location, info: Info) -> list[LocationClosure]:
        return [
            LocationClosure(date=row.closed_on, reason=row.reason)
            for row in await opening_hours.upcoming_closures(info.context, root)
        ]

    @strawberry.field
    def services(root: models.Location) -> list[LocationService]:
        offered = (
            (root.pickup, LocationService.PICKUP),
            (root.returns_drop_off, LocationService.RETURNS_DROP_OFF),
            (root.customization, LocationService.CUSTOMIZATION),
        )
        return [service for on, service in offered if on]

    @strawberry.field(description="Staff only (null for others): the location's code.")
    def code(root: models.Location, info: Info) -> str | None:
        return root.code if info.context.viewer.is_staff else None

    @strawberry.field(description="Staff only (null for others): whether it ships orders.")
    def ships(root: models.Location, info: Info) -> bool | None:
        return root.ships if info.context.viewer.is_staff else None

    @strawberry.field(description="Staff only (null for others): the stock held here, by SKU.")
    async def inventory_levels(
        root: models.Location, info: Info, first: int | None = None, after: str | None = None
    ) -> "Connection[InventoryLevel] | None":
        if not info.context.viewer.is_staff:
            return None
        return await inventory.location_inventory_levels(  # type: ignore[return-value]
            info.context, root.id or 0, first=first, after=after
        )

    @strawberry.field
    def address(root: models.Location) -> Address:
        return Address(
            name=root.name,
            line1=root.line1,
            line2=None,
            city=root.city,
            region=root.region,
            postal_code=root.postal_code,
            country=root.country,
            phone=None,
        )


@strawberry.type
class InventoryLevel:
    sku: str
    on_hand: int
    reserved: int
    available: int
    incoming: int = strawberry.field(description="Units of open inbound shipments not yet received.")
    safety_stock: int
    reorder_point: int | None = strawberry.field(
        description="Reorder once on hand - reserved + incoming is at or below this; null: not set."
    )
    maximum: int | None = strawberry.field(
        description="Overstocked once on hand + incoming exceeds this; null: not set."
    )
    below_reorder_point: bool
    over_maximum: bool

    @strawberry.field
    async def location(root: models.InventoryLevel, info: Info) -> Location:
        return await info.context.loaders.location.load(root.location_id)


@strawberry.input
class AdjustInventoryInput:
    sku: str
    location_id: strawberry.ID
    delta: int
    reason: str


@strawberry.type
class InventoryLevelPayload:
    inventory_level: InventoryLevel | None
    user_errors: list[UserError]


@strawberry.input
class SetInventoryThresholdsInput:
    sku: str
    location_id: strawberry.ID
    safety_stock: int = 0
    reorder_point: int | None = None
    maximum: int | None = None
