"""Reason codes and internal notes (issue #15): a cancellation or a hold carries a code the customer reads and
an internal note only agents read. The customer's timeline (the SPA's documents), emails, texts and live events
never carry the note; the agent console's documents show it; analysts never see it."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from alembic import command
from conftest import Api
from starlette.applications import Starlette
from starlette.routing import Route
from test_live_harness import LiveClient, serving_on_a_port
from test_notifications import ALICE_PHONE, Mailbox, SmsGateway, notify, opt_in_to_sms
from test_placement import place, snapshot

from ordergraph.models import Order, OrderEvent
from ordergraph.models.database import Database
from ordergraph.models.migrate import alembic_config, upgrade

NOTE = "fraud suspected by agent"
EVENTS = """
query Events($id: ID!) {
  node(id: $id) { ... on Order {
    status
    holdReason
    timeline(first: 50) {
      edges { node { type message visibility cancellationReasonCode holdReasonCode internalNote } }
    }
  } }
}
"""


@dataclass
class Shop:
    api: Api
    mailbox: Mailbox
    sms: SmsGateway

    def token(self, role: str, customer: str | None = None) -> str:
        return self.api.token(role, customer)

    async def run(self, operation: str, variables: dict, role: str, customer: str | None = None) -> dict:
        return await self.api.run(operation, variables, token=self.token(role, customer))

    async def events(self, order_id: str, role: str, customer: str | None = None) -> dict:
        body = (await self.api.post(EVENTS, {"id": order_id}, token=self.token(role, customer))).json()
        assert "errors" not in body, body
        return body["data"]["node"]

    def everything_the_customer_received(self, customer_email: str) -> str:
        """Every email and text the customer got, as one text."""
        texts = [f"{subject}\n{text}" for subject, text in self.mailbox.to(customer_email)]
        return "\n".join(texts + [json.dumps(sms) for sms in self.sms.received])


@pytest.fixture
async def shop(open_shop) -> AsyncIterator[Shop]:
    """A shop whose notifier sends to a real SMTP server and a real SMS endpoint on loopback, one pass at a time."""
    mailbox, gateway = Mailbox(), SmsGateway()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        receiver = Starlette(routes=[Route("/sms", gateway.receive, methods=["POST"])])
        async with serving_on_a_port(receiver) as ws_url:
            gateway.url = ws_url.replace("ws://", "http://").removesuffix("/graphql") + "/sms"
            async with open_shop(
                smtp_host="127.0.0.1",
                smtp_port=mailbox.port,
                sms_endpoint=gateway.url,
                notification_poll_seconds=3600,
                notification_retry_seconds=0,
            ) as api:
                yield Shop(api, mailbox, gateway)
    finally:
        controller.stop()


@asynccontextmanager
async def watching(shop: Shop) -> AsyncIterator[tuple]:
    """Alice's SPA on MyOrderUpdates and the agent console on LiveOrderEvents, from the start of the log."""
    async with (
        serving_on_a_port(shop.api.app) as url,
        LiveClient.connect(url, shop.token("customer", "alice")) as spa,
        LiveClient.connect(url, shop.token("agent")) as console,
    ):
        yield (
            await spa.subscribe("MyOrderUpdates", {"after": "0"}),
            await console.subscribe("LiveOrderEvents", {"after": "0"}),
        )


async def last_sequence(shop: Shop, *, customer_visible: bool) -> int:
    query = sa.select(sa.func.max(OrderEvent.sequence))
    if customer_visible:
        query = query.where(OrderEvent.visibility == "CUSTOMER")
    async with shop.api.db.read() as session:
        return (await session.exec(query)).one()[0]


def messages(order: dict) -> list[tuple[str, str]]:
    return [(edge["node"]["type"], edge["node"]["message"]) for edge in order["timeline"]["edges"]]


