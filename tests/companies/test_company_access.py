"""Who sees which company data (#21): a buyer never sees another company's company, locations, buyers, price list or
orders, whichever way they ask (IDOR probes on every new type, by node, by argument and by mutation); company admins
and approvers see their company's orders (node, lists, live updates); analysts see companies with no buyer's
personal data; customers without a company see nothing."""

import asyncio

import sqlalchemy as sa
from conftest import Api
from test_company_admin import SHIP_TO, SetUp, agent_run, buyer_id, customer_id, make_company, ok, table_counts
from test_live_harness import LiveClient, serving_on_a_port
from test_placement import place

from ordergraph.models import Company, CompanyBuyer, CompanyLocation, Order
from ordergraph.schema.node import decode_global_id, encode_global_id

NODE = """query($id: ID!) { node(id: $id) { __typename id } }"""
COMPANY = """query($id: ID!) { company(id: $id) { id name } }"""
MISSING = {
    "Company": encode_global_id("Company", 999_999),
    "CompanyLocation": encode_global_id("CompanyLocation", 999_999),
    "CompanyBuyer": encode_global_id("CompanyBuyer", 999_999),
    "PriceList": encode_global_id("PriceList", 999_999),
    "Order": encode_global_id("Order", 999_999),
}


async def new_customer(shop: Api, key: str) -> None:
    """A customer of the shop (made by an agent), signed in as `key`."""
    created = await ok(shop, "CreateCustomer", {"input": {"name": key.title(), "email": f"{key}@firm.example"}})
    shop.world.customers[key] = decode_global_id(created["customer"]["id"])[1]  # type: ignore[index]


def pk(global_id: str) -> int:
    decoded = decode_global_id(global_id)
    assert decoded is not None
    return decoded[1]


async def company_order(shop: Api, customer: str, company: SetUp | None, key: str) -> str:
    """An order placed by `customer`, made the company's (placement for companies is tested elsewhere)."""
    order = (await place(shop, customer, key=key))["order"]
    if company is not None:
        async with shop.db.write() as session:
            await session.exec(
                sa.update(Order).where(Order.id == pk(order["id"])).values(company_id=pk(company.company))
            )
    return order["id"]


async def two_companies(shop: Api) -> tuple[SetUp, SetUp]:
    """Company A: alice its admin, bob a buyer; company B: carol its admin, dave a buyer."""
    for key in ("carol", "dave"):
        await new_customer(shop, key)
    a = await make_company(shop, name="Alpha Works")
    b = await make_company(shop, name="Beta Trading", admin="carol", buyer="dave")
    return a, b


async def snapshot(shop: Api) -> dict:
    async with shop.db.read() as session:
        rows = {}
        for model in (Company, CompanyLocation, CompanyBuyer):
            rows[model.__tablename__] = sorted(
                str(row.model_dump()) for row in (await session.exec(sa.select(model))).scalars().all()
            )
    return rows


async def seen(shop: Api, token: str, query: str, id: str) -> object:
    body = (await shop.post(query, {"id": id}, token=token)).json()
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def test_a_buyer_sees_their_company_and_its_active_locations_with_their_roles_view(shop: Api) -> None:
    a, _ = await two_companies(shop)
    bob = (await shop.run("MyCompany", token=shop.token("customer", "bob")))["data"]["me"]
    assert bob["companyMembership"]["role"] == "BUYER"
    company = bob["company"]
    assert company["name"] == "Alpha Works"
    assert [loc["id"] for loc in company["locations"]] == [a.location]
    assert company["creditAvailable"] == {"amount": "5000.00", "currency": "USD"}
    assert company["creditLimit"] is None
    assert company["creditUsed"] is None
    assert company["priceList"]["id"] == a.price_list
    buyers = (await shop.run("MyCompanyBuyers", token=shop.token("customer", "bob")))["data"]["me"]["company"]
    assert [b["id"] for b in buyers["buyers"]] == [a.buyer]  # their own entry only
    alice = (await shop.run("MyCompanyBuyers", token=shop.token("customer", "alice")))["data"]["me"]["company"]
    assert sorted(b["id"] for b in alice["buyers"]) == sorted([a.admin, a.buyer])
    assert {b["email"] for b in alice["buyers"]} == {"alice@shop.example", "bob@shop.example"}
    admin = (await shop.run("MyCompany", token=shop.token("customer", "alice")))["data"]["me"]["company"]
    assert admin["creditLimit"] == {"amount": "5000.00", "currency": "USD"}
    outsider = (await shop.run("MyCompany", token=shop.token("customer", "newbie")))["data"]["me"]
    assert outsider["company"] is None
    assert outsider["companyMembership"] is None


