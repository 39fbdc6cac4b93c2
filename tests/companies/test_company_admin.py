"""Agents create and manage companies, their ship-to locations, buyers and price lists (#21), through the console's
contract operations (frontend-contract/operations/agent-companies.graphql); every refusal is coded and changes
nothing."""

from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from conftest import Api
from test_placement import NEW_ADDRESS

from ordergraph.models import Company, CompanyBuyer, CompanyLocation, PriceList, PriceListEntry
from ordergraph.resolvers.companies import COMPANIES_SORT, COMPANY_ORDERS_SORT, PRICE_LISTS_SORT
from ordergraph.schema.node import encode_global_id

BILLING = {
    "name": "Accounts Payable",
    "line1": "1 Industry Plaza",
    "city": "New York",
    "region": "NY",
    "postalCode": "10001",
    "country": "US",
}
SHIP_TO = {**NEW_ADDRESS, "name": "Receiving dock", "phone": "+12125550123"}


@dataclass(frozen=True)
class SetUp:
    company: str
    location: str
    price_list: str
    admin: str  # the admin's CompanyBuyer ID
    buyer: str


def customer_id(shop: Api, key: str) -> str:
    return encode_global_id("Customer", shop.world.customers[key])


def buyer_id(shop: Api, key: str) -> str:
    return encode_global_id("CompanyBuyer", shop.world.customers[key])


async def agent_run(shop: Api, operation: str, variables: dict) -> dict:
    body = await shop.run(operation, variables, token=shop.token("agent"))
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def ok(shop: Api, operation: str, variables: dict) -> dict:
    payload = await agent_run(shop, operation, variables)
    assert payload["userErrors"] == [], (operation, payload)
    return payload


async def make_company(
    shop: Api, *, name: str = "Acme Supplies", admin: str | None = "alice", buyer: str | None = "bob", **extra: object
) -> SetUp:
    """A US company with a ship-to location, a USD price list and (by default) alice as its admin and bob as a
    buyer, made as the console makes them."""
    price_list = (await ok(shop, "CreatePriceList", {"input": {"name": f"{name} prices", "currency": "USD"}}))[
        "priceList"
    ]["id"]
    await ok(
        shop,
        "SetPriceListPrices",
        {"input": {"priceListId": price_list, "prices": [{"sku": "SKU-1", "unitPrice": "8.00"}]}},
    )
    company = (
        await ok(
            shop,
            "CreateCompany",
            {
                "input": {
                    "name": name,
                    "taxId": "US-12-3456789",
                    "market": "US",
                    "billingAddress": BILLING,
                    "paymentTermsDays": 30,
                    "creditLimit": "5000.00",
                    "approvalThreshold": "1000",
                    "priceListId": price_list,
                    **extra,
                }
            },
        )
    )["company"]["id"]
    location = (
        await ok(
            shop, "AddCompanyLocation", {"input": {"companyId": company, "label": "Main dock", "address": SHIP_TO}}
        )
    )["location"]["id"]
    for key, role in ((admin, "COMPANY_ADMIN"), (buyer, "BUYER")):
        if key is not None:
            await ok(
                shop,
                "AddCompanyBuyer",
                {"input": {"companyId": company, "customerId": customer_id(shop, key), "role": role}},
            )
    return SetUp(
        company,
        location,
        price_list,
        buyer_id(shop, admin) if admin else "",
        buyer_id(shop, buyer) if buyer else "",
    )


def _cursor(sort: object, **values: object) -> str:
    return sort.cursor(SimpleNamespace(**values))  # type: ignore[attr-defined]


