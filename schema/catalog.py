from datetime import date, datetime

import strawberry

from ordergraph import models
from ordergraph.resolvers import catalog, markets
from ordergraph.schema.common import Money, money
from ordergraph.schema.enums import DeliveryKind, StockStatus
from ordergraph.schema.info import Info
from ordergraph.schema.location import Location
from ordergraph.schema.market import Market


@strawberry.type(
    description=(
        "Delivery method codes: STANDARD, NEXT_DAY, SAME_DAY, ONE_HOUR, WEEKEND (kind SHIP) and PICKUP (kind PICKUP) "
        "in the US market; other markets' codes start with the market's (CZ_STANDARD, CZ_BOX, SA_STANDARD, "
        "AE_SAME_DAY…). Each method belongs to one market and is priced in its currency."
    )
)
class DeliveryMethod:
    code: str
    name: str
    kind: DeliveryKind
    pickup_point_network: str | None = strawberry.field(
        description="The network of pickup points or parcel lockers it ships to; null for other methods."
    )

    @strawberry.field
    async def market(root: models.DeliveryMethod, info: Info) -> Market:
        found = await markets.market(info.context, root.market_code)
        assert found is not None, f"delivery method {root.code}: no market {root.market_code}"
        return found

    @strawberry.field(description="True when it ships to a pickup point or parcel locker (pickupPointId).")
    def to_pickup_point(root: models.DeliveryMethod) -> bool:
        return root.pickup_point_network is not None


@strawberry.type
class LocationAvailability:
    location: Location
    available: int
    pickup_available: bool


@strawberry.type
class DeliveryOption:
    method: DeliveryMethod
    estimated_delivery_by: datetime | None = strawberry.field(
        description="For pickup: when the order is ready at `pickupLocation` (its opening hours and closures "
        "respected)."
    )
    available: bool
    pickup_location: Location | None = strawberry.field(
        description="Pickup: the nearest store within the pickup distance of the destination that can have it "
        "ready; placing a pickup there is promised the same time. Null otherwise, and without a known destination."
    )

    @strawberry.field
    def price(root: catalog.DeliveryOption) -> Money:
        return money(root.method.price_minor, root.method.currency)


@strawberry.type
class Availability:
    total_available: int
    stock_status: StockStatus
    locations: list[LocationAvailability]
    delivery_options: list[DeliveryOption]
    back_in_stock_by: date | None = strawberry.field(
        description="Out of stock: the date the earliest open inbound shipment of it is expected (today if late); "
        "null when in stock or nothing is on its way."
    )


@strawberry.type(description="A product's price in one market.")
class ProductPrice:
    market: Market
    price: Money
    tax_included: bool = strawberry.field(description="True where the price includes the market's VAT.")


@strawberry.type
class Product:
    sku: str
    name: str
    tax_class: str = strawberry.field(
        description="What the goods are for tax: STANDARD, REDUCED or ZERO; each country's table says what it costs."
    )

    @strawberry.field(description="The base price (the default market's when it is in that market's currency).")
    def price(root: models.Product) -> Money:
        return money(root.price_minor, root.currency)

    @strawberry.field(description="Its price in every market that sells it, by market position.")
    async def prices(root: models.Product, info: Info) -> list[ProductPrice]:
        return [
            ProductPrice(market=market, price=money(price, market.currency), tax_included=market.prices_include_tax)
            for market, price in await catalog.prices(info.context, root)
        ]

    @strawberry.field(description="Its price in the market (a market code), or null when it has none there.")
    async def price_in(root: models.Product, info: Info, market: str) -> Money | None:
        found = await markets.market(info.context, market)
        price = await catalog.price_in_market(info.context, root, market) if found is not None else None
        return money(price, found.currency) if found is not None and price is not None else None

    @strawberry.field(
        description="Without country: the postal code (US) and the default market's delivery methods. With country: "
        "the destination located by postal code or city there, and that country's market's methods."
    )
    async def availability(
        root: models.Product,
        info: Info,
        postal_code: str | None = None,
        country: str | None = None,
        city: str | None = None,
    ) -> Availability:
        return await catalog.availability(info.context, root, postal_code, country, city)
