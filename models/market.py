"""Markets: the countries an order can go to, each with its currency and whether its prices include tax."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class Market(SQLModel, table=True):
    """A market prices in one currency. Where `prices_include_tax`, a price is gross (VAT inside it);
    otherwise tax is added on top (US sales tax). One market is the default (the migration makes it the US;
    seeding a market makes it that one), whose currency a shop without a destination shows."""

    __tablename__ = "market"

    code: str = Field(primary_key=True, max_length=8)
    name: str
    currency: str = Field(max_length=3)
    prices_include_tax: bool
    shipping_tax_class: str = Field(default="STANDARD", max_length=16, sa_column_kwargs={"server_default": "STANDARD"})
    is_default: bool = False
    # Returns up to this refund value are approved automatically; null uses the server setting.
    return_auto_approve_max_minor: int | None = None
    position: int = 0


class MarketCountry(SQLModel, table=True):
    """A country belongs to at most one market."""

    __tablename__ = "market_country"

    country: str = Field(primary_key=True, max_length=2)
    market_code: str = Field(foreign_key="market.code", max_length=8, index=True)


class ProductPrice(SQLModel, table=True):
    """A product's price in a market, overriding its base price there."""

    __tablename__ = "product_price"

    sku: str = Field(primary_key=True, foreign_key="product.sku")
    market_code: str = Field(primary_key=True, foreign_key="market.code", max_length=8)
    price_minor: int = Field(ge=0)
    currency: str = Field(max_length=3)

    __table_args__ = (sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),)