async def company_contract_variables(shop: Api, address: dict) -> dict[str, tuple[dict, str]]:
    """The company operations of the contract with variables they run with (tests/api/test_input_rules.py): newbie
    is the company's admin, bob a buyer of it; alice, who runs the SPA's operations there, is in no company, so
    hers probe another company's objects."""
    made = await make_company(shop, name="Rules Ltd", admin="newbie")  # alice, who runs the SPA's, is an outsider
    joining = await ok(shop, "CreateCustomer", {"input": {"name": "Joining Buyer", "email": "joining@firm.example"}})
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    orders_after = _cursor(COMPANY_ORDERS_SORT, placed_at=moment, id=1)
    location_input = {"companyId": made.company, "label": "Dock B", "address": address}
    return {
        "MyCompanyOrders": ({"first": 5, "after": orders_after}, "customer"),
        "AddMyCompanyLocation": ({"input": location_input}, "customer"),
        "UpdateMyCompanyLocation": (
            {"input": {"locationId": made.location, "label": "Dock A", "address": address}},
            "customer",
        ),
        "ArchiveMyCompanyLocation": ({"input": {"locationId": made.location, "archived": False}}, "customer"),
        "SetMyCompanyBuyerRole": ({"input": {"buyerId": made.buyer, "role": "APPROVER"}}, "customer"),
        "RemoveMyCompanyBuyer": ({"input": {"buyerId": made.buyer}}, "customer"),
        "FindCompanies": (
            {"search": "Rules", "first": 5, "after": _cursor(COMPANIES_SORT, name="A", id=1)},
            "agent",
        ),
        "CompanyDetail": ({"id": made.company}, "agent"),
        "CreateCompany": (
            {
                "input": {
                    "name": "New Co",
                    "taxId": "CZ12345678",
                    "market": "US",
                    "billingAddress": address,
                    "priceListId": made.price_list,
                }
            },
            "agent",
        ),
        "UpdateCompany": (
            {
                "input": {
                    "companyId": made.company,
                    "name": "Rules Ltd",
                    "taxId": "US-99",
                    "market": "US",
                    "billingAddress": address,
                }
            },
            "agent",
        ),
        "AssignCompanyPriceList": ({"input": {"companyId": made.company, "priceListId": made.price_list}}, "agent"),
        "AddCompanyLocation": ({"input": location_input}, "agent"),
        "UpdateCompanyLocation": ({"input": {"locationId": made.location, "label": "Dock C"}}, "agent"),
        "ArchiveCompanyLocation": ({"input": {"locationId": made.location}}, "agent"),
        "AddCompanyBuyer": (
            {"input": {"companyId": made.company, "customerId": joining["customer"]["id"], "role": "BUYER"}},
            "agent",
        ),
        "SetCompanyBuyerRole": ({"input": {"buyerId": made.buyer, "role": "BUYER"}}, "agent"),
        "RemoveCompanyBuyer": ({"input": {"buyerId": made.buyer}}, "agent"),
        "PriceLists": ({"first": 5, "after": _cursor(PRICE_LISTS_SORT, id=1)}, "agent"),
        "CreatePriceList": ({"input": {"name": "Wholesale", "currency": "USD"}}, "agent"),
        "SetPriceListPrices": (
            {
                "input": {
                    "priceListId": made.price_list,
                    "prices": [{"sku": "SKU-2", "unitPrice": "1.25"}],
                    "remove": ["MUG"],
                }
            },
            "agent",
        ),
        "CompanyDirectory": ({"first": 5, "after": _cursor(COMPANIES_SORT, name="A", id=1)}, "analyst"),
    }


async def table_counts(shop: Api) -> dict[str, int]:
    async with shop.db.read() as session:
        return {
            model.__tablename__: (await session.exec(sa.select(sa.func.count()).select_from(model))).one()[0]
            for model in (Company, CompanyLocation, CompanyBuyer, PriceList, PriceListEntry)
        }


async def company_row(shop: Api, global_id: str) -> Company:
    from ordergraph.schema.node import decode_global_id

    decoded = decode_global_id(global_id)
    assert decoded is not None
    async with shop.db.read() as session:
        company = await session.get(Company, decoded[1])
    assert company is not None
    return company


# ---- tests ----


async def test_an_agent_creates_a_company_and_reads_it_back_in_the_console(shop: Api) -> None:
    made = await make_company(shop)
    body = await shop.run("CompanyDetail", {"id": made.company}, token=shop.token("agent"))
    company = body["data"]["company"]
    assert company["name"] == "Acme Supplies"
    assert company["taxId"] == "US-12-3456789"
    assert company["market"] == {"code": "US", "currency": "USD"}
    assert company["paymentTermsDays"] == 30
    assert company["creditLimit"] == {"amount": "5000.00", "currency": "USD"}
    assert company["creditUsed"] == {"amount": "0.00", "currency": "USD"}
    assert company["creditAvailable"] == {"amount": "5000.00", "currency": "USD"}
    assert company["approvalThreshold"] == {"amount": "1000.00", "currency": "USD"}
    assert company["priceList"]["id"] == made.price_list
    assert company["billingAddress"]["line1"] == "1 Industry Plaza"
    assert [(loc["label"], loc["address"]["line1"]) for loc in company["locations"]] == [
        ("Main dock", "77 Elsewhere Ave")
    ]
    assert sorted((b["role"], b["customer"]["id"]) for b in company["buyers"]) == sorted(
        [("COMPANY_ADMIN", customer_id(shop, "alice")), ("BUYER", customer_id(shop, "bob"))]
    )
    found = await shop.run("FindCompanies", {"search": "acme", "first": 5}, token=shop.token("agent"))
    assert [e["node"]["id"] for e in found["data"]["companies"]["edges"]] == [made.company]
    by_tax_id = await shop.run("FindCompanies", {"search": "12-3456", "first": 5}, token=shop.token("agent"))
    assert [e["node"]["id"] for e in by_tax_id["data"]["companies"]["edges"]] == [made.company]
    nothing = await shop.run("FindCompanies", {"search": "100%_", "first": 5}, token=shop.token("agent"))
    assert nothing["data"]["companies"]["edges"] == []


