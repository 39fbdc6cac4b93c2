"""Customer records and address books through the contract (#18): agents create and edit customers and place their
first order; customers edit their profile and address book; every change is in the activity; bad input is a coded
error that changes nothing; search finds phones however written and orders by tracking number."""

import sqlalchemy as sa
from conftest import TEST_SECRET, Api
from test_placement import order_input

from ordergraph.models import Customer, CustomerAddress, OrderEvent
from ordergraph.resolvers.access import Role
from ordergraph.schema.node import encode_global_id
from ordergraph.server.auth import issue_token

BOSTON = {
    "name": "Carol Caller",
    "line1": "1 Beacon St",
    "city": "Boston",
    "region": "MA",
    "postalCode": "02108",
    "country": "US",
}
PRAHA = {
    "name": "Carol Caller",
    "line1": "Václavské náměstí 1",
    "city": "Praha",
    "postalCode": "11000",
    "country": "cz",
}


def customer_token(customer_global_id: str, name: str = "Carol Caller") -> str:
    return issue_token(TEST_SECRET, role=Role.CUSTOMER, subject=customer_global_id, name=name, ttl_seconds=3600)


async def run(shop: Api, operation: str, variables: dict, token: str) -> dict:
    body = await shop.run(operation, variables, token=token)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def create(shop: Api, **fields) -> dict:
    values = {"name": "Carol Caller", "email": "Carol@Example.com", "phone": "(617) 555-0100", "addresses": [BOSTON]}
    return await run(shop, "CreateCustomer", {"input": {**values, **fields}}, shop.token("agent"))


async def state(shop: Api) -> dict:
    """Everything a refused change must leave as it was."""
    async with shop.db.read() as session:
        customers = (await session.exec(sa.select(Customer).order_by(Customer.id))).scalars().all()
        addresses = (await session.exec(sa.select(CustomerAddress).order_by(CustomerAddress.id))).scalars().all()
        events = (await session.exec(sa.select(sa.func.count()).select_from(OrderEvent))).one()[0]
    return {
        "customers": [c.model_dump() for c in customers],
        "addresses": [a.model_dump() for a in addresses],
        "events": events,
    }


async def activity(shop: Api, customer_id: str) -> list[tuple[str, str | None]]:
    body = await shop.post(
        "query($id: ID!) { node(id: $id) { ... on Customer { activity(first: 50) { edges { node { type message "
        "order { id } } } } } } }",
        {"id": customer_id},
        token=shop.token("agent"),
    )
    edges = body.json()["data"]["node"]["activity"]["edges"]
    assert all(e["node"]["order"] is None for e in edges if e["node"]["type"].startswith(("CUSTOMER_", "ADDRESS_")))
    return [(e["node"]["type"], e["node"]["message"]) for e in edges]


async def test_an_agent_creates_a_caller_and_places_their_first_order(shop: Api) -> None:
    created = await create(shop)
    assert created["userErrors"] == []
    customer = created["customer"]
    assert (customer["name"], customer["email"], customer["phone"]) == (
        "Carol Caller",
        "carol@example.com",
        "+16175550100",
    )
    (saved,) = customer["addressBook"]
    assert (saved["defaultShipping"], saved["defaultBilling"]) == (True, True)
    assert saved["address"]["postalCode"] == "02108"

    address = {k: v for k, v in saved["address"].items() if v is not None}
    placed = await run(
        shop,
        "PlaceOrderOnBehalf",
        {"input": order_input(address=address, key="first", customerId=customer["id"])},
        shop.token("agent"),
    )
    assert placed["userErrors"] == []
    assert placed["order"]["channel"] == "AGENT"
    assert placed["order"]["shippingAddress"]["line1"] == "1 Beacon St"

    mine = await run(shop, "MyAddresses", {}, customer_token(customer["id"]))
    assert mine["id"] == customer["id"]
    assert len(mine["addressBook"]) == 1
    types = [t for t, _ in await activity(shop, customer["id"])]
    assert types[-1] == "CUSTOMER_CREATED"
    assert "ORDER_PLACED" in types
    found = await run(shop, "FindCustomers", {"search": "+1 617 555 0100", "first": 5}, shop.token("agent"))
    assert [e["node"]["id"] for e in found["edges"]] == [customer["id"]]


