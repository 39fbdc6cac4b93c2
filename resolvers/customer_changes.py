"""Customer records and address books (#18): agents create and edit customers; customers edit their own profile and
address book, and agents may do the same for any customer.

Rules, each a coded refusal that changes nothing (the change's transaction rolls back whole):

- name: NFC, trimmed, not blank (INVALID_NAME).
- email: trimmed and lower-cased, one "@" with a dotted domain, at most 254 characters (INVALID_EMAIL), and no
  other customer's, whatever its case (EMAIL_TAKEN).
- phone: a valid number (phonenumbers), stored as E.164 (INVALID_PHONE); a number without "+" is read in the
  customer's country: their default shipping address's, else the address given with it, else the default market's.
  An empty phone removes it.
- addresses: an ISO 3166 country (UNKNOWN_COUNTRY); the country's rules (resolvers.addresses: INVALID_ADDRESS,
  INVALID_PHONE); where the postal-code table knows the country (the US), a postal code it holds
  (UNKNOWN_POSTAL_CODE).
- an address is found only through its owner: a customer naming another's address gets NOT_FOUND, exactly as for a
  missing one; so does a customer naming another customer.
- an erased customer (resolvers.erasure) changes no more: CUSTOMER_ERASED.

Defaults: an address book has one default shipping and one default billing address once it has any address (the
first address added is both); removing a default passes it to the first address left (by position).

Every change is a customer-level event (`order_id` null) in the customer's activity, visible to the customer, whose
message names what changed, never a value ("Profile updated: name, phone.").
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
import pycountry
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import AddressFields, Customer, CustomerAddress, Market, MarketCountry, PostalCode
from ordergraph.models.columns import id_of
from ordergraph.models.enums import EventType, EventVisibility
from ordergraph.models.text import nfc
from ordergraph.resolvers.access import Viewer, require_agent, require_authenticated
from ordergraph.resolvers.addresses import check_address
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.erasure import refuse_erased
from ordergraph.resolvers.errors import Forbidden, Refusal
from ordergraph.resolvers.events import actor_of, append_event, change

MAX_EMAIL = 254
# The most addresses a customer keeps: enough for home, work and family; a bound for every page that lists them.
MAX_ADDRESSES = 20
# One "@", something before it, a dotted domain after it; no spaces. Deliverability is the mail server's business.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
FALLBACK_REGION = "US"


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What to change; None leaves a field as it is (an empty phone removes it)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class AddressChange:
    address: AddressFields
    default_shipping: bool = False
    default_billing: bool = False


@dataclass(frozen=True, slots=True)
class AddressBookChange:
    """What an address-book mutation answers: the customer and the address it touched (None once removed)."""

    customer: Customer
    address: CustomerAddress | None


# ---- reading the values a client sent ----


def clean_name(raw: str, field: Sequence[str] = ("name",)) -> str:
    name = " ".join(nfc(raw).split())
    if not name:
        raise Refusal("INVALID_NAME", "The name must not be blank.", list(field))
    return name


def clean_email(raw: str, field: Sequence[str] = ("email",)) -> str:
    email = nfc(raw).strip().lower()
    if len(email) > MAX_EMAIL or _EMAIL.fullmatch(email) is None or email.endswith(".invalid"):
        raise Refusal("INVALID_EMAIL", "Give an email address such as name@example.com.", list(field))
    return email


def clean_phone(raw: str, region: str, field: Sequence[str] = ("phone",)) -> str | None:
    """E.164, read in `region` when written without a country code; None for an empty phone."""
    text = nfc(raw).strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Refusal("INVALID_PHONE", "That is not a valid phone number.", list(field))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def default_region(session: AsyncSession) -> str:
    """The default market's first country (by code): where a number without a country code is read."""
    country = (
        await session.exec(
            select(MarketCountry.country)
            .join(Market, col(Market.code) == col(MarketCountry.market_code))
            .where(col(Market.is_default))
            .order_by(col(MarketCountry.country))
            .limit(1)
        )
    ).first()
    return country or FALLBACK_REGION


async def check_saved_address(session: AsyncSession, address: AddressFields, field: Sequence[str]) -> AddressFields:
    """The address as the address book keeps it, or a refusal naming the input field it breaks."""
    country = address.country.strip().upper()
    if len(country) != 2 or pycountry.countries.get(alpha_2=country) is None:
        raise Refusal("UNKNOWN_COUNTRY", "Give the country as a two-letter ISO code, e.g. US.", [*field, "country"])
    values: dict[str, object] = {
        name: (nfc(v).strip() if isinstance(v, str) else v) for name, v in address.model_dump().items()
    }
    optional = {name for name in ("name", "line2", "region", "phone") if not values.get(name)}
    prepared = AddressFields.model_validate({**values, **dict.fromkeys(optional), "country": country})
    cleaned = await check_address(session, prepared, field)
    if not cleaned.line1 or not cleaned.city:
        blank = "line1" if not cleaned.line1 else "city"
        raise Refusal("INVALID_ADDRESS", f"The address's {blank} is required.", [*field, blank])
    postal_table_knows = (
        await session.exec(select(PostalCode.code).where(PostalCode.country == country).limit(1))
    ).first() is not None
    if postal_table_knows and await session.get(PostalCode, (country, cleaned.postal_code)) is None:
        raise Refusal("UNKNOWN_POSTAL_CODE", f"That is not a postal code of {country}.", [*field, "postalCode"])
    if cleaned.phone and cleaned is prepared:  # a country without rules: the phone is still checked, in it
        cleaned = cleaned.model_copy(update={"phone": clean_phone(cleaned.phone, country, [*field, "phone"])})
    return cleaned


