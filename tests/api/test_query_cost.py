"""Cost that tells the truth: every list is priced by its bound (schema/limits.py), so the requested cost of any
operation, a client's or a hostile one, is never below what it returns (`extensions.cost`), and a wide request is
refused or throttled before it runs."""

import asyncio
import logging
import uuid

import graphql
import httpx
import pytest
import redis.asyncio as aioredis
from conftest import TEST_SECRET, Api
from contract import document, operation_names
from factories import build_shop
from test_input_rules import contract_variables
from test_live_harness import LiveClient, RedisServer, serving_on_a_port
from test_placement import place

from ordergraph.models.database import Database
from ordergraph.schema.build import build_schema
from ordergraph.schema.limits import (
    ARGUMENT_BOUNDS,
    DEFAULT_CONNECTION_SIZE,
    FIRST_BOUNDS,
    LIST_BOUNDS,
    QueryLimits,
    count_objects,
    measure,
)
from ordergraph.schema.node import encode_global_id
from ordergraph.server.app import create_app
from ordergraph.server.rate_limit import RedisCostLimiter
from ordergraph.server.settings import Settings

SCHEMA = build_schema(None)._schema
LIMITS = QueryLimits()
COSTS: dict[str, tuple[str, int, int]] = {}  # operation: (role, requested, actual), printed at the end (-s)


def _operation(name: str) -> graphql.OperationDefinitionNode:
    return next(d for d in graphql.parse(document(name)).definitions if isinstance(d, graphql.OperationDefinitionNode))


def requested(query: str, variables: dict, name: str | None = None) -> int:
    return measure(SCHEMA, graphql.parse(query), name, variables).cost


def test_every_list_field_of_the_schema_has_a_bound() -> None:
    """A list field added to the schema gets its bound in LIST_BOUNDS (or ARGUMENT_BOUNDS); a connection's edges
    are priced by its `first`."""
    unbounded = []
    for type_ in SCHEMA.type_map.values():
        if type_.name.startswith("__") or not isinstance(
            type_, (graphql.GraphQLObjectType, graphql.GraphQLInterfaceType)
        ):
            continue
        for name, field in type_.fields.items():
            listed = graphql.is_list_type(graphql.get_nullable_type(field.type))
            coordinate = f"{type_.name}.{name}"
            if not listed or not graphql.is_composite_type(graphql.get_named_type(field.type)):
                continue
            if type_.name.endswith("Connection") and name == "edges":
                continue
            if not any(coordinate in table for table in (LIST_BOUNDS, ARGUMENT_BOUNDS, FIRST_BOUNDS)):
                unbounded.append(coordinate)
    assert unbounded == []


def test_a_list_is_priced_by_its_bound() -> None:
    one = requested('{ products(skus: ["A"]) { sku } }', {})
    assert requested('{ products(skus: ["A", "B", "C"]) { sku } }', {}) == 3 * one
    assert requested("query($s: [String!]!) { products(skus: $s) { sku } }", {"s": ["A"] * 100}) == 100 * one
    assert requested('{ products(skus: "A") { sku } }', {}) == one  # one value is a list of one
    lines = requested("query($id: ID!) { node(id: $id) { ... on Order { lines { sku } } } }", {"id": "x"})
    assert lines == 1 + LIST_BOUNDS["Order.lines"]
    assert requested("{ orders { edges { node { id } } } }", {}) == 1 + DEFAULT_CONNECTION_SIZE * 2  # edge, node
    assert requested("{ __typename }", {}) == 0


# Every contract operation, run as its client runs it, on data with shipments, returns and events.


def _queries(api: Api) -> list[tuple[str, dict, str, str | None]]:
    alice_order = encode_global_id("Order", api.world.orders["alice"][0])
    delivered = encode_global_id("Order", api.world.orders["alice"][1])
    alice = encode_global_id("Customer", api.world.customers["alice"])
    bob = encode_global_id("Customer", api.world.customers["bob"])
    year = {"from": "2000-01-01T00:00:00+00:00", "to": "2100-01-01T00:00:00+00:00"}
    return [
        ("MyOrderHistory", {"first": 20}, "customer", "alice"),
        ("MyOrderHistory", {"first": 75}, "customer", "bob"),
        ("MyOrderDetail", {"id": alice_order}, "customer", "alice"),
        ("MyOrderDetail", {"id": delivered}, "customer", "alice"),
        ("ProductAvailability", {"skus": ["SKU-1", "SKU-2", "NOPE"], "postalCode": "10001"}, "anonymous", None),
        ("ProductAvailability", {"skus": ["SKU-1", "SKU-2"], "postalCode": "10001"}, "customer", "alice"),
        ("SearchOrders", {"first": 10, "filter": {"customerId": bob, "status": ["CONFIRMED"]}}, "agent", None),
        ("SearchOrders", {"first": 100}, "agent", None),
        ("SearchCustomers", {"search": "example"}, "agent", None),
        ("Customer360", {"id": alice}, "agent", None),
        ("Customer360", {"id": bob}, "agent", None),
        ("AgentOrderDetail", {"id": delivered}, "agent", None),
        ("AgentOrderDetail", {"id": alice_order}, "agent", None),
        ("OrdersExport", {"first": 25}, "analyst", None),
        ("OrdersExport", {"first": 100}, "analyst", None),
        ("OrdersExport", {"first": 500}, "analyst", None),
        ("OrdersExport", {"first": 100}, "agent", None),
        ("InventoryPosition", {"first": 100}, "analyst", None),
        ("RevenueByDayAndStatus", year, "analyst", None),
        ("RevenueByChannelAndLocation", year, "analyst", None),
    ]


