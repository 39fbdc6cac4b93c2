"""Input the server refuses before it runs anything (schema/input_rules.py, server/request_body.py, server/auth.py):
control characters and over-long text in every text input, request bodies over the limit or nested too deeply,
tokens whose claims have the wrong types. Each refusal has its code, is never a 500, and writes no row."""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import graphql
import jwt
import pytest
import sqlalchemy as sa
import websockets
from conftest import TEST_SECRET, Api
from contract import document, operation_names
from sqlmodel import SQLModel
from test_company_admin import company_contract_variables
from test_live_harness import serving_on_a_port
from test_placement import NEW_ADDRESS, order_input, place

from ordergraph.schema.build import build_schema
from ordergraph.schema.input_rules import (
    CURSOR_ARGUMENT,
    DEFAULT_TEXT,
    ID_RULE,
    TEXT_RULES,
    TextRule,
    rule_for,
    text_problem,
)
from ordergraph.schema.node import encode_global_id
from ordergraph.server.request_body import MAX_JSON_DEPTH, RequestBodyLimits, json_problem

SCHEMA = build_schema(None)._schema


def _codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


# The rules themselves.


def test_every_rule_names_a_text_input_of_the_schema() -> None:
    coordinates = dict(text_inputs())
    for coordinate in TEXT_RULES:
        assert coordinates.get(coordinate) == "String", coordinate


def test_every_text_input_has_its_limit_in_its_description() -> None:
    for type_name, field, argument, named in text_input_definitions():
        coordinate = f"{type_name}.{field}" + (f"({argument})" if argument else "")
        value = SCHEMA.get_type(type_name).fields[field]
        value = value.args[argument] if argument else value
        if named == "String" and argument != CURSOR_ARGUMENT:
            assert f"at most {rule_for(coordinate).max_length:,} characters" in value.description.lower(), coordinate


@pytest.mark.parametrize(
    ("value", "rule", "refused"),
    [
        ("Ann O'Neil, 10 Main St.", DEFAULT_TEXT, False),
        ("Zoë Ünal – 東京都", DEFAULT_TEXT, False),
        ("emoji 📦 fine", DEFAULT_TEXT, False),
        ("x" * 200, DEFAULT_TEXT, False),
        ("x" * 201, DEFAULT_TEXT, True),
        ("nul\x00", DEFAULT_TEXT, True),
        ("escape\x1b[31m", DEFAULT_TEXT, True),
        ("tab\tin a name", DEFAULT_TEXT, True),
        ("line\nbreak", DEFAULT_TEXT, True),
        ("del\x7f", DEFAULT_TEXT, True),
        ("c1\x85", DEFAULT_TEXT, True),
        ("c1\x9f", DEFAULT_TEXT, True),
        ("lone \ud800 surrogate", DEFAULT_TEXT, True),
        ("a low surrogate alone: \udfff", DEFAULT_TEXT, True),
        ("first line\r\n\tsecond line", TextRule(100, multiline=True), False),
        ("bell\x07", TextRule(100, multiline=True), True),
        ("form feed\x0c", TextRule(100, multiline=True), True),
        ("vertical tab\x0b", TextRule(100, multiline=True), True),
        ("nul\x00", TextRule(100, multiline=True), True),
        ("\u00a0no-break space and \u00ff are not C1", DEFAULT_TEXT, False),
    ],
)
def test_text_rule(value: str, rule: TextRule, refused: bool) -> None:
    assert (text_problem(value, rule) is not None) is refused


def text_input_definitions() -> Iterator[tuple[str, str, str | None, str]]:
    """(type, field, argument or None, String or ID) for every text input of the schema."""
    for type_ in SCHEMA.type_map.values():
        if type_.name.startswith("__"):
            continue
        if isinstance(type_, graphql.GraphQLInputObjectType):
            for name, field in type_.fields.items():
                named = graphql.get_named_type(field.type).name
                if named in ("String", "ID"):
                    yield type_.name, name, None, named
        elif isinstance(type_, (graphql.GraphQLObjectType, graphql.GraphQLInterfaceType)):
            for field_name, field in type_.fields.items():
                for name, argument in field.args.items():
                    named = graphql.get_named_type(argument.type).name
                    if named in ("String", "ID"):
                        yield type_.name, field_name, name, named


def text_inputs() -> Iterator[tuple[str, str]]:
    for type_name, field, argument, named in text_input_definitions():
        yield f"{type_name}.{field}" + (f"({argument})" if argument else ""), named


# Every text input of the contract's operations, through the API.


