"""Generated input (Hypothesis) into every variable of every contract operation and every field of the carrier
webhook: control characters, huge and non-ASCII numbers, long text, odd unicode, and values of the wrong JSON type.
Nothing may answer 5xx or INTERNAL_SERVER_ERROR, and a refused request writes no row.

A fixed seed and a small budget (ORDERGRAPH_FUZZ_EXAMPLES cases per operation, default 15) for CI; run it longer with
ORDERGRAPH_FUZZ_EXAMPLES=150 pytest tests/api/test_fuzz.py -s (the figures print at the end)."""

import json
import os
from collections import Counter
from typing import Any

import graphql
import sqlalchemy as sa
from conftest import Api
from contract import document, operation_names
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel
from test_carrier_webhooks import SECRETS, shipped_order, signed
from test_carrier_webhooks import shop as webhook_shop  # noqa: F401  (the shop with carrier secrets)
from test_input_rules import BACKGROUND_TABLES, contract_variables

from ordergraph.schema.build import build_schema

EXAMPLES = int(os.environ.get("ORDERGRAPH_FUZZ_EXAMPLES", "15"))
SCHEMA = build_schema(None)._schema
FIGURES: Counter[str] = Counter()

# Text no client sends: control characters, lone surrogates, bidi overrides, non-ASCII digits, huge numbers as text.
ODD_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\ud800",
    "\udfff",
    "\u202eevil",
    "\ufeff",
    "\u0663\u0664\u0665",  # Arabic-Indic digits
    "\uff11\uff12\uff13",  # fullwidth digits
    "9" * 400,
    "-1",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "\U0001f4e6" * 120,
    "x" * 2_001,
    "x" * 64,
    "x" * 65,
    "Zoë Ünal – 東京都",
    "T3JkZXI6MQ==",
    "T3JkZXI6MDAx",
    "T3JkZXI6LTE=",
    "T3JkZXI6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ==",
    "Q3VzdG9tZXI6MQ",
    "2026-13-45T25:61:00Z",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00-23:59",
    "2026-11-20T17:00:00",
    "{}",
    "null",
]
text = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=150, max_size=2_500),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Nd", "No"]), max_size=30),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, -1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**300]),
    st.floats(allow_nan=False, allow_infinity=False),
)
wrong = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    text,
    st.lists(st.one_of(st.none(), numbers, text), max_size=3),
    st.dictionaries(st.text(max_size=8), st.one_of(st.none(), numbers, text), max_size=3),
)


def value_of(type_: graphql.GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value for `type_`: mostly of its shape with odd leaves, sometimes of the wrong JSON type altogether."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return value_of(type_.of_type, depth)
    if isinstance(type_, graphql.GraphQLList):
        shaped: st.SearchStrategy[Any] = st.lists(value_of(type_.of_type, depth + 1), max_size=4)
    elif isinstance(type_, graphql.GraphQLInputObjectType):
        if depth > 3:
            return wrong
        fields = {name: value_of(field.type, depth + 1) for name, field in type_.fields.items()}
        required = {n: s for n, s in fields.items() if isinstance(type_.fields[n].type, graphql.GraphQLNonNull)}
        optional = {n: s for n, s in fields.items() if n not in required}
        shaped = st.fixed_dictionaries(required, optional=optional)
    elif isinstance(type_, graphql.GraphQLEnumType):
        shaped = st.one_of(st.sampled_from(list(type_.values)), text)
    elif type_.name in ("Int", "Float", "BigInt"):
        shaped = st.one_of(numbers, text) if type_.name == "BigInt" else numbers
    elif type_.name == "Boolean":
        shaped = st.booleans()
    else:  # String, ID, DateTime, Decimal and other text scalars
        shaped = text
    return st.one_of(shaped, wrong) if depth == 0 else st.one_of(shaped, shaped, wrong)


def _operation(name: str) -> graphql.OperationDefinitionNode:
    return next(d for d in graphql.parse(document(name)).definitions if isinstance(d, graphql.OperationDefinitionNode))


def _variable_types(name: str) -> dict[str, graphql.GraphQLInputType]:
    return {
        d.variable.name.value: graphql.type_from_ast(SCHEMA, d.type)  # type: ignore[misc]
        for d in _operation(name).variable_definitions
    }


def _paths(value: Any, type_: Any, path: tuple) -> list[tuple[tuple, Any]]:
    """Every place in a valid value (and every input field it leaves out) with the type that goes there."""
    found = [(path, type_)]
    named = graphql.get_nullable_type(type_)
    if isinstance(named, graphql.GraphQLList) and isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, named.of_type, (*path, index))
    elif isinstance(named, graphql.GraphQLInputObjectType) and isinstance(value, dict):
        for field_name, field in named.fields.items():
            found += _paths(value.get(field_name), field.type, (*path, field_name))
    return found


def _put(variables: dict, path: tuple, value: Any) -> dict:
    copy = json.loads(json.dumps(variables))
    target: Any = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def cases(name: str, valid: dict) -> list[dict]:
    """EXAMPLES variable sets for operation `name`, generated with a fixed seed: one place of the valid variables
    spoiled, or every variable generated whole."""
    types = _variable_types(name)
    places = [p for var, t in types.items() for p in _paths(valid.get(var), t, (var,))]
    spoiled = st.sampled_from(places).flatmap(lambda place: value_of(place[1]).map(lambda v: _put(valid, place[0], v)))
    whole = st.fixed_dictionaries({var: value_of(t) for var, t in types.items()})
    found: list[dict] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(spoiled, spoiled, whole))
    def collect(variables: dict) -> None:
        found.append(variables)

    collect()
    return found