# ---- finding what a change acts on ----


def _acting_customer(viewer: Viewer, customer_id: int | None, action: str) -> int:
    """The customer a change is for: a customer's own (naming another is NOT_FOUND), or the one an agent names."""
    require_authenticated(viewer)
    if viewer.is_customer:
        if customer_id is not None and customer_id != viewer.customer_id:
            raise Refusal("NOT_FOUND", "No such customer.", ["customerId"])
        assert viewer.customer_id is not None  # a customer's token always names them
        return viewer.customer_id
    require_agent(viewer, action)
    if customer_id is None:
        raise Refusal("NOT_FOUND", "Name the customer (customerId).", ["customerId"])
    return customer_id


async def _customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise Refusal("NOT_FOUND", "No such customer.", ["customerId"])
    refuse_erased(customer)
    return customer


async def _owned_address(session: AsyncSession, viewer: Viewer, address_id: int) -> tuple[Customer, CustomerAddress]:
    """The address and its customer, when the viewer may change it; NOT_FOUND otherwise, as for a missing one."""
    require_authenticated(viewer)
    if not (viewer.is_customer or viewer.is_agent):
        raise Forbidden("Only customers and agents may change address books.")
    address = await session.get(CustomerAddress, address_id)
    if address is None or (viewer.is_customer and address.customer_id != viewer.customer_id):
        raise Refusal("NOT_FOUND", "No such address.", ["addressId"])
    return await _customer(session, address.customer_id), address


async def _email_taken(session: AsyncSession, email: str, other_than: int | None) -> None:
    query = select(Customer.id).where(sa.func.lower(col(Customer.email)) == email)
    if other_than is not None:
        query = query.where(col(Customer.id) != other_than)
    if (await session.exec(query.limit(1))).first() is not None:
        raise Refusal("EMAIL_TAKEN", "Another customer has this email address.", ["email"])


async def _flush(session: AsyncSession) -> None:
    """Flushes; the unique email index is the last word when two changes race for one address."""
    try:
        await session.flush()
    except IntegrityError:
        raise Refusal("EMAIL_TAKEN", "Another customer has this email address.", ["email"]) from None


async def _addresses(session: AsyncSession, customer_id: int) -> list[CustomerAddress]:
    return list(
        (
            await session.exec(
                select(CustomerAddress)
                .where(CustomerAddress.customer_id == customer_id)
                .order_by(col(CustomerAddress.position))
                .with_for_update()
            )
        ).all()
    )


async def _phone_region(session: AsyncSession, customer_id: int | None, given: Sequence[AddressFields] = ()) -> str:
    if customer_id is not None:
        shipping = (
            await session.exec(
                select(CustomerAddress.country).where(
                    CustomerAddress.customer_id == customer_id, col(CustomerAddress.default_shipping)
                )
            )
        ).first()
        if shipping:
            return shipping
    if given:
        return given[0].country.strip().upper()
    return await default_region(session)


def _record(session: AsyncSession, viewer: Viewer, customer: Customer, type: EventType, message: str) -> None:
    append_event(
        session,
        customer_id=id_of(customer),
        type=type,
        message=message,
        visibility=EventVisibility.CUSTOMER,
        actor=actor_of(viewer),
    )


# ---- customers ----


async def create_customer(
    ctx: RequestContext, *, name: str, email: str, phone: str | None, addresses: Sequence[AddressFields]
) -> Customer:
    """Agents: a new customer, with an address book when addresses are given (the first is the default)."""
    viewer = require_agent(ctx.viewer, "create customers")
    clean = clean_name(name), clean_email(email)
    async with change(ctx.write) as session:
        checked = [await check_saved_address(session, a, ["addresses", str(i)]) for i, a in enumerate(addresses)]
        number = clean_phone(phone, await _phone_region(session, None, checked)) if phone else None
        await _email_taken(session, clean[1], None)
        customer = Customer(name=clean[0], email=clean[1], phone=number, created_at=ctx.clock())
        session.add(customer)
        await _flush(session)
        for position, address in enumerate(checked):
            session.add(
                CustomerAddress(
                    **address.model_dump(),
                    customer_id=id_of(customer),
                    position=position,
                    default_shipping=position == 0,
                    default_billing=position == 0,
                )
            )
        saved = f" with {len(checked)} address{'es' if len(checked) != 1 else ''}" if checked else ""
        _record(session, viewer, customer, EventType.CUSTOMER_CREATED, f"Customer record created{saved}.")
    return customer