# Written in the background from events already committed (the notifier queues a message for an order placed
# before a test counts); a refused request writes no event, so `order_event` stands for them.
BACKGROUND_TABLES = {"notification", "notification_watermark", "event_relay"}


async def row_counts(shop: Api) -> dict[str, int]:
    """Rows in every table the API writes."""
    async with shop.db.read() as session:
        return {
            table.name: (await session.exec(sa.select(sa.func.count()).select_from(table))).one()[0]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in BACKGROUND_TABLES
        }


async def contract_variables(shop: Api) -> dict[str, tuple[dict, str]]:
    """Each contract operation that takes text, with variables it would run with, and the role that runs it."""
    order = (await place(shop, lines=(("SKU-1", 2),), key="rules-1"))["order"]
    placed = (
        await shop.post(
            "query($id: ID!) { node(id: $id) { ... on Order { lines { id } fulfillmentOrders { id } } } }",
            {"id": order["id"]},
            token=shop.token("agent"),
        )
    ).json()["data"]["node"]
    line, fulfillment_order = placed["lines"][0]["id"], placed["fulfillmentOrders"][0]["id"]
    location = encode_global_id("Location", shop.world.locations["brooklyn"])
    customer = encode_global_id("Customer", shop.world.customers["alice"])
    shipment, return_ = encode_global_id("Shipment", 1), encode_global_id("Return", 1)
    address = {**NEW_ADDRESS, "line2": "Apt 4", "phone": "+12125550123"}
    cursors = {}
    for name, query, role in (
        ("orders", "{ orders(first: 1) { pageInfo { endCursor } } }", "agent"),
        ("inventoryLevels", "{ inventoryLevels(first: 1) { pageInfo { endCursor } } }", "agent"),
        ("me", "{ me { orders(first: 1) { pageInfo { endCursor } } } }", "customer"),
    ):
        data = (await shop.post(query, token=shop.token(role, "alice" if role == "customer" else None))).json()["data"]
        cursors[name] = (data[name]["orders"] if name == "me" else data[name])["pageInfo"]["endCursor"]
        assert cursors[name], name
    companies = await company_contract_variables(shop, address)  # business buyers (#21)
    return {
        **companies,
        "PlaceOrder": ({"input": order_input(key="rules-2", address=address)}, "customer"),
        "PlaceOrderOnBehalf": ({"input": order_input(key="rules-3", customerId=customer)}, "agent"),
        "ChangeMyShipping": (
            {"input": {"orderId": order["id"], "shippingAddress": address, "deliveryMethodCode": "STANDARD"}},
            "customer",
        ),
        "AgentChangeShipping": ({"input": {"orderId": order["id"], "shippingAddress": address}}, "agent"),
        "CancelMyOrder": (
            {"input": {"orderId": order["id"], "lines": [{"orderLineId": line, "quantity": 1}], "reason": "Too many"}},
            "customer",
        ),
        "AgentCancelOrder": ({"input": {"orderId": order["id"], "reason": "Asked\nby phone"}}, "agent"),
        "HoldOrder": ({"input": {"orderId": order["id"], "reason": "Check the address"}}, "agent"),
        "ReleaseOrderHold": ({"input": {"orderId": order["id"]}}, "agent"),
        "AddOrderNote": ({"input": {"orderId": order["id"], "message": "Called the customer"}}, "agent"),
        "ApproveReturn": ({"input": {"returnId": return_}}, "agent"),
        "ReceiveReturn": ({"input": {"returnId": return_, "lines": [{"orderLineId": line, "quantity": 1}]}}, "agent"),
        "AdjustInventory": (
            {"input": {"sku": "SKU-1", "locationId": location, "delta": 1, "reason": "Found one"}},
            "agent",
        ),
        "StartFulfillment": ({"input": {"fulfillmentOrderId": fulfillment_order}}, "agent"),
        "ShipFulfillmentOrder": (
            {"input": {"fulfillmentOrderId": fulfillment_order, "carrier": "UPS", "trackingNumber": "1ZRULES"}},
            "agent",
        ),
        "RecordShipmentEvent": (
            {
                "input": {
                    "shipmentId": shipment,
                    "status": "IN_TRANSIT",
                    "carrierEventId": "ups-rules-1",
                    "description": "Departed",
                    "location": "Newark, NJ",
                }
            },
            "agent",
        ),
        "MarkReadyForPickup": ({"input": {"fulfillmentOrderId": fulfillment_order}}, "agent"),
        "ConfirmPickup": ({"input": {"fulfillmentOrderId": fulfillment_order}}, "agent"),
        "RequestReturn": (
            {
                "input": {
                    "orderId": order["id"],
                    "lines": [{"orderLineId": line, "quantity": 1, "reason": "DAMAGED"}],
                    "method": "STORE_DROP_OFF",
                    "dropOffLocationId": location,
                }
            },
            "customer",
        ),
        "UpdateMyNotificationPreferences": ({"input": {"sms": True, "phone": "+12125550123"}}, "customer"),
        # Language and per-moment preferences (#19), invoices (#17).
        "UpdateMyNotificationSettings": (
            {"input": {"phone": "+12125550123", "timeZone": "Europe/Prague"}},
            "customer",
        ),
        "UpdateMyLanguage": ({"input": {"locale": "cs"}}, "customer"),
        "MyOrderInvoices": ({"id": order["id"]}, "customer"),
        "SearchOrders": (
            {"filter": {"search": "Alice", "customerId": customer}, "first": 5, "after": cursors["orders"]},
            "agent",
        ),
        "OrdersExport": ({"filter": {"search": "OG-"}, "first": 5, "after": cursors["orders"]}, "analyst"),
        # Bulk exports (#20).
        "StartBulkExport": (
            {
                "query": {"filter": {"search": "OG-"}, "selection": "number\n total { amount currency }"},
                "format": "CSV",
            },
            "analyst",
        ),
        "BulkExportStatus": ({"id": encode_global_id("BulkExport", 1)}, "analyst"),
        "InventoryPosition": ({"first": 5, "after": cursors["inventoryLevels"]}, "analyst"),
        "MyOrderHistory": ({"first": 5, "after": cursors["me"]}, "customer"),
        "SearchCustomers": ({"search": "alice"}, "agent"),
        "ProductAvailability": ({"skus": ["SKU-1", "SKU-2"], "postalCode": "10001"}, "customer"),
        "Customer360": ({"id": customer}, "agent"),
        "AgentOrderDetail": ({"id": order["id"]}, "agent"),
        "MyOrderDetail": ({"id": order["id"]}, "customer"),
        # Customer records and address books (#18).
        "UpdateMyProfile": (
            {"input": {"name": "Alice", "email": "a@shop.example", "phone": "+12125550123"}},
            "customer",
        ),
        "AddMyAddress": ({"input": {"customerId": customer, "address": address}}, "customer"),
        "UpdateMyAddress": (
            {"input": {"addressId": encode_global_id("CustomerAddress", 1), "address": address}},
            "customer",
        ),
        "RemoveMyAddress": ({"input": {"addressId": encode_global_id("CustomerAddress", 1)}}, "customer"),
        "SetMyDefaultAddress": ({"input": {"addressId": encode_global_id("CustomerAddress", 1)}}, "customer"),
        "FindCustomers": ({"search": "alice", "first": 5}, "agent"),
        "CreateCustomer": (
            {"input": {"name": "Rules", "email": "r@shop.example", "phone": "+12125550123", "addresses": [address]}},
            "agent",
        ),
        "UpdateCustomer": (
            {"input": {"customerId": customer, "name": "A", "email": "a@shop.example", "phone": "1"}},
            "agent",
        ),
        "AgentAddCustomerAddress": ({"input": {"customerId": customer, "address": address}}, "agent"),
        "EraseCustomerPersonalData": ({"input": {"customerId": customer}}, "agent"),
        # Stores and stock coming in (#18).
        "StoreFinder": ({"filter": {"near": {"country": "US", "postalCode": "10001", "city": "New York"}}}, "customer"),
        "StorePickupPromise": ({"skus": ["SKU-1"], "country": "US", "postalCode": "10001", "city": "NYC"}, "customer"),
        "StoreDetail": ({"filter": {"near": {"country": "US", "postalCode": "11201"}}, "first": 2}, "agent"),
        "StockLevels": ({"filter": {"sku": ["SKU-1"], "locationId": [location]}, "first": 5}, "analyst"),
        "InboundShipments": ({"filter": {"sku": "SKU-1", "locationId": [location]}, "first": 5}, "analyst"),
        "CreateInboundShipment": (
            {
                "input": {
                    "locationId": location,
                    "kind": "PURCHASE_ORDER",
                    "expectedOn": "2026-12-01",
                    "reference": "PO-1",
                    "lines": [{"sku": "SKU-1", "quantity": 1}],
                }
            },
            "agent",
        ),
        "ReceiveInboundShipment": (
            {
                "input": {
                    "shipmentId": encode_global_id("InboundShipment", 1),
                    "lines": [{"sku": "SKU-1", "received": 1}],
                }
            },
            "agent",
        ),
        "SetInventoryThresholds": ({"input": {"sku": "SKU-1", "locationId": location, "reorderPoint": 2}}, "agent"),
        "SetLocationOpeningHours": (
            {
                "input": {
                    "locationId": location,
                    "timezone": "America/New_York",
                    "days": [{"weekday": 1, "intervals": [{"opens": "09:00", "closes": "17:00"}]}],
                }
            },
            "agent",
        ),
        "AddLocationClosure": ({"input": {"locationId": location, "date": "2026-12-24", "reason": "Eve"}}, "agent"),
        "RemoveLocationClosure": ({"input": {"locationId": location, "date": "2026-12-24"}}, "agent"),
        # Business orders (#21): company placements, approvals, invoices on account.
        "PlaceCompanyOrder": (
            {
                "input": {
                    "lines": [{"sku": "SKU-1", "quantity": 1, "customization": "Initials"}],
                    "deliveryMethodCode": "STANDARD",
                    "companyLocationId": encode_global_id("CompanyLocation", 1),
                    "purchaseOrderNumber": "PO-RULES-1",
                    "paymentMethod": "ON_ACCOUNT",
                    "idempotencyKey": "rules-company-1",
                }
            },
            "customer",
        ),
        "PlaceCompanyOrderOnBehalf": (
            {
                "input": {
                    "lines": [{"sku": "SKU-1", "quantity": 1, "customization": "Initials"}],
                    "deliveryMethodCode": "STANDARD",
                    "companyLocationId": encode_global_id("CompanyLocation", 1),
                    "purchaseOrderNumber": "PO-RULES-1",
                    "paymentMethod": "ON_ACCOUNT",
                    "idempotencyKey": "rules-company-1",
                    "customerId": customer,
                }
            },
            "agent",
        ),
        "ApproveOrder": ({"input": {"orderId": order["id"]}}, "customer"),
        "RejectOrder": ({"input": {"orderId": order["id"], "reason": "Over\nbudget"}}, "customer"),
        "CompanyInvoicesForAgent": ({"companyId": encode_global_id("Company", 1), "unpaidOnly": False}, "agent"),
        "RecordInvoicePayment": (
            {"input": {"invoiceNumber": "INV-US-2026-000001", "amount": "10.00", "reference": "WIRE 2026/11/20"}},
            "agent",
        ),
    }


