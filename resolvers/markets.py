"""Markets: which market a destination country belongs to, and a product's price there.

A product's price in a market is its `product_price` row there; without one, its base price when that is in the
market's currency; otherwise it has no price in the market (PRICE_MISSING at placement). Nothing is ever
converted between currencies. Reading markets is public, like the catalogue.
"""

from collections.abc import Collection, Mapping

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Market, MarketCountry, Product, ProductPrice
from ordergraph.resolvers.context import RequestContext

DEFAULT = "default"  # the key of the default-market loader


async def market_for_country(session: AsyncSession, country: str) -> Market | None:
    """The market a destination country belongs to, or None when no market serves it."""
    query = (
        select(Market)
        .join(MarketCountry, col(MarketCountry.market_code) == col(Market.code))
        .where(col(MarketCountry.country) == country.strip().upper())
    )
    return (await session.exec(query)).first()


async def default_market(session: AsyncSession) -> Market:
    market = (await session.exec(select(Market).where(col(Market.is_default)))).first()
    if market is None:
        raise RuntimeError("no default market: the market table has lost its default row")
    return market


async def product_prices(session: AsyncSession, skus: Collection[str], market_code: str) -> dict[str, ProductPrice]:
    """The market's price rows of the given products, by SKU (products without one are absent)."""
    if not skus:
        return {}
    query = select(ProductPrice).where(
        col(ProductPrice.sku).in_(set(skus)), col(ProductPrice.market_code) == market_code
    )
    return {row.sku: row for row in (await session.exec(query)).all()}


def price_in(product: Product, market: Market, prices: Mapping[str, ProductPrice]) -> int | None:
    """The product's unit price in the market's currency, or None when it has none there."""
    row = prices.get(product.sku)
    if row is not None and row.market_code == market.code and row.currency == market.currency:
        return row.price_minor
    if product.currency == market.currency:
        return product.price_minor
    return None


async def list_markets(ctx: RequestContext) -> list[Market]:
    return await ctx.loaders.markets.load(DEFAULT)


async def market(ctx: RequestContext, code: str) -> Market | None:
    found: Market | None = await ctx.loaders.market.load(code.strip().upper())
    return found


async def countries_of(ctx: RequestContext, market_code: str) -> list[str]:
    rows: list[MarketCountry] = await ctx.loaders.countries_by_market.load(market_code)
    return [row.country for row in rows]
