"""The trusted-document fast path (schema/compiled.py) answers byte for byte what the generic executor answers.

Every contract query runs for every role (customers, agents, analysts, admins, and no token) with variables chosen
from the seeded data, on both databases, through an app with the fast path and one without it, on the same
database: the two HTTP answers must be the same bytes, errors and nulls included. Mutations and subscriptions are
never planned. The fast path must actually have answered (MyOrderHistory at least), so the comparison cannot pass by
always falling back.
"""

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import graphql
import pytest
import sqlalchemy as sa
import strawberry
from conftest import Api, DatabaseFactory, serving
from contract import document, operation_names
from factories import NOW, World, build_shop, build_world
from sqlmodel import col, select
from test_result_cache import Unlimited

from ordergraph.models import Order, OrderLine, Shipment, ShipmentEvent
from ordergraph.models.database import Database
from ordergraph.resolvers import bulk_exports
from ordergraph.resolvers.orders import OrderSortField
from ordergraph.schema import compiled
from ordergraph.schema.build import build_schema
from ordergraph.schema.node import encode_global_id

SCHEMA = build_schema(None)._schema
ROLES = (("customer", "alice"), ("customer", "bob"), ("agent", None), ("analyst", None), ("admin", None), None)


@pytest.fixture(scope="session", params=["world", "shop"])
async def both_paths(
    request: pytest.FixtureRequest, database_factory: DatabaseFactory
) -> AsyncIterator[tuple[Api, Api]]:
    """The read side's world (or the shop's), served twice on one database: with the fast path and without."""
    url = await database_factory.new_url()
    db = Database(url)
    world = await (build_world if request.param == "world" else build_shop)(db)
    await db.dispose()
    async with (
        serving(url, world, database_factory.backend, fast_path=True) as fast,
        serving(url, world, database_factory.backend, fast_path=False) as generic,
    ):
        # Thousands of requests in a few seconds: no bucket would hold them (the cost each is charged is compared,
        # in extensions.cost; a refusal for cost is a request error that nothing executes behind).
        for api in (fast, generic):
            api.app.state.services.guard.cost_limiter = Unlimited()
        yield fast, generic


def _operation(name: str) -> graphql.OperationDefinitionNode:
    return next(d for d in graphql.parse(document(name)).definitions if isinstance(d, graphql.OperationDefinitionNode))


def _ids(world: World) -> list[str]:
    """Global IDs of each kind the world holds, one that names nothing and one that is not an ID at all."""
    ids = [encode_global_id("Customer", pk) for pk in world.customers.values()]
    ids += [encode_global_id("Location", pk) for pk in world.locations.values()]
    for type_name, by_customer in (
        ("Order", world.orders),
        ("Shipment", world.shipments),
        ("Return", world.returns),
        ("Payment", world.payments),
        ("FulfillmentOrder", world.fulfillment_orders),
        ("OrderLine", world.order_lines),
    ):
        ids += [encode_global_id(type_name, pks[0]) for pks in by_customer.values() if pks][:3]
    return [*ids, encode_global_id("Order", 999_999), "not-an-id"]


def _candidates(variable: graphql.VariableDefinitionNode, world: World) -> list[Any]:
    """Values to try for one variable, the first the one used while the others vary."""
    name = variable.variable.name.value
    type_ = graphql.type_from_ast(SCHEMA, variable.type)
    required = isinstance(type_, graphql.GraphQLNonNull)
    named = graphql.get_named_type(type_)
    optional: list[Any] = [] if required else [None]
    if named.name == "ID":
        return _ids(world)
    if named.name == "Int":
        return [*([] if required else [None]), 5, 50]
    if named.name == "DateTime":
        return [(NOW - timedelta(days=90)).isoformat(), NOW.isoformat()] if name == "from" else [NOW.isoformat()]
    if named.name == "String" and isinstance(graphql.get_nullable_type(type_), graphql.GraphQLList):
        return [["SKU-1", "SKU-2", "NOPE"], ["SKU-2"]]
    if named.name == "String":
        if name == "after":
            return [None]
        if name == "search":
            return ["alice", "example"]
        return [*optional, "10001", "US"]
    if isinstance(named, graphql.GraphQLInputObjectType):
        takes_nothing = not any(isinstance(f.type, graphql.GraphQLNonNull) for f in named.fields.values())
        return [*optional, *([{}] if takes_nothing else [])] or [None]
    return optional or [None]


