"""Where an order goes, the one rule placement and shipping changes share.

A pickup method goes to the chosen store, which must offer pickup. A method with a pickup-point network ships
to a pickup point or parcel locker of that network (`pickup_point_id`), for a recipient; any other method
ships to an address, located through `sourcing.locate`. Tax is the store's (country, region) for pickup,
the point's for a pickup point, the address's otherwise. Refusals, with the input they point at:
PICKUP_LOCATION_INVALID (pickupLocationId), PICKUP_POINT_INVALID (pickupPointId), PHONE_REQUIRED and
INVALID_PHONE (recipient.phone, required for a parcel locker's SMS code), ADDRESS_REQUIRED (shippingAddress),
and DELIVERY_METHOD_UNAVAILABLE when the address's country cannot be located (shippingAddress.country).
"""

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import AddressFields, DeliveryMethod, Location, MarketCountry, PickupPoint
from ordergraph.models.enums import DeliveryKind, PickupPointKind
from ordergraph.models.routing import Destination
from ordergraph.resolvers.addresses import check_address, check_phone
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.sourcing import at_location, locate


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who collects a parcel at a pickup point: the name defaults to the customer's; the phone receives the
    locker's code (required for a parcel locker)."""

    name: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Where:
    """An order's destination: `to` is the pickup store, the pickup point or the shipping address;
    `destination` is that place located for routing; `tax_region` the (country, region) whose tax applies;
    `ship_to` the address the order snapshots (the checked address when shipping to one, the point's address
    and the recipient for a pickup point, the request's address as given for store pickup)."""

    to: Location | PickupPoint | AddressFields
    destination: Destination
    tax_region: tuple[str, str | None]
    ship_to: AddressFields | None = None

    @property
    def pickup(self) -> Location | None:
        """The store, for store pickup."""
        return self.to if isinstance(self.to, Location) else None

    @property
    def pickup_point(self) -> PickupPoint | None:
        return self.to if isinstance(self.to, PickupPoint) else None

    @property
    def address(self) -> AddressFields | None:
        """The address a carrier delivers to: the shipping address, or the pickup point's; None for a store."""
        if isinstance(self.to, AddressFields):
            return self.ship_to or self.to
        return self.ship_to if isinstance(self.to, PickupPoint) else None

    @property
    def country(self) -> str:
        return self.tax_region[0]


async def destination_for(
    session: AsyncSession,
    method: DeliveryMethod,
    *,
    shipping_address: AddressFields | None,
    pickup_location_id: int | None,
    pickup_point_id: int | None = None,
    recipient: Recipient | None = None,
    customer_name: str | None = None,
    customer_phone: str | None = None,
) -> Where:
    """Where an order with `method` goes: the store `pickup_location_id` for pickup, the point
    `pickup_point_id` for a method with a pickup-point network, `shipping_address` otherwise (what the
    method does not use is ignored); refuses when there is none or it cannot be located."""
    if method.kind is DeliveryKind.PICKUP:
        store = await session.get(Location, pickup_location_id) if pickup_location_id else None
        if store is None or not store.pickup:
            raise Refusal("PICKUP_LOCATION_INVALID", "Choose a store that offers pickup.", ["pickupLocationId"])
        return Where(store, at_location(store), (store.country, store.region), shipping_address)
    if method.pickup_point_network:
        return await _to_point(session, method, pickup_point_id, recipient, customer_name, customer_phone)
    if shipping_address is None:
        raise Refusal("ADDRESS_REQUIRED", f"{method.name} needs a shipping address.", ["shippingAddress"])
    address = await check_address(session, shipping_address)
    destination = await locate(
        session, country=address.country, postal_code=address.postal_code, region=address.region, city=address.city
    )
    if destination is None:
        raise Refusal(
            "DELIVERY_METHOD_UNAVAILABLE", f"We do not deliver to {address.country}.", ["shippingAddress", "country"]
        )
    return Where(address, destination, (address.country.upper(), address.region), address)


async def _to_point(
    session: AsyncSession,
    method: DeliveryMethod,
    pickup_point_id: int | None,
    recipient: Recipient | None,
    customer_name: str | None,
    customer_phone: str | None,
) -> Where:
    """A pickup point must be active, of the method's network and in a country of the method's market."""
    point = await session.get(PickupPoint, pickup_point_id) if pickup_point_id else None
    in_market = (
        point is not None
        and (
            await session.exec(
                select(MarketCountry).where(
                    MarketCountry.country == point.country, MarketCountry.market_code == method.market_code
                )
            )
        ).first()
        is not None
    )
    if point is None or not point.active or point.network != method.pickup_point_network or not in_market:
        raise Refusal(
            "PICKUP_POINT_INVALID",
            f"Choose an open {method.pickup_point_network} pickup point for {method.name}.",
            ["pickupPointId"],
        )
    recipient = recipient or Recipient()
    phone = check_phone(
        recipient.phone or customer_phone,
        point.country,
        ["recipient", "phone"],
        required=point.kind is PickupPointKind.PARCEL_LOCKER,
    )
    ship_to = AddressFields(
        name=recipient.name or customer_name,
        line1=point.line1,
        line2=f"{point.name} · {point.network} {point.external_id}",
        city=point.city,
        region=point.region,
        postal_code=point.postal_code,
        country=point.country,
        phone=phone,
    )
    destination = Destination(point.latitude, point.longitude, point.metro_area, point.timezone)
    return Where(point, destination, (point.country, point.region), ship_to)
