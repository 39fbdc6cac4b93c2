"""Business buyers (#21), part 1: companies, their ship-to locations and buyers, and contract price lists; who sees
and who manages which of them.

Who sees what (every rule below answers another company's objects exactly as missing ones: null from queries and
`node`, NOT_FOUND from mutations, so no answer tells whether an ID exists):

- Agents and admins see and manage every company, location, buyer and price list. Analysts see them too, with the
  personal data masked (buyers' names and emails, the billing name and street, a location's recipient, street and
  phone: resolvers.access, schema.permissions), and change nothing.
- A customer who is a buyer of a company (`CompanyBuyer`, one company at most) sees that company: its name, tax ID,
  billing address, payment terms, active ship-to locations, price list and the credit still available. Its credit
  limit and credit in use are for its COMPANY_ADMINs and APPROVERs. The list of buyers is for its COMPANY_ADMINs;
  the others see their own entry only.
- A COMPANY_ADMIN or APPROVER sees every order placed for their company (`node`, `Company.orders`, live updates);
  a BUYER their own orders, as any customer. An order a buyer placed for themselves (not for the company) stays
  theirs alone.
- A COMPANY_ADMIN manages their own company's buyers (change a role, unlink one) and ship-to locations (add, edit,
  archive). Linking a customer to a company, and everything else about a company (its terms, credit, threshold,
  market, price list), is for agents: a company admin cannot pull an outside customer into their company.
- A customer outside every company sees no company, location, buyer or price list.

Rules of a change (each a coded refusal that changes nothing):

- a customer belongs to at most one company (CUSTOMER_IN_COMPANY), an erased one to none (CUSTOMER_ERASED);
- a company that has a COMPANY_ADMIN keeps one: a role change or unlinking that would leave it without is
  LAST_COMPANY_ADMIN (the company's row is locked, so two admins demoting each other take turns);
- payment terms are 15, 30 or 60 days or none (INVALID_PAYMENT_TERMS); credit limit and approval threshold are
  amounts ≥ 0 in the market's currency (INVALID_AMOUNT), and the limit never below the credit in use
  (CREDIT_LIMIT_BELOW_USED);
- a price list's prices are ≥ 0 in its currency (INVALID_PRICE) for SKUs of the catalogue (UNKNOWN_SKU); a price list
  assigned to a company is in its market's currency (CURRENCY_MISMATCH), also when the company's market changes;
- addresses follow the address book's rules (resolvers.customer_changes.check_saved_address); a ship-to location is
  in a country of the company's market (COUNTRY_NOT_IN_MARKET).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.loaders import PageKey, contains_text
from ordergraph.models import (
    AddressFields,
    Company,
    CompanyBuyer,
    CompanyLocation,
    Customer,
    Market,
    MarketCountry,
    Order,
    PriceList,
    PriceListEntry,
    Product,
)
from ordergraph.models.columns import id_of
from ordergraph.models.enums import CompanyRole
from ordergraph.models.money import to_minor
from ordergraph.models.text import nfc
from ordergraph.resolvers.access import Viewer, require_agent, require_authenticated, require_staff
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.customer_changes import check_saved_address, clean_name
from ordergraph.resolvers.erasure import refuse_erased
from ordergraph.resolvers.errors import Forbidden, Refusal
from ordergraph.resolvers.events import change
from ordergraph.resolvers.pagination import Connection, Sort, page_size

PAYMENT_TERMS = (15, 30, 60)
# Bounds of the lists a company shows in one piece (schema/limits.py prices them by these).
MAX_LOCATIONS = 50
MAX_BUYERS = 100
MAX_PRICE_LIST_ENTRIES = 500
MAX_TAX_ID = 40
# A VAT or tax registration number as written on invoices: letters and digits, dots, dashes and slashes.
_TAX_ID = re.compile(r"[A-Z0-9][A-Z0-9./-]{1,39}")
# Roles that see every order of their company.
SEES_COMPANY_ORDERS = frozenset({CompanyRole.COMPANY_ADMIN, CompanyRole.APPROVER})

COMPANIES_SORT = Sort("companies", ("name", "id"), descending=False)
PRICE_LISTS_SORT = Sort("price-lists", ("id",), descending=False)
COMPANY_ORDERS_SORT = Sort("company-orders", ("placed_at", "id"), descending=True)


# ---- who the viewer is to a company ----


async def membership(ctx: RequestContext) -> CompanyBuyer | None:
    """The signed-in customer's company membership; None for anyone else."""
    viewer = ctx.viewer
    if not viewer.is_customer or viewer.customer_id is None:
        return None
    buyer: CompanyBuyer | None = await ctx.loaders.company_buyer.load(viewer.customer_id)
    return buyer


