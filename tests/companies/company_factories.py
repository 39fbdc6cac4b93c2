"""Companies for tests (#21), written straight to the database: a company in the US market with ship-to locations,
buyers of each role (new customers, registered in the World under "<key>-buyer", "<key>-approver", "<key>-admin"),
and a price list of contract prices."""

from dataclasses import dataclass, field

from factories import NOW, World

from ordergraph.models import (
    Company,
    CompanyBuyer,
    CompanyLocation,
    Customer,
    CustomerAddress,
    PriceList,
    PriceListEntry,
)
from ordergraph.models.database import Database
from ordergraph.models.enums import CompanyRole
from ordergraph.schema.node import encode_global_id

ROLES = {"buyer": CompanyRole.BUYER, "approver": CompanyRole.APPROVER, "admin": CompanyRole.COMPANY_ADMIN}


@dataclass
class CompanyRefs:
    key: str
    id: int
    locations: dict[str, int] = field(default_factory=dict)
    price_list_id: int | None = None

    @property
    def global_id(self) -> str:
        return encode_global_id("Company", self.id)

    def location(self, label: str = "hq") -> str:
        return encode_global_id("CompanyLocation", self.locations[label])

    def customer(self, role: str) -> str:
        """The World key of the company's buyer with that role: `shop.token("customer", refs.customer("approver"))`."""
        return f"{self.key}-{role}"


async def add_company(
    db: Database,
    world: World,
    key: str = "acme",
    *,
    credit_limit_minor: int = 100_000_00,
    payment_terms_days: int | None = 30,
    approval_threshold_minor: int | None = None,
    purchase_order_required: bool = False,
    prices: dict[str, int] | None = None,
    roles: tuple[str, ...] = ("buyer", "approver", "admin"),
    tax_id: str | None = "US-TAX-123",
) -> CompanyRefs:
    """A company with an "hq" (New York) and a "depot" (Chicago) ship-to location and one buyer per role."""
    async with db.write() as session:
        price_list = None
        if prices is not None:
            price_list = PriceList(name=f"{key.title()} contract", currency="USD")
            session.add(price_list)
            await session.flush()
            session.add_all(
                PriceListEntry(price_list_id=price_list.id, sku=sku, unit_price_minor=unit)  # type: ignore[arg-type]
                for sku, unit in prices.items()
            )
        company = Company(
            name=f"{key.title()} Corp",
            tax_id=tax_id,
            market_code="US",
            billing_name=f"{key.title()} Corp Accounts Payable",
            billing_line1="1 Billing Plaza",
            billing_city="New York",
            billing_region="NY",
            billing_postal_code="10004",
            billing_country="US",
            purchase_order_required=purchase_order_required,
            payment_terms_days=payment_terms_days,
            credit_limit_minor=credit_limit_minor,
            approval_threshold_minor=approval_threshold_minor,
            price_list_id=price_list.id if price_list else None,
        )
        session.add(company)
        await session.flush()
        assert company.id is not None
        refs = CompanyRefs(key, company.id, price_list_id=price_list.id if price_list else None)
        for label, (line1, city, region, postal) in {
            "hq": ("20 Main St", "New York", "NY", "10001"),
            "depot": ("5 Dock Rd", "Chicago", "IL", "60601"),
        }.items():
            location = CompanyLocation(
                company_id=company.id,
                label=label,
                name=f"{key.title()} {label}",
                line1=line1,
                city=city,
                region=region,
                postal_code=postal,
                country="US",
            )
            session.add(location)
            await session.flush()
            assert location.id is not None
            refs.locations[label] = location.id
        for role in roles:
            customer = Customer(
                name=f"{key.title()} {role.title()}", email=f"{role}@{key}.example", created_at=NOW.replace(year=2024)
            )
            session.add(customer)
            await session.flush()
            assert customer.id is not None
            world.customers[refs.customer(role)] = customer.id
            session.add(CompanyBuyer(customer_id=customer.id, company_id=company.id, role=ROLES[role]))
            session.add(
                CustomerAddress(
                    customer_id=customer.id,
                    name=customer.name,
                    line1="20 Main St",
                    city="New York",
                    region="NY",
                    postal_code="10001",
                    country="US",
                )
            )
    return refs


async def credit_used(db: Database, refs: CompanyRefs) -> int:
    async with db.read() as session:
        company = await session.get(Company, refs.id)
        assert company is not None
        return company.credit_used_minor