async def test_companies_page_by_name(shop: Api) -> None:
    for name in ("Cobalt", "Alder", "Birch"):
        await make_company(shop, name=name, admin=None, buyer=None)
    seen: list[str] = []
    after = None
    while True:
        body = await shop.run("FindCompanies", {"first": 2, "after": after}, token=shop.token("agent"))
        page = body["data"]["companies"]
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["Alder", "Birch", "Cobalt"]


async def test_an_agent_updates_terms_limits_and_clears_them(shop: Api) -> None:
    made = await make_company(shop)
    payload = await ok(
        shop,
        "UpdateCompany",
        {
            "input": {
                "companyId": made.company,
                "name": "  Acme   Industrial ",
                "paymentTermsDays": None,
                "approvalThreshold": None,
                "creditLimit": "250.50",
                "purchaseOrderRequired": True,
            }
        },
    )
    company = payload["company"]
    assert company["name"] == "Acme Industrial"
    assert company["paymentTermsDays"] is None
    assert company["approvalThreshold"] is None
    assert company["creditLimit"]["amount"] == "250.50"
    assert company["purchaseOrderRequired"] is True
    assert company["taxId"] == "US-12-3456789"  # not given: unchanged


async def test_refused_company_values_are_coded_and_change_nothing(shop: Api) -> None:
    made = await make_company(shop)
    before = await table_counts(shop)
    row = await company_row(shop, made.company)
    cases = [
        ({"paymentTermsDays": 45}, "INVALID_PAYMENT_TERMS"),
        ({"creditLimit": "-1"}, "INVALID_AMOUNT"),
        ({"creditLimit": "1.001"}, "INVALID_AMOUNT"),
        ({"approvalThreshold": "-5"}, "INVALID_AMOUNT"),
        ({"taxId": "no tax id?"}, "INVALID_TAX_ID"),
        ({"name": "   "}, "INVALID_NAME"),
        ({"market": "XX"}, "UNKNOWN_MARKET"),
        ({"market": "CZ"}, "CURRENCY_MISMATCH"),  # its USD price list cannot price a CZK market
        ({"billingAddress": {**BILLING, "country": "ZZ"}}, "UNKNOWN_COUNTRY"),
        ({"billingAddress": {**BILLING, "postalCode": "ABCDE"}}, "UNKNOWN_POSTAL_CODE"),
        ({"billingAddress": {**BILLING, "line1": "  "}}, "INVALID_ADDRESS"),
    ]
    for change, code in cases:
        payload = await agent_run(shop, "UpdateCompany", {"input": {"companyId": made.company, **change}})
        assert [e["code"] for e in payload["userErrors"]] == [code], (change, payload)
        assert payload["company"] is None
    created = await agent_run(
        shop,
        "CreateCompany",
        {"input": {"name": "X", "market": "US", "billingAddress": BILLING, "paymentTermsDays": 7}},
    )
    assert [e["code"] for e in created["userErrors"]] == ["INVALID_PAYMENT_TERMS"]
    assert await table_counts(shop) == before
    assert (await company_row(shop, made.company)).model_dump() == row.model_dump()


async def test_the_credit_limit_never_goes_below_the_credit_in_use(shop: Api) -> None:
    made = await make_company(shop)
    async with shop.db.write() as session:
        company = await session.get(Company, (await company_row(shop, made.company)).id)
        assert company is not None
        company.credit_used_minor = 100_000
        session.add(company)
    payload = await agent_run(shop, "UpdateCompany", {"input": {"companyId": made.company, "creditLimit": "999.99"}})
    assert [e["code"] for e in payload["userErrors"]] == ["CREDIT_LIMIT_BELOW_USED"]
    fits = await ok(shop, "UpdateCompany", {"input": {"companyId": made.company, "creditLimit": "1000"}})
    assert fits["company"]["creditAvailable"]["amount"] == "0.00"