async def test_phone_search_matches_however_the_number_is_written(shop: Api) -> None:
    carol = (await create(shop))["customer"]["id"]
    other = (await create(shop, email="dan@example.com", name="Dan", phone="+1 212 555 0111", addresses=[]))["customer"]
    for term in ("+1 (617) 555-0100", "617-555-0100", "6175550100", "617.555.0100", "+16175550100", "555-0100"):
        found = await run(shop, "FindCustomers", {"search": term, "first": 10}, shop.token("agent"))
        assert [e["node"]["id"] for e in found["edges"]] == [carol], term
    found = await run(shop, "FindCustomers", {"search": "(212) 555-0111", "first": 10}, shop.token("agent"))
    assert [e["node"]["id"] for e in found["edges"]] == [other["id"]]
    # Analysts cannot search customers at all, phones included.
    body = await shop.run("FindCustomers", {"search": "6175550100", "first": 10}, token=shop.token("analyst"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_orders_are_found_by_tracking_number_however_typed(shop: Api) -> None:
    from test_notifications import ship

    order = await ship(shop, key="trk-77")  # tracking number 1ZTRK-77
    for term in ("1ZTRK-77", "1ztrk-77", "1Z TRK 77", "1ztrk77"):
        body = await shop.run("SearchOrders", {"filter": {"search": term}, "first": 5}, token=shop.token("agent"))
        assert [e["node"]["id"] for e in body["data"]["orders"]["edges"]] == [order["id"]], term
    body = await shop.run("SearchOrders", {"filter": {"search": "1ZTRK-77"}, "first": 5}, token=shop.token("analyst"))
    assert [e["node"]["id"] for e in body["data"]["orders"]["edges"]] == [order["id"]]
    body = await shop.run("SearchOrders", {"filter": {"search": "1Z TRK 77"}, "first": 5}, token=shop.token("analyst"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # not identifier-shaped: as before


async def test_bad_customer_input_is_a_coded_error_that_changes_nothing(shop: Api) -> None:
    await create(shop)
    before = await state(shop)
    agent = shop.token("agent")
    cases = [
        ({"email": "ALICE@shop.example"}, "EMAIL_TAKEN", ["email"]),
        ({"email": "carol@example.com"}, "EMAIL_TAKEN", ["email"]),
        ({"email": "not-an-email"}, "INVALID_EMAIL", ["email"]),
        ({"email": "a@b"}, "INVALID_EMAIL", ["email"]),
        ({"email": "x@erased.invalid"}, "INVALID_EMAIL", ["email"]),
        ({"email": "z@example.com", "phone": "12345"}, "INVALID_PHONE", ["phone"]),
        ({"email": "z@example.com", "name": "   "}, "INVALID_NAME", ["name"]),
        (
            {"email": "z@example.com", "addresses": [{**BOSTON, "country": "ZZ"}]},
            "UNKNOWN_COUNTRY",
            ["addresses", "0", "country"],
        ),
        (
            {"email": "z@example.com", "addresses": [{**BOSTON, "country": "USA"}]},
            "UNKNOWN_COUNTRY",
            ["addresses", "0", "country"],
        ),
        (
            {"email": "z@example.com", "addresses": [{**BOSTON, "postalCode": "00000"}]},
            "UNKNOWN_POSTAL_CODE",
            ["addresses", "0", "postalCode"],
        ),
        (
            {"email": "z@example.com", "addresses": [{**PRAHA, "postalCode": "1100"}]},
            "INVALID_ADDRESS",
            ["addresses", "0", "postalCode"],
        ),
        (
            {"email": "z@example.com", "addresses": [{**BOSTON, "line1": " "}]},
            "INVALID_ADDRESS",
            ["addresses", "0", "line1"],
        ),
        (
            {"email": "z@example.com", "addresses": [{**BOSTON, "phone": "123"}]},
            "INVALID_PHONE",
            ["addresses", "0", "phone"],
        ),
    ]
    for fields, code, field in cases:
        refused = await create(shop, **fields)
        assert refused["customer"] is None
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [(code, field)], fields
    for fields in (
        {"name": "Carol\x00"},
        {"name": "x" * 201},
        {"email": "a" * 250 + "@example.com"},
        {"phone": "1" * 40},
    ):
        body = await shop.run(
            "CreateCustomer", {"input": {"name": "N", "email": "n@example.com", **fields}}, token=agent
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", fields
    for token in (shop.token("customer", "alice"), shop.token("analyst"), None):
        body = await shop.run("CreateCustomer", {"input": {"name": "N", "email": "n@example.com"}}, token=token)
        assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
    assert await state(shop) == before
    # A Czech address and number are normalised by the country's rules.
    czech = await create(shop, email="pavla@example.cz", name="Pavla", phone="601 123 456", addresses=[PRAHA])
    assert czech["userErrors"] == []
    assert czech["customer"]["phone"] == "+420601123456"
    assert czech["customer"]["addressBook"][0]["address"]["postalCode"] == "110 00"


async def test_customers_edit_their_profile_and_agents_any_customers(shop: Api) -> None:
    alice_id = encode_global_id("Customer", shop.world.customers["alice"])
    alice = shop.token("customer", "alice")
    changed = await run(
        shop, "UpdateMyProfile", {"input": {"name": " Alice  Q. Shopper ", "phone": "212-555-0123"}}, alice
    )
    assert changed["userErrors"] == []
    assert (changed["customer"]["name"], changed["customer"]["phone"]) == ("Alice Q. Shopper", "+12125550123")
    before = await state(shop)
    taken = await run(shop, "UpdateMyProfile", {"input": {"email": "BOB@shop.example"}}, alice)
    assert [e["code"] for e in taken["userErrors"]] == ["EMAIL_TAKEN"]
    bad = await run(shop, "UpdateMyProfile", {"input": {"phone": "555"}}, alice)
    assert [e["code"] for e in bad["userErrors"]] == ["INVALID_PHONE"]
    assert await state(shop) == before
    # The agent's mutation, for a customer by id; a customer cannot use it for someone else.
    bob_id = encode_global_id("Customer", shop.world.customers["bob"])
    by_agent = await run(
        shop,
        "UpdateCustomer",
        {"input": {"customerId": alice_id, "email": "alice.q@shop.example"}},
        shop.token("agent"),
    )
    assert by_agent["customer"]["email"] == "alice.q@shop.example"
    other = await run(shop, "UpdateCustomer", {"input": {"customerId": bob_id, "name": "Mallory"}}, alice)
    assert [e["code"] for e in other["userErrors"]] == ["NOT_FOUND"]  # as for a customer who does not exist
    unchanged = await run(shop, "UpdateMyProfile", {"input": {"name": "Alice Q. Shopper"}}, alice)
    assert unchanged["userErrors"] == []
    log = [(t, m) for t, m in await activity(shop, alice_id) if t == "CUSTOMER_UPDATED"]
    assert log == [
        ("CUSTOMER_UPDATED", "Profile updated: email."),
        ("CUSTOMER_UPDATED", "Profile updated: name, phone."),
    ]


async def test_the_address_book_with_its_defaults(shop: Api) -> None:
    alice = shop.token("customer", "alice")
    alice_id = encode_global_id("Customer", shop.world.customers["alice"])
    (first,) = (await run(shop, "MyAddresses", {}, alice))["addressBook"]
    # Migrated/seeded books have no defaults until one is chosen; the first added to an empty book gets both.
    added = await run(shop, "AddMyAddress", {"input": {"address": BOSTON, "defaultShipping": True}}, alice)
    assert added["userErrors"] == []
    boston = added["address"]
    assert (boston["defaultShipping"], boston["defaultBilling"]) == (True, False)
    praha = (await run(shop, "AddMyAddress", {"input": {"address": PRAHA, "defaultBilling": True}}, alice))["address"]
    assert praha["address"]["country"] == "CZ"
    assert praha["address"]["postalCode"] == "110 00"

    def defaults(book: list[dict]) -> dict[str, tuple[bool, bool]]:
        return {a["id"]: (a["defaultShipping"], a["defaultBilling"]) for a in book}

    book = (await run(shop, "MyAddresses", {}, alice))["addressBook"]
    assert defaults(book) == {first["id"]: (False, False), boston["id"]: (True, False), praha["id"]: (False, True)}
    moved = await run(
        shop, "SetMyDefaultAddress", {"input": {"addressId": first["id"], "shipping": True, "billing": False}}, alice
    )
    assert defaults(moved["customer"]["addressBook"])[first["id"]] == (True, False)
    assert defaults(moved["customer"]["addressBook"])[boston["id"]] == (False, False)
    new_boston = {**BOSTON, "line2": "Apt 4", "phone": "617 555 0100"}
    edited = await run(shop, "UpdateMyAddress", {"input": {"addressId": boston["id"], "address": new_boston}}, alice)
    assert edited["address"]["address"]["line2"] == "Apt 4"
    assert edited["address"]["address"]["phone"] == "+16175550100"
    removed = await run(shop, "RemoveMyAddress", {"input": {"addressId": praha["id"]}}, alice)
    # The default billing address was removed: the first address left takes it.
    assert defaults(removed["customer"]["addressBook"]) == {first["id"]: (True, True), boston["id"]: (False, False)}
    # An agent edits the same book by the customer's id.
    by_agent = await run(
        shop, "AgentAddCustomerAddress", {"input": {"customerId": alice_id, "address": PRAHA}}, shop.token("agent")
    )
    assert by_agent["userErrors"] == []
    assert len(by_agent["customer"]["addressBook"]) == 3
    types = [t for t, _ in await activity(shop, alice_id)]
    assert types[:6] == [
        "ADDRESS_ADDED",
        "ADDRESS_REMOVED",
        "ADDRESS_UPDATED",
        "DEFAULT_ADDRESS_CHANGED",
        "ADDRESS_ADDED",
        "ADDRESS_ADDED",
    ]
    messages = " ".join(m or "" for _, m in await activity(shop, alice_id))
    for value in ("Beacon", "Václav", "02108", "Apt 4", "Carol"):
        assert value not in messages


async def test_another_customers_address_is_not_found_like_a_missing_one(shop: Api) -> None:
    alice, bob = shop.token("customer", "alice"), shop.token("customer", "bob")
    alices = (await run(shop, "AddMyAddress", {"input": {"address": BOSTON}}, alice))["address"]["id"]
    missing = encode_global_id("CustomerAddress", 999_999)
    bob_id = encode_global_id("Customer", shop.world.customers["bob"])
    alice_id = encode_global_id("Customer", shop.world.customers["alice"])
    before = await state(shop)
    answers = {}
    for address_id in (alices, missing):
        answers[address_id] = [
            await run(shop, "UpdateMyAddress", {"input": {"addressId": address_id, "address": PRAHA}}, bob),
            await run(shop, "RemoveMyAddress", {"input": {"addressId": address_id}}, bob),
            await run(shop, "SetMyDefaultAddress", {"input": {"addressId": address_id}}, bob),
        ]
    assert answers[alices] == answers[missing]
    assert {e["code"] for payload in answers[alices] for e in payload["userErrors"]} == {"NOT_FOUND"}
    # Naming another customer when adding is the same NOT_FOUND as naming no one who exists.
    other = await run(shop, "AddMyAddress", {"input": {"customerId": alice_id, "address": PRAHA}}, bob)
    assert [e["code"] for e in other["userErrors"]] == ["NOT_FOUND"]
    nobody = await run(
        shop, "AddMyAddress", {"input": {"customerId": encode_global_id("Customer", 999_999), "address": PRAHA}}, bob
    )
    assert nobody == other
    body = await shop.run("RemoveMyAddress", {"input": {"addressId": bob_id}}, token=bob)  # an ID of another type
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ID"
    body = await shop.run("AddMyAddress", {"input": {"address": {**PRAHA, "line1": "x" * 201}}}, token=bob)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    analyst = await shop.run("RemoveMyAddress", {"input": {"addressId": alices}}, token=shop.token("analyst"))
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await state(shop) == before


async def test_analysts_read_no_address_book(api: Api) -> None:
    """The address book is personal data: an analyst reaching it by node gets none."""
    me = await api.post("{ me { id addressBook { id } } }", token=api.token("customer", "alice"))
    alice = me.json()["data"]["me"]
    assert alice["addressBook"], alice  # there is something to hide
    query = "query($id: ID!) { node(id: $id) { ... on Customer { addressBook { address { line1 } } } } }"
    seen = (await api.post(query, {"id": alice["id"]}, token=api.token("analyst"))).json()
    assert seen["data"]["node"]["addressBook"] == [], seen