def _variable_sets(name: str, world: World) -> Iterator[dict[str, Any]]:
    """The first candidate of every variable, then each variable through its other candidates alone."""
    candidates = {v.variable.name.value: _candidates(v, world) for v in _operation(name).variable_definitions or ()}
    base = {variable: values[0] for variable, values in candidates.items()}
    yield base
    for variable, values in candidates.items():
        for value in values[1:]:
            yield {**base, variable: value}


def _token(api: Api, role: tuple[str, str | None] | None) -> str | None:
    return None if role is None else api.token(role[0], role[1])


async def _answer(api: Api, name: str, variables: dict, token: str | None, request_id: str) -> tuple[int, bytes]:
    headers = {"X-Request-ID": request_id, **({"Authorization": f"Bearer {token}"} if token else {})}
    response = await api.client.post(
        "/graphql", json={"query": document(name), "variables": variables}, headers=headers
    )
    return response.status_code, response.content


# Queries the seeded data answers without an error for some role and variables, in both worlds.
ROWS_PAGES = ("OrdersExport", "MyOrderHistory")  # whose orders Rows read
ANSWERED_BY_PLANS = {"MyOrderHistory", "MyOrderDetail", "MyAddresses", "MyNotificationSettings", "SearchCustomers"}
QUERIES = [name for name in operation_names() if _operation(name).operation is graphql.OperationType.QUERY]


async def test_every_contract_query_answers_the_same_bytes_through_both_paths(both_paths: tuple[Api, Api]) -> None:
    fast, generic = both_paths
    served, fell_back, rows_read = compiled.SERVED.copy(), compiled.FALLBACKS.copy(), compiled.ROWS_READ.copy()
    compared = orders_listed = 0
    for name in QUERIES:
        for variables in _variable_sets(name, fast.world):
            for role in ROLES:
                request_id = f"fast-path-{compared}"
                ours = await _answer(fast, name, variables, _token(fast, role), request_id)
                reference = await _answer(generic, name, variables, _token(generic, role), request_id)
                assert ours == reference, (name, variables, role)
                compared += 1
                if name in ROWS_PAGES and ours[0] == 200:
                    data = json.loads(ours[1])["data"] or {}
                    page = (data.get("me") or {}).get("orders") if name == "MyOrderHistory" else data.get("orders")
                    orders_listed += len((page or {}).get("edges", []))
    answered = compiled.SERVED - served
    assert answered["MyOrderHistory"] > 0, (dict(answered), dict(compiled.FALLBACKS - fell_back))
    # The hot queries with data behind them in either world were answered by the plan (a silent fallback would hide
    # behind equal bytes); the rest may fall back when every variable tried gives an error.
    assert set(answered) >= ANSWERED_BY_PLANS, (dict(answered), _plans(fast).refused)
    # Pages of orders (staff's OrdersExport, a customer's MyOrderHistory) were built from rows, not field by field,
    # and still gave the same bytes.
    assert (compiled.ROWS_READ - rows_read)["Order"] >= orders_listed
    assert orders_listed > 0 or not any(fast.world.orders.values())
    print("fast path answered", dict(answered), "fell back", dict(compiled.FALLBACKS - fell_back))
    assert compared > len(QUERIES) * len(ROLES)


def _plans(api: Api) -> compiled.Plans:
    """The plans of the app's schema (the FastPath extension's)."""
    schema = api.app.state.graphql.schema
    factory = next(e for e in schema.extensions if isinstance(e, partial) and e.func is compiled.FastPath)
    return factory.args[0]


def _not_planned(api: Api) -> set[str]:
    return set(_plans(api).refused)


def test_mutations_and_subscriptions_are_never_planned() -> None:
    schema = build_schema(None)
    plans = compiled.Plans(frozenset())
    variables = graphql.execution.values.get_variable_values(SCHEMA, [], {})
    for name in operation_names():
        if _operation(name).operation is graphql.OperationType.QUERY:
            continue
        assert plans.plan(schema, document(name), graphql.parse(document(name)), name, variables) is None, name
        assert plans.refused[name] == f"a {_operation(name).operation.value}"


@contextlib.contextmanager
def _trusting(api: Api, *documents: str) -> Iterator[None]:
    plans = _plans(api)
    before = plans.trusted
    plans.trusted = before | frozenset(documents)
    try:
        yield
    finally:
        plans.trusted = before