async def test_a_price_list_prices_known_skus_at_zero_or_more_in_its_currency(shop: Api) -> None:
    made = await make_company(shop)
    before = await table_counts(shop)
    for prices, code, field in (
        ([{"sku": "NOPE", "unitPrice": "1"}], "UNKNOWN_SKU", ["prices", "0", "sku"]),
        ([{"sku": "SKU-2", "unitPrice": "-0.01"}], "INVALID_PRICE", ["prices", "0", "unitPrice"]),
        ([{"sku": "SKU-2", "unitPrice": "1"}, {"sku": "MUG", "unitPrice": "0.001"}], "INVALID_PRICE", None),
        ([{"sku": "SKU-2", "unitPrice": "1"}, {"sku": "SKU-2", "unitPrice": "2"}], "DUPLICATE_SKU", ["prices"]),
    ):
        payload = await agent_run(
            shop, "SetPriceListPrices", {"input": {"priceListId": made.price_list, "prices": prices}}
        )
        assert [e["code"] for e in payload["userErrors"]] == [code], payload
        if field is not None:
            assert payload["userErrors"][0]["field"] == field
    assert await table_counts(shop) == before
    payload = await ok(
        shop,
        "SetPriceListPrices",
        {
            "input": {
                "priceListId": made.price_list,
                "prices": [{"sku": "SKU-1", "unitPrice": "7.5"}, {"sku": "SKU-2", "unitPrice": "0"}],
            }
        },
    )
    assert [(e["sku"], e["unitPrice"]["amount"]) for e in payload["priceList"]["entries"]] == [
        ("SKU-1", "7.50"),
        ("SKU-2", "0.00"),
    ]
    removed = await ok(shop, "SetPriceListPrices", {"input": {"priceListId": made.price_list, "remove": ["SKU-1"]}})
    assert [e["sku"] for e in removed["priceList"]["entries"]] == ["SKU-2"]
    listed = await shop.run("PriceLists", {"first": 10}, token=shop.token("agent"))
    assert made.price_list in [e["node"]["id"] for e in listed["data"]["priceLists"]["edges"]]
    unknown = await agent_run(shop, "CreatePriceList", {"input": {"name": "Yen", "currency": "JPY"}})
    assert [e["code"] for e in unknown["userErrors"]] == ["UNKNOWN_CURRENCY"]


async def test_a_price_list_is_assigned_only_in_the_markets_currency(shop: Api) -> None:
    made = await make_company(shop)
    czk = (await ok(shop, "CreatePriceList", {"input": {"name": "Koruna", "currency": "czk"}}))["priceList"]
    assert czk["currency"] == "CZK"
    refused = await agent_run(
        shop, "AssignCompanyPriceList", {"input": {"companyId": made.company, "priceListId": czk["id"]}}
    )
    assert [e["code"] for e in refused["userErrors"]] == ["CURRENCY_MISMATCH"]
    removed = await ok(shop, "AssignCompanyPriceList", {"input": {"companyId": made.company, "priceListId": None}})
    assert removed["company"]["priceList"] is None
    moved = await ok(shop, "UpdateCompany", {"input": {"companyId": made.company, "market": "cz"}})
    assert moved["company"]["market"]["currency"] == "CZK"
    assigned = await ok(
        shop, "AssignCompanyPriceList", {"input": {"companyId": made.company, "priceListId": czk["id"]}}
    )
    assert assigned["company"]["priceList"]["id"] == czk["id"]


async def test_locations_are_added_edited_archived_in_the_companys_market(shop: Api) -> None:
    made = await make_company(shop)
    abroad = await agent_run(
        shop,
        "AddCompanyLocation",
        {
            "input": {
                "companyId": made.company,
                "label": "Prague",
                "address": {"line1": "Václavské nám. 1", "city": "Praha", "postalCode": "110 00", "country": "CZ"},
            }
        },
    )
    assert [e["code"] for e in abroad["userErrors"]] == ["COUNTRY_NOT_IN_MARKET"]
    blank = await agent_run(
        shop, "AddCompanyLocation", {"input": {"companyId": made.company, "label": " ", "address": SHIP_TO}}
    )
    assert [e["code"] for e in blank["userErrors"]] == ["INVALID_INPUT"]
    edited = await ok(
        shop,
        "UpdateCompanyLocation",
        {"input": {"locationId": made.location, "label": "North dock", "address": {**SHIP_TO, "line2": "Gate 4"}}},
    )
    assert edited["location"]["label"] == "North dock"
    assert edited["location"]["address"]["line2"] == "Gate 4"
    archived = await ok(shop, "ArchiveCompanyLocation", {"input": {"locationId": made.location}})
    assert archived["location"]["archived"] is True
    body = await shop.run("MyCompany", token=shop.token("customer", "bob"))
    assert body["data"]["me"]["company"]["locations"] == []  # buyers see the active ones only
    detail = await shop.run("CompanyDetail", {"id": made.company}, token=shop.token("agent"))
    assert [loc["archived"] for loc in detail["data"]["company"]["locations"]] == [True]