async def post(shop: Api, query: str, variables: dict, *, token: str) -> dict:
    """Like Api.post, the JSON escaped to ASCII (httpx writes UTF-8, which cannot hold a lone surrogate)."""
    content = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = await shop.client.post("/graphql", content=content, headers=headers)
    assert response.status_code in (200, 400), response.text
    return response.json()


def text_leaves(operation: str, variables: dict) -> Iterator[tuple[list[str], str, str]]:
    """(path in the variables, input coordinate, String or ID) of every text value in `variables`."""
    operation_node = _operation(operation)
    used_at = _argument_coordinates(operation)
    for definition in operation_node.variable_definitions or ():
        name = definition.variable.name.value
        if name in variables:
            type_ = graphql.type_from_ast(SCHEMA, definition.type)
            yield from _leaves(variables[name], type_, [name], used_at[name])


def _argument_coordinates(operation: str) -> dict[str, str]:
    """Where each variable of the operation is used, as an argument's coordinate ("Query.products(skus)")."""
    type_info = graphql.TypeInfo(SCHEMA)
    found: dict[str, str] = {}

    class Arguments(graphql.Visitor):
        def enter_argument(self, node: graphql.ArgumentNode, *_: object) -> None:
            if isinstance(node.value, graphql.VariableNode):
                parent, field = type_info.get_parent_type(), type_info.get_field_def()
                field_name = next(n for n, f in parent.fields.items() if f is field)
                found[node.value.name.value] = f"{parent.name}.{field_name}({node.name.value})"

    graphql.visit(graphql.parse(document(operation)), graphql.TypeInfoVisitor(type_info, Arguments()))
    return found