# What the contract's documents do not use, in trusted documents of the test's own: aliases, @include/@skip with
# variables and literals, __typename, inline fragments on an interface, named fragments on concrete and abstract
# types, the same field selected twice with different subselections, and errors: an unknown node (null), a variable
# that does not coerce, a field that refuses the viewer.
CONSTRUCTS = """
query Constructs($id: ID!, $withLines: Boolean!, $skipTotal: Boolean = false, $first: Int) {
  __typename
  someone: node(id: $id) {
    __typename
    id
    ... on Order {
      number
      sum: total @skip(if: $skipTotal) { amount }
      total { currency }
      lines @include(if: $withLines) { sku ...LineFields }
      lines @include(if: $withLines) { quantity }
      shipments @skip(if: true) { id }
      ...OnNode
    }
    ... on Customer { email orders(first: $first) { edges { node { id ...OnNode } } } }
  }
  me { __typename id email }
}

fragment LineFields on OrderLine { productName unitPrice { amount currency } }
fragment OnNode on Node { id ... on Order { status } }
"""


async def test_a_page_of_orders_lists_lines_and_shipments_in_the_graphs_order_through_both_paths(
    both_paths: tuple[Api, Api],
) -> None:
    """Staff's pages of orders are built from rows (schema/compiled.py's Rows); their lines follow line_number and
    their shipments shipped_at, as the graph's loaders list them, even where the ids' order differs."""
    fast, generic = both_paths
    async with fast.db.read() as session:
        with_lines = (
            await session.exec(
                select(OrderLine.order_id).group_by(OrderLine.order_id).having(sa.func.count() >= 2).limit(1)
            )
        ).first()
        with_shipments = (
            await session.exec(
                select(Shipment.order_id).group_by(Shipment.order_id).having(sa.func.count() >= 2).limit(1)
            )
        ).first()
    assert with_lines is not None or not any(fast.world.orders.values())
    if with_lines is None:
        return
    lines_moved, shipments_moved = [], []
    async with fast.db.write() as session:
        first_line = (
            await session.exec(select(OrderLine).where(OrderLine.order_id == with_lines).order_by(OrderLine.id))
        ).first()
        lines_moved.append((first_line.id, first_line.line_number))
        first_line.line_number = 1_000  # the first line by id is now listed last
        if with_shipments is not None:
            first = (
                await session.exec(select(Shipment).where(Shipment.order_id == with_shipments).order_by(Shipment.id))
            ).first()
            shipments_moved.append((first.id, first.shipped_at))
            first.shipped_at = NOW + timedelta(days=365)
    try:
        analyst = fast.token("analyst")
        answers = [await _answer(api, "OrdersExport", {"first": 100}, analyst, "rows-order") for api in (fast, generic)]
        assert answers[0] == answers[1]
        assert answers[0][0] == 200
        nodes = {e["node"]["id"]: e["node"] for e in json.loads(answers[0][1])["data"]["orders"]["edges"]}
        listed = nodes[encode_global_id("Order", with_lines)]["lines"]
        assert len(listed) >= 2
    finally:
        async with fast.db.write() as session:
            for line_id, number in lines_moved:
                (await session.get(OrderLine, line_id)).line_number = number
            for shipment_id, shipped_at in shipments_moved:
                (await session.get(Shipment, shipment_id)).shipped_at = shipped_at