async def test_buyers_are_linked_once_and_a_company_keeps_an_admin(shop: Api) -> None:
    made = await make_company(shop)
    other = await make_company(shop, name="Other Co", admin=None, buyer=None)
    taken = await agent_run(
        shop,
        "AddCompanyBuyer",
        {"input": {"companyId": other.company, "customerId": customer_id(shop, "bob"), "role": "BUYER"}},
    )
    assert [e["code"] for e in taken["userErrors"]] == ["CUSTOMER_IN_COMPANY"]
    missing = await agent_run(
        shop,
        "AddCompanyBuyer",
        {"input": {"companyId": other.company, "customerId": encode_global_id("Customer", 999_999), "role": "BUYER"}},
    )
    assert [e["code"] for e in missing["userErrors"]] == ["NOT_FOUND"]
    last = await agent_run(shop, "SetCompanyBuyerRole", {"input": {"buyerId": made.admin, "role": "BUYER"}})
    assert [e["code"] for e in last["userErrors"]] == ["LAST_COMPANY_ADMIN"]
    unlink_last = await agent_run(shop, "RemoveCompanyBuyer", {"input": {"buyerId": made.admin}})
    assert [e["code"] for e in unlink_last["userErrors"]] == ["LAST_COMPANY_ADMIN"]
    promoted = await ok(shop, "SetCompanyBuyerRole", {"input": {"buyerId": made.buyer, "role": "COMPANY_ADMIN"}})
    assert promoted["buyer"]["role"] == "COMPANY_ADMIN"
    await ok(shop, "RemoveCompanyBuyer", {"input": {"buyerId": made.admin}})
    moved = await ok(
        shop,
        "AddCompanyBuyer",
        {"input": {"companyId": other.company, "customerId": customer_id(shop, "alice"), "role": "APPROVER"}},
    )
    assert moved["buyer"]["role"] == "APPROVER"
    assert [b["id"] for b in moved["company"]["buyers"]] == [made.admin]


async def test_an_erased_customer_cannot_be_linked(shop: Api) -> None:
    made = await make_company(shop, admin=None, buyer=None)
    await ok(shop, "EraseCustomerPersonalData", {"input": {"customerId": customer_id(shop, "newbie")}})
    payload = await agent_run(
        shop,
        "AddCompanyBuyer",
        {"input": {"companyId": made.company, "customerId": customer_id(shop, "newbie"), "role": "BUYER"}},
    )
    assert [e["code"] for e in payload["userErrors"]] == ["CUSTOMER_ERASED"]


async def test_analysts_and_customers_cannot_run_the_consoles_changes(shop: Api) -> None:
    made = await make_company(shop)
    before = await table_counts(shop)
    for role, customer in (("analyst", None), ("customer", "alice")):
        token = shop.token(role, customer)
        created = await shop.run(
            "CreateCompany", {"input": {"name": "Sneaky", "market": "US", "billingAddress": BILLING}}, token=token
        )
        assert created["errors"][0]["extensions"]["code"] == "FORBIDDEN", created
        priced = await shop.run(
            "SetPriceListPrices",
            {"input": {"priceListId": made.price_list, "prices": [{"sku": "SKU-1", "unitPrice": "0"}]}},
            token=token,
        )
        assert priced["errors"][0]["extensions"]["code"] == "FORBIDDEN", priced
        linked = await shop.run(
            "AddCompanyBuyer",
            {"input": {"companyId": made.company, "customerId": customer_id(shop, "newbie"), "role": "BUYER"}},
            token=token,
        )
        assert linked["errors"][0]["extensions"]["code"] == "FORBIDDEN", linked
        terms = await shop.run(
            "UpdateCompany", {"input": {"companyId": made.company, "creditLimit": "1000000"}}, token=token
        )
        assert terms["errors"][0]["extensions"]["code"] == "FORBIDDEN", terms
    assert await table_counts(shop) == before


async def test_erasing_a_buyer_unlinks_them_and_their_company_orders_stay(shop: Api) -> None:
    made = await make_company(shop)
    await ok(shop, "EraseCustomerPersonalData", {"input": {"customerId": customer_id(shop, "bob")}})
    detail = await shop.run("CompanyDetail", {"id": made.company}, token=shop.token("agent"))
    assert [b["id"] for b in detail["data"]["company"]["buyers"]] == [made.admin]
    async with shop.db.read() as session:
        linked = (await session.exec(sa.select(CompanyBuyer.customer_id))).scalars().all()
    assert shop.world.customers["bob"] not in linked