async def test_no_buyer_reaches_another_companys_objects_by_id(shop: Api) -> None:
    """Alice (admin of A), bob (buyer of A) and newbie (no company) ask for B's company, location, buyers and price
    list: null, exactly as for IDs that do not exist; B's own people and agents see them."""
    a, b = await two_companies(shop)
    b_objects = {
        "Company": b.company,
        "CompanyLocation": b.location,
        "CompanyBuyer": b.buyer,
        "PriceList": b.price_list,
    }
    for key in ("alice", "bob", "newbie"):
        token = shop.token("customer", key)
        for type_name, id in b_objects.items():
            assert await seen(shop, token, NODE, id) is None, (key, type_name)
            assert await seen(shop, token, NODE, MISSING[type_name]) is None
        assert await seen(shop, token, COMPANY, b.company) is None, key
        assert await seen(shop, token, COMPANY, MISSING["Company"]) is None
        assert await seen(shop, token, NODE, encode_global_id("CompanyBuyer", shop.world.customers["carol"])) is None
    carol = shop.token("customer", "carol")
    for type_name, id in b_objects.items():
        assert (await seen(shop, carol, NODE, id)) == {"__typename": type_name, "id": id}
    # Inside A: bob sees his company, its location and price list, and himself, but not alice's buyer entry.
    bob = shop.token("customer", "bob")
    for id in (a.company, a.location, a.price_list, a.buyer):
        assert (await seen(shop, bob, NODE, id)) is not None
    assert await seen(shop, bob, NODE, a.admin) is None
    # Newbie, in no company, sees none of A's either.
    for id in (a.company, a.location, a.price_list, a.buyer, a.admin):
        assert await seen(shop, shop.token("customer", "newbie"), NODE, id) is None
    agent = shop.token("agent")
    for id in (*b_objects.values(), a.company):
        assert await seen(shop, agent, NODE, id) is not None


async def test_no_company_admin_changes_another_companys_buyers_or_locations(shop: Api) -> None:
    a, b = await two_companies(shop)
    before = await snapshot(shop)
    counts = await table_counts(shop)
    for key in ("alice", "bob", "newbie"):
        token = shop.token("customer", key)
        probes = [
            ("AddMyCompanyLocation", {"input": {"companyId": b.company, "label": "Mine now", "address": SHIP_TO}}),
            ("AddMyCompanyLocation", {"input": {"companyId": MISSING["Company"], "label": "X", "address": SHIP_TO}}),
            ("UpdateMyCompanyLocation", {"input": {"locationId": b.location, "label": "Hijacked"}}),
            ("UpdateMyCompanyLocation", {"input": {"locationId": MISSING["CompanyLocation"], "label": "X"}}),
            ("ArchiveMyCompanyLocation", {"input": {"locationId": b.location}}),
            ("SetMyCompanyBuyerRole", {"input": {"buyerId": b.buyer, "role": "COMPANY_ADMIN"}}),
            ("SetMyCompanyBuyerRole", {"input": {"buyerId": b.admin, "role": "BUYER"}}),
            ("SetMyCompanyBuyerRole", {"input": {"buyerId": MISSING["CompanyBuyer"], "role": "BUYER"}}),
            ("RemoveMyCompanyBuyer", {"input": {"buyerId": b.buyer}}),
            ("RemoveMyCompanyBuyer", {"input": {"buyerId": buyer_id(shop, "newbie")}}),
        ]
        if key != "alice":  # a plain buyer, or no buyer at all, manages nothing of A either
            probes += [
                ("AddMyCompanyLocation", {"input": {"companyId": a.company, "label": "Side door", "address": SHIP_TO}}),
                ("ArchiveMyCompanyLocation", {"input": {"locationId": a.location}}),
                ("SetMyCompanyBuyerRole", {"input": {"buyerId": a.buyer, "role": "COMPANY_ADMIN"}}),
                ("RemoveMyCompanyBuyer", {"input": {"buyerId": a.admin}}),
            ]
        for operation, variables in probes:
            body = await shop.run(operation, variables, token=token)
            assert "errors" not in body, (key, operation, body)
            payload = next(iter(body["data"].values()))
            assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"], (key, operation, payload)
            assert all(v is None for k, v in payload.items() if k != "userErrors"), (key, operation, payload)
    assert await snapshot(shop) == before
    assert await table_counts(shop) == counts