async def can_see_company(ctx: RequestContext, company_id: int) -> bool:
    if ctx.viewer.is_staff:
        return True
    member = await membership(ctx)
    return member is not None and member.company_id == company_id


async def role_in(ctx: RequestContext, company_id: int) -> CompanyRole | None:
    """The viewer's role in this company; None for staff and outsiders."""
    member = await membership(ctx)
    return member.role if member is not None and member.company_id == company_id else None


async def sees_company_orders(ctx: RequestContext, company_id: int) -> bool:
    """Staff, and the company's COMPANY_ADMINs and APPROVERs."""
    return ctx.viewer.is_staff or await role_in(ctx, company_id) in SEES_COMPANY_ORDERS


async def sees_credit(ctx: RequestContext, company_id: int) -> bool:
    """The credit limit and credit in use: staff, COMPANY_ADMINs and APPROVERs (every buyer sees what is left)."""
    return await sees_company_orders(ctx, company_id)


async def sees_all_buyers(ctx: RequestContext, company_id: int) -> bool:
    return ctx.viewer.is_staff or await role_in(ctx, company_id) is CompanyRole.COMPANY_ADMIN


async def sees_company_order(ctx: RequestContext, order: Order) -> bool:
    """Whether a customer other than the order's own may see it: a company order seen by its company's
    COMPANY_ADMINs and APPROVERs (the order's own customer and staff are allowed elsewhere)."""
    return order.company_id is not None and ctx.viewer.is_customer and await sees_company_orders(ctx, order.company_id)


async def visible_company(ctx: RequestContext, company_id: int) -> Company | None:
    require_authenticated(ctx.viewer)
    if not await can_see_company(ctx, company_id):
        return None
    company: Company | None = await ctx.loaders.company.load(company_id)
    return company


async def visible_location(ctx: RequestContext, location_id: int) -> CompanyLocation | None:
    require_authenticated(ctx.viewer)
    location: CompanyLocation | None = await ctx.loaders.company_location.load(location_id)
    if location is None or not await can_see_company(ctx, location.company_id):
        return None
    if location.archived and not ctx.viewer.is_staff and not await sees_all_buyers(ctx, location.company_id):
        return None  # buyers see the active ship-to locations only
    return location


async def visible_buyer(ctx: RequestContext, customer_id: int) -> CompanyBuyer | None:
    require_authenticated(ctx.viewer)
    buyer: CompanyBuyer | None = await ctx.loaders.company_buyer.load(customer_id)
    if buyer is None:
        return None
    if ctx.viewer.customer_id == buyer.customer_id or await sees_all_buyers(ctx, buyer.company_id):
        return buyer
    return None


async def visible_price_list(ctx: RequestContext, price_list_id: int) -> PriceList | None:
    """Staff see every price list; a buyer sees their company's."""
    require_authenticated(ctx.viewer)
    if not ctx.viewer.is_staff:
        member = await membership(ctx)
        company = await ctx.loaders.company.load(member.company_id) if member is not None else None
        if company is None or company.price_list_id != price_list_id:
            return None
    price_list: PriceList | None = await ctx.loaders.price_list.load(price_list_id)
    return price_list


async def resolve_node(ctx: RequestContext, type_name: str, pk: int) -> Any | None:
    """`node(id:)` for this module's types: what the viewer may see, None for anything else."""
    if type_name == "Company":
        return await visible_company(ctx, pk)
    if type_name == "CompanyLocation":
        return await visible_location(ctx, pk)
    if type_name == "CompanyBuyer":
        return await visible_buyer(ctx, pk)
    if type_name == "PriceList":
        return await visible_price_list(ctx, pk)
    return None


NODE_TYPES = frozenset({"Company", "CompanyLocation", "CompanyBuyer", "PriceList"})


# ---- reading a company's lists ----