def _leaves(value: object, type_: object, path: list[str], coordinate: str) -> Iterator[tuple[list[str], str, str]]:
    type_ = type_.of_type if isinstance(type_, graphql.GraphQLNonNull) else type_
    if isinstance(type_, graphql.GraphQLList):
        for index, item in enumerate(value):
            yield from _leaves(item, type_.of_type, [*path, str(index)], coordinate)
    elif isinstance(type_, graphql.GraphQLInputObjectType):
        for name, item in value.items():
            yield from _leaves(item, type_.fields[name].type, [*path, name], f"{type_.name}.{name}")
    elif isinstance(type_, graphql.GraphQLScalarType) and type_.name in ("String", "ID") and isinstance(value, str):
        yield path, coordinate, type_.name


def replaced(variables: dict, path: list[str], value: str) -> dict:
    copy = json.loads(json.dumps(variables))
    target = copy
    for step in path[:-1]:
        target = target[int(step)] if isinstance(target, list) else target[step]
    target[int(path[-1]) if isinstance(target, list) else path[-1]] = value
    return copy


def _takes_text(type_: object, seen: frozenset[str] = frozenset()) -> bool:
    named = graphql.get_named_type(type_)
    if isinstance(named, graphql.GraphQLInputObjectType):
        return named.name not in seen and any(_takes_text(f.type, seen | {named.name}) for f in named.fields.values())
    return named.name in ("String", "ID")


