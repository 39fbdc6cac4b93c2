"""Hostile documents are refused with their code before any resolver or SQL runs; the server keeps answering."""

import contextlib
import json

import pytest
from conftest import Api, serving
from contract import document

from ordergraph.schema.trusted_documents import MANIFEST, manifest_json, persisted_documents, sha256

NESTED_CONNECTIONS = """
query { customers(first: 100) { edges { node { orders(first: 100) { edges { node {
  timeline(first: 100) { edges { node { message } } } } } } } } } }
"""


def deep(levels: int) -> str:
    body = "id"
    for _ in range(levels):
        body = f"customer {{ orders(first: 1) {{ edges {{ node {{ {body} }} }} }} }}"
    return "query($id: ID!) { node(id: $id) { ... on Order { " + body + " } } }"


def aliases(count: int) -> str:
    return "query { " + " ".join(f'p{n}: products(skus: ["SKU-1"]) {{ sku }}' for n in range(count)) + " }"


FRAGMENT_CYCLE = """
query { me { ...A } }
fragment A on Customer { orders(first: 1) { edges { node { customer { ...B } } } } }
fragment B on Customer { orders(first: 1) { edges { node { customer { ...A } } } } }
"""

# Connections selected in a fragment on a type (`node` answers the Node interface): they cost as connections.
THROUGH_A_FRAGMENT = """
query($id: ID!) { node(id: $id) { ... on Customer { orders(first: 100) { edges { node {
  customer { orders(first: 100) { edges { node { id lines { sku } } } } } } } } } } }
"""

# Connections without `first` (each costs as 20 items), 16 levels deep.
WITHOUT_FIRST = "query { orders " + "{ edges { node { customer { orders " * 3 + "{ edges { node { id" + " }" * 16

HOSTILE = [
    # Over the document limit (100 kB), under the body limit (a larger body is refused with 413 before parsing).
    ("DOCUMENT_TOO_LARGE", "query { me { id } }" + " " * 200_000, {}),
    ("TOO_MANY_TOKENS", "query { " + "me { id } " * 3_000 + "}", {}),
    ("TOO_MANY_TOKENS", " ".join(f"query Q{n} {{ me {{ id }} }}" for n in range(1_000)), {}),
    ("TOO_MANY_OPERATIONS", " ".join(f"query Q{n} {{ me {{ id }} }}" for n in range(30)), {}),
    ("QUERY_TOO_DEEP", deep(8), {"id": "T3JkZXI6MQ=="}),
    ("QUERY_TOO_DEEP", WITHOUT_FIRST, {}),
    ("TOO_MANY_ALIASES", aliases(200), {}),
    ("QUERY_TOO_COSTLY", NESTED_CONNECTIONS, {}),
    ("QUERY_TOO_COSTLY", THROUGH_A_FRAGMENT, {"id": "Q3VzdG9tZXI6MQ=="}),
    ("GRAPHQL_VALIDATION_FAILED", FRAGMENT_CYCLE, {}),
]


@pytest.mark.parametrize(("code", "query", "variables"), HOSTILE, ids=[f"{n}-{h[0]}" for n, h in enumerate(HOSTILE)])
async def test_hostile_documents_are_refused_before_anything_runs(
    api: Api, code: str, query: str, variables: dict
) -> None:
    token = api.token("agent")
    with api.statements() as executed:
        response = await api.post(query, variables, token=token)
    assert response.status_code in (200, 400), response.text[:300]
    body = response.json()
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]][:1] == [code], body["errors"][0]
    assert executed == []
    healthy = await api.run("ProductAvailability", {"skus": ["SKU-1"], "postalCode": "10001"})
    assert healthy["data"]["products"][0]["sku"] == "SKU-1"


async def test_a_batch_of_a_thousand_operations_is_refused(api: Api) -> None:
    batch = [{"query": '{ products(skus: ["SKU-1"]) { sku } }'}] * 1_000
    with api.statements() as executed:
        response = await api.client.post(
            "/graphql", content=json.dumps(batch), headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCHING_NOT_SUPPORTED"
    assert executed == []


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"{not json", "BAD_REQUEST"), (b'{"variables": {}}', "BAD_REQUEST"), (b"[]", "BATCHING_NOT_SUPPORTED")],
)
async def test_requests_that_are_not_graphql_get_a_coded_error(api: Api, body: bytes, code: str) -> None:
    response = await api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_every_response_reports_its_cost(api: Api) -> None:
    body = await api.run("MyOrderHistory", {"first": 5}, token=api.token("customer", "alice"))
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] > 0
    assert 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"]


