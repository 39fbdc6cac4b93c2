"""Bad input gets a clear error with a code and a 200 or 400 status, never a 500, and changes nothing."""

import base64
import json

import pytest

from ordergraph.schema.node import encode_global_id


def _codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ orders(first: 1 { totalCount }", {}, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED"),
        # Codes follow the error's kind, not its first word: these validation errors begin with "Variable".
        ("query($f: Int) { orders(first: 1) { totalCount } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("query($f: String) { orders(first: $f) { totalCount } }", {"f": "1"}, "GRAPHQL_VALIDATION_FAILED"),
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


# IDs and cursors: only what this server writes, in range; any other spelling of the same ID or cursor is refused.


def _b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ORDER_1 = encode_global_id("Order", 1)
IDS_NOT_ISSUED = {
    "20 digits": _b64("Order:" + "9" * 20),
    "2^63": _b64(f"Order:{2**63}"),
    "a 5,000-digit number": _b64("Order:" + "9" * 5_000),
    "zero": _b64("Order:0"),
    "Arabic-Indic digits": _b64("Order:\u0663"),
    "fullwidth digits": _b64("Order:\uff11"),
    "superscript one": _b64("Order:\u00b9"),
    "a plus sign": _b64("Order:+1"),
    "a minus sign": _b64("Order:-1"),
    "a leading zero": _b64("Order:01"),
    "a space": _b64("Order: 1"),
    "a trailing newline": _b64("Order:1\n"),
    "an underscore": _b64("Order:1_0"),
    "a lower-case type": _b64("order:1"),
    "Latin-1 bytes": _b64(b"Order:1\xff"),
    "one padding character too many": ORDER_1 + "=" * 3,
    "spare bits set": ORDER_1[:-1] + "R",
    "characters base64 skips": ORDER_1[:4] + "!" + ORDER_1[4:],
    "whitespace around it": f" {ORDER_1} ",
    "a NUL": ORDER_1 + "\x00",
    "non-ASCII": ORDER_1 + "\u0663",
    "10,000 characters": "A" * 10_000,
}


@pytest.mark.parametrize("global_id", list(IDS_NOT_ISSUED.values()), ids=list(IDS_NOT_ISSUED))
async def test_an_id_this_server_did_not_issue_is_invalid_id(api, global_id):
    agent = api.token("agent")
    for query in (
        "query($id: ID!) { node(id: $id) { id } }",
        "query($id: ID) { orders(filter: {customerId: $id}, first: 1) { totalCount } }",
        'mutation($id: ID!) { addOrderNote(input: {orderId: $id, message: "hi"}) { userErrors { code } } }',
    ):
        response = await api.client.post(
            "/graphql",
            content=json.dumps({"query": query, "variables": {"id": global_id}}),
            headers={"Authorization": f"Bearer {agent}", "Content-Type": "application/json"},
        )
        assert response.status_code in (200, 400), response.text
        assert _codes(response.json()) == ["INVALID_ID"], (query, response.text[:300])


@pytest.mark.parametrize(
    "global_id", [ORDER_1, ORDER_1 + "==", encode_global_id("Order", 2**63 - 1)], ids=["plain", "padded", "2^63-1"]
)
async def test_an_id_as_this_server_writes_it_is_accepted(api, global_id):
    body = (
        await api.post("query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, token=api.token("agent"))
    ).json()
    assert "errors" not in body, body


async def _cursor(api) -> tuple[str, list]:
    """A real cursor of `orders` (newest first: placedAt, then id) and what it holds."""
    page = (await api.post("{ orders(first: 1) { pageInfo { endCursor } } }", token=api.token("agent"))).json()
    cursor = page["data"]["orders"]["pageInfo"]["endCursor"]
    return cursor, json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def _spoiled_cursors(cursor: str, held: list) -> dict[str, str]:
    name, (placed_at, order_id) = held

    def made(*values: object, text: str | None = None) -> str:
        return _b64(text if text is not None else json.dumps([name, list(values)], separators=(",", ":")))

    return {
        "an id of 20 digits": made(placed_at, 10**19),
        "an id past 2^63": made(placed_at, 2**63),
        "a negative id": made(placed_at, -1),
        "an id as a string": made(placed_at, str(order_id)),
        "an id in Arabic-Indic digits": made(placed_at, "\u0663"),
        "an id as a float": made(placed_at, float(order_id)),
        "an id as true": made(placed_at, True),
        "an id as null": made(placed_at, None),
        "a time without its offset": made(placed_at[:19], order_id),
        "a time spelled another way": made(placed_at.replace("+00:00", "Z"), order_id),
        "a time as a number": made(1_700_000_000, order_id),
        "a year past 9999": made("99999-01-01T00:00:00+00:00", order_id),
        "another list's name": _b64(json.dumps(["customers", [order_id]], separators=(",", ":"))),
        "a value too many": made(placed_at, order_id, 1),
        "spaces in the JSON": made(text=json.dumps([name, [placed_at, order_id]])),
        "JSON nested deep": made(text="[" * 140 + "]" * 140),
        "not JSON": made(text="orders:1"),
        "one padding character too many": cursor + "=" * (-len(cursor) % 4) + "=",
        "characters base64 skips": cursor[:4] + "!" + cursor[4:],
        "non-ASCII": cursor + "\u0663",
        "a NUL": cursor + "\x00",
        "10,000 characters": "A" * 10_000,
    }


async def test_a_cursor_this_server_did_not_write_is_bad_user_input(api):
    cursor, held = await _cursor(api)
    agent = api.token("agent")
    query = "query($a: String) { orders(first: 1, after: $a) { totalCount } }"
    accepted = (await api.post(query, {"a": cursor}, token=agent)).json()
    assert "errors" not in accepted, accepted
    padded = cursor + "=" * (-len(cursor) % 4)
    assert "errors" not in (await api.post(query, {"a": padded}, token=agent)).json()
    for case, spoiled in _spoiled_cursors(cursor, held).items():
        response = await api.client.post(
            "/graphql",
            content=json.dumps({"query": query, "variables": {"a": spoiled}}),
            headers={"Authorization": f"Bearer {agent}", "Content-Type": "application/json"},
        )
        assert response.status_code in (200, 400), (case, response.text)
        assert _codes(response.json()) == ["BAD_USER_INPUT"], (case, response.text[:300])
