"""GraphQL over HTTP as a client sees it: the media type the Accept header asks for, that type's status codes, the
same codes in `errors[].extensions.code` whichever type, queries over GET that caches may keep when anonymous, and
mutations over GET refused (server/graphql_http.py)."""

import json

import httpx
import pytest
from conftest import Api
from contract import document
from test_placement import place

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"  # Apollo Client 4's default
PRODUCTS = '{ products(skus: ["SKU-1"]) { sku name } }'
AVAILABILITY = {"skus": ["SKU-1"], "postalCode": "10001"}


async def send(
    api: Api, body: object, *, accept: str | None, token: str | None = None, method: str = "POST"
) -> httpx.Response:
    """A request with exactly this Accept header (None: no Accept header at all)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        assert isinstance(body, dict)
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        request = api.client.build_request("GET", "/graphql", params=params, headers=headers)
    else:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = JSON
        request = api.client.build_request("POST", "/graphql", content=content, headers=headers)
    del request.headers["accept"]  # httpx sends */* by default
    if accept is not None:
        request.headers["accept"] = accept
    return await api.client.send(request)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),  # the legacy default (the spec's watershed would allow graphql-response+json)
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (f"{JSON}; charset=utf-8", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (APOLLO_ACCEPT, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8, {JSON}; charset=utf-8", GRAPHQL_RESPONSE),  # the spec's recommendation
        (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),  # equal q: the first listed
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"*/*, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),  # named beats a wildcard
        (f"*/*;q=0.8, {GRAPHQL_RESPONSE};q=0", JSON),
        ("text/html, */*;q=0.8", JSON),  # a browser's address bar
    ],
)
async def test_the_answer_is_in_the_media_type_the_client_prefers(api: Api, accept: str | None, expected: str) -> None:
    response = await send(api, {"query": PRODUCTS}, accept=accept)
    assert response.status_code == 200
    assert media_type(response) == expected
    if expected == GRAPHQL_RESPONSE:
        assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    else:
        assert response.headers["content-type"] == JSON  # as it always was
    assert response.json()["data"]["products"][0]["sku"] == "SKU-1"


@pytest.mark.parametrize(
    "accept", ["text/html", "text/plain", "application/xml", f"{JSON};q=0, {GRAPHQL_RESPONSE};q=0"]
)
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_an_accept_header_that_allows_neither_type_is_406_before_anything_runs(
    api: Api, accept: str, method: str
) -> None:
    with api.statements() as executed:
        response = await send(
            api, {"query": document("ProductAvailability"), "variables": AVAILABILITY}, accept=accept, method=method
        )
    assert response.status_code == 406
    assert media_type(response) == JSON
    assert codes(response) == ["NOT_ACCEPTABLE"]
    assert executed == []


async def test_graphiql_is_still_served_to_a_browser(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


REQUEST_ERRORS = [
    ("GRAPHQL_PARSE_FAILED", {"query": "{"}),
    ("GRAPHQL_PARSE_FAILED", {"query": "{ orders(first: 1 { totalCount }"}),
    ("GRAPHQL_VALIDATION_FAILED", {"query": "{ nope }"}),
    ("GRAPHQL_VALIDATION_FAILED", {"query": "query Q { products(skus: 1) { sku } }", "operationName": "Q"}),
    ("BAD_USER_INPUT", {"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}}),
    ("BAD_USER_INPUT", {"query": "query($f: Int!) { orders(first: $f) { totalCount } }", "variables": {"f": "ten"}}),
    ("PERSISTED_QUERY_NOT_FOUND", {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}),
]


@pytest.mark.parametrize(("code", "body"), REQUEST_ERRORS, ids=[f"{n}-{e[0]}" for n, e in enumerate(REQUEST_ERRORS)])
async def test_a_request_error_is_400_without_data_in_graphql_response_json_and_200_in_json(
    api: Api, code: str, body: dict
) -> None:
    token = api.token("agent")
    with api.statements() as executed:
        modern = await send(api, body, accept=GRAPHQL_RESPONSE, token=token)
        legacy = await send(api, body, accept=JSON, token=token)
    assert executed == []
    assert (modern.status_code, media_type(modern), codes(modern)) == (400, GRAPHQL_RESPONSE, [code])
    assert "data" not in modern.json()
    assert (legacy.status_code, media_type(legacy), codes(legacy)) == (200, JSON, [code])
    assert legacy.json()["data"] is None


def deep(levels: int) -> str:
    body = "id"
    for _ in range(levels):
        body = f"customer {{ orders(first: 1) {{ edges {{ node {{ {body} }} }} }} }}"
    return 'query { node(id: "T3JkZXI6MQ==") { ... on Order { ' + body + " } } }"


# Refused by this server's limits and trusted documents before anything runs (schema/limits.py).
REFUSED = [
    ("DOCUMENT_TOO_LARGE", {"query": "query { me { id } }" + " " * 110_000}),
    ("TOO_MANY_TOKENS", {"query": "query { " + "me { id } " * 3_000 + "}"}),
    ("TOO_MANY_OPERATIONS", {"query": " ".join(f"query Q{n} {{ me {{ id }} }}" for n in range(30))}),
    ("QUERY_TOO_DEEP", {"query": deep(8)}),
    ("TOO_MANY_ALIASES", {"query": "{ " + " ".join(f"p{n}: products(skus: []) {{ sku }}" for n in range(40)) + " }"}),
    (
        "QUERY_TOO_COSTLY",
        {
            "query": "{ customers(first: 100) { edges { node {"
            " orders(first: 100) { edges { node { lines { sku } } } } } } } }"
        },
    ),
    (
        "PERSISTED_QUERY_MISMATCH",
        {"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
    ),
]


@pytest.mark.parametrize(("code", "body"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_limit_refusals_keep_their_codes_in_both_types(api: Api, code: str, body: dict) -> None:
    token = api.token("agent")
    with api.statements() as executed:
        modern = await send(api, body, accept=APOLLO_ACCEPT, token=token)
        legacy = await send(api, body, accept=JSON, token=token)
    assert executed == []
    assert (modern.status_code, media_type(modern), codes(modern)[:1]) == (400, GRAPHQL_RESPONSE, [code])
    assert "data" not in modern.json()
    assert (legacy.status_code, media_type(legacy), codes(legacy)[:1]) == (200, JSON, [code])
    assert legacy.json()["data"] is None


FIELD_ERRORS = [
    # (role or None for anonymous, query, code, data)
    (None, "{ me { id } }", "UNAUTHENTICATED", {"me": None}),
    ("customer", "{ orders(first: 1) { totalCount } }", "FORBIDDEN", None),
    ("agent", "{ orders(first: 101) { totalCount } }", "BAD_USER_INPUT", None),
    ("agent", '{ node(id: "!!!") { id } }', "INVALID_ID", {"node": None}),
]


@pytest.mark.parametrize(("role", "query", "code", "data"), FIELD_ERRORS, ids=[f[2] for f in FIELD_ERRORS])
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_once_execution_started_field_errors_are_200_with_data_in_both_types(
    api: Api, accept: str, role: str | None, query: str, code: str, data: dict | None
) -> None:
    token = api.token(role, "alice" if role == "customer" else None) if role else None
    response = await send(api, {"query": query}, accept=accept, token=token)
    assert response.status_code == 200
    assert media_type(response) == accept
    body = response.json()
    assert "data" in body
    assert body["data"] == data
    assert codes(response) == [code]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "BAD_REQUEST"),
        (b'{"variables": {}}', "BAD_REQUEST"),
        (b'{"query": 1}', "BAD_REQUEST"),
        (b'{"query": "{ __typename }", "variables": [7]}', "BAD_REQUEST"),
        (b"[]", "BATCHING_NOT_SUPPORTED"),
        (b'[{"query": "{ __typename }"}]', "BATCHING_NOT_SUPPORTED"),
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, None])
async def test_a_request_that_is_not_graphql_is_400_with_its_code_in_either_type(
    api: Api, body: bytes, code: str, accept: str | None
) -> None:
    response = await send(api, body, accept=accept)
    assert response.status_code == 400
    assert media_type(response) == (accept or JSON)
    assert codes(response) == [code]
    assert response.headers["cache-control"] == "no-store"


async def test_a_post_without_content_type_is_400(api: Api) -> None:
    response = await api.client.post("/graphql", content=json.dumps({"query": PRODUCTS}).encode())
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]


async def test_a_caller_over_its_budget_is_429_with_retry_after_in_graphql_response_json(shop: Api) -> None:
    class Exhausted:
        async def take(self, caller: str, cost: int, bucket: object) -> float:
            return 2.2

    shop.app.state.services.guard.cost_limiter = Exhausted()
    token = shop.token("customer", "bob")
    query = {"query": document("MyOrderHistory"), "variables": {"first": 5}}
    modern = await send(shop, query, accept=APOLLO_ACCEPT, token=token)
    legacy = await send(shop, query, accept=None, token=token)
    assert (modern.status_code, codes(modern)) == (429, ["THROTTLED"])
    assert modern.headers["retry-after"] == "3"
    assert modern.json()["errors"][0]["extensions"]["retry_after"] == 2.2
    assert "data" not in modern.json()
    assert (legacy.status_code, codes(legacy)) == (200, ["THROTTLED"])
    assert "retry-after" not in legacy.headers


# GET: queries only, and caches may keep what anyone may see.


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, None])
async def test_an_anonymous_query_over_get_is_answered_and_publicly_cacheable(api: Api, accept: str | None) -> None:
    query = {"query": document("ProductAvailability"), "variables": AVAILABILITY}
    by_get = await send(api, query, accept=accept, method="GET")
    by_post = await send(api, query, accept=accept)
    assert by_get.status_code == 200
    assert media_type(by_get) == (accept or JSON)
    assert by_get.json()["data"] == by_post.json()["data"]
    assert by_get.json()["data"]["products"][0]["sku"] == "SKU-1"
    assert by_get.headers["cache-control"] == "public, max-age=30"
    assert by_get.headers["vary"] == "Accept, Authorization"
    # The same answer by POST is not for caches.
    assert by_post.headers["cache-control"] == "no-store"
    assert by_post.headers["vary"] == "Accept, Authorization"


async def test_an_operation_named_among_several_runs_over_get(api: Api) -> None:
    body = {"query": "query A { __typename } query B { products(skus: []) { sku } }", "operationName": "B"}
    response = await send(api, body, accept=GRAPHQL_RESPONSE, method="GET")
    assert response.status_code == 200
    assert response.json()["data"] == {"products": []}


@pytest.mark.parametrize(
    ("role", "query"),
    [
        ("customer", '{ me { id } products(skus: ["SKU-1"]) { sku } }'),  # a customer's own data
        ("agent", PRODUCTS),  # a token: never shared, even for what anyone may see
        (None, "{ me { id } }"),  # an error (UNAUTHENTICATED)
        (None, "{ nope }"),  # a request error
    ],
)
async def test_get_answers_with_a_token_or_an_error_are_not_stored(api: Api, role: str | None, query: str) -> None:
    token = api.token(role, "alice" if role == "customer" else None) if role else None
    for accept in (GRAPHQL_RESPONSE, JSON):
        response = await send(api, {"query": query}, accept=accept, token=token, method="GET")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["vary"] == "Accept, Authorization"


async def test_a_mutation_over_get_is_405_and_changes_nothing(shop: Api) -> None:
    order = (await place(shop))["order"]
    token = shop.token("agent")
    hold = {"query": document("HoldOrder"), "variables": {"input": {"orderId": order["id"], "reason": "over GET"}}}
    for accept in (GRAPHQL_RESPONSE, JSON, None):
        with shop.statements() as executed:
            response = await send(shop, hold, accept=accept, token=token, method="GET")
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert media_type(response) == (accept or JSON)
        assert codes(response) == ["METHOD_NOT_ALLOWED"]
        assert response.headers["cache-control"] == "no-store"
        assert executed == []
    # The order was not held: the same mutation by POST holds it now.
    by_post = await send(shop, hold, accept=GRAPHQL_RESPONSE, token=token)
    assert by_post.status_code == 200
    held = by_post.json()["data"]["holdOrder"]
    assert held["userErrors"] == []
    assert (held["order"]["id"], held["order"]["status"]) == (order["id"], "ON_HOLD")


async def test_head_is_405_and_says_which_methods_are_allowed(api: Api) -> None:
    response = await api.client.head("/graphql", params={"query": PRODUCTS})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_other_methods_are_a_coded_405(api: Api, method: str) -> None:
    response = await api.client.request(method, "/graphql", json={"query": PRODUCTS})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