async def test_a_customer_cancels_at_their_own_request_by_default_and_their_words_stay_with_agents(
    shop: Shop,
) -> None:
    order = (await place(shop.api))["order"]
    body = await shop.run(
        "CancelMyOrder",
        {"input": {"orderId": order["id"], "reason": "Found it cheaper elsewhere"}},
        "customer",
        "alice",
    )
    assert body["data"]["cancelOrder"]["userErrors"] == []
    number = order["number"]

    spa = await shop.run("MyOrderDetail", {"id": order["id"]}, "customer", "alice")
    assert ("ORDER_CANCELLED", f"Order {number} cancelled at your request.") in messages(spa["data"]["node"])
    assert "cheaper" not in json.dumps(spa)
    mine = await shop.events(order["id"], "customer", "alice")
    cancelled = next(e["node"] for e in mine["timeline"]["edges"] if e["node"]["type"] == "ORDER_CANCELLED")
    assert (cancelled["cancellationReasonCode"], cancelled["internalNote"]) == ("CUSTOMER_REQUEST", None)

    console = await shop.run("AgentOrderDetail", {"id": order["id"]}, "agent")
    assert (
        "ORDER_CANCELLED",
        f"Order {number} cancelled at your request. Internal note: Found it cheaper elsewhere",
    ) in messages(console["data"]["node"])
    agents = await shop.events(order["id"], "agent")
    cancelled = next(e["node"] for e in agents["timeline"]["edges"] if e["node"]["type"] == "ORDER_CANCELLED")
    assert (cancelled["cancellationReasonCode"], cancelled["internalNote"]) == (
        "CUSTOMER_REQUEST",
        "Found it cheaper elsewhere",
    )
    # Money in an agent's message is an amount, never minor units.
    voided = [message for kind, message in messages(console["data"]["node"]) if kind == "PAYMENT_VOIDED"]
    assert voided == [f"{order['total']['amount']} USD voided or refunded."]


async def test_a_customer_may_give_a_code_of_their_own_but_not_the_shops(shop: Shop) -> None:
    order = (await place(shop.api, lines=(("SKU-1", 2),)))["order"]
    line = {"orderLineId": order["lines"][0]["id"], "quantity": 1}
    before = await snapshot(shop.api)
    refused = await shop.run(
        "CancelMyOrder",
        {"input": {"orderId": order["id"], "lines": [line], "reasonCode": "PAYMENT_ISSUE"}},
        "customer",
        "alice",
    )
    assert refused["data"]["cancelOrder"] == {
        "order": None,
        "userErrors": [
            {
                "field": ["reasonCode"],
                "message": "Cancel your order with reasonCode CUSTOMER_REQUEST or DUPLICATE_ORDER.",
                "code": "INVALID_INPUT",
            }
        ],
    }
    assert await snapshot(shop.api) == before

    body = await shop.run(
        "CancelMyOrder",
        {"input": {"orderId": order["id"], "lines": [line], "reasonCode": "DUPLICATE_ORDER"}},
        "customer",
        "alice",
    )
    assert body["data"]["cancelOrder"]["userErrors"] == []
    spa = await shop.run("MyOrderDetail", {"id": order["id"]}, "customer", "alice")
    assert ("LINES_CANCELLED", "1 unit(s) cancelled as a duplicate order.") in messages(spa["data"]["node"])


