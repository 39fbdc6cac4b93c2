"""Persisted queries over HTTP: the trusted-documents manifest as Apollo Client 4 writes and sends it, and
automatic persisted queries (Apollo's APQ) registered in memory (SQLite) or in Redis (PostgreSQL)."""

import json
import uuid

import pytest
import redis.asyncio as aioredis
from conftest import REDIS_URL, Api, serving
from contract import document, operation_names
from graphql import REMOVE, DocumentNode, FieldNode, Visitor, parse, validate, visit
from test_placement import order_input, snapshot

from ordergraph.schema.build import build_schema
from ordergraph.schema.trusted_documents import MANIFEST, persisted_documents, print_graphql_js, sha256
from ordergraph.server.persisted_queries import MemoryPersistedQueries, RedisPersistedQueries

schema = build_schema(None)


class _WithoutTypename(Visitor):
    def enter_field(self, node: FieldNode, *_args: object) -> object:
        return REMOVE if node.name.value == "__typename" else None


def without_typename(document_node: DocumentNode) -> DocumentNode:
    return visit(document_node, _WithoutTypename())


def hash_only(digest: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def send(api: Api, *, query: str | None = None, digest: str, variables: dict | None = None, token=None) -> dict:
    """One request as Apollo's PersistedQueryLink sends it: the hash, with or without the text."""
    body = {"variables": variables or {}, "extensions": hash_only(digest)}
    if query is not None:
        body["query"] = query
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.client.post("/graphql", json=body, headers=headers)
    assert response.status_code < 500, response.text
    return response.json()


def codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def fresh_query() -> str:
    """A document no one has registered yet (anyone may ask for products)."""
    return f'query Fresh{uuid.uuid4().hex} {{ products(skus: ["SKU-1"]) {{ sku name }} }}'


# The manifest ----------------------------------------------------------------------------------------------------

# What Apollo's generator (@apollo/generate-persisted-query-manifest 1.4.0 with @apollo/client 4.3.8) writes for
# AddOrderNote: __typename in every selection set but the operation's own, printed by graphql-js.
APOLLO_ADD_ORDER_NOTE = (
    "mutation AddOrderNote($input: AddOrderNoteInput!) {\n  addOrderNote(input: $input) {\n    event {\n"
    "      sequence\n      type\n      message\n      visibility\n      __typename\n    }\n    userErrors {\n"
    "      field\n      message\n      code\n      __typename\n    }\n    __typename\n  }\n}"
)


def test_the_manifest_holds_every_operation_as_apollo_sends_it() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert manifest["format"] == "apollo-persisted-query-manifest"
    assert manifest["version"] == 1
    entries = {entry["name"]: entry for entry in manifest["operations"]}
    assert sorted(entries) == operation_names()
    assert [entry["name"] for entry in manifest["operations"]] == sorted(entries)
    for name, entry in entries.items():
        body = entry["body"]
        assert entry["id"] == sha256(body), name
        assert entry["type"] == persisted_documents()[name][0], name
        assert body == persisted_documents()[name][1], name
        assert "__typename" in body, name
        assert validate(schema._schema, parse(body)) == [], name
        # The operation as written (with the fragments it uses), __typename aside.
        assert print_graphql_js(without_typename(parse(body))) == print_graphql_js(parse(document(name))), name
    assert entries["AddOrderNote"]["body"] == APOLLO_ADD_ORDER_NOTE
    # Never in the operation's own selection set (the root type's __typename is no use to a cache).
    for name, (_, body) in persisted_documents().items():
        (operation, *_) = parse(body).definitions
        assert "__typename" not in [s.name.value for s in operation.selection_set.selections], name


def test_the_manifest_is_written_as_apollo_writes_it() -> None:
    text = MANIFEST.read_text()
    manifest = json.loads(text)
    assert text == json.dumps(manifest, indent=2, ensure_ascii=False)  # JSON.stringify(manifest, null, 2)
    assert not text.endswith("\n")


# Automatic persisted queries --------------------------------------------------------------------------------------


async def test_apq_round_trip_not_found_then_registered_then_by_hash_alone(api: Api) -> None:
    query = fresh_query()
    digest = sha256(query)
    with api.statements() as executed:
        missing = await send(api, digest=digest)
    assert codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
    # Apollo's PersistedQueryLink sends the text again on this message (or this code).
    assert missing["errors"][0]["message"] == "PersistedQueryNotFound"
    assert missing.get("data") is None
    assert executed == []

    registered = await send(api, query=query, digest=digest)
    assert "errors" not in registered, registered
    assert registered["data"]["products"][0]["sku"] == "SKU-1"

    by_hash = await send(api, digest=digest)
    assert by_hash["data"] == registered["data"]
    if api.backend == "postgresql":
        services = api.app.state.services
        key = f"{services.settings.redis_prefix}:apq:{digest}"
        client = aioredis.from_url(REDIS_URL)
        try:
            assert (await client.get(key)).decode() == query
            assert 0 < await client.ttl(key) <= 24 * 3600
        finally:
            await client.aclose()


async def test_apq_over_get(api: Api) -> None:
    """Apollo's link may send hashed queries as GET (useGETForHashedQueries)."""
    query = fresh_query()
    digest = sha256(query)
    await send(api, query=query, digest=digest)
    response = await api.client.get(
        "/graphql",
        params={"extensions": json.dumps(hash_only(digest)), "variables": "{}"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["products"][0]["sku"] == "SKU-1"


async def test_redis_registrations_are_shared_by_every_process(api: Api) -> None:
    if api.backend != "postgresql":
        pytest.skip("the in-memory store is one process's own")
    query = fresh_query()
    digest = sha256(query)
    await send(api, query=query, digest=digest)
    prefix = api.app.state.services.settings.redis_prefix
    url = api.app.state.services.settings.database_url
    async with serving(url, api.world, api.backend, redis_prefix=prefix) as other:
        assert (await send(other, digest=digest))["data"]["products"][0]["sku"] == "SKU-1"
    async with serving(url, api.world, api.backend) as elsewhere:  # another deployment: another prefix
        assert codes(await send(elsewhere, digest=digest)) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_hash_that_is_not_the_querys_is_refused_and_registers_nothing(api: Api) -> None:
    query, other = fresh_query(), fresh_query()
    with api.statements() as executed:
        mismatch = await send(api, query=other, digest=sha256(query))
    assert codes(mismatch) == ["PERSISTED_QUERY_MISMATCH"]
    assert mismatch.get("data") is None
    assert executed == []
    assert codes(await send(api, digest=sha256(query))) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert codes(await send(api, digest=sha256(other))) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('query Invalid { products(skus: ["SKU-1"]) { nonsense } }', "GRAPHQL_VALIDATION_FAILED"),
        ("query Broken { products(", "GRAPHQL_PARSE_FAILED"),
        ("query Deep { " + "me { " * 14 + "id" + " }" * 15, "QUERY_TOO_DEEP"),
    ],
)
async def test_a_refused_document_is_not_registered(api: Api, query: str, code: str) -> None:
    query = query.replace("query ", f"query X{uuid.uuid4().hex[:8]}", 1)
    digest = sha256(query)
    assert code in codes(await send(api, query=query, digest=digest))
    assert codes(await send(api, digest=digest)) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_the_manifest_wins_over_a_conflicting_registration(api: Api) -> None:
    name = "ProductAvailability"
    digest = sha256(persisted_documents()[name][1])
    # Whatever the store holds under a manifest id (another deployment's Redis, a poisoned entry) never runs.
    store = api.app.state.services.guard.persisted_queries
    await store.put(digest, '{ products(skus: ["SKU-2"]) { sku } }')
    variables = {"skus": ["SKU-1"], "postalCode": "10001"}
    by_hash = await send(api, digest=digest, variables=variables)
    assert "errors" not in by_hash, by_hash
    assert by_hash["data"]["products"][0]["sku"] == "SKU-1"
    assert by_hash["data"]["products"][0]["availability"] is not None
    # Nor can a client register another text under it.
    hijack = await send(api, query='{ products(skus: ["SKU-2"]) { sku } }', digest=digest)
    assert codes(hijack) == ["PERSISTED_QUERY_MISMATCH"]


async def test_trusted_documents_only_registers_nothing(api: Api) -> None:
    query = fresh_query()
    digest = sha256(query)
    async with serving(
        api.app.state.services.settings.database_url, api.world, api.backend, trusted_documents_only=True
    ) as strict:
        assert strict.app.state.services.guard.persisted_queries is None
        with strict.statements() as executed:
            assert codes(await send(strict, digest=digest)) == ["PERSISTED_QUERY_NOT_FOUND"]
            assert codes(await send(strict, query=query, digest=digest)) == ["UNTRUSTED_DOCUMENT"]
            assert codes(await send(strict, digest=digest)) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert executed == []
        # The manifest's documents run, by hash alone or with their text.
        name = "ProductAvailability"
        body = persisted_documents()[name][1]
        variables = {"skus": ["SKU-1"], "postalCode": "10001"}
        for sent in (None, body):
            answer = await send(strict, query=sent, digest=sha256(body), variables=variables)
            assert answer["data"]["products"][0]["sku"] == "SKU-1", answer
    # A query registered on an open server is no use to a strict one.
    await send(api, query=query, digest=digest)
    async with serving(
        api.app.state.services.settings.database_url, api.world, api.backend, trusted_documents_only=True
    ) as strict:
        assert codes(await send(strict, digest=digest)) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_refused_mutation_writes_nothing(shop: Api) -> None:
    mutation = document("PlaceOrder")
    variables = {"input": order_input(key="apq-refused")}
    token = shop.token("customer", "alice")
    before = await snapshot(shop)
    with shop.statements() as executed:
        missing = await send(shop, digest=sha256(mutation), variables=variables, token=token)
        mismatch = await send(shop, query=mutation, digest=sha256(mutation + " "), variables=variables, token=token)
    assert codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert codes(mismatch) == ["PERSISTED_QUERY_MISMATCH"]
    assert executed == []
    assert await snapshot(shop) == before
    # The same mutation, registered, runs once.
    placed = await send(shop, query=mutation, digest=sha256(mutation), variables=variables, token=token)
    assert placed["data"]["placeOrder"]["userErrors"] == [], placed
    assert (await snapshot(shop))["orders"] == before["orders"] + 1


class Unreachable:
    """A store whose Redis has gone: a client on a port nobody listens on."""

    def __init__(self) -> None:
        client = aioredis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
        self.store = RedisPersistedQueries(client, redis_prefix="ordergraph-test-gone")
        self.client = client


async def test_apq_degrades_to_not_found_when_redis_is_unreachable(api: Api) -> None:
    gone = Unreachable()
    guard = api.app.state.services.guard
    kept, guard.persisted_queries = guard.persisted_queries, gone.store
    try:
        query = fresh_query()
        digest = sha256(query)
        assert codes(await send(api, digest=digest)) == ["PERSISTED_QUERY_NOT_FOUND"]
        # The client falls back to the text, which runs, registered or not.
        answered = await send(api, query=query, digest=digest)
        assert answered["data"]["products"][0]["sku"] == "SKU-1"
        assert codes(await send(api, digest=digest)) == ["PERSISTED_QUERY_NOT_FOUND"]
    finally:
        guard.persisted_queries = kept
        await gone.client.aclose()


async def test_the_memory_store_is_bounded() -> None:
    store = MemoryPersistedQueries(max_entries=3, max_bytes=100, max_document_bytes=40)
    for n in range(4):
        await store.put(f"d{n}", f"query Q{n} {{ a }}")
    assert len(store) == 3
    assert await store.get("d0") is None  # the least recently used went
    assert await store.get("d1") == "query Q1 { a }"
    await store.put("big", "x" * 41)  # over the bound per document: run, never kept
    assert await store.get("big") is None
    await store.put("d4", "y" * 40)
    await store.put("d5", "z" * 40)  # 120 bytes of text with d1: over max_bytes
    assert await store.get("d5") is not None
    assert sum(len(d) for d in [await store.get(k) for k in ("d1", "d2", "d3", "d4", "d5")] if d) <= 100