@pytest.mark.parametrize("sort", [field.value for field in OrderSortField])  # every key OrderKey must hold
async def test_a_page_of_orders_rows_answer_reads_only_the_orders_keys_and_pages_the_same(
    both_paths: tuple[Api, Api], sort: str
) -> None:
    """When Rows answer every order of staff's page, the page is read as the orders' ids and sort keys only (the
    orders themselves by id), not as whole rows; its cursors are the generic executor's, page after page, as sent
    and as Apollo Client sends it; an analyst's page still holds no email."""
    fast, generic = both_paths
    text = (
        "query KeysPage($first: Int!, $after: String) {"
        f" orders(first: $first, after: $after, sort: {{field: {sort}, direction: ASC}}) {{"
        " pageInfo { hasNextPage endCursor }"
        " edges { cursor node { id number total { amount currency } customer { id email } } } } }"
    )
    apollo = text.replace("{ ", "{ __typename ")  # every selection set; the sort's input object has no space
    with _trusting(fast, text, apollo):
        for document in (text, apollo):
            for role in ("agent", "analyst"):
                after, pages, emails = None, 0, []
                while pages < 4:
                    answers, sent = [], []
                    for api in (fast, generic):
                        with api.statements() as statements:
                            response = await api.client.post(
                                "/graphql",
                                json={"query": document, "variables": {"first": 2, "after": after}},
                                headers={"Authorization": f"Bearer {api.token(role)}", "X-Request-ID": "keys"},
                            )
                        answers.append((response.status_code, response.content))
                        sent.append(statements)
                    assert answers[0] == answers[1], (role, document)
                    page = json.loads(answers[0][1])["data"]["orders"]
                    if not page["edges"]:
                        break
                    # A column the selection does not ask for: read by the generic executor's whole rows only.
                    assert not any("orders.purchase_order_number" in statement for statement in sent[0])
                    assert any("orders.purchase_order_number" in statement for statement in sent[1])
                    emails += [edge["node"]["customer"]["email"] for edge in page["edges"]]
                    pages += 1
                    if not page["pageInfo"]["hasNextPage"]:
                        break
                    after = page["pageInfo"]["endCursor"]
                assert pages >= 2 or not any(fast.world.orders.values())
                if pages:
                    assert (set(emails) == {None}) == (role == "analyst"), (role, emails)
        # A cursor the server did not write, with hostile bytes: refused alike, nothing read.
        for cursor in ("\u0000\u202e%_", "eyJ4Ijox", "x" * 10_000):
            refused = []
            for api in (fast, generic):
                response = await api.client.post(
                    "/graphql",
                    json={"query": text, "variables": {"first": 2, "after": cursor}},
                    headers={"Authorization": f"Bearer {api.token('agent')}", "X-Request-ID": "keys"},
                )
                refused.append((response.status_code, response.content))
            assert refused[0] == refused[1]
            codes = [e["extensions"]["code"] for e in json.loads(refused[0][1])["errors"]]
            assert codes == ["BAD_USER_INPUT"], codes


def _every_exportable_field(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        name: None
        if isinstance(spec, bulk_exports.Leaf)
        else [_every_exportable_field(spec.fields)]
        if isinstance(spec, bulk_exports.Children)
        else _every_exportable_field(spec.fields)
        for name, spec in fields.items()
    }


def _orders_query(fields: dict[str, Any]) -> str:
    selection = bulk_exports.selection_text(fields)
    return f"query AllFields($first: Int!) {{ orders(first: $first) {{ edges {{ node {{ {selection} }} }} }} }}"


def _with_typenames(text: str) -> str:
    """The document as Apollo Client sends it: __typename added to every selection set."""
    head = "query AllFields($first: Int!) {"
    return head + text.removeprefix(head).replace("{ ", "{ __typename ")


async def _same_through_both(
    both_paths: tuple[Api, Api], text: str, role: tuple[str, str | None], request_id: str
) -> bytes:
    """The document's answer (first: 100) for the role, asserted 200 and byte for byte the same on both paths."""
    answers = []
    for api in both_paths:
        response = await api.client.post(
            "/graphql",
            json={"query": text, "variables": {"first": 100}},
            headers={"Authorization": f"Bearer {_token(api, role)}", "X-Request-ID": request_id},
        )
        answers.append((response.status_code, response.content))
    assert answers[0] == answers[1], (role, text)
    assert answers[0][0] == 200
    return answers[0][1]


EVERY_FIELD = _every_exportable_field(bulk_exports.ORDER)
ROWS_FIELDS = _orders_query(EVERY_FIELD)
NOT_ROWS_FIELDS = _orders_query({**EVERY_FIELD, "canCancel": None})  # a field Rows do not read