async def test_a_company_admin_manages_their_own_companys_buyers_and_locations(shop: Api) -> None:
    a, _ = await two_companies(shop)
    alice = shop.token("customer", "alice")
    added = await shop.run(
        "AddMyCompanyLocation", {"input": {"companyId": a.company, "label": "Annex", "address": SHIP_TO}}, token=alice
    )
    location = added["data"]["addCompanyLocation"]
    assert location["userErrors"] == []
    assert location["location"]["label"] == "Annex"
    archived = await shop.run(
        "ArchiveMyCompanyLocation", {"input": {"locationId": location["location"]["id"]}}, token=alice
    )
    assert archived["data"]["archiveCompanyLocation"]["location"]["archived"] is True
    view = (await shop.run("MyCompanyBuyers", token=alice))["data"]["me"]["company"]
    assert {loc["label"]: loc["archived"] for loc in view["locations"]} == {"Main dock": False, "Annex": True}
    promoted = await shop.run("SetMyCompanyBuyerRole", {"input": {"buyerId": a.buyer, "role": "APPROVER"}}, token=alice)
    assert promoted["data"]["setCompanyBuyerRole"]["buyer"]["role"] == "APPROVER"
    # Alice cannot step down while she is the only admin, nor leave the company without one.
    last = await shop.run("SetMyCompanyBuyerRole", {"input": {"buyerId": a.admin, "role": "BUYER"}}, token=alice)
    assert [e["code"] for e in last["data"]["setCompanyBuyerRole"]["userErrors"]] == ["LAST_COMPANY_ADMIN"]
    removed = await shop.run("RemoveMyCompanyBuyer", {"input": {"buyerId": a.buyer}}, token=alice)
    assert removed["data"]["removeCompanyBuyer"]["userErrors"] == []
    assert [b["id"] for b in removed["data"]["removeCompanyBuyer"]["company"]["buyers"]] == [a.admin]
    assert (await shop.run("MyCompany", token=shop.token("customer", "bob")))["data"]["me"]["company"] is None


async def test_company_orders_are_seen_by_admins_and_approvers_and_a_buyer_sees_their_own(shop: Api) -> None:
    a, b = await two_companies(shop)
    await new_customer(shop, "erin")
    await ok(
        shop,
        "AddCompanyBuyer",
        {"input": {"companyId": a.company, "customerId": customer_id(shop, "erin"), "role": "APPROVER"}},
    )
    await new_customer(shop, "frank")
    await ok(
        shop,
        "AddCompanyBuyer",
        {"input": {"companyId": a.company, "customerId": customer_id(shop, "frank"), "role": "BUYER"}},
    )
    bobs = await company_order(shop, "bob", a, "a-bob")
    franks = await company_order(shop, "frank", a, "a-frank")
    bobs_own = await company_order(shop, "bob", None, "bob-personal")
    daves = await company_order(shop, "dave", b, "b-dave")

    async def listed(key: str) -> list[str]:
        body = await shop.run("MyCompanyOrders", {"first": 50}, token=shop.token("customer", key))
        company = body["data"]["me"]["company"]
        return sorted(e["node"]["id"] for e in company["orders"]["edges"]) if company else []

    assert await listed("alice") == sorted([bobs, franks])
    assert await listed("erin") == sorted([bobs, franks])
    assert await listed("bob") == [bobs]
    assert await listed("frank") == [franks]
    assert await listed("carol") == [daves]
    assert await listed("newbie") == []
    visible = {
        "alice": {bobs, franks},
        "erin": {bobs, franks},
        "bob": {bobs, bobs_own},
        "frank": {franks},
        "carol": {daves},
        "dave": {daves},
        "newbie": set(),
    }
    for key, allowed in visible.items():
        token = shop.token("customer", key)
        for order in (bobs, franks, bobs_own, daves):
            found = await seen(shop, token, NODE, order)
            assert (found is not None) == (order in allowed), (key, order, found)
    # The admin reads the buyer's name on the order, never the buyer's own orders, addresses or activity.
    body = await shop.post(
        """query($id: ID!) { node(id: $id) { ... on Order { customer { name orders(first: 5) { edges { node { id } } }
        addresses { line1 } activity(first: 5) { edges { node { type } } } notificationPreferences { phone } } } } }""",
        {"id": bobs},
        token=shop.token("customer", "alice"),
    )
    customer = body.json()["data"]["node"]["customer"]
    assert customer["name"] == "Bob Shopper"
    assert customer["orders"]["edges"] == []
    assert customer["addresses"] == []
    assert customer["activity"]["edges"] == []
    assert customer["notificationPreferences"]["phone"] is None
    # Unlinked, the approver sees the company's orders no more.
    await ok(shop, "RemoveCompanyBuyer", {"input": {"buyerId": buyer_id(shop, "erin")}})
    assert await seen(shop, shop.token("customer", "erin"), NODE, bobs) is None


