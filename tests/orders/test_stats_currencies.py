"""orderStats and the orders export with more than one currency: USD and CZK never meet, the MARKET dimension,
and the currency and market filters."""

import sqlalchemy as sa
from conftest import Api
from test_placement import place

from ordergraph.models import Order
from ordergraph.schema.node import decode_global_id

STATS = """
query ($groupBy: [OrderStatsGroupBy!]!, $filter: OrderStatsFilter!) {
  orderStats(filter: $filter, groupBy: $groupBy) {
    groups { currency market { code currency } orderCount unitCount revenue { amount currency } }
    totals { orderCount unitCount revenue { amount currency }
             byCurrency { currency orderCount unitCount revenue { amount currency } } }
  }
}"""
ORDERS = """
query ($filter: OrderFilter) { orders(filter: $filter, first: 50) { edges { node { number total { currency } } } } }"""


async def two_currencies(shop: Api) -> tuple[str, str]:
    """Two US orders, the second then moved (in the database) to the CZ market, as a CZ placement leaves it."""
    us = (await place(shop, lines=(("SKU-1", 2),), key="us"))["order"]
    cz = (await place(shop, lines=(("SKU-2", 1),), key="cz"))["order"]
    async with shop.db.write() as session:
        await session.exec(
            sa.update(Order)
            .where(Order.id == decode_global_id(cz["id"])[1])
            .values(currency="CZK", market_code="CZ", prices_include_tax=True)
        )
    return us["number"], cz["number"]


async def stats(shop: Api, group_by: list[str], stats_filter: dict | None = None) -> dict:
    body = (
        await shop.post(STATS, {"groupBy": group_by, "filter": stats_filter or {}}, token=shop.token("analyst"))
    ).json()
    assert "errors" not in body, body
    return body["data"]["orderStats"]


async def test_currencies_never_meet_and_markets_group(shop: Api) -> None:
    await two_currencies(shop)
    async with shop.db.read() as session:
        orders = {o.currency: o for o in (await session.exec(sa.select(Order))).scalars().all()}
    by_market = await stats(shop, ["MARKET"])
    groups = {(g["market"]["code"], g["currency"]): g for g in by_market["groups"]}
    assert set(groups) == {("US", "USD"), ("CZ", "CZK")}
    assert groups["CZ", "CZK"]["market"]["currency"] == "CZK"
    for currency, order in orders.items():
        revenue = groups[order.market_code, currency]["revenue"]
        assert revenue["currency"] == currency
        assert round(float(revenue["amount"]) * 100) == order.total_minor - order.cancelled_minor
    totals = by_market["totals"]
    assert [m["currency"] for m in totals["revenue"]] == ["CZK", "USD"]
    assert [(t["currency"], t["orderCount"]) for t in totals["byCurrency"]] == [("CZK", 1), ("USD", 1)]
    assert totals["byCurrency"][0]["revenue"] == totals["revenue"][0]
    assert totals["orderCount"] == 2
    by_status = await stats(shop, ["STATUS"])
    assert all(g["market"] is None for g in by_status["groups"])
    assert {g["currency"] for g in by_status["groups"]} == {"USD", "CZK"}
    by_location = await stats(shop, ["LOCATION"])
    assert {t["currency"] for t in by_location["totals"]["byCurrency"]} == {"USD", "CZK"}


async def test_currency_and_market_filters(shop: Api) -> None:
    us, cz = await two_currencies(shop)
    for stats_filter in ({"currency": ["CZK"]}, {"market": ["cz"]}, {"currency": ["CZK"], "market": ["CZ"]}):
        only = await stats(shop, ["MARKET"], stats_filter)
        assert [(g["market"]["code"], g["orderCount"]) for g in only["groups"]] == [("CZ", 1)]
    assert (await stats(shop, ["STATUS"], {"currency": ["EUR"]}))["groups"] == []
    for order_filter, expected in (({"currency": ["CZK"]}, [cz]), ({"market": ["US"]}, [us]), ({}, sorted([us, cz]))):
        body = (await shop.post(ORDERS, {"filter": order_filter}, token=shop.token("agent"))).json()
        assert "errors" not in body, body
        numbers = sorted(edge["node"]["number"] for edge in body["data"]["orders"]["edges"])
        assert numbers == sorted(expected)