async def test_an_agents_cancellation_note_never_reaches_the_customer(shop: Shop) -> None:
    await opt_in_to_sms(shop.api, "alice", ALICE_PHONE)
    order = (await place(shop.api))["order"]
    number = order["number"]
    async with watching(shop) as (spa_live, console_live):
        body = await shop.run(
            "AgentCancelOrder",
            {"input": {"orderId": order["id"], "reasonCode": "PAYMENT_ISSUE", "reason": f"  {NOTE}  "}},
            "agent",
        )
        assert body["data"]["cancelOrder"]["userErrors"] == []
        told = f"Order {number} cancelled: we could not confirm the payment."

        # The customer's live events: the cancellation, told by its code alone.
        live = await spa_live.events_until(await last_sequence(shop, customer_visible=True))
        assert (live[-1]["type"], live[-1]["message"]) == ("ORDER_CANCELLED", told)
        assert NOTE not in json.dumps(live)
        # The console's live feed shows the note after the customer's message.
        feed = await console_live.events_until(await last_sequence(shop, customer_visible=False))
        assert ("ORDER_CANCELLED", f"{told} Internal note: {NOTE}") in [(e["type"], e["message"]) for e in feed]

    # The customer's timeline and order history, through the SPA's own documents.
    for operation, variables in (("MyOrderDetail", {"id": order["id"]}), ("MyOrderHistory", {"first": 10})):
        seen = await shop.run(operation, variables, "customer", "alice")
        assert "errors" not in seen, seen
        assert NOTE not in json.dumps(seen), operation
    spa = await shop.run("MyOrderDetail", {"id": order["id"]}, "customer", "alice")
    assert ("ORDER_CANCELLED", told) in messages(spa["data"]["node"])
    # Asked for outright, the note is null for the customer; the code is theirs to read.
    mine = await shop.events(order["id"], "customer", "alice")
    assert NOTE not in json.dumps(mine)
    cancelled = next(e["node"] for e in mine["timeline"]["edges"] if e["node"]["type"] == "ORDER_CANCELLED")
    assert (cancelled["cancellationReasonCode"], cancelled["internalNote"]) == ("PAYMENT_ISSUE", None)

    # The email and the text.
    await notify(shop.api)
    received = shop.everything_the_customer_received("alice@shop.example")
    assert NOTE not in received
    assert "fraud" not in received.lower()
    # The cancellation email and text give the reason as the code's customer wording, never the note.
    cancelled_mail = [text for subject, text in shop.mailbox.to("alice@shop.example") if "cancel" in subject.lower()]
    assert len(cancelled_mail) == 1, shop.mailbox.to("alice@shop.example")
    assert number in cancelled_mail[0]
    assert "the payment could not be completed" in cancelled_mail[0]
    texts = [sms["text"] for sms in shop.sms.received if "cancelled" in sms["text"]]
    assert texts == [f"ordergraph: order {number} is cancelled (the payment could not be completed)."]

    # The agent console's order detail shows the note, after the customer's message.
    console = await shop.run("AgentOrderDetail", {"id": order["id"]}, "agent")
    assert ("ORDER_CANCELLED", f"{told} Internal note: {NOTE}") in messages(console["data"]["node"])
    agents = await shop.events(order["id"], "agent")
    cancelled = next(e["node"] for e in agents["timeline"]["edges"] if e["node"]["type"] == "ORDER_CANCELLED")
    assert (cancelled["cancellationReasonCode"], cancelled["internalNote"]) == ("PAYMENT_ISSUE", NOTE)

    # Analysts read no free text: neither the note nor the messages.
    analysts = await shop.events(order["id"], "analyst")
    assert NOTE not in json.dumps(analysts)
    assert {e["node"]["internalNote"] for e in analysts["timeline"]["edges"]} == {None}


