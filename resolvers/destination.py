"""Where an order goes, the one rule placement and shipping changes share.

A pickup method goes to the chosen store, which must offer pickup; any other method ships to an address,
located through the postal-code table (`sourcing.locate`: by country, postal code and region). Tax is the
store's (country, region) for pickup, the address's otherwise. Refusals, with the input they point at:
PICKUP_LOCATION_INVALID (pickupLocationId), ADDRESS_REQUIRED (shippingAddress), and
DELIVERY_METHOD_UNAVAILABLE when the address's country cannot be located (shippingAddress.country).
"""

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import AddressFields, DeliveryMethod, Location
from ordergraph.models.enums import DeliveryKind
from ordergraph.models.routing import Destination
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.sourcing import at_location, locate


@dataclass(frozen=True, slots=True)
class Where:
    """An order's destination: `to` is the pickup store or the shipping address; `destination` is that place
    located for routing; `tax_region` the (country, region) whose tax applies."""

    to: Location | AddressFields
    destination: Destination
    tax_region: tuple[str, str | None]

    @property
    def pickup(self) -> Location | None:
        return self.to if isinstance(self.to, Location) else None

    @property
    def address(self) -> AddressFields | None:
        return self.to if isinstance(self.to, AddressFields) else None


async def destination_for(
    session: AsyncSession,
    method: DeliveryMethod,
    *,
    shipping_address: AddressFields | None,
    pickup_location_id: int | None,
) -> Where:
    """Where an order with `method` goes: the store `pickup_location_id` for pickup, `shipping_address`
    otherwise (the one the method does not use is ignored); refuses when there is none or it cannot be located."""
    if method.kind is DeliveryKind.PICKUP:
        store = await session.get(Location, pickup_location_id) if pickup_location_id else None
        if store is None or not store.pickup:
            raise Refusal("PICKUP_LOCATION_INVALID", "Choose a store that offers pickup.", ["pickupLocationId"])
        return Where(store, at_location(store), (store.country, store.region))
    address = shipping_address
    if address is None:
        raise Refusal("ADDRESS_REQUIRED", f"{method.name} needs a shipping address.", ["shippingAddress"])
    destination = await locate(session, country=address.country, postal_code=address.postal_code, region=address.region)
    if destination is None:
        raise Refusal(
            "DELIVERY_METHOD_UNAVAILABLE", f"We do not deliver to {address.country}.", ["shippingAddress", "country"]
        )
    return Where(address, destination, (address.country.upper(), address.region))