async def company_locations(ctx: RequestContext, company: Company, *, include_archived: bool) -> list[CompanyLocation]:
    """Active ship-to locations; archived ones too for staff and the company's admins when asked."""
    if not await can_see_company(ctx, id_of(company)):
        return []  # a company reached through an old order of a former buyer (Order.company): its name only
    rows: list[CompanyLocation] = await ctx.loaders.locations_by_company.load(id_of(company))
    if include_archived and (ctx.viewer.is_staff or await sees_all_buyers(ctx, id_of(company))):
        return rows
    return [row for row in rows if not row.archived]


async def company_buyers(ctx: RequestContext, company: Company) -> list[CompanyBuyer]:
    rows: list[CompanyBuyer] = await ctx.loaders.buyers_by_company.load(id_of(company))
    if await sees_all_buyers(ctx, id_of(company)):
        return rows
    return [row for row in rows if row.customer_id == ctx.viewer.customer_id]


async def company_orders(ctx: RequestContext, company: Company, *, first: int | None, after: str | None) -> Connection:
    """The company's orders, newest first: all of them for staff, COMPANY_ADMINs and APPROVERs; a BUYER's own."""
    company_id = id_of(company)
    size = page_size(first, ctx.max_page_size)
    cursor = COMPANY_ORDERS_SORT.decode(after, (datetime, int))
    if await sees_company_orders(ctx, company_id):  # batched: a list of companies reads them together
        page = await ctx.loaders.orders_page_by_company.load(PageKey(company_id, size, cursor))

        async def every() -> int:
            total: int = await ctx.loaders.order_count_by_company.load(company_id)
            return total

        return Connection(page.rows, COMPANY_ORDERS_SORT, page.has_next_page, cursor is not None, every)
    if ctx.viewer.customer_id is None:
        raise Forbidden("Only the company's buyers and staff see its orders.")
    # A buyer's own orders for the company (a buyer sees one company: nothing to batch).
    conditions = [col(Order.company_id) == company_id, col(Order.customer_id) == ctx.viewer.customer_id]
    query = select(Order).where(*conditions)
    if cursor is not None:
        key = sa.tuple_(col(Order.placed_at), col(Order.id))
        query = query.where(key < sa.tuple_(*(sa.literal(v) for v in cursor)))
    query = query.order_by(col(Order.placed_at).desc(), col(Order.id).desc()).limit(size + 1)
    async with ctx.read() as session:
        rows = list((await session.exec(query)).all())

    async def count() -> int:
        async with ctx.read() as session:
            return (await session.exec(select(sa.func.count()).select_from(Order).where(*conditions))).one()

    return Connection(rows[:size], COMPANY_ORDERS_SORT, len(rows) > size, cursor is not None, count)


async def search_companies(
    ctx: RequestContext, *, search: str | None, first: int | None, after: str | None
) -> Connection:
    """Staff: companies by name, then ID; `search` matches the name or the tax ID as literal text (neither is a
    person's data, so analysts may search too)."""
    require_staff(ctx.viewer)
    size = page_size(first, ctx.max_page_size)
    cursor = COMPANIES_SORT.decode(after, (str, int))
    query = select(Company)
    term = (search or "").strip()
    if term:
        query = query.where(sa.or_(contains_text(col(Company.name), term), contains_text(col(Company.tax_id), term)))
    if cursor is not None:
        key = sa.tuple_(col(Company.name), col(Company.id))
        query = query.where(key > sa.tuple_(sa.literal(cursor[0]), sa.literal(cursor[1])))
    query = query.order_by(col(Company.name), col(Company.id)).limit(size + 1)
    async with ctx.read() as session:
        rows = list((await session.exec(query)).all())
    return Connection(rows[:size], COMPANIES_SORT, len(rows) > size, cursor is not None)


async def list_price_lists(ctx: RequestContext, *, first: int | None, after: str | None) -> Connection:
    require_staff(ctx.viewer)
    size = page_size(first, ctx.max_page_size)
    cursor = PRICE_LISTS_SORT.decode(after, (int,))
    query = select(PriceList)
    if cursor is not None:
        query = query.where(col(PriceList.id) > cursor[0])
    async with ctx.read() as session:
        rows = list((await session.exec(query.order_by(col(PriceList.id)).limit(size + 1))).all())
    return Connection(rows[:size], PRICE_LISTS_SORT, len(rows) > size, cursor is not None)


# ---- reading the values a client sent ----

UNSET: Any = object()  # a field the client left out (None: cleared)


