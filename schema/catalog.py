from datetime import datetime

import strawberry

from ordergraph import models
from ordergraph.resolvers import catalog
from ordergraph.schema.common import Money, money
from ordergraph.schema.enums import DeliveryKind, StockStatus
from ordergraph.schema.info import Info
from ordergraph.schema.location import Location


@strawberry.type(
    description=(
        "Delivery method codes: STANDARD, NEXT_DAY, SAME_DAY, ONE_HOUR, WEEKEND (kind SHIP) and PICKUP (kind PICKUP)."
    )
)
class DeliveryMethod:
    code: str
    name: str
    kind: DeliveryKind


@strawberry.type
class LocationAvailability:
    location: Location
    available: int
    pickup_available: bool


@strawberry.type
class DeliveryOption:
    method: DeliveryMethod
    estimated_delivery_by: datetime | None
    available: bool

    @strawberry.field
    def price(root: catalog.DeliveryOption) -> Money:
        return money(root.method.price_minor, root.method.currency)


@strawberry.type
class Availability:
    total_available: int
    stock_status: StockStatus
    locations: list[LocationAvailability]
    delivery_options: list[DeliveryOption]


@strawberry.type
class Product:
    sku: str
    name: str

    @strawberry.field
    def price(root: models.Product) -> Money:
        return money(root.price_minor, root.currency)

    @strawberry.field
    async def availability(root: models.Product, info: Info, postal_code: str | None = None) -> Availability:
        return await catalog.availability(info.context, root, postal_code)