async def test_a_caller_over_its_cost_budget_is_throttled_and_told_when_to_retry(shop: Api) -> None:
    api = shop  # an app of its own: its buckets start empty
    token = api.token("customer", "bob")
    query = document("MyOrderHistory")
    codes = []
    for _ in range(40):  # each request costs about 1,000 of a customer's 10,000 bucket
        body = (await api.post(query, {"first": 75}, token=token)).json()
        codes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "OK")
        if codes[-1] == "THROTTLED":
            assert body["errors"][0]["extensions"]["retry_after"] > 0
            break
    assert codes[0] == "OK"
    assert codes[-1] == "THROTTLED"
    # Another caller is not affected.
    other = await api.run("MyOrderHistory", {"first": 5}, token=api.token("customer", "alice"))
    assert "errors" not in other


def served_with(api: Api, **settings: object) -> contextlib.AbstractAsyncContextManager[Api]:
    """The same database served by an app with other settings."""
    return serving(api.app.state.services.settings.database_url, api.world, api.backend, **settings)


def persisted(operation: str) -> dict:
    """The persisted-query extension naming a contract operation by its id in the manifest."""
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(persisted_documents()[operation][1])}}


async def test_a_trusted_document_runs_by_its_hash_alone(api: Api) -> None:
    token = api.token("customer", "alice")
    by_hash = await api.client.post(
        "/graphql",
        headers={"Authorization": f"Bearer {token}"},
        json={"variables": {"first": 5}, "extensions": persisted("MyOrderHistory")},
    )
    by_text = (await api.post(persisted_documents()["MyOrderHistory"][1], {"first": 5}, token=token)).json()
    assert by_hash.status_code == 200
    assert by_hash.json()["data"] == by_text["data"]
    assert by_hash.json()["data"]["me"]["orders"]["__typename"] == "OrderConnection"


@pytest.mark.parametrize("trusted_only", [False, True])
async def test_an_unknown_hash_is_refused(api: Api, trusted_only: bool) -> None:
    async with served_with(api, trusted_documents_only=trusted_only) as strict:
        with strict.statements() as executed:
            response = await strict.client.post(
                "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
            )
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert executed == []


async def test_trusted_documents_only_refuses_any_other_document_before_it_runs(api: Api) -> None:
    token = api.token("agent")
    async with served_with(api, trusted_documents_only=True) as strict:
        with strict.statements() as executed:
            handmade = (await strict.post("{ orders(first: 1) { edges { node { id } } } }", token=token)).json()
        assert handmade["data"] is None
        assert handmade["errors"][0]["extensions"]["code"] == "UNTRUSTED_DOCUMENT"
        assert executed == []
        # The clients' documents still run, by hash or by their exact text: as Apollo sends it, __typename added.
        apollo_text = persisted_documents()["SearchOrders"][1]
        by_text = (await strict.post(apollo_text, {"first": 2}, token=token)).json()
        as_written = (await strict.post(document("SearchOrders"), {"first": 2}, token=token)).json()
        assert as_written["errors"][0]["extensions"]["code"] == "UNTRUSTED_DOCUMENT"
        by_hash = (
            await strict.client.post(
                "/graphql",
                headers={"Authorization": f"Bearer {token}"},
                json={"variables": {"first": 2}, "extensions": persisted("SearchOrders")},
            )
        ).json()
        assert len(by_text["data"]["orders"]["edges"]) == 2
        assert by_hash["data"] == by_text["data"]


async def test_the_trusted_documents_manifest_is_current() -> None:
    assert MANIFEST.read_text() == manifest_json(), "run `ordergraph export-schema` and commit the result"


async def test_without_introspection_the_schema_is_not_revealed(api: Api) -> None:
    async with served_with(api, introspection=False, graphiql=False) as production:
        introspection = (await production.post("{ __schema { types { name } } }")).json()
        typo = (await production.post('{ prodcts(skus: ["SKU-1"]) { sku } }')).json()
        ide = await production.client.get("/graphql", headers={"Accept": "text/html"})
        normal = await production.run("ProductAvailability", {"skus": ["SKU-1"], "postalCode": "10001"})
    assert introspection["data"] is None
    assert "introspection" in introspection["errors"][0]["message"]
    assert typo["errors"][0]["message"] == "Cannot query field 'prodcts' on type 'Query'."
    assert ide.status_code == 404
    assert normal["data"]["products"][0]["sku"] == "SKU-1"
    # The development default keeps both.
    suggested = (await api.post('{ prodcts(skus: ["SKU-1"]) { sku } }')).json()
    assert "Did you mean 'products'?" in suggested["errors"][0]["message"]
    assert (await api.client.get("/graphql", headers={"Accept": "text/html"})).status_code == 200


@pytest.mark.parametrize(
    ("role", "first", "allowed"),
    [("analyst", 500, True), ("analyst", 501, False), ("agent", 100, True), ("agent", 500, False)],
)
async def test_analysts_page_exports_500_orders_at_a_time(api: Api, role: str, first: int, allowed: bool) -> None:
    body = await api.run("OrdersExport", {"first": first}, token=api.token(role))
    if allowed:
        assert "errors" not in body
        assert body["data"]["orders"]["edges"]
    else:
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