@dataclass(frozen=True, slots=True)
class CompanyChange:
    """A new company's values, or what to change (UNSET leaves a field as it is; None clears an optional one)."""

    name: Any = UNSET
    tax_id: Any = UNSET
    market_code: Any = UNSET
    billing_address: Any = UNSET  # AddressFields
    purchase_order_required: Any = UNSET
    payment_terms_days: Any = UNSET
    credit_limit: Any = UNSET  # Decimal, in the market's currency
    approval_threshold: Any = UNSET  # Decimal or None
    price_list_id: Any = UNSET  # int or None


@dataclass(frozen=True, slots=True)
class PriceChange:
    sku: str
    unit_price: Decimal


def clean_tax_id(raw: str | None) -> str | None:
    text = "".join(nfc(raw or "").split()).upper()
    if not text:
        return None
    if _TAX_ID.fullmatch(text) is None:
        raise Refusal("INVALID_TAX_ID", "Give the tax ID as letters and digits (e.g. CZ12345678).", ["taxId"])
    return text


def _amount(value: Decimal, currency: str, field: str) -> int:
    try:
        if not value.is_finite() or value < 0:
            raise ValueError
        minor = to_minor(value, currency)
    except (ValueError, InvalidOperation):
        raise Refusal("INVALID_AMOUNT", f"Give an amount of at least 0 in {currency}.", [field]) from None
    if minor > 2**62:
        raise Refusal("INVALID_AMOUNT", "That amount is too large.", [field])
    return minor


async def _market(session: AsyncSession, code: str) -> Market:
    market = await session.get(Market, code.strip().upper()) if code.strip() else None
    if market is None:
        raise Refusal("UNKNOWN_MARKET", "No such market.", ["market"])
    return market


async def _price_list_for(session: AsyncSession, price_list_id: int | None, currency: str) -> int | None:
    if price_list_id is None:
        return None
    price_list = await session.get(PriceList, price_list_id)
    if price_list is None:
        raise Refusal("NOT_FOUND", "No such price list.", ["priceListId"])
    if price_list.currency != currency:
        raise Refusal(
            "CURRENCY_MISMATCH",
            f"The price list is in {price_list.currency}; the company's market prices in {currency}.",
            ["priceListId"],
        )
    return price_list_id


async def _apply(session: AsyncSession, company: Company, values: CompanyChange) -> None:
    """Checks the values and sets them on `company` (a new one or one locked by the caller)."""
    if values.name is not UNSET:
        company.name = clean_name(values.name or "")
    if values.tax_id is not UNSET:
        company.tax_id = clean_tax_id(values.tax_id)
    market_changed = values.market_code is not UNSET
    if market_changed:
        company.market_code = (await _market(session, values.market_code or "")).code
    market = await _market(session, company.market_code)
    if values.billing_address is not UNSET:
        billing: AddressFields = await check_saved_address(session, values.billing_address, ["billingAddress"])
        company.billing_name = billing.name
        company.billing_line1 = billing.line1
        company.billing_line2 = billing.line2
        company.billing_city = billing.city
        company.billing_region = billing.region
        company.billing_postal_code = billing.postal_code
        company.billing_country = billing.country
    if values.purchase_order_required is not UNSET:
        company.purchase_order_required = bool(values.purchase_order_required)
    if values.payment_terms_days is not UNSET:
        if values.payment_terms_days is not None and values.payment_terms_days not in PAYMENT_TERMS:
            raise Refusal(
                "INVALID_PAYMENT_TERMS", "Payment terms are 15, 30 or 60 days, or none.", ["paymentTermsDays"]
            )
        company.payment_terms_days = values.payment_terms_days
    if values.credit_limit is not UNSET:
        limit = _amount(values.credit_limit or Decimal(0), market.currency, "creditLimit")
        if limit < company.credit_used_minor:
            raise Refusal("CREDIT_LIMIT_BELOW_USED", "The credit limit is below the credit in use.", ["creditLimit"])
        company.credit_limit_minor = limit
    if values.approval_threshold is not UNSET:
        threshold = values.approval_threshold
        company.approval_threshold_minor = (
            None if threshold is None else _amount(threshold, market.currency, "approvalThreshold")
        )
    if values.price_list_id is not UNSET:
        company.price_list_id = await _price_list_for(session, values.price_list_id, market.currency)
    elif market_changed and company.price_list_id is not None:
        await _price_list_for(session, company.price_list_id, market.currency)


# ---- companies (agents) ----