async def test_every_contract_operation_that_takes_text_is_tried(shop: Api) -> None:
    """The variables below are the ones the next tests spoil, one text value at a time: every query and mutation of
    the contract that takes text, each with text in every place it can hold some. (The subscriptions' text goes
    through the same rules: see test_a_subscription_is_held_to_the_same_rules.)"""
    cases = await contract_variables(shop)
    takes_text = {
        name
        for name in operation_names()
        if _operation(name).operation is not graphql.OperationType.SUBSCRIPTION
        and any(_takes_text(graphql.type_from_ast(SCHEMA, d.type)) for d in _operation(name).variable_definitions or ())
    }
    assert takes_text == set(cases)
    for name, (variables, _) in cases.items():
        assert list(text_leaves(name, variables)), name


def _operation(name: str) -> graphql.OperationDefinitionNode:
    return next(d for d in graphql.parse(document(name)).definitions if isinstance(d, graphql.OperationDefinitionNode))


SPOILERS = {
    "NUL": "\x00",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "C1 NEL": "\x85",
    "lone surrogate": "\ud83d",
}


@pytest.mark.parametrize("spoiler", list(SPOILERS), ids=list(SPOILERS))
async def test_control_characters_in_any_text_input_are_refused_and_write_nothing(shop: Api, spoiler: str) -> None:
    cases = await contract_variables(shop)
    before = await row_counts(shop)
    tried = 0
    for operation, (variables, role) in cases.items():
        token = shop.token(role, "alice" if role == "customer" else None)
        for path, _, named in text_leaves(operation, variables):
            value = _at(variables, path)
            spoiled = replaced(variables, path, value[:1] + SPOILERS[spoiler] + value[1:])
            body = await post(shop, document(operation), spoiled, token=token)
            assert body.get("data") is None, (operation, path, body)
            assert _codes(body) == ["INVALID_ID" if named == "ID" else "BAD_USER_INPUT"], (operation, path, body)
            error = body["errors"][0]
            # Named as the client wrote it: the argument, then the path inside it (the variable's name here).
            assert error["extensions"]["field"] == path, (operation, error)
            assert ".".join(path) in error["message"], error["message"]
            tried += 1
    assert tried > 50
    assert await row_counts(shop) == before


def _at(variables: dict, path: list[str]) -> str:
    target: object = variables
    for step in path:
        target = target[int(step)] if isinstance(target, list) else target[step]
    assert isinstance(target, str)
    return target


async def test_text_over_its_limit_is_refused_and_writes_nothing(shop: Api) -> None:
    cases = await contract_variables(shop)
    before = await row_counts(shop)
    for operation, (variables, role) in cases.items():
        token = shop.token(role, "alice" if role == "customer" else None)
        for path, coordinate, named in text_leaves(operation, variables):
            limit = rule_for(coordinate, named).max_length
            value = _at(variables, path)
            response = await shop.post(
                document(operation), replaced(variables, path, value.ljust(limit + 1, "x")), token=token
            )
            body = response.json()
            assert _codes(body) == ["INVALID_ID" if named == "ID" else "BAD_USER_INPUT"], (operation, path, body)
            assert f"at most {limit:,} are allowed" in body["errors"][0]["message"], body
    assert await row_counts(shop) == before


async def test_free_text_may_span_lines_and_a_name_may_not(shop: Api) -> None:
    order = (await place(shop, key="lines-1"))["order"]
    agent = shop.token("agent")
    note = await shop.run(
        "AddOrderNote", {"input": {"orderId": order["id"], "message": "Called twice:\r\n\t- no answer\n"}}, token=agent
    )
    assert note["data"]["addOrderNote"]["userErrors"] == [], note
    longest = await shop.run("AddOrderNote", {"input": {"orderId": order["id"], "message": "n" * 2_000}}, token=agent)
    assert longest["data"]["addOrderNote"]["userErrors"] == [], longest
    before = await row_counts(shop)
    address = {**NEW_ADDRESS, "name": "Ann\nOther"}
    refused = await shop.post(
        document("PlaceOrder"),
        {"input": order_input(key="lines-2", address=address)},
        token=shop.token("customer", "alice"),
    )
    assert _codes(refused.json()) == ["BAD_USER_INPUT"]
    assert refused.json()["errors"][0]["extensions"]["field"] == ["input", "shippingAddress", "name"]
    assert await row_counts(shop) == before