async def test_an_admins_live_updates_carry_the_companys_orders_and_no_other(shop: Api) -> None:
    a, b = await two_companies(shop)
    bobs = await company_order(shop, "bob", a, "live-a-bob")
    bobs_own = await company_order(shop, "bob", None, "live-bob-personal")
    daves = await company_order(shop, "dave", b, "live-b-dave")
    alices = await company_order(shop, "alice", None, "live-alice")
    agent = shop.token("agent")
    async with (
        serving_on_a_port(shop.app) as url,
        LiveClient.connect(url, shop.token("customer", "alice")) as spa,
        LiveClient.connect(url, shop.token("customer", "carol")) as other,
    ):
        replayed = await spa.subscribe("MyOrderUpdates", {"after": "0"})
        # From the log: the placements of alice's own order and of A's order, nothing of B's or bob's own.
        assert sorted(e["order"]["id"] for e in await replayed.take(2)) == sorted([bobs, alices])
        live = await spa.subscribe("MyOrderUpdates", {})
        carol_live = await other.subscribe("MyOrderUpdates", {})
        watch = await spa.subscribe("WatchOrder", {"id": bobs})
        foreign = await spa.subscribe("WatchOrder", {"id": daves})
        refused = await foreign.message()
        assert refused["type"] == "error", refused
        assert refused["payload"][0]["extensions"]["code"] == "NOT_FOUND", refused
        await asyncio.sleep(0.2)
        for order in (daves, bobs_own, bobs, alices):
            body = await shop.run("HoldOrder", {"input": {"orderId": order, "reason": "Credit check"}}, token=agent)
            assert body["data"]["holdOrder"]["userErrors"] == [], body
        assert [e["order"]["id"] for e in await live.take(2)] == [bobs, alices]
        assert [e["order"]["id"] for e in await replayed.take(2)] == [bobs, alices]
        assert (await watch.next())["order"]["id"] == bobs
        assert (await carol_live.next())["order"]["id"] == daves