async def create_company(ctx: RequestContext, values: CompanyChange) -> Company:
    require_agent(ctx.viewer, "create companies")
    for required in ("name", "market_code", "billing_address"):
        if getattr(values, required) is UNSET:
            raise Refusal("INVALID_INPUT", f"{required} is required.", [required])
    async with change(ctx.write) as session:
        company = Company(
            name="",
            market_code="",
            billing_line1="",
            billing_city="",
            billing_postal_code="",
            billing_country="",
            created_at=ctx.clock(),
        )
        await _apply(session, company, values)
        session.add(company)
        await session.flush()
    return company


async def _locked_company(session: AsyncSession, company_id: int) -> Company:
    company = await session.get(Company, company_id, with_for_update=True)
    if company is None:
        raise Refusal("NOT_FOUND", "No such company.", ["companyId"])
    return company


async def update_company(ctx: RequestContext, company_id: int, values: CompanyChange) -> Company:
    require_agent(ctx.viewer, "change companies")
    async with change(ctx.write) as session:
        company = await _locked_company(session, company_id)
        await _apply(session, company, values)
        session.add(company)
        await session.flush()
    return company


# ---- ship-to locations (agents, and the company's admins) ----


def _may_manage(viewer: Viewer) -> None:
    """Decided on the role alone, before anything is read: analysts change nothing."""
    require_authenticated(viewer)
    if not (viewer.is_agent or viewer.is_customer):
        raise Forbidden("Only agents and company admins may manage a company's buyers and locations.")


async def _managed_company(session: AsyncSession, viewer: Viewer, company_id: int) -> Company:
    """The company, locked, when the viewer may manage its buyers and locations; NOT_FOUND otherwise (another
    company's is answered as a missing one)."""
    _may_manage(viewer)
    if viewer.is_customer:
        member = await session.get(CompanyBuyer, viewer.customer_id) if viewer.customer_id is not None else None
        if member is None or member.company_id != company_id or member.role is not CompanyRole.COMPANY_ADMIN:
            raise Refusal("NOT_FOUND", "No such company.", ["companyId"])
    return await _locked_company(session, company_id)


async def _checked_location(session: AsyncSession, company: Company, address: AddressFields) -> AddressFields:
    checked = await check_saved_address(session, address, ["address"])
    in_market = await session.get(MarketCountry, checked.country)
    if in_market is None or in_market.market_code != company.market_code:
        raise Refusal(
            "COUNTRY_NOT_IN_MARKET",
            "A ship-to location is in a country of the company's market.",
            ["address", "country"],
        )
    return checked


def _label(raw: str) -> str:
    label = " ".join(nfc(raw).split())
    if not label:
        raise Refusal("INVALID_INPUT", "Give the location a label.", ["label"])
    return label


async def add_location(ctx: RequestContext, company_id: int, *, label: str, address: AddressFields) -> CompanyLocation:
    _may_manage(ctx.viewer)
    async with change(ctx.write) as session:
        company = await _managed_company(session, ctx.viewer, company_id)
        clean_label = _label(label)
        checked = await _checked_location(session, company, address)
        count = (
            await session.exec(
                select(sa.func.count()).select_from(CompanyLocation).where(CompanyLocation.company_id == company_id)
            )
        ).one()
        if count >= MAX_LOCATIONS:
            raise Refusal("TOO_MANY_LOCATIONS", f"A company has at most {MAX_LOCATIONS} ship-to locations.", ["label"])
        location = CompanyLocation(**checked.model_dump(), company_id=id_of(company), label=clean_label)
        session.add(location)
        await session.flush()
    return location


async def _company_managing(
    session: AsyncSession, viewer: Viewer, row: CompanyLocation | CompanyBuyer | None, unknown: Refusal
) -> Company:
    """The company of a company's row (a location, a buyer) that this viewer manages. A missing row and another
    company's row are refused alike (`unknown`), so that the other company's rows read as unknown ids."""
    if row is None:
        raise unknown
    try:
        return await _managed_company(session, viewer, row.company_id)
    except Refusal:
        raise unknown from None


async def _managed_location(session: AsyncSession, viewer: Viewer, location_id: int) -> tuple[Company, CompanyLocation]:
    location = await session.get(CompanyLocation, location_id)
    unknown = Refusal("NOT_FOUND", "No such location.", ["locationId"])
    company = await _company_managing(session, viewer, location, unknown)
    assert location is not None
    return company, location