def _token(api: Api, role: str, customer: str | None) -> str | None:
    return None if role == "anonymous" else api.token(role, customer)


def _cost(body: dict) -> tuple[int, int]:
    cost = body["extensions"]["cost"]
    return cost["requestedQueryCost"], cost["actualQueryCost"]


async def test_every_contract_query_requests_at_least_what_it_returns(api: Api) -> None:
    for name, variables, role, customer in _queries(api):
        body = await api.run(name, variables, token=_token(api, role, customer))
        assert "errors" not in body, (name, body["errors"])
        asked, actual = _cost(body)
        assert actual > 0, name
        assert asked >= actual, (name, variables, asked, actual)
        assert asked <= LIMITS.max_cost[role], (name, role, asked)
        COSTS[f"{name} {variables.get('first', '')} {role}"] = (role, asked, actual)


async def test_every_contract_mutation_requests_at_least_what_it_returns(shop: Api) -> None:
    """Each mutation with the variables the input-rule tests use, on a placed order; then a placement, a shipment
    and its events, so that the payloads hold lines, shipments and events."""
    cases = await contract_variables(shop)
    mutations = [n for n in operation_names() if _operation(n).operation is graphql.OperationType.MUTATION]
    assert set(mutations) <= set(cases)
    for name in mutations:
        variables, role = cases[name]
        body = await shop.run(name, variables, token=shop.token(role, "alice" if role == "customer" else None))
        assert "errors" not in body, (name, body["errors"])
        asked, actual = _cost(body)
        assert asked >= actual, (name, asked, actual)
        assert asked <= LIMITS.max_cost[role], (name, role, asked)
        COSTS.setdefault(name, (role, asked, actual))
    # A wide order, shipped, with carrier events: the most a payload here holds.
    lines = tuple((sku, 1) for sku in ("SKU-1", "SKU-2", "SKU-3"))
    placed = await place(shop, lines=lines, key="cost-wide")
    assert placed["userErrors"] == [] or placed["order"] is None
    if placed["order"]:
        asked = requested(document("PlaceOrder"), {})
        assert asked >= count_objects(placed)


async def test_every_contract_subscription_requests_at_least_what_each_event_holds(shop: Api) -> None:
    subscriptions = [n for n in operation_names() if _operation(n).operation is graphql.OperationType.SUBSCRIPTION]
    async with (
        serving_on_a_port(shop.app) as url,
        LiveClient.connect(url, shop.token("agent")) as console,
        LiveClient.connect(url, shop.token("customer", "alice")) as spa,
    ):
        streams = {
            "LiveOrderEvents": await console.subscribe("LiveOrderEvents", {}),
            "MyOrderUpdates": await spa.subscribe("MyOrderUpdates", {}),
        }
        await asyncio.sleep(0.2)
        order = (await place(shop, key="cost-live"))["order"]
        streams["WatchOrder"] = await console.subscribe("WatchOrder", {"id": order["id"], "after": "0"})
        assert set(streams) == set(subscriptions)
        for name, stream in streams.items():
            event = await stream.next()
            variables = {"id": order["id"]} if name == "WatchOrder" else {}
            asked, actual = requested(document(name), variables, name), count_objects(event)
            assert asked >= actual, (name, asked, actual)
            COSTS[name] = ("agent" if name != "MyOrderUpdates" else "customer", asked, actual)


# Hostile documents within the other limits: priced as high as they can answer, refused when over.

WIDE = (
    "query($skus: [String!]!) { products(skus: $skus) { sku name price { amount } availability { totalAvailable "
    "locations { location { id name } available } deliveryOptions { method { code } price { amount } } } } }"
)
ALIASED = (
    "{ "
    + " ".join(
        f'p{n}: products(skus: ["SKU-1", "SKU-2"]) {{ sku availability {{ locations {{ available }} }} }}'
        for n in range(25)
    )
    + " }"
)
NESTED = """query($id: ID!) { node(id: $id) { ... on Customer { orders(first: 3) { edges { node {
  lines { sku unitPrice { amount } } shipments { events { status } }
  returns { lines { quantity orderLine { sku } } }
  customer { addresses { city } orders(first: 5) { edges { node { id payments { amount { amount } } } } } }
} } } } } }"""