async def snapshot(shop: Api) -> dict[str, tuple[int, int]]:
    """(rows, highest id) of every table the API writes, in one statement."""
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in BACKGROUND_TABLES]
    columns = []
    for table in tables:
        columns.append(sa.select(sa.func.count()).select_from(table).scalar_subquery())
        key = table.c.get("id")
        columns.append(sa.select(sa.func.max(key)).scalar_subquery() if key is not None else sa.literal(0))
    async with shop.db.read() as session:
        row = (await session.exec(sa.select(*columns))).one()  # type: ignore[call-overload]
    return {table.name: (row[2 * n], row[2 * n + 1]) for n, table in enumerate(tables)}


def _refusals(body: dict) -> list[str]:
    codes = [e.get("extensions", {}).get("code", "NO_CODE") for e in body.get("errors") or []]
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict):
            codes += [e.get("code") or "USER_ERROR" for e in payload.get("userErrors") or []]
    return codes


async def _send(api: Api, url: str, content: bytes, headers: dict) -> tuple[int, dict]:
    response = await api.client.post(url, content=content, headers=headers)
    assert response.status_code < 500, (url, content[:500], response.text[:500])
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {}


async def _check(api: Api, before: dict, status: int, body: dict, what: object) -> dict:
    """Asserts the answer is no internal error and that a refusal wrote nothing; returns the new snapshot."""
    codes = _refusals(body)
    assert "INTERNAL_SERVER_ERROR" not in codes, (what, body)
    assert "NO_CODE" not in codes, (what, body)
    FIGURES[f"{api.backend}: cases"] += 1
    after = await snapshot(api)
    if codes or status >= 400:
        for code in codes or [f"HTTP {status}"]:
            FIGURES[f"{api.backend}: refused {code}"] += 1
        assert after == before, ("a refused request wrote rows", what, body)
    else:
        FIGURES[f"{api.backend}: accepted"] += 1
    return after


class Unlimited:
    """No rate limit: the fuzzer sends far more than a caller may, and every case must reach the input rules."""

    async def take(self, caller: str, cost: int, bucket: object) -> float:
        return 0.0


async def test_generated_variables_never_break_a_contract_operation(shop: Api) -> None:
    shop.app.state.services.guard.cost_limiter = Unlimited()
    valid = await contract_variables(shop)
    year = {"from": "2026-01-01T00:00:00+00:00", "to": "2027-01-01T00:00:00+00:00"}
    valid |= {"RevenueByDayAndStatus": (year, "analyst"), "RevenueByChannelAndLocation": (dict(year), "analyst")}
    tried = 0
    before = await snapshot(shop)
    for name in operation_names():
        if _operation(name).operation is graphql.OperationType.SUBSCRIPTION:
            continue  # over a WebSocket: test_input_rules holds them to the same rules
        if not _operation(name).variable_definitions:
            continue  # nothing to generate
        variables, role = valid[name]
        token = shop.token(role, "alice" if role == "customer" else None)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for generated in cases(name, variables):
            # Escaped to ASCII, so a lone surrogate travels as JSON allows.
            content = json.dumps({"query": document(name), "variables": generated}).encode()
            status, body = await _send(shop, "/graphql", content, headers)
            before = await _check(shop, before, status, body, (name, generated))
            tried += 1
    assert tried >= EXAMPLES * 20


EVENT = {
    "carrierEventId": "ups-fuzz-1",
    "trackingNumber": "1ZFUZZ",
    "status": "IN_TRANSIT",
    "occurredAt": "2026-11-21T10:00:00+00:00",
    "description": "Departed",
    "location": "Newark, NJ",
}


async def test_generated_carrier_events_never_break_the_webhook(webhook_shop: Api) -> None:  # noqa: F811
    shop = webhook_shop
    await shipped_order(shop, tracking_number=EVENT["trackingNumber"])
    field = st.sampled_from([*EVENT, "unexpected"])
    spoiled = st.tuples(field, st.one_of(text, wrong)).map(lambda fv: {**EVENT, fv[0]: fv[1]})
    whole = st.one_of(wrong, st.fixed_dictionaries({}, optional={k: st.one_of(text, wrong) for k in EVENT}))
    events: list[Any] = []

    @settings(
        max_examples=EXAMPLES * 10,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(spoiled, spoiled, whole))
    def collect(event: Any) -> None:
        events.append(event)

    collect()
    before = await snapshot(shop)
    for n, event in enumerate(events):
        if isinstance(event, dict) and "carrierEventId" in event and event["carrierEventId"] == EVENT["carrierEventId"]:
            event = {**event, "carrierEventId": f"ups-fuzz-{n}"}  # a new event each time, not a replay
        content = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", "X-Ordergraph-Signature": signed(content, SECRETS["UPS"])}
        status, body = await _send(shop, "/webhooks/carriers/UPS", content, headers)
        codes = [body["error"]] if status >= 400 and "error" in body else []
        assert status in (200, 400, 404, 413), (event, status, body)
        before = await _check(shop, before, status, {"errors": [{"extensions": {"code": c}} for c in codes]}, event)
    assert len(events) >= EXAMPLES * 5


def test_zz_report() -> None:
    """The figures (pytest -s)."""
    for key, count in sorted(FIGURES.items()):
        print(f"{key:40} {count:>6}")