async def update_customer(ctx: RequestContext, customer_id: int | None, profile: ProfileChange) -> Customer:
    """A customer's own profile (customer_id None or theirs), or any customer's for an agent."""
    viewer = ctx.viewer
    target = _acting_customer(viewer, customer_id, "edit customers")
    name = clean_name(profile.name) if profile.name is not None else None
    email = clean_email(profile.email) if profile.email is not None else None
    async with change(ctx.write) as session:
        customer = await _customer(session, target)
        changed: list[str] = []
        if name is not None and name != customer.name:
            customer.name = name
            changed.append("name")
        if email is not None and email != customer.email:
            await _email_taken(session, email, target)
            customer.email = email
            changed.append("email")
        if profile.phone is not None:
            number = clean_phone(profile.phone, await _phone_region(session, target))
            if number != customer.phone:
                customer.phone = number
                changed.append("phone")
        if changed:
            session.add(customer)
            await _flush(session)
            _record(session, viewer, customer, EventType.CUSTOMER_UPDATED, f"Profile updated: {', '.join(changed)}.")
    return customer


# ---- address books ----


async def add_address(ctx: RequestContext, customer_id: int | None, new: AddressChange) -> AddressBookChange:
    viewer = ctx.viewer
    target = _acting_customer(viewer, customer_id, "edit customers' address books")
    async with change(ctx.write) as session:
        customer = await _customer(session, target)
        address = await check_saved_address(session, new.address, ["address"])
        book = await _addresses(session, target)
        if len(book) >= MAX_ADDRESSES:
            raise Refusal("ADDRESS_BOOK_FULL", f"An address book holds at most {MAX_ADDRESSES} addresses.", ["address"])
        saved = CustomerAddress(
            **address.model_dump(),
            customer_id=target,
            position=max((a.position for a in book), default=-1) + 1,
        )
        session.add(saved)
        await session.flush()
        await _set_defaults(
            session,
            [*book, saved],
            saved,
            shipping=new.default_shipping or not book,
            billing=new.default_billing or not book,
        )
        _record(session, viewer, customer, EventType.ADDRESS_ADDED, "Address added to the address book.")
    return AddressBookChange(customer, saved)


async def update_address(ctx: RequestContext, address_id: int, new: AddressChange) -> AddressBookChange:
    viewer = ctx.viewer
    async with change(ctx.write) as session:
        customer, saved = await _owned_address(session, viewer, address_id)
        address = await check_saved_address(session, new.address, ["address"])
        for name, value in address.model_dump().items():
            setattr(saved, name, value)
        session.add(saved)
        await session.flush()
        book = await _addresses(session, id_of(customer))
        await _set_defaults(session, book, saved, shipping=new.default_shipping, billing=new.default_billing)
        _record(session, viewer, customer, EventType.ADDRESS_UPDATED, "Address in the address book updated.")
    return AddressBookChange(customer, saved)


async def remove_address(ctx: RequestContext, address_id: int) -> AddressBookChange:
    viewer = ctx.viewer
    async with change(ctx.write) as session:
        customer, saved = await _owned_address(session, viewer, address_id)
        await session.delete(saved)
        await session.flush()
        book = [a for a in await _addresses(session, id_of(customer)) if a.id != saved.id]
        if book:
            await _set_defaults(
                session,
                book,
                book[0],
                shipping=saved.default_shipping and not any(a.default_shipping for a in book),
                billing=saved.default_billing and not any(a.default_billing for a in book),
            )
        _record(session, viewer, customer, EventType.ADDRESS_REMOVED, "Address removed from the address book.")
    return AddressBookChange(customer, None)


async def set_default_address(
    ctx: RequestContext, address_id: int, *, shipping: bool, billing: bool
) -> AddressBookChange:
    """Makes the address the default shipping and/or billing address (at least one must be asked for)."""
    if not (shipping or billing):
        raise Refusal("NOTHING_TO_CHANGE", "Choose shipping, billing or both.", ["shipping"])
    viewer = ctx.viewer
    async with change(ctx.write) as session:
        customer, saved = await _owned_address(session, viewer, address_id)
        book = await _addresses(session, id_of(customer))
        await _set_defaults(session, book, saved, shipping=shipping, billing=billing)
        kinds = " and ".join(k for k, on in (("shipping", shipping), ("billing", billing)) if on)
        _record(session, viewer, customer, EventType.DEFAULT_ADDRESS_CHANGED, f"Default {kinds} address changed.")
    return AddressBookChange(customer, saved)


async def _set_defaults(
    session: AsyncSession, book: Sequence[CustomerAddress], chosen: CustomerAddress, *, shipping: bool, billing: bool
) -> None:
    """Moves the defaults asked for to `chosen`, the old one cleared: at most one of each kind (the caller holds the
    customer's row lock, so two changes to one address book take turns)."""
    for kind, wanted in (("default_shipping", shipping), ("default_billing", billing)):
        if not wanted:
            continue
        for address in book:
            if address is not chosen and getattr(address, kind):
                setattr(address, kind, False)
                session.add(address)
        await session.flush()
        setattr(chosen, kind, True)
        session.add(chosen)
        await session.flush()