@pytest.mark.parametrize(
    ("query", "variables", "role"),
    [
        (WIDE, {"skus": ["SKU-1", "SKU-2", "SKU-3"]}, "anonymous"),
        (WIDE, {"skus": [f"SKU-{n % 3 + 1}" for n in range(60)]}, "analyst"),
        (ALIASED, {}, "analyst"),
        (NESTED, {"id": "customer"}, "agent"),
    ],
    ids=["wide-3-anonymous", "wide-60-analyst", "aliases", "nested"],
)
async def test_hostile_documents_request_at_least_what_they_return(
    api: Api, query: str, variables: dict, role: str
) -> None:
    if variables.get("id") == "customer":
        variables = {"id": encode_global_id("Customer", api.world.customers["alice"])}
    body = (await api.post(query, variables, token=_token(api, role, None))).json()
    assert "errors" not in body, body["errors"]
    asked, actual = _cost(body)
    assert actual > 1
    assert asked >= actual, (asked, actual)


@pytest.mark.parametrize(("role", "count"), [("anonymous", 100), ("anonymous", 4), ("agent", 2_000)])
async def test_a_wide_products_query_is_refused_before_it_runs(api: Api, role: str, count: int) -> None:
    skus = [f"SKU-{n}" for n in range(count)]
    with api.statements() as executed:
        body = (await api.post(WIDE, {"skus": skus}, token=_token(api, role, "alice"))).json()
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COSTLY"], body
    assert executed == []


async def test_an_anonymous_caller_asking_again_and_again_is_throttled(shop: Api) -> None:
    variables = {"skus": ["SKU-1", "SKU-2", "SKU-3"], "postalCode": "10001"}
    codes = []
    for _ in range(30):
        body = (await shop.post(document("ProductAvailability"), variables)).json()
        codes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "OK")
        if codes[-1] != "OK":
            break
    assert codes[0] == "OK"
    assert codes[-1] == "THROTTLED"


def test_zz_report() -> None:
    """The figures (pytest -s): each contract operation's requested and actual cost."""
    for name, (role, asked, actual) in sorted(COSTS.items()):
        print(f"{name:34} {role:9} requested {asked:>6}  actual {actual:>5}  max {LIMITS.max_cost[role]:>6}")


# Rate limiting while Redis is away (server/rate_limit.py): each process limits on its own buckets until it is back.


THREE_SKUS = ["SKU-1", "SKU-2", "SKU-3"]


async def test_a_flood_is_throttled_while_redis_is_away_and_redis_limits_again_once_back(
    database_factory, caplog: pytest.LogCaptureFixture
) -> None:
    url = await database_factory.new_url()
    db = Database(url)
    world = await build_shop(db)
    await db.dispose()
    redis = RedisServer()
    await redis.start()
    try:
        settings = {"broadcast_url": redis.url, "redis_prefix": f"og-cost-{uuid.uuid4().hex[:8]}"}
        app = create_app(Settings(database_url=url, jwt_secret=TEST_SECRET, **settings))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ordergraph.test") as client:
                limiter = app.state.services.guard.cost_limiter
                assert isinstance(limiter, RedisCostLimiter)
                api = Api(client, app, world, database_factory.backend)

                async def flood() -> list[str]:
                    """One anonymous caller asking again and again (each request 399 of its bucket's 2,000)."""
                    answers: list[str] = []
                    for _ in range(30):
                        response = await client.post(
                            "/graphql",
                            json={"query": document("ProductAvailability"), "variables": {"skus": THREE_SKUS}},
                        )
                        body = response.json()
                        answers.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "OK")
                        assert response.status_code < 500, response.text
                        if answers[-1] == "THROTTLED":
                            break
                    return answers

                with caplog.at_level(logging.WARNING, logger="ordergraph.rate_limit"):
                    assert (await flood())[-1] == "THROTTLED"  # in Redis
                    assert not limiter.redis_away
                    redis.stop()
                    away = await flood()  # this process's own bucket, empty at first
                    assert away[0] == "OK", away
                    assert away[-1] == "THROTTLED", away
                    assert limiter.redis_away
                    # Other requests keep being answered, never with a 500.
                    healthy = await api.run("ProductAvailability", {"skus": ["SKU-1"]}, token=api.token("agent"))
                    assert healthy["data"]["products"][0]["sku"] == "SKU-1"
                    await redis.start()
                    await asyncio.sleep(1.2)  # the limiter asks Redis again after a second
                    back = await flood()  # the restarted Redis's bucket
                    assert back[-1] == "THROTTLED"
                    assert not limiter.redis_away
                    # Its bucket is in Redis again: that is where the flood's level is.
                    keys = await aioredis.from_url(redis.url).keys(f"{settings['redis_prefix']}:cost:*")
                    assert keys
                outages = [r.getMessage() for r in caplog.records if r.name == "ordergraph.rate_limit"]
                assert len([m for m in outages if "unreachable" in m]) == 1, outages
                assert len([m for m in outages if "Redis is back" in m]) == 1, outages
    finally:
        redis.remove()
