"""Bad input gets a clear error with a code and a 200 or 400 status, never a 500, and changes nothing."""

import pytest

from ordergraph.schema.node import encode_global_id


def _codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ orders(first: 1 { totalCount }", {}, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("query($f: Int!) { orders(first: $f) { totalCount } }", {"f": "ten"}, "BAD_USER_INPUT"),
        ("query($f: Int!) { orders(first: $f) { totalCount } }", {}, "BAD_USER_INPUT"),
        ("{ orders(first: 101) { totalCount } }", {}, "BAD_USER_INPUT"),
        ("{ orders(first: -1) { totalCount } }", {}, "BAD_USER_INPUT"),
        ('{ orders(first: 1, after: "not-a-cursor") { totalCount } }', {}, "BAD_USER_INPUT"),
        ('{ node(id: "!!!") { id } }', {}, "INVALID_ID"),
        ('{ orders(filter: {customerId: "T3JkZXI6MQ"}, first: 1) { totalCount } }', {}, "INVALID_ID"),
    ],
)
async def test_bad_input_is_answered_with_a_code(api, query, variables, code):
    response = await api.post(query, variables, token=api.token("agent"))
    assert response.status_code in (200, 400)
    assert _codes(response.json()) == [code]


async def test_an_order_cursor_is_not_accepted_by_another_list(api):
    agent = api.token("agent")
    page = (await api.post("{ orders(first: 1) { pageInfo { endCursor } } }", token=agent)).json()
    cursor = page["data"]["orders"]["pageInfo"]["endCursor"]
    body = (
        await api.post(
            "query($a: String) { customers(first: 1, after: $a) { edges { cursor } } }", {"a": cursor}, token=agent
        )
    ).json()
    assert _codes(body) == ["BAD_USER_INPUT"]


async def test_an_unknown_id_of_a_known_type_is_null(api):
    body = (
        await api.post(
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": encode_global_id("Order", 10**9)},
            token=api.token("agent"),
        )
    ).json()
    assert body["data"] == {"node": None}
    assert "errors" not in body


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b'{"variables": {}}', "application/json")],
)
async def test_a_request_that_is_not_graphql_is_a_400(api, content, content_type):
    response = await api.client.post("/graphql", content=content, headers={"content-type": content_type})
    assert response.status_code == 400


async def test_health_reports_the_database(api):
    response = await api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broadcast": "ok"}
