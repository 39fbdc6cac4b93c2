"""Address checks against the database: the pure country rules (models.addresses) plus the place table for a
region written as a place name ("Praha" → "10", "دبي" → "DU"). Called inside the change's transaction, so a
refusal changes nothing. US addresses, and every country without rules, come back as the same object."""

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import AddressFields, Place, PlaceName
from ordergraph.models import addresses as rules
from ordergraph.models.text import place_key
from ordergraph.resolvers.errors import Refusal


async def place_region(session: AsyncSession, country: str, name: str) -> str | None:
    """The region of the most populous place called `name` in the country."""
    key = place_key(name)
    if not key:
        return None
    return (
        await session.exec(
            select(Place.region)
            .join(PlaceName, col(PlaceName.place_id) == col(Place.id))
            .where(col(PlaceName.country) == country, col(PlaceName.key) == key, col(Place.region).is_not(None))
            .order_by(col(Place.population).desc(), col(Place.id))
            .limit(1)
        )
    ).first()


async def check_address(
    session: AsyncSession, address: AddressFields, field: Sequence[str] = ("shippingAddress",)
) -> AddressFields:
    """The address normalised by its country's rules, or INVALID_ADDRESS with the input field it breaks."""
    country = address.country.strip().upper()
    if not rules.has_rules(country):
        return address
    by_place = None
    region = (address.region or "").strip()
    if region and rules.region_code(country, region) is None:
        by_place = await place_region(session, country, region)
    try:
        return rules.check(address, place_region=by_place)
    except rules.AddressInvalid as bad:
        raise Refusal("INVALID_ADDRESS", bad.message, [*field, bad.field]) from None


def check_phone(raw: str | None, country: str, field: Sequence[str], *, required: bool) -> str | None:
    """A recipient's phone: E.164 in a country with rules (INVALID_PHONE otherwise), as given elsewhere;
    PHONE_REQUIRED when `required` and blank."""
    value = (raw or "").strip() or None
    if value is None:
        if required:
            raise Refusal("PHONE_REQUIRED", "A parcel locker needs the recipient's phone for its code.", list(field))
        return None
    country = country.strip().upper()
    if not rules.has_rules(country):
        return value
    try:
        return rules.phone(country, value)
    except rules.AddressInvalid as bad:
        raise Refusal("INVALID_PHONE", bad.message, list(field)) from None