async def update_location(
    ctx: RequestContext, location_id: int, *, label: str | None, address: AddressFields | None
) -> CompanyLocation:
    _may_manage(ctx.viewer)
    async with change(ctx.write) as session:
        company, location = await _managed_location(session, ctx.viewer, location_id)
        if label is not None:
            location.label = _label(label)
        if address is not None:
            for name, value in (await _checked_location(session, company, address)).model_dump().items():
                setattr(location, name, value)
        session.add(location)
        await session.flush()
    return location


async def set_location_archived(ctx: RequestContext, location_id: int, *, archived: bool) -> CompanyLocation:
    """Archived locations are no longer offered for new orders; orders that ship there keep their address."""
    _may_manage(ctx.viewer)
    async with change(ctx.write) as session:
        _, location = await _managed_location(session, ctx.viewer, location_id)
        location.archived = archived
        session.add(location)
        await session.flush()
    return location


# ---- buyers ----


@dataclass(frozen=True, slots=True)
class BuyerChange:
    """What a buyer mutation answers: the buyer (None once unlinked) and their company."""

    company: Company
    buyer: CompanyBuyer | None


async def _admins_left(session: AsyncSession, company_id: int, without: int) -> int:
    query = select(sa.func.count()).select_from(CompanyBuyer)
    query = query.where(
        CompanyBuyer.company_id == company_id,
        CompanyBuyer.role == CompanyRole.COMPANY_ADMIN,
        CompanyBuyer.customer_id != without,
    )
    return int((await session.exec(query)).one())


async def link_buyer(ctx: RequestContext, company_id: int, customer_id: int, role: CompanyRole) -> BuyerChange:
    """Agents: an existing customer becomes a buyer of the company."""
    require_agent(ctx.viewer, "link buyers to companies")
    async with change(ctx.write) as session:
        company = await _locked_company(session, company_id)
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise Refusal("NOT_FOUND", "No such customer.", ["customerId"])
        refuse_erased(customer)
        if await session.get(CompanyBuyer, customer_id) is not None:
            raise Refusal("CUSTOMER_IN_COMPANY", "The customer is already a buyer of a company.", ["customerId"])
        count = (
            await session.exec(
                select(sa.func.count()).select_from(CompanyBuyer).where(CompanyBuyer.company_id == company_id)
            )
        ).one()
        if count >= MAX_BUYERS:
            raise Refusal("TOO_MANY_BUYERS", f"A company has at most {MAX_BUYERS} buyers.", ["customerId"])
        buyer = CompanyBuyer(customer_id=customer_id, company_id=company_id, role=role, created_at=ctx.clock())
        session.add(buyer)
        try:
            await session.flush()
        except IntegrityError:  # another link of the same customer won the race
            raise Refusal(
                "CUSTOMER_IN_COMPANY", "The customer is already a buyer of a company.", ["customerId"]
            ) from None
    return BuyerChange(company, buyer)


async def _managed_buyer(session: AsyncSession, viewer: Viewer, customer_id: int) -> tuple[Company, CompanyBuyer]:
    buyer = await session.get(CompanyBuyer, customer_id)
    company = await _company_managing(session, viewer, buyer, Refusal("NOT_FOUND", "No such buyer.", ["buyerId"]))
    assert buyer is not None
    await session.refresh(buyer)  # read again under the company's lock
    return company, buyer


async def set_buyer_role(ctx: RequestContext, customer_id: int, role: CompanyRole) -> BuyerChange:
    _may_manage(ctx.viewer)
    async with change(ctx.write) as session:
        company, buyer = await _managed_buyer(session, ctx.viewer, customer_id)
        if (
            buyer.role is CompanyRole.COMPANY_ADMIN
            and role is not CompanyRole.COMPANY_ADMIN
            and await _admins_left(session, buyer.company_id, customer_id) == 0
        ):
            raise Refusal("LAST_COMPANY_ADMIN", "The company would be left without a company admin.", ["role"])
        buyer.role = role
        session.add(buyer)
        await session.flush()
    return BuyerChange(company, buyer)


