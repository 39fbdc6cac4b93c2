"""A document's cost is measured once per shape of the variables it reads (schema/limits.py MeasureCache): what the
cache answers is what measuring anew gives, for every contract operation and every value its cost reads, and the
cost a response reports does not change when it comes from the cache."""

import graphql
from conftest import Api
from contract import document, operation_names
from test_query_cost import NESTED, WIDE

from ordergraph.schema.build import build_schema
from ordergraph.schema.limits import MeasureCache, measure

SCHEMA = build_schema(None)._schema


def _both(cache: MeasureCache, query: str, variables: dict, name: str | None = None, page: int | None = 100) -> None:
    computed = measure(SCHEMA, graphql.parse(query), name, variables, page)
    assert cache.measure(SCHEMA, query, graphql.parse(query), name, variables, page) == computed, (name, variables)


def test_the_cached_measure_is_the_computed_one_for_every_contract_operation() -> None:
    cache = MeasureCache()
    for name in operation_names():
        for variables in ({}, {"first": 1}, {"first": 20}, {"first": 75, "after": "x"}, {"first": 500}):
            for page in (None, 100, 500):
                _both(cache, document(name), variables, name, page)  # the first time measured,
                _both(cache, document(name), variables, name, page)  # then from the cache


def test_what_the_cost_reads_of_a_variable_keys_the_cache() -> None:
    cache = MeasureCache()
    for skus in (["A"], ["A", "B"], ["A", "B"], [], None, "A", ["A"] * 100):
        _both(cache, WIDE, {"skus": skus})
    for first in (1, 3, 0, -1, None, "3", True, 3):
        _both(cache, "query($n: Int) { orders(first: $n) { edges { node { id lines { sku } } } } }", {"n": first})
    for variables in ({"id": "a"}, {"id": "b", "unread": 1}, {}):
        _both(cache, NESTED, variables)
    # An unread variable (the benchmark numbers each request anew) never makes another entry.
    for number in range(50):
        _both(cache, document("MyOrderHistory"), {"first": 20, "bench": number}, "MyOrderHistory")
    assert len(cache._measures) <= 1 + 7 + 8 + 1 + 1


def test_the_cache_is_bounded() -> None:
    cache = MeasureCache(max_entries=10)
    query = "query($n: Int) { orders(first: $n) { edges { node { id } } } }"
    for first in range(100):
        _both(cache, query, {"n": first})
    assert len(cache._measures) <= 10


async def test_the_reported_cost_is_unchanged_when_it_comes_from_the_cache(api: Api) -> None:
    token = api.token("customer", "alice")
    for first in (20, 5, 20, 20):
        body = await api.run("MyOrderHistory", {"first": first, "unread": first}, token=token)
        assert "errors" not in body, body["errors"]
        expected = measure(SCHEMA, graphql.parse(document("MyOrderHistory")), "MyOrderHistory", {"first": first}, 100)
        assert body["extensions"]["cost"]["requestedQueryCost"] == expected.cost
        assert body["extensions"]["cost"]["actualQueryCost"] > 0