async def test_a_hold_tells_the_customer_its_code_and_keeps_its_note_for_agents(shop: Shop) -> None:
    await opt_in_to_sms(shop.api, "alice", ALICE_PHONE)
    order = (await place(shop.api))["order"]
    number = order["number"]
    async with watching(shop) as (spa_live, console_live):
        held = await shop.run(
            "HoldOrder", {"input": {"orderId": order["id"], "reasonCode": "PAYMENT_REVIEW", "reason": NOTE}}, "agent"
        )
        assert held["data"]["holdOrder"] == {
            "order": {"id": order["id"], "status": "ON_HOLD", "holdReason": NOTE},
            "userErrors": [],
        }
        told = f"Order {number} is on hold while we verify the payment."
        live = await spa_live.events_until(await last_sequence(shop, customer_visible=True))
        assert (live[-1]["type"], live[-1]["message"], live[-1]["order"]["status"]) == ("ORDER_HELD", told, "ON_HOLD")
        assert NOTE not in json.dumps(live)

        spa = await shop.run("MyOrderDetail", {"id": order["id"]}, "customer", "alice")
        assert ("ORDER_HELD", told) in messages(spa["data"]["node"])
        assert NOTE not in json.dumps(spa)
        mine = await shop.events(order["id"], "customer", "alice")
        assert NOTE not in json.dumps(mine)
        assert mine["holdReason"] is None
        held_event = next(e["node"] for e in mine["timeline"]["edges"] if e["node"]["type"] == "ORDER_HELD")
        assert (held_event["holdReasonCode"], held_event["internalNote"]) == ("PAYMENT_REVIEW", None)

        console = await shop.run("AgentOrderDetail", {"id": order["id"]}, "agent")
        assert console["data"]["node"]["holdReason"] == NOTE
        assert ("ORDER_HELD", f"{told} Internal note: {NOTE}") in messages(console["data"]["node"])
        analysts = await shop.events(order["id"], "analyst")
        assert NOTE not in json.dumps(analysts)

        released = await shop.run("ReleaseOrderHold", {"input": {"orderId": order["id"]}}, "agent")
        assert released["data"]["releaseOrderHold"]["order"]["holdReason"] is None
        live = await spa_live.events_until(await last_sequence(shop, customer_visible=True))
        assert (live[-1]["type"], live[-1]["message"]) == (
            "ORDER_HOLD_RELEASED",
            f"Order {number} is no longer on hold.",
        )
        feed = await console_live.events_until(await last_sequence(shop, customer_visible=False))
        assert ("ORDER_HELD", f"{told} Internal note: {NOTE}") in [(e["type"], e["message"]) for e in feed]

    # A hold is not news by email or SMS; nothing the customer received quotes the note.
    await notify(shop.api)
    received = shop.everything_the_customer_received("alice@shop.example")
    assert [subject for subject, _ in shop.mailbox.to("alice@shop.example")] == [f"Order {number} is confirmed"]
    assert NOTE not in received


async def test_a_hold_needs_a_code_or_a_note(shop: Shop) -> None:
    order = (await place(shop.api))["order"]
    before = await snapshot(shop.api)
    for refused in ({}, {"reason": "   "}, {"reasonCode": "OTHER"}, {"reasonCode": "OTHER", "reason": ""}):
        body = await shop.run("HoldOrder", {"input": {"orderId": order["id"], **refused}}, "agent")
        assert [(e["code"], e["field"]) for e in body["data"]["holdOrder"]["userErrors"]] == [
            ("INVALID_INPUT", ["reason"])
        ], refused
    assert await snapshot(shop.api) == before

    # A code alone is enough: agents read its name as the hold's reason.
    held = await shop.run(
        "HoldOrder", {"input": {"orderId": order["id"], "reasonCode": "ADDRESS_VERIFICATION"}}, "agent"
    )
    assert held["data"]["holdOrder"]["order"]["holdReason"] == "Address verification"
    # The console as it is (a reason, no code): OTHER, which tells the customer nothing but the hold.
    await shop.run("ReleaseOrderHold", {"input": {"orderId": order["id"]}}, "agent")
    await shop.run("HoldOrder", {"input": {"orderId": order["id"], "reason": "address check"}}, "agent")
    spa = await shop.run("MyOrderDetail", {"id": order["id"]}, "customer", "alice")
    assert messages(spa["data"]["node"])[-1] == ("ORDER_HELD", f"Order {order['number']} is on hold.")
    assert "address check" not in json.dumps(spa)