async def test_an_address_line_is_at_most_200_characters(shop: Api) -> None:
    customer = shop.token("customer", "alice")
    before = await row_counts(shop)
    for size, code in ((201, "BAD_USER_INPUT"), (900_000, "BAD_USER_INPUT"), (1_000_000, "PAYLOAD_TOO_LARGE")):
        address = {**NEW_ADDRESS, "line1": "9" * size}
        variables = {"input": order_input(key=f"long-{size}", address=address)}
        response = await shop.post(document("PlaceOrder"), variables, token=customer)
        assert response.status_code == (413 if code == "PAYLOAD_TOO_LARGE" else 200), response.status_code
        assert _codes(response.json()) == [code], response.text[:300]
    assert await row_counts(shop) == before
    placed = await place(shop, key="long-200", address={**NEW_ADDRESS, "line1": "9" * 200})
    assert placed["userErrors"] == []


async def test_literals_and_variables_are_held_to_the_same_rules(api: Api) -> None:
    agent = api.token("agent")
    literal = await api.post('{ customers(search: "a\\u0000b", first: 1) { edges { cursor } } }', token=agent)
    assert _codes(literal.json()) == ["BAD_USER_INPUT"]
    listed = await api.post('{ products(skus: ["SKU-1", "SKU-\\u001b"]) { sku } }')
    assert _codes(listed.json()) == ["BAD_USER_INPUT"]
    assert listed.json()["errors"][0]["extensions"]["field"] == ["skus", "1"]
    nested = await api.post(
        "query($s: String) { orders(filter: {search: $s}, first: 1) { totalCount } }", {"s": "x" * 201}, token=agent
    )
    assert _codes(nested.json()) == ["BAD_USER_INPUT"]
    assert nested.json()["errors"][0]["extensions"]["field"] == ["filter", "search"]
    inside_a_fragment = await api.post(
        'query { ...F } fragment F on Query { node(id: "T3JkZXI6MQ\\u0000") { id } }', token=agent
    )
    assert _codes(inside_a_fragment.json()) == ["INVALID_ID"]
    fine = await api.post('{ customers(search: "[[[[{{{{", first: 1) { edges { cursor } } }', token=agent)
    assert "errors" not in fine.json(), fine.text


@pytest.mark.parametrize(
    ("moment", "refused"),
    [
        ("2026-11-20T17:00:00", True),  # no offset: no instant
        ("2026-11-20", True),
        ("9999-12-31T23:59:59-05:00", True),  # past what UTC can hold
        ("0001-01-01T00:00:00+05:00", True),
        ("2026-11-20T17:00:00Z", False),
        ("2026-11-20T12:00:00-05:00", False),
        ("0001-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59+14:00", False),
    ],
)
async def test_a_time_needs_its_offset_and_must_fit_in_utc(api: Api, moment: str, refused: bool) -> None:
    agent = api.token("agent")
    for query, field in (
        (
            "query($d: DateTime) { orders(filter: {placedAfter: $d}, first: 1) { totalCount } }",
            ["filter", "placedAfter"],
        ),
        (
            "query($d: DateTime!) { orderStats(filter: {placedBefore: $d}, groupBy: [DAY]) { totals { orderCount } } }",
            ["filter", "placedBefore"],
        ),
    ):
        body = (await api.post(query, {"d": moment}, token=agent)).json()
        if refused:
            assert _codes(body) == ["BAD_USER_INPUT"], body
            assert body["errors"][0]["extensions"]["field"] == field
        else:
            assert "errors" not in body, body


async def test_a_subscription_is_held_to_the_same_rules(api: Api) -> None:
    async with serving_on_a_port(api.app) as url:
        from test_live_harness import LiveClient

        async with LiveClient.connect(url, api.token("agent")) as console:
            stream = await console.subscribe("LiveOrderEvents", {"filter": {"types": ["ORDER_\u0000PLACED"]}})
            message = await stream.message()
            # Refused before it starts: one result with the error (graphql-transport-ws `next`, or `error`).
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert message["type"] == "error" or message["payload"]["data"] is None, message
            assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], message
            assert errors[0]["extensions"]["field"] == ["filter", "types", "0"]


