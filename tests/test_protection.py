"""Hostile documents are refused with their code before any resolver or SQL runs; the server keeps answering."""

import json

import pytest

from tests.conftest import Api
from tests.contract import document

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
    return "query { " + " ".join(f"p{n}: products(skus: [\"SKU-1\"]) {{ sku }}" for n in range(count)) + " }"


FRAGMENT_CYCLE = """
query { me { ...A } }
fragment A on Customer { orders(first: 1) { edges { node { customer { ...B } } } } }
fragment B on Customer { orders(first: 1) { edges { node { customer { ...A } } } } }
"""

HOSTILE = [
    ("DOCUMENT_TOO_LARGE", "query { me { id } }" + " " * 1_100_000, {}),
    ("TOO_MANY_TOKENS", "query { " + "me { id } " * 3_000 + "}", {}),
    ("TOO_MANY_TOKENS", " ".join(f"query Q{n} {{ me {{ id }} }}" for n in range(1_000)), {}),
    ("TOO_MANY_OPERATIONS", " ".join(f"query Q{n} {{ me {{ id }} }}" for n in range(30)), {}),
    ("QUERY_TOO_DEEP", deep(8), {"id": "T3JkZXI6MQ=="}),
    ("TOO_MANY_ALIASES", aliases(200), {}),
    ("QUERY_TOO_COSTLY", NESTED_CONNECTIONS, {}),
    ("GRAPHQL_VALIDATION_FAILED", FRAGMENT_CYCLE, {}),
]


@pytest.mark.parametrize(("code", "query", "variables"), HOSTILE, ids=[f"{n}-{h[0]}" for n, h in enumerate(HOSTILE)])
async def test_hostile_documents_are_refused_before_anything_runs(api: Api, code: str, query: str, variables: dict) -> None:
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
    batch = [{"query": "{ products(skus: [\"SKU-1\"]) { sku } }"}] * 1_000
    with api.statements() as executed:
        response = await api.client.post("/graphql", content=json.dumps(batch), headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert executed == []


async def test_every_response_reports_its_cost(api: Api) -> None:
    body = await api.run("MyOrderHistory", {"first": 5}, token=api.token("customer", "alice"))
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] > 0 and 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"]


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
    assert codes[0] == "OK" and codes[-1] == "THROTTLED"
    # Another caller is not affected.
    other = await api.run("MyOrderHistory", {"first": 5}, token=api.token("customer", "alice"))
    assert "errors" not in other
