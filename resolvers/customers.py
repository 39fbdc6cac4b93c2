"""Reading customers: the signed-in customer, the agents' search, a customer's activity."""

import re

import phonenumbers
import sqlalchemy as sa
from sqlmodel import col, select

from ordergraph.loaders import CUSTOMER_VISIBLE, PageKey, contains_text
from ordergraph.models import Customer
from ordergraph.models.columns import id_of
from ordergraph.resolvers.access import may_match_personal_data, require_authenticated, require_staff
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.customer_changes import default_region
from ordergraph.resolvers.erasure import CustomerErased
from ordergraph.resolvers.pagination import Connection, Sort, page_size

CUSTOMERS_SORT = Sort("customers", ("id",), descending=False)
ACTIVITY_SORT = Sort("activity", ("sequence",), descending=True)


async def me(ctx: RequestContext) -> Customer | None:
    """The signed-in customer; agents and analysts are not customers."""
    viewer = require_authenticated(ctx.viewer)
    if viewer.customer_id is None:
        return None
    customer: Customer | None = await ctx.loaders.customer.load(viewer.customer_id)
    if customer is not None and customer.erased_at is not None:
        raise CustomerErased("This customer's personal data was erased; the account is closed.")
    return customer


# A term written like a phone number: digits with the usual separators, a + or 00 before a country code.
_PHONE_SHAPED = re.compile(r"\+?[\d\s().\-/]+")
MIN_PHONE_DIGITS = 6


def phone_search_digits(term: str, region: str) -> str | None:
    """The digits a phone-shaped term must be found in (`Customer.phone_digits`, E.164 without the plus), or None
    for a term that is not one: "+1 (617) 555-0100" → "16175550100"; "617-555-0100" and "6175550100" →
    "6175550100" (read in `region`, a national number without its trunk 0)."""
    if _PHONE_SHAPED.fullmatch(term) is None:
        return None
    digits = re.sub(r"\D", "", term)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    international = term.startswith("+") or digits.startswith("00")
    try:
        parsed = phonenumbers.parse("+" + digits.removeprefix("00") if international else term, region)
    except phonenumbers.NumberParseException:
        return digits.lstrip("0") or None
    national = str(parsed.national_number)
    return f"{parsed.country_code}{national}" if international else national


async def search_customers(
    ctx: RequestContext, *, search: str | None, first: int | None, after: str | None
) -> Connection:
    """Agents search by name, email or phone (as literal text, and a phone however it is written: its digits,
    `phone_search_digits`); analysts may list customers but not search them,
    since a match on a masked field would unmask it (resolvers.access.may_match_personal_data)."""
    viewer = require_staff(ctx.viewer)
    if search:
        may_match_personal_data(viewer, search.strip(), identifiers=None)  # refuses analysts
    size = page_size(first, ctx.max_page_size)
    cursor = CUSTOMERS_SORT.decode(after, (int,))
    query = select(Customer)
    async with ctx.read() as session:
        if search:
            term = search.strip()
            matches = [
                contains_text(col(Customer.name), term),
                contains_text(col(Customer.email), term),
                contains_text(col(Customer.phone), term),
            ]
            digits = phone_search_digits(term, await default_region(session)) if _PHONE_SHAPED.fullmatch(term) else None
            if digits is not None:
                matches.append(contains_text(col(Customer.phone_digits), digits))
            query = query.where(sa.or_(*matches))
        if cursor is not None:
            query = query.where(Customer.id > cursor[0])
        rows = list((await session.exec(query.order_by(col(Customer.id)).limit(size + 1))).all())
    return Connection(rows[:size], CUSTOMERS_SORT, len(rows) > size, cursor is not None)


async def customer_activity(
    ctx: RequestContext, customer: Customer, *, first: int | None, after: str | None
) -> Connection:
    """Everything that happened to the customer and their orders, newest first."""
    size = page_size(first, ctx.max_page_size)
    cursor = ACTIVITY_SORT.decode(after, (int,))
    variant = None if ctx.viewer.sees_internal_events else CUSTOMER_VISIBLE
    page = await ctx.loaders.activity_page_by_customer.load(PageKey(id_of(customer), size, cursor, variant))
    return Connection(page.rows, ACTIVITY_SORT, page.has_next_page, cursor is not None)