# Request bodies.


class Counting:
    """A request body in chunks that counts how many the server asked for."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += self.chunk
            yield b" " * self.chunk


async def test_a_30_mb_body_with_its_length_is_refused_before_a_byte_is_read(api: Api) -> None:
    body = Counting(30_000_000)
    with api.statements() as executed:
        response = await api.client.post(
            "/graphql",
            content=body,
            headers={"content-type": "application/json", "content-length": "30000000"},
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert body.sent == 0
    assert executed == []


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(api: Api) -> None:
    body = Counting(30_000_000)
    response = await api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert body.sent <= 1_000_000 + 2 * body.chunk


async def test_a_body_at_the_limit_is_read(api: Api) -> None:
    query = '{ products(skus: ["SKU-1"]) { sku } }'
    content = json.dumps({"query": query}).encode()
    content = content[:-1] + b" " * (1_000_000 - len(content)) + b"}"
    assert len(content) == 1_000_000
    response = await api.client.post("/graphql", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["data"] == {"products": [{"sku": "SKU-1"}]}


async def test_a_real_server_answers_413_without_waiting_for_the_body(api: Api) -> None:
    """Over a socket: the headers of a 30 MB request and no body; the answer comes all the same."""
    async with serving_on_a_port(api.app) as url:
        host, port = url.removeprefix("ws://").split("/")[0].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: ordergraph.test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 30000000\r\n\r\n" + b"{" * 1000
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        rest = await asyncio.wait_for(reader.read(), 10)  # then the server closes the connection
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert b"PAYLOAD_TOO_LARGE" in rest


def nested(levels: int) -> bytes:
    return b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * levels + b"]" * levels + b"}}"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (nested(MAX_JSON_DEPTH + 1), "BAD_REQUEST"),
        (nested(100_000), "BAD_REQUEST"),
        (b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5_000 + b"}}", "BAD_REQUEST"),
        (b'{"query": "{ __typename \xff }"}', "BAD_REQUEST"),
    ],
    ids=["65 levels", "100,000 levels", "a 5,000-digit number", "not UTF-8"],
)
async def test_json_the_parser_cannot_take_is_a_400_with_a_code(api: Api, content: bytes, code: str) -> None:
    response = await api.client.post("/graphql", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text[:300]
    assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_json_nested_to_the_limit_is_parsed(api: Api) -> None:
    # 64 levels in all: the body's object, `variables` and 62 lists (an unused variable is no error).
    response = await api.client.post(
        "/graphql", content=nested(MAX_JSON_DEPTH - 2), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text[:300]


async def test_a_get_with_deeply_nested_variables_is_a_400(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": "{ __typename }", "variables": "[" * 3_000 + "]" * 3_000},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("frame", "close_code"),
    [
        ('{"id": "1", "type": "subscribe", "payload": ' + "[" * 100_000 + "]" * 100_000 + "}", 4400),
        ('{"id": "1", "type": "subscribe", "payload": {"query": "' + " " * 1_000_001 + '"}}', 1009),
    ],
    ids=["nested 100,000 levels", "over 1 MB"],
)
async def test_a_websocket_message_the_parser_cannot_take_closes_the_socket(
    api: Api, frame: str, close_code: int
) -> None:
    async with serving_on_a_port(api.app) as url:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {api.token('agent')}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            await ws.send(frame)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            assert ws.close_code == close_code
        # The server goes on.
        healthy = await api.run("ProductAvailability", {"skus": ["SKU-1"], "postalCode": "10001"})
        assert healthy["data"]["products"][0]["sku"] == "SKU-1"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a": [[[]]]}', False),
        ('{"query": "' + "{" * 500 + '"}', False),  # brackets in strings are text
        ('{"q": "\\"' + "[" * 500 + '"}', False),  # an escaped quote does not end the string
        ('{"q": "\\\\"}' + "[" * 65 + "]" * 65, True),  # an escaped backslash does
        ("[" * 65 + "]" * 65, True),
        ("[" * 64 + "]" * 64, False),
        ('{"q": "never closed ' + "[" * 100, False),
        ('{"n": 1' + "0" * 4_300 + "}", True),
        ('{"n": "' + "0" * 5_000 + '"}', False),
    ],
)
def test_json_problems_are_found_in_the_text(text: str, problem: bool) -> None:
    assert (json_problem(text) is not None) is problem
    assert (json_problem(text.encode()) is not None) is problem
    assert (json_problem(text.encode("utf-16")) is not None) is problem


async def test_the_middleware_reads_nothing_past_a_declared_length() -> None:
    received: list[dict] = []
    answered: list[dict] = []

    async def app(scope, receive, send) -> None:  # pragma: no cover - never reached
        raise AssertionError("the app ran")

    async def receive() -> dict:
        received.append({})
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def send(message: dict) -> None:
        answered.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "query_string": b"",
        "headers": [(b"content-length", b"30000000"), (b"content-type", b"application/json")],
    }
    await RequestBodyLimits(app, max_bytes=1_000)(scope, receive, send)
    assert received == []
    assert answered[0]["status"] == 413
    chunked = {**scope, "headers": [(b"content-type", b"application/json")]}
    answered.clear()
    await RequestBodyLimits(app, max_bytes=10_000)(chunked, receive, send)
    assert len(received) == 10  # 10 KiB > 10,000 bytes: the tenth chunk passes the limit, and no more is read
    assert answered[0]["status"] == 413


# Tokens.


def token(**claims: object) -> str:
    base = {"sub": "agent:tester", "role": "agent", "name": "Test agent", "exp": _in_an_hour()}
    return jwt.encode({**base, **claims}, TEST_SECRET, algorithm="HS256")


def _in_an_hour() -> int:
    return int((datetime.now(UTC) + timedelta(hours=1)).timestamp())


def claims_cases() -> list[tuple[str, dict]]:
    later = _in_an_hour()
    return [
        ("exp a string of digits", {"exp": str(later)}),
        ("exp a word", {"exp": "tomorrow"}),
        ("exp a list", {"exp": [later]}),
        ("exp an object", {"exp": {"at": later}}),
        ("exp too far for a date", {"exp": 10**20}),
        ("exp a float too far for a date", {"exp": 1e300}),
        ("exp null", {"exp": None}),
        ("role a number", {"role": 1}),
        ("role a list", {"role": ["agent"]}),
        ("role unknown", {"role": "superuser"}),
        ("role null", {"role": None}),
        ("sub a number", {"sub": 12}),
        ("sub an object", {"sub": {"id": 1}}),
        ("sub empty", {"sub": ""}),
        ("sub with a NUL", {"sub": "agent:\x00"}),
        ("sub of 10,000 characters", {"sub": "a" * 10_000}),
        ("name a number", {"name": 5}),
        ("name an object", {"name": {"first": "Jo"}}),
        ("name with a NUL", {"name": "Jo\x00"}),
        ("a customer without a global ID", {"role": "customer", "sub": "alice"}),
        ("a customer with an order's ID", {"role": "customer", "sub": encode_global_id("Order", 1)}),
        ("a customer with a 20-digit ID", {"role": "customer", "sub": encode_global_id("Customer", 10**19)}),
        ("a customer with a number", {"role": "customer", "sub": 1}),
        ("iat a word", {"iat": "yesterday"}),
        ("nbf a word", {"nbf": "yesterday"}),
        ("aud a number", {"aud": 5}),
    ]


@pytest.mark.parametrize(("case", "claims"), claims_cases(), ids=[c[0] for c in claims_cases()])
async def test_a_token_with_claims_of_the_wrong_type_is_unauthenticated(api: Api, case: str, claims: dict) -> None:
    response = await api.post("{ orders(first: 1) { totalCount } }", token=token(**claims))
    assert response.status_code in (200, 401), response.text
    assert _codes(response.json()) == ["UNAUTHENTICATED"], (case, response.text)


async def test_a_token_with_a_float_expiry_and_no_name_is_accepted(api: Api) -> None:
    response = await api.post("{ orders(first: 1) { totalCount } }", token=token(exp=_in_an_hour() + 0.5, name=None))
    assert "errors" not in response.json(), response.text


@pytest.mark.parametrize(
    "value",
    ["Bearer " + "A" * 5_000, "Bearer \x00", "Bearer a.b.c", "Bearer " + "e30." * 3, "Bearer ٣.٣.٣"],
    ids=["long", "NUL", "three parts", "empty objects", "Arabic-Indic"],
)
async def test_a_malformed_token_is_unauthenticated(api: Api, value: str) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": "{ orders(first: 1) { totalCount } }"},
        headers={"Authorization": value.encode("utf-8")},
    )
    assert _codes(response.json()) == ["UNAUTHENTICATED"], response.text


def test_every_id_rule_fits_the_longest_id_issued() -> None:
    longest = max(len(encode_global_id(name, 2**63 - 1)) for name in ("FulfillmentOrder", "OrderLine", "Customer"))
    assert longest <= ID_RULE.max_length