async def unlink_buyer(ctx: RequestContext, customer_id: int) -> BuyerChange:
    """The customer is no longer a buyer of the company; their orders stay the company's."""
    _may_manage(ctx.viewer)
    async with change(ctx.write) as session:
        company, buyer = await _managed_buyer(session, ctx.viewer, customer_id)
        if buyer.role is CompanyRole.COMPANY_ADMIN and await _admins_left(session, buyer.company_id, customer_id) == 0:
            raise Refusal("LAST_COMPANY_ADMIN", "The company would be left without a company admin.", ["buyerId"])
        await session.delete(buyer)
        await session.flush()
    return BuyerChange(company, None)


# ---- price lists (agents) ----


async def create_price_list(ctx: RequestContext, *, name: str, currency: str) -> PriceList:
    require_agent(ctx.viewer, "create price lists")
    clean = clean_name(name)
    code = currency.strip().upper()
    async with change(ctx.write) as session:
        known = (await session.exec(select(Market.code).where(Market.currency == code).limit(1))).first()
        if known is None:
            raise Refusal("UNKNOWN_CURRENCY", "Give the currency of a market (ISO 4217, e.g. USD).", ["currency"])
        price_list = PriceList(name=clean, currency=code, created_at=ctx.clock())
        session.add(price_list)
        await session.flush()
    return price_list


async def set_prices(
    ctx: RequestContext, price_list_id: int, *, prices: Sequence[PriceChange], remove: Sequence[str]
) -> PriceList:
    """Sets the given SKUs' prices (replacing any) and removes the prices of `remove`, all or nothing."""
    require_agent(ctx.viewer, "change price lists")
    async with change(ctx.write) as session:
        price_list = await session.get(PriceList, price_list_id, with_for_update=True)
        if price_list is None:
            raise Refusal("NOT_FOUND", "No such price list.", ["priceListId"])
        skus = [p.sku.strip() for p in prices]
        known = set((await session.exec(select(Product.sku).where(col(Product.sku).in_(set(skus))))).all())
        for index, (sku, price) in enumerate(zip(skus, prices, strict=True)):
            if sku not in known:
                raise Refusal("UNKNOWN_SKU", f"There is no product {sku!r}.", ["prices", str(index), "sku"])
            try:
                _amount(price.unit_price, price_list.currency, "unitPrice")
            except Refusal:
                raise Refusal(
                    "INVALID_PRICE",
                    f"Give a price of at least 0 in {price_list.currency}.",
                    ["prices", str(index), "unitPrice"],
                ) from None
        if len(set(skus)) != len(skus):
            raise Refusal("DUPLICATE_SKU", "Each SKU once.", ["prices"])
        removed = {sku.strip() for sku in remove}
        if removed:
            await session.exec(
                sa.delete(PriceListEntry).where(
                    col(PriceListEntry.price_list_id) == price_list_id, col(PriceListEntry.sku).in_(removed)
                )
            )
        for sku, price in zip(skus, prices, strict=True):
            minor = to_minor(price.unit_price, price_list.currency)
            entry = await session.get(PriceListEntry, (price_list_id, sku))
            if entry is None:
                session.add(PriceListEntry(price_list_id=price_list_id, sku=sku, unit_price_minor=minor))
            else:
                entry.unit_price_minor = minor
                session.add(entry)
        await session.flush()
        count = (
            await session.exec(
                select(sa.func.count()).select_from(PriceListEntry).where(PriceListEntry.price_list_id == price_list_id)
            )
        ).one()
        if count > MAX_PRICE_LIST_ENTRIES:
            raise Refusal("TOO_MANY_PRICES", f"A price list holds at most {MAX_PRICE_LIST_ENTRIES} prices.", ["prices"])
    return price_list


async def assign_price_list(ctx: RequestContext, company_id: int, price_list_id: int | None) -> Company:
    return await update_company(ctx, company_id, CompanyChange(price_list_id=price_list_id))


# ---- a customer's record, reached through their company ----


def reached_as_colleague(viewer: Viewer, customer_id: int) -> bool:
    """A customer reading another customer's record: only a company's admins and approvers can reach one (through
    a company order's `customer`), and they see the buyer's name and email there, never the buyer's own orders,
    activity, addresses or notification settings."""
    return viewer.is_customer and viewer.customer_id != customer_id


def empty_page(sort: Sort) -> Connection:
    async def count() -> int:
        return 0

    return Connection([], sort, False, False, count)


async def company_of_customer(ctx: RequestContext, customer_id: int) -> Company | None:
    buyer = await visible_buyer(ctx, customer_id)
    return await visible_company(ctx, buyer.company_id) if buyer is not None else None
