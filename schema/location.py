import strawberry

from ordergraph import models
from ordergraph.schema.common import Address, UserError
from ordergraph.schema.enums import LocationKind
from ordergraph.schema.info import Info
from ordergraph.schema.node import Node, encode_global_id


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
    incoming: int
    safety_stock: int

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
