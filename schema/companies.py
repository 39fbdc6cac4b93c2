"""Business buyers (#21): companies, their buyers and ship-to locations, and price lists.

Who sees and manages what is resolvers.companies'; this maps inputs to domain values and refusals to userErrors.
Analysts read companies with the personal data masked: buyers' names and emails, the billing name and street, a
location's recipient, street and phone (the city, region, postal code and country stay).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from ordergraph import models
from ordergraph.models import enums
from ordergraph.resolvers import companies
from ordergraph.schema.common import Connection, Money, UserError, money
from ordergraph.schema.info import Info
from ordergraph.schema.market import Market
from ordergraph.schema.node import Node, encode_global_id, parse_global_id
from ordergraph.schema.permissions import PersonalData
from ordergraph.schema.placement import AddressInput

if TYPE_CHECKING:
    from ordergraph.schema.catalog import Product
    from ordergraph.schema.customer import Customer
    from ordergraph.schema.order import OrderConnection

CompanyRole = strawberry.enum(
    enums.CompanyRole,
    description="BUYER places and sees their own orders; APPROVER also sees every order of the company and approves "
    "those above its threshold; COMPANY_ADMIN sees every order and manages the company's buyers and locations.",
)


@strawberry.type(
    description="A company's billing or ship-to address. For analysts the name, street lines and phone are null."
)
class CompanyAddress:
    name: str | None = strawberry.field(extensions=[PersonalData()])
    line1: str | None = strawberry.field(extensions=[PersonalData()])
    line2: str | None = strawberry.field(extensions=[PersonalData()])
    city: str
    region: str | None
    postal_code: str
    country: str
    phone: str | None = strawberry.field(extensions=[PersonalData()])


@dataclass(frozen=True, slots=True)
class _Billing:
    name: str | None
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    phone: str | None = None


async def _currency(info: Info, company: models.Company) -> str:
    market: models.Market | None = await info.context.loaders.market.load(company.market_code)
    return market.currency if market is not None else "USD"


@strawberry.type(description="A price list's price for one SKU.")
class PriceListEntry:
    sku: str

    @strawberry.field
    async def unit_price(root: models.PriceListEntry, info: Info) -> Money:
        price_list: models.PriceList = await info.context.loaders.price_list.load(root.price_list_id)
        return money(root.unit_price_minor, price_list.currency)

    @strawberry.field
    async def product(
        root: models.PriceListEntry, info: Info
    ) -> Annotated["Product", strawberry.lazy("ordergraph.schema.catalog")] | None:
        return await info.context.loaders.product.load(root.sku)


@strawberry.type(description="Contract prices in one currency; they replace the catalogue's for their SKUs.")
class PriceList(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.PriceList)

    @strawberry.field
    def id(root: models.PriceList) -> strawberry.ID:
        return strawberry.ID(encode_global_id("PriceList", root.id))

    name: str
    currency: str
    created_at: datetime

    @strawberry.field(description=f"By SKU; at most {companies.MAX_PRICE_LIST_ENTRIES}.")
    async def entries(root: models.PriceList, info: Info) -> list[PriceListEntry]:
        return await info.context.loaders.entries_by_price_list.load(root.id)  # type: ignore[no-any-return]


@strawberry.type(description="A ship-to address of a company.")
class CompanyLocation(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.CompanyLocation)

    @strawberry.field
    def id(root: models.CompanyLocation) -> strawberry.ID:
        return strawberry.ID(encode_global_id("CompanyLocation", root.id))

    label: str
    archived: bool = strawberry.field(description="Archived locations are not offered for new orders.")

    @strawberry.field
    def address(root: models.CompanyLocation) -> CompanyAddress:
        return root  # type: ignore[return-value]  (strawberry reads the fields off the row)

    @strawberry.field
    async def company(root: models.CompanyLocation, info: Info) -> "Company | None":
        return await companies.visible_company(info.context, root.company_id)  # type: ignore[return-value]


@strawberry.type(description="A customer buying for a company, with their role. Name and email: null for analysts.")
class CompanyBuyer(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.CompanyBuyer)

    @strawberry.field
    def id(root: models.CompanyBuyer) -> strawberry.ID:
        return strawberry.ID(encode_global_id("CompanyBuyer", root.customer_id))

    role: CompanyRole

    @strawberry.field(description="Since when the customer buys for the company.")
    def since(root: models.CompanyBuyer) -> datetime:
        return root.created_at

    @strawberry.field(extensions=[PersonalData()])
    async def name(root: models.CompanyBuyer, info: Info) -> str | None:
        customer: models.Customer | None = await info.context.loaders.customer.load(root.customer_id)
        return customer.name if customer is not None else None

    @strawberry.field(extensions=[PersonalData()])
    async def email(root: models.CompanyBuyer, info: Info) -> str | None:
        customer: models.Customer | None = await info.context.loaders.customer.load(root.customer_id)
        return customer.email if customer is not None else None

    @strawberry.field(
        description="The customer record: staff, and the buyer themselves; null for the company's other buyers."
    )
    async def customer(
        root: models.CompanyBuyer, info: Info
    ) -> Annotated["Customer", strawberry.lazy("ordergraph.schema.customer")] | None:
        viewer = info.context.viewer
        if not (viewer.is_staff or viewer.customer_id == root.customer_id):
            return None
        return await info.context.loaders.customer.load(root.customer_id)

    @strawberry.field
    async def company(root: models.CompanyBuyer, info: Info) -> "Company | None":
        return await companies.visible_company(info.context, root.company_id)  # type: ignore[return-value]


@strawberry.type(
    description="A business customer. Its buyers, billing name and street are masked for analysts; credit limit and "
    "credit used are for staff, its company admins and approvers (null for other buyers)."
)
class Company(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Company)

    @strawberry.field
    def id(root: models.Company) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Company", root.id))

    name: str
    tax_id: str | None
    purchase_order_required: bool
    payment_terms_days: int | None = strawberry.field(description="15, 30 or 60; null: pays by card only.")
    created_at: datetime

    @strawberry.field
    async def market(root: models.Company, info: Info) -> Market:
        return await info.context.loaders.market.load(root.market_code)  # type: ignore[no-any-return]

    @strawberry.field(description="Null for customers outside the company (a former buyer's old order).")
    async def billing_address(root: models.Company, info: Info) -> CompanyAddress | None:
        if not await companies.can_see_company(info.context, root.id):  # type: ignore[arg-type]
            return None
        return _Billing(  # type: ignore[return-value]
            name=root.billing_name,
            line1=root.billing_line1,
            line2=root.billing_line2,
            city=root.billing_city,
            region=root.billing_region,
            postal_code=root.billing_postal_code,
            country=root.billing_country,
        )

    @strawberry.field(description="Null for buyers who are not company admins or approvers.")
    async def credit_limit(root: models.Company, info: Info) -> Money | None:
        if not await companies.sees_credit(info.context, root.id):  # type: ignore[arg-type]
            return None
        return money(root.credit_limit_minor, await _currency(info, root))

    @strawberry.field(description="On-account orders not yet paid or released. Null as creditLimit is.")
    async def credit_used(root: models.Company, info: Info) -> Money | None:
        if not await companies.sees_credit(info.context, root.id):  # type: ignore[arg-type]
            return None
        return money(root.credit_used_minor, await _currency(info, root))

    @strawberry.field(description="What on-account orders may still commit; null for customers outside the company.")
    async def credit_available(root: models.Company, info: Info) -> Money | None:
        if not await companies.can_see_company(info.context, root.id):  # type: ignore[arg-type]
            return None
        return money(max(root.credit_limit_minor - root.credit_used_minor, 0), await _currency(info, root))

    @strawberry.field(description="Orders above this wait for an approver; null: none do.")
    async def approval_threshold(root: models.Company, info: Info) -> Money | None:
        if root.approval_threshold_minor is None or not await companies.can_see_company(info.context, root.id):  # type: ignore[arg-type]
            return None
        return money(root.approval_threshold_minor, await _currency(info, root))

    @strawberry.field
    async def price_list(root: models.Company, info: Info) -> PriceList | None:
        if root.price_list_id is None:
            return None
        return await companies.visible_price_list(info.context, root.price_list_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Ship-to locations; archived ones too when asked, for staff and company admins. "
        f"At most {companies.MAX_LOCATIONS}."
    )
    async def locations(root: models.Company, info: Info, include_archived: bool = False) -> list[CompanyLocation]:
        return await companies.company_locations(  # type: ignore[return-value]
            info.context, root, include_archived=include_archived
        )

    @strawberry.field(
        description="Staff and company admins: every buyer; other buyers: their own entry. Names and emails null "
        f"for analysts. At most {companies.MAX_BUYERS}."
    )
    async def buyers(root: models.Company, info: Info) -> list[CompanyBuyer]:
        return await companies.company_buyers(info.context, root)  # type: ignore[return-value]

    @strawberry.field(
        description="Orders placed for the company, newest first: every one for staff, company admins and "
        "approvers; a buyer's own for a buyer."
    )
    async def orders(
        root: models.Company, info: Info, first: int | None = None, after: str | None = None
    ) -> Annotated["OrderConnection", strawberry.lazy("ordergraph.schema.order")]:
        return await companies.company_orders(info.context, root, first=first, after=after)  # type: ignore[return-value]


@strawberry.type(name="CompanyConnection")
class CompanyConnection(Connection[Company]):
    pass


@strawberry.type(name="PriceListConnection")
class PriceListConnection(Connection[PriceList]):
    pass


# ---- inputs and payloads ----


@strawberry.input(description="Agents: a new company. Amounts are in the market's currency.")
class CreateCompanyInput:
    name: str
    tax_id: str | None = None
    market: str = strawberry.field(description="The market's code; the company buys in its currency.")
    billing_address: AddressInput
    purchase_order_required: bool = False
    payment_terms_days: int | None = strawberry.field(default=None, description="15, 30 or 60; null: card only.")
    credit_limit: Decimal = Decimal(0)
    approval_threshold: Decimal | None = None
    price_list_id: strawberry.ID | None = None


@strawberry.input(description="Agents: only the fields given change; null clears an optional one.")
class UpdateCompanyInput:
    company_id: strawberry.ID
    name: str | None = strawberry.UNSET
    tax_id: str | None = strawberry.UNSET
    market: str | None = strawberry.UNSET
    billing_address: AddressInput | None = strawberry.UNSET
    purchase_order_required: bool | None = strawberry.UNSET
    payment_terms_days: int | None = strawberry.UNSET
    credit_limit: Decimal | None = strawberry.UNSET
    approval_threshold: Decimal | None = strawberry.UNSET


@strawberry.input(description="Agents: the company's price list (in its market's currency); null removes it.")
class AssignCompanyPriceListInput:
    company_id: strawberry.ID
    price_list_id: strawberry.ID | None = None


@strawberry.input(description="Agents, and the company's admins for their own company.")
class AddCompanyLocationInput:
    company_id: strawberry.ID
    label: str
    address: AddressInput


@strawberry.input(description="Only what is given changes.")
class UpdateCompanyLocationInput:
    location_id: strawberry.ID
    label: str | None = None
    address: AddressInput | None = None


@strawberry.input(description="archived: false brings an archived location back.")
class ArchiveCompanyLocationInput:
    location_id: strawberry.ID
    archived: bool = True


@strawberry.input(description="Agents: an existing customer buys for the company (a customer is in one at most).")
class AddCompanyBuyerInput:
    company_id: strawberry.ID
    customer_id: strawberry.ID
    role: CompanyRole = CompanyRole.BUYER  # type: ignore[attr-defined]


@strawberry.input(description="Agents, and the company's admins.")
class SetCompanyBuyerRoleInput:
    buyer_id: strawberry.ID
    role: CompanyRole


@strawberry.input(description="Agents, and the company's admins; the buyer's orders stay the company's.")
class RemoveCompanyBuyerInput:
    buyer_id: strawberry.ID


@strawberry.input(description="Agents: a new, empty price list in a market's currency.")
class CreatePriceListInput:
    name: str
    currency: str


@strawberry.input
class PriceInput:
    sku: str
    unit_price: Decimal = strawberry.field(description="At least 0, in the price list's currency.")


@strawberry.input(description="Agents: prices set (replacing any for the SKU) and SKUs removed, all or nothing.")
class SetPriceListPricesInput:
    price_list_id: strawberry.ID
    prices: list[PriceInput] = strawberry.field(default_factory=list)
    remove: list[str] = strawberry.field(default_factory=list, description="SKUs whose prices go.")


@strawberry.type
class CompanyPayload:
    company: Company | None
    user_errors: list[UserError]


@strawberry.type
class CompanyLocationPayload:
    location: CompanyLocation | None
    user_errors: list[UserError]


@strawberry.type
class CompanyBuyerPayload:
    company: Company | None
    buyer: CompanyBuyer | None = strawberry.field(description="Null once removed, or when refused.")
    user_errors: list[UserError]


@strawberry.type
class PriceListPayload:
    price_list: PriceList | None
    user_errors: list[UserError]


def _id(global_id: strawberry.ID, type_name: str) -> int:
    return parse_global_id(global_id, type_name)[1]


def _optional_id(global_id: strawberry.ID | None, type_name: str) -> int | None:
    return _id(global_id, type_name) if global_id else None


def _address(value: AddressInput) -> models.AddressFields:
    """The values as sent; resolvers.companies checks them (its refusals name the input field)."""
    return models.AddressFields.model_construct(**vars(value))


def _given(value: Any, convert: Callable[[Any], Any] = lambda v: v) -> Any:
    return companies.UNSET if value is strawberry.UNSET else (None if value is None else convert(value))


async def _answer(payload: Callable[[Any, list[UserError]], Any], action: Callable[[], Awaitable[Any]]) -> Any:
    from ordergraph.schema.mutation import answer  # schema.mutation mixes this module's types in

    return await answer(payload, action)


def _company_payload(company: Any, errors: list[UserError]) -> CompanyPayload:
    return CompanyPayload(company=company, user_errors=errors)


def _location_payload(location: Any, errors: list[UserError]) -> CompanyLocationPayload:
    return CompanyLocationPayload(location=location, user_errors=errors)


def _buyer_payload(result: companies.BuyerChange | None, errors: list[UserError]) -> CompanyBuyerPayload:
    return CompanyBuyerPayload(
        company=result.company if result else None,  # type: ignore[arg-type]
        buyer=result.buyer if result else None,  # type: ignore[arg-type]
        user_errors=errors,
    )


def _price_list_payload(price_list: Any, errors: list[UserError]) -> PriceListPayload:
    return PriceListPayload(price_list=price_list, user_errors=errors)


@strawberry.type
class CompanyQueries:
    """Mixed into the root Query type (schema/query.py)."""

    @strawberry.field(description="Staff: companies by name; `search` matches the name or the tax ID.")
    async def companies(
        self, info: Info, search: str | None = None, first: int | None = None, after: str | None = None
    ) -> CompanyConnection:
        return await companies.search_companies(  # type: ignore[return-value]
            info.context, search=search, first=first, after=after
        )

    @strawberry.field(description="A company the caller may see (staff: any; a buyer: their own); null otherwise.")
    async def company(self, info: Info, id: strawberry.ID) -> Company | None:
        return await companies.visible_company(info.context, _id(id, "Company"))  # type: ignore[return-value]

    @strawberry.field(description="Staff: every price list, oldest first.")
    async def price_lists(self, info: Info, first: int | None = None, after: str | None = None) -> PriceListConnection:
        return await companies.list_price_lists(info.context, first=first, after=after)  # type: ignore[return-value]


@strawberry.type
class CompanyMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""

    @strawberry.mutation(description="Agents: a new company with its billing address, terms and limits.")
    async def create_company(self, info: Info, input: CreateCompanyInput) -> CompanyPayload:
        values = companies.CompanyChange(
            name=input.name,
            tax_id=input.tax_id,
            market_code=input.market,
            billing_address=_address(input.billing_address),
            purchase_order_required=input.purchase_order_required,
            payment_terms_days=input.payment_terms_days,
            credit_limit=input.credit_limit,
            approval_threshold=input.approval_threshold,
            price_list_id=_optional_id(input.price_list_id, "PriceList"),
        )
        return await _answer(_company_payload, lambda: companies.create_company(info.context, values))

    @strawberry.mutation(description="Agents: a company's name, tax ID, market, billing address, terms or limits.")
    async def update_company(self, info: Info, input: UpdateCompanyInput) -> CompanyPayload:
        company_id = _id(input.company_id, "Company")
        values = companies.CompanyChange(
            name=_given(input.name),
            tax_id=_given(input.tax_id),
            market_code=_given(input.market),
            billing_address=_given(input.billing_address, _address),
            purchase_order_required=_given(input.purchase_order_required, bool),
            payment_terms_days=_given(input.payment_terms_days),
            credit_limit=_given(input.credit_limit),
            approval_threshold=_given(input.approval_threshold),
        )
        return await _answer(_company_payload, lambda: companies.update_company(info.context, company_id, values))

    @strawberry.mutation(description="Agents: the price list a company buys at; its currency is the market's.")
    async def assign_company_price_list(self, info: Info, input: AssignCompanyPriceListInput) -> CompanyPayload:
        company_id = _id(input.company_id, "Company")
        price_list_id = _optional_id(input.price_list_id, "PriceList")
        return await _answer(
            _company_payload, lambda: companies.assign_price_list(info.context, company_id, price_list_id)
        )

    @strawberry.mutation(description="A ship-to location, in a country of the company's market.")
    async def add_company_location(self, info: Info, input: AddCompanyLocationInput) -> CompanyLocationPayload:
        company_id = _id(input.company_id, "Company")
        return await _answer(
            _location_payload,
            lambda: companies.add_location(
                info.context, company_id, label=input.label, address=_address(input.address)
            ),
        )

    @strawberry.mutation(description="A ship-to location's label or address.")
    async def update_company_location(self, info: Info, input: UpdateCompanyLocationInput) -> CompanyLocationPayload:
        location_id = _id(input.location_id, "CompanyLocation")
        address = _address(input.address) if input.address is not None else None
        return await _answer(
            _location_payload,
            lambda: companies.update_location(info.context, location_id, label=input.label, address=address),
        )

    @strawberry.mutation(description="A ship-to location archived (or brought back); orders keep their address.")
    async def archive_company_location(self, info: Info, input: ArchiveCompanyLocationInput) -> CompanyLocationPayload:
        location_id = _id(input.location_id, "CompanyLocation")
        return await _answer(
            _location_payload,
            lambda: companies.set_location_archived(info.context, location_id, archived=input.archived),
        )

    @strawberry.mutation(description="Agents: an existing customer becomes a buyer of the company.")
    async def add_company_buyer(self, info: Info, input: AddCompanyBuyerInput) -> CompanyBuyerPayload:
        company_id = _id(input.company_id, "Company")
        customer_id = _id(input.customer_id, "Customer")
        role = enums.CompanyRole(input.role.value)
        return await _answer(_buyer_payload, lambda: companies.link_buyer(info.context, company_id, customer_id, role))

    @strawberry.mutation(description="A buyer's role; a company keeps at least one company admin once it has one.")
    async def set_company_buyer_role(self, info: Info, input: SetCompanyBuyerRoleInput) -> CompanyBuyerPayload:
        customer_id = _id(input.buyer_id, "CompanyBuyer")
        role = enums.CompanyRole(input.role.value)
        return await _answer(_buyer_payload, lambda: companies.set_buyer_role(info.context, customer_id, role))

    @strawberry.mutation(description="A buyer no longer buys for the company.")
    async def remove_company_buyer(self, info: Info, input: RemoveCompanyBuyerInput) -> CompanyBuyerPayload:
        customer_id = _id(input.buyer_id, "CompanyBuyer")
        return await _answer(_buyer_payload, lambda: companies.unlink_buyer(info.context, customer_id))

    @strawberry.mutation(description="Agents: a new price list.")
    async def create_price_list(self, info: Info, input: CreatePriceListInput) -> PriceListPayload:
        return await _answer(
            _price_list_payload,
            lambda: companies.create_price_list(info.context, name=input.name, currency=input.currency),
        )

    @strawberry.mutation(description="Agents: a price list's prices set and removed.")
    async def set_price_list_prices(self, info: Info, input: SetPriceListPricesInput) -> PriceListPayload:
        price_list_id = _id(input.price_list_id, "PriceList")
        prices = [companies.PriceChange(p.sku, p.unit_price) for p in input.prices]
        return await _answer(
            _price_list_payload,
            lambda: companies.set_prices(info.context, price_list_id, prices=prices, remove=input.remove),
        )
