"""The product page per market: delivery options of the destination country's market (located by city), prices
per market, and the public `markets` list."""

from conftest import Api
from market_factories import market_shop  # noqa: F401

PAGE = """
query ($skus: [String!]!, $postalCode: String, $country: String, $city: String) {
  products(skus: $skus) {
    sku taxClass price { amount currency }
    prices { market { code } price { amount currency } taxIncluded }
    czk: priceIn(market: "cz") { amount currency }
    aed: priceIn(market: "AE") { amount currency }
    nowhere: priceIn(market: "FR") { amount currency }
    availability(postalCode: $postalCode, country: $country, city: $city) {
      deliveryOptions { method { code market { code } toPickupPoint pickupPointNetwork } available
                        estimatedDeliveryBy price { amount currency } }
    }
  }
}"""
US_METHODS = ["STANDARD", "NEXT_DAY", "SAME_DAY", "ONE_HOUR", "WEEKEND", "PICKUP"]


async def page(shop: Api, **variables: object) -> dict:
    # Signed in: the whole page is more than an anonymous caller may ask in one request.
    body = (await shop.post(PAGE, {"skus": ["BOOT", "BOOK"], **variables}, token=shop.token("agent"))).json()
    assert "errors" not in body, body
    return {product["sku"]: product for product in body["data"]["products"]}


async def test_without_a_country_the_page_lists_the_default_market(market_shop: Api) -> None:  # noqa: F811
    boot = (await page(market_shop, postalCode="10001"))["BOOT"]
    codes = [option["method"]["code"] for option in boot["availability"]["deliveryOptions"]]
    assert set(codes) <= set(US_METHODS)
    assert all(option["method"]["market"]["code"] == "US" for option in boot["availability"]["deliveryOptions"])


async def test_a_czech_city_lists_the_czech_methods_in_czk(market_shop: Api) -> None:  # noqa: F811
    products = await page(market_shop, country="CZ", city="Praha", postalCode="110 00")
    boot, book = products["BOOT"], products["BOOK"]
    options = {option["method"]["code"]: option for option in boot["availability"]["deliveryOptions"]}
    assert set(options) == {"CZ_STANDARD", "CZ_BOX", "CZ_POINT"}
    assert options["CZ_STANDARD"]["price"] == {"amount": "89.00", "currency": "CZK"}
    assert options["CZ_STANDARD"]["available"] is True
    assert options["CZ_STANDARD"]["estimatedDeliveryBy"] is not None
    assert options["CZ_BOX"]["method"]["toPickupPoint"] is True
    assert options["CZ_BOX"]["method"]["pickupPointNetwork"] == "PARCELBOX"
    assert options["CZ_STANDARD"]["method"]["toPickupPoint"] is False
    assert (boot["taxClass"], book["taxClass"]) == ("STANDARD", "REDUCED")
    assert boot["czk"] == {"amount": "2999.00", "currency": "CZK"}
    assert boot["aed"] == {"amount": "439.00", "currency": "AED"}
    assert book["aed"] is None
    assert boot["nowhere"] is None
    prices = {p["market"]["code"]: (p["price"], p["taxIncluded"]) for p in boot["prices"]}
    assert prices["CZ"] == ({"amount": "2999.00", "currency": "CZK"}, True)
    assert prices["US"][0]["currency"] == "USD"
    assert prices["US"][1] is False
    assert "AE" not in {p["market"]["code"] for p in book["prices"]}


async def test_a_country_without_a_market_has_no_delivery_options(market_shop: Api) -> None:  # noqa: F811
    boot = (await page(market_shop, country="FR", city="Paris"))["BOOT"]
    assert boot["availability"]["deliveryOptions"] == []


async def test_markets_are_public(market_shop: Api) -> None:  # noqa: F811
    body = (await market_shop.post("{ markets { code currency pricesIncludeTax countries } }")).json()
    assert "errors" not in body, body
    markets = {m["code"]: m for m in body["data"]["markets"]}
    assert markets["US"] == {"code": "US", "currency": "USD", "pricesIncludeTax": False, "countries": ["US"]}
    assert markets["CZ"]["currency"] == "CZK"
    assert markets["CZ"]["pricesIncludeTax"] is True