async def test_staff_see_exactly_what_the_graph_shows_them_of_every_field_rows_can_read(
    both_paths: tuple[Api, Api],
) -> None:
    """Every field Rows can read, on an order carrying personal data, free text and unusual characters, for each
    staff role, as sent and as Apollo Client sends it: the same bytes through both paths, and an analyst gets no
    personal data or free text."""
    fast = both_paths[0]
    if not any(fast.world.orders.values()):
        return
    async with fast.db.write() as session:
        order = await session.get(Order, next(pks[0] for pks in fast.world.orders.values() if pks))
        order.purchase_order_number = 'PO-\u202e42 "quoted" <b>'
        line = (await session.exec(select(OrderLine).where(OrderLine.order_id == order.id))).first()
        line.customization = "Engrave: Jiří \u0007 \\ % _ \U0001f381"
    scanned = await _hostile_scan(fast)
    apollo = _with_typenames(ROWS_FIELDS)
    # Each document and whether Rows answer it.
    documents = {ROWS_FIELDS: True, NOT_ROWS_FIELDS: False, apollo: True}
    with _trusting(fast, *documents):
        for text, by_rows in documents.items():
            for role in ("agent", "analyst", "admin"):
                rows_read = compiled.ROWS_READ.copy()
                answer = await _same_through_both(both_paths, text, (role, None), "all-fields")
                nodes = [e["node"] for e in json.loads(answer)["data"]["orders"]["edges"]]
                assert nodes
                # A field Rows do not read leaves the orders to the field-by-field plan; Apollo's __typename does not.
                assert (compiled.ROWS_READ - rows_read)["Order"] == (len(nodes) if by_rows else 0)
                personal = [
                    value
                    for node in nodes
                    for value in (
                        node["customer"]["name"],
                        node["customer"]["email"],
                        node["customer"]["phone"],
                        node.get("shippingAddress"),
                        *(line["customization"] for line in node["lines"]),
                        *(e[k] for s in node["shipments"] for e in s["events"] for k in ("description", "location")),
                    )
                    if value is not None
                ]
                if role == "analyst":
                    assert personal == []
                else:
                    assert personal
                    assert any(
                        line["customization"] == "Engrave: Jiří \u0007 \\ % _ \U0001f381"
                        for n in nodes
                        for line in n["lines"]
                    )
                    if scanned is not None:
                        assert _scans(nodes, HOSTILE_SCAN), role


# A carrier's scan texts and tracking URL with what a carrier (or an attacker posing as one) may send.
HOSTILE_SCAN = 'Depot "7" \\ \u0001\u001f\u007f\n\t \u202e Brno-Líšeň مرحبا \U0001f381 % _ <b>'


async def _hostile_scan(api: Api) -> str | None:
    """A scan carrying HOSTILE_SCAN added to the first shipment of the world's orders, and that shipment's
    tracking URL set to it: the owning customer's name in the world, or None when no order has a shipment."""
    async with api.db.write() as session:
        for customer, pks in api.world.orders.items():
            shipment = (
                await session.exec(select(Shipment).where(col(Shipment.order_id).in_(pks)).order_by(Shipment.id))
            ).first()
            if shipment is not None:
                shipment.tracking_url = f"https://track.example/{HOSTILE_SCAN}"
                session.add(
                    ShipmentEvent(
                        shipment_id=shipment.id,
                        status=shipment.status,
                        occurred_at=NOW + timedelta(minutes=1),
                        description=HOSTILE_SCAN,
                        location=HOSTILE_SCAN,
                        carrier=shipment.carrier,
                    )
                )
                return customer
    return None