async def test_analysts_see_companies_without_anyones_personal_data(shop: Api) -> None:
    a, _ = await two_companies(shop)
    analyst = shop.token("analyst")
    body = await shop.run("CompanyDirectory", {"first": 10}, token=analyst)
    companies = {e["node"]["name"]: e["node"] for e in body["data"]["companies"]["edges"]}
    assert set(companies) == {"Alpha Works", "Beta Trading"}
    alpha = companies["Alpha Works"]
    assert alpha["billingAddress"] == {"name": None, "line1": None, "city": "New York", "country": "US"}
    assert alpha["creditLimit"] == {"amount": "5000.00", "currency": "USD"}
    assert sorted(b["role"] for b in alpha["buyers"]) == ["BUYER", "COMPANY_ADMIN"]
    assert all(b["name"] is None and b["email"] is None for b in alpha["buyers"])
    location = await seen(
        shop,
        analyst,
        """query($id: ID!) { node(id: $id) { ... on CompanyLocation { label address { name line1 phone city } } } }""",
        a.location,
    )
    assert location == {
        "label": "Main dock",
        "address": {"name": None, "line1": None, "phone": None, "city": "Brooklyn"},
    }
    buyer = await seen(
        shop, analyst, """query($id: ID!) { node(id: $id) { ... on CompanyBuyer { role name email } } }""", a.admin
    )
    assert buyer == {"role": "COMPANY_ADMIN", "name": None, "email": None}
    # Analysts change nothing.
    refused = await shop.run(
        "AddMyCompanyLocation", {"input": {"companyId": a.company, "label": "X", "address": SHIP_TO}}, token=analyst
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_customers_cannot_list_companies_or_price_lists(shop: Api) -> None:
    await two_companies(shop)
    for key in ("alice", "newbie"):
        token = shop.token("customer", key)
        for operation, variables in (("FindCompanies", {"first": 5}), ("PriceLists", {"first": 5})):
            body = await shop.run(operation, variables, token=token)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (key, operation, body)
    anonymous = await shop.post(COMPANY, {"id": MISSING["Company"]})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # An ID of another type is refused as such.
    wrong = await shop.post(COMPANY, {"id": encode_global_id("Customer", 1)}, token=shop.token("agent"))
    assert wrong.json()["errors"][0]["extensions"]["code"] == "INVALID_ID"
    refused = await agent_run(
        shop, "SetCompanyBuyerRole", {"input": {"buyerId": buyer_id(shop, "newbie"), "role": "BUYER"}}
    )
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]


async def test_a_former_buyer_reads_only_the_name_of_the_company_on_their_old_order(shop: Api) -> None:
    a, _ = await two_companies(shop)
    bobs = await company_order(shop, "bob", a, "former-bob")
    alices = await company_order(shop, "alice", a, "former-alice")
    await ok(shop, "RemoveCompanyBuyer", {"input": {"buyerId": a.buyer}})
    body = await shop.post(
        """query($id: ID!) { node(id: $id) { ... on Order { company { id name billingAddress { city }
        creditAvailable { amount } approvalThreshold { amount } priceList { id } locations { id } buyers { id }
        orders(first: 10) { edges { node { id } } } } } } }""",
        {"id": bobs},
        token=shop.token("customer", "bob"),
    )
    company = body.json()["data"]["node"]["company"]
    assert company["name"] == "Alpha Works"
    for hidden in ("billingAddress", "creditAvailable", "approvalThreshold", "priceList"):
        assert company[hidden] is None, hidden
    assert company["locations"] == []
    assert company["buyers"] == []
    assert [e["node"]["id"] for e in company["orders"]["edges"]] == [bobs]  # his own, not alice's
    assert alices not in str(company)


async def _statements(shop: Api, operation: str, variables: dict, token: str) -> int:
    with shop.statements() as executed:
        body = await shop.run(operation, variables, token=token)
    assert "errors" not in body, body
    return len([s for s in executed if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))])


async def test_company_views_read_the_same_statements_for_one_buyer_or_many(shop: Api) -> None:
    """The company's buyers, locations and the console's list load in batches: more buyers, locations and
    companies cost no more statements."""
    a, _ = await two_companies(shop)
    alice, agent = shop.token("customer", "alice"), shop.token("agent")
    few = [
        await _statements(shop, "MyCompanyBuyers", {}, alice),
        await _statements(shop, "CompanyDetail", {"id": a.company}, agent),
        await _statements(shop, "CompanyDirectory", {"first": 20}, shop.token("analyst")),
    ]
    for n in range(4):
        await new_customer(shop, f"extra{n}")
        await ok(
            shop,
            "AddCompanyBuyer",
            {"input": {"companyId": a.company, "customerId": customer_id(shop, f"extra{n}"), "role": "BUYER"}},
        )
        await ok(
            shop, "AddCompanyLocation", {"input": {"companyId": a.company, "label": f"Dock {n}", "address": SHIP_TO}}
        )
        await make_company(shop, name=f"Gamma {n}", admin=None, buyer=None)
    many = [
        await _statements(shop, "MyCompanyBuyers", {}, alice),
        await _statements(shop, "CompanyDetail", {"id": a.company}, agent),
        await _statements(shop, "CompanyDirectory", {"first": 20}, shop.token("analyst")),
    ]
    assert many == few
