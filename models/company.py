"""Business buyers (#21): companies, their ship-to locations, their buyers with roles, and contract price lists.

Invariants:
- a customer belongs to at most one company (`company_buyer.customer_id` is the key);
- a company's credit in use (`credit_used_minor`) is what its on-account orders have committed and not yet paid
  or released; it is changed only by one conditional UPDATE that never lets it pass `credit_limit_minor`;
- a purchase-order number is unique within its company (`uq_orders_company_po` on orders);
- a price list's prices are in its currency, in minor units, and override the catalogue's for its SKUs.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.customer import AddressFields
from ordergraph.models.enums import CompanyRole


class PriceList(SQLModel, table=True):
    __tablename__ = "price_list"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    name: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PriceListEntry(SQLModel, table=True):
    __tablename__ = "price_list_entry"

    price_list_id: int = Field(sa_type=BigIntId, foreign_key="price_list.id", primary_key=True)
    sku: str = Field(foreign_key="product.sku", primary_key=True)
    unit_price_minor: int = Field(ge=0)


class Company(SQLModel, table=True):
    __tablename__ = "company"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    name: str = Field(max_length=200)
    # The company's VAT or tax registration number, printed on its invoices as the buyer's.
    tax_id: str | None = Field(default=None, max_length=40)
    market_code: str = Field(max_length=8, foreign_key="market.code")
    # Billing address (the invoice's buyer address).
    billing_name: str | None = None
    billing_line1: str
    billing_line2: str | None = None
    billing_city: str
    billing_region: str | None = None
    billing_postal_code: str
    billing_country: str = Field(max_length=2)
    purchase_order_required: bool = False
    # Net terms for payment on account (15, 30 or 60 days); null: the company pays by card only.
    payment_terms_days: int | None = None
    credit_limit_minor: int = 0
    credit_used_minor: int = 0
    # Orders whose total exceeds this wait for an approver; null: no approval needed.
    approval_threshold_minor: int | None = None
    price_list_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="price_list.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("credit_used_minor >= 0 AND credit_used_minor <= credit_limit_minor", name="credit"),
    )


class CompanyLocation(AddressFields, table=True):
    """A ship-to address of a company."""

    __tablename__ = "company_location"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    company_id: int = Field(sa_type=BigIntId, foreign_key="company.id", index=True)
    label: str = Field(max_length=200)
    archived: bool = False


class CompanyBuyer(SQLModel, table=True):
    __tablename__ = "company_buyer"

    customer_id: int = Field(sa_type=BigIntId, foreign_key="customer.id", primary_key=True)
    company_id: int = Field(sa_type=BigIntId, foreign_key="company.id", index=True)
    role: CompanyRole = Field(sa_type=enum_column(CompanyRole))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InvoicePayment(SQLModel, table=True):
    """A payment received against an on-account invoice; the invoice is settled when they add up to its total."""

    __tablename__ = "invoice_payment"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    invoice_id: int = Field(sa_type=BigIntId, foreign_key="invoice.id", index=True)
    amount_minor: int = Field(gt=0)
    reference: str = Field(max_length=200)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    recorded_by: str | None = None