async def test_an_unknown_reason_code_is_refused_and_changes_nothing(shop: Shop) -> None:
    order = (await place(shop.api))["order"]
    before = await snapshot(shop.api)
    cases = [
        ("CancelMyOrder", "customer", {"orderId": order["id"], "reasonCode": "FRAUD"}),
        ("AgentCancelOrder", "agent", {"orderId": order["id"], "reasonCode": "fraud suspected", "reason": NOTE}),
        ("HoldOrder", "agent", {"orderId": order["id"], "reasonCode": "FRAUD_REVIEW", "reason": NOTE}),
        # A cancellation's code is not a hold's.
        ("HoldOrder", "agent", {"orderId": order["id"], "reasonCode": "OUT_OF_STOCK"}),
    ]
    for operation, role, variables in cases:
        body = await shop.run(operation, {"input": variables}, role, "alice" if role == "customer" else None)
        assert body.get("data") is None, body
        assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"], body
    # Written into the document rather than sent as a variable: the document does not validate.
    inline = "mutation($id: ID!) { holdOrder(input: {orderId: $id, reasonCode: SUSPECTED_FRAUD}) { order { id } } }"
    body = (await shop.api.post(inline, {"id": order["id"]}, token=shop.token("agent"))).json()
    assert [error["extensions"]["code"] for error in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert await snapshot(shop.api) == before
    async with shop.api.db.read() as session:
        stored = (await session.exec(sa.select(Order.status, Order.hold_reason, Order.hold_reason_code))).all()
    assert [tuple(row) for row in stored] == [("CONFIRMED", None, None)]


async def test_the_migration_moves_quoted_reasons_out_of_customers_messages(empty_db: Database) -> None:
    """Cancellations recorded before reason codes quoted the reason in the customer's message: the migration
    moves it to the internal note and gives each cancellation the code it would have had; downgrading puts it back."""

    def migrate(direction, revision: str):
        def run(connection) -> None:
            direction(alembic_config(connection), revision)

        return run

    async with empty_db.engine.begin() as conn:
        await conn.run_sync(migrate(command.downgrade, "0003"))
    legacy = [
        (1, "ORDER_CANCELLED", "Order OG-1 cancelled. Reason: fraud suspected by agent", "AGENT"),
        (2, "LINES_CANCELLED", "2 unit(s) cancelled.", "CUSTOMER"),
        (3, "ORDER_CANCELLED", "Order OG-3 cancelled. Reason: changed my mind. Reason: really", "CUSTOMER"),
        (4, "ORDER_HELD", "Order held: address check", "AGENT"),
    ]
    async with empty_db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO customer (id, name, email, created_at, notify_email, notify_sms)"
                " VALUES (1, 'A', 'a@example.com', '2026-01-01 00:00:00', true, false)"
            )
        )
        for event_id, kind, message, actor in legacy:
            await conn.execute(
                sa.text(
                    "INSERT INTO order_event (id, sequence, customer_id, type, message, visibility, actor_kind,"
                    " occurred_at) VALUES (:id, :id, 1, :type, :message, 'CUSTOMER', :actor, '2026-01-01 00:00:00')"
                ),
                {"id": event_id, "type": kind, "message": message, "actor": actor},
            )
    await upgrade(empty_db)
    rows = "SELECT id, message, reason_code, internal_note FROM order_event ORDER BY id"
    async with empty_db.engine.begin() as conn:
        assert [tuple(row) for row in (await conn.execute(sa.text(rows))).all()] == [
            (1, "Order OG-1 cancelled.", "OTHER", "fraud suspected by agent"),
            (2, "2 unit(s) cancelled.", "CUSTOMER_REQUEST", None),
            (3, "Order OG-3 cancelled.", "CUSTOMER_REQUEST", "changed my mind. Reason: really"),
            (4, "Order held: address check", None, None),
        ]
        await conn.run_sync(migrate(command.downgrade, "0003"))
        restored = await conn.execute(sa.text("SELECT id, type, message, actor_kind FROM order_event ORDER BY id"))
        assert [tuple(row) for row in restored.all()] == legacy