def _scans(nodes: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [
        event
        for node in nodes
        for shipment in node["shipments"]
        for event in shipment["events"]
        if event["description"] == text and event["location"] == text
    ]


def _as_apollo_sends(text: str) -> str:
    """A document as Apollo Client sends it: __typename added to every selection set but the operation's."""

    class AddTypename(graphql.Visitor):
        def enter_selection_set(self, node: graphql.SelectionSetNode, _key: Any, parent: Any, *_: Any) -> Any:
            if isinstance(parent, graphql.OperationDefinitionNode):
                return None
            names = [s.name.value for s in node.selections if isinstance(s, graphql.FieldNode)]
            if "__typename" in names:
                return None
            typename = graphql.FieldNode(name=graphql.NameNode(value="__typename"), arguments=(), directives=())
            return graphql.SelectionSetNode(selections=(typename, *node.selections))

    return graphql.print_ast(graphql.visit(graphql.parse(text), AddTypename()))


async def test_a_customer_reads_their_orders_scans_as_rows_exactly_as_the_graph_shows_them(
    both_paths: tuple[Api, Api],
) -> None:
    """MyOrderHistory, as written and as Apollo Client sends it, for the customer whose shipment carries a scan
    and a tracking URL full of hostile characters: the same bytes through both paths, the orders read as Rows,
    and the texts exactly as written (customers see free text)."""
    fast = both_paths[0]
    owner = await _hostile_scan(fast)
    if owner is None:
        return
    written = document("MyOrderHistory")
    apollo = _as_apollo_sends(written)
    assert apollo != written
    assert "__typename" in apollo
    with _trusting(fast, apollo):
        for text in (written, apollo):
            rows_read = compiled.ROWS_READ.copy()
            answer = await _same_through_both(both_paths, text, ("customer", owner), "scans")
            nodes = [e["node"] for e in json.loads(answer)["data"]["me"]["orders"]["edges"]]
            assert (compiled.ROWS_READ - rows_read)["Order"] == len(nodes)
            assert _scans(nodes, HOSTILE_SCAN)
            urls = [s["trackingUrl"] for n in nodes for s in n["shipments"]]
            assert f"https://track.example/{HOSTILE_SCAN}" in urls


async def test_constructs_the_contract_does_not_use_answer_the_same_bytes(both_paths: tuple[Api, Api]) -> None:
    fast, generic = both_paths
    world = fast.world
    served = compiled.SERVED.copy()
    order = encode_global_id("Order", next((pks[0] for pks in world.orders.values() if pks), 1))
    customer = encode_global_id("Customer", next(iter(world.customers.values())))
    cases = [
        {"id": order, "withLines": True},
        {"id": order, "withLines": False},
        {"id": order, "withLines": True, "skipTotal": True},
        {"id": customer, "withLines": True, "first": 2},
        {"id": encode_global_id("Order", 999_999), "withLines": True},
        {"id": "not-an-id", "withLines": True},
        {"id": order, "withLines": "yes"},  # does not coerce
    ]
    with _trusting(fast, CONSTRUCTS):
        for number, variables in enumerate(cases):
            for role in ROLES:
                request_id = f"constructs-{number}"
                body = {"query": CONSTRUCTS, "variables": variables}
                answers = []
                for api in (fast, generic):
                    token = _token(api, role)
                    headers = {"X-Request-ID": request_id, **({"Authorization": f"Bearer {token}"} if token else {})}
                    response = await api.client.post("/graphql", json=body, headers=headers)
                    answers.append((response.status_code, response.content))
                assert answers[0] == answers[1], (variables, role, answers)
    assert (compiled.SERVED - served)["Constructs"] > 0, (_plans(fast).refused, answers)


# Falling back, on a schema of the test's own: a resolver that asks `info` for its path, one that raises, and one
# that answers null where the type forbids it each send the request through the generic executor, whose answer
# (error and nulls included) is the one given.


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        return ".".join(str(key) for key in info.path.as_list())

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError("broken")

    @strawberry.field
    def missing(self) -> str:
        return None  # type: ignore[return-value]


@strawberry.type
class ItemQuery:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(name="a"), Item(name="b")]


@dataclass
class _Viewer:
    sees_personal_data: bool = True
    is_staff: bool = False


@dataclass
class _Context:
    viewer: _Viewer


@pytest.mark.parametrize(
    ("selection", "unsupported"),
    [("name where", True), ("name broken", False), ("name missing", False), ("name", False)],
)
async def test_what_the_plan_cannot_answer_runs_through_the_generic_executor(selection: str, unsupported: bool) -> None:
    query = f"query Items {{ items {{ {selection} }} }}"
    plans = compiled.Plans(frozenset({query}))
    planned = strawberry.Schema(ItemQuery, extensions=[partial(compiled.FastPath, plans)])
    reference = strawberry.Schema(ItemQuery)
    served, fell_back = compiled.SERVED["Items"], compiled.FALLBACKS["Items"]
    for _ in range(2):
        ours = await planned.execute(query, context_value=_Context(_Viewer()))
        theirs = await reference.execute(query, context_value=_Context(_Viewer()))
        assert (ours.data, [e.formatted for e in ours.errors or ()]) == (
            theirs.data,
            [e.formatted for e in theirs.errors or ()],
        )
    answered_by_plan = selection == "name"
    assert compiled.SERVED["Items"] - served == (2 if answered_by_plan else 0)
    assert compiled.FALLBACKS["Items"] - fell_back == (0 if answered_by_plan else 2)
    # A plan that met something it cannot give is not tried again; a request whose data erred is only handed over.
    assert ("Items" in plans.refused) is unsupported
