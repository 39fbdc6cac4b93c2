"""Customer notifications from the outbox: email over a real SMTP server on loopback (aiosmtpd) and SMS posted to a
real HTTP receiver on loopback, driven one notifier pass at a time (`Notifier.run_once`)."""

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from conftest import Api, DatabaseFactory
from factories import NOW
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from test_carrier_webhooks import SECRETS, carrier_event, post
from test_fulfillment import detail, step
from test_live_harness import free_port, serving_on_a_port
from test_placement import place

from ordergraph.models import Customer, Notification, Order, OrderEvent
from ordergraph.models.database import Database
from ordergraph.models.enums import ActorKind, EventType, EventVisibility
from ordergraph.models.migrate import upgrade
from ordergraph.resolvers.events import append_event, change
from ordergraph.server.notifier import notifier_for
from ordergraph.server.seed import seed_demo
from ordergraph.server.settings import Settings

ALICE_PHONE = "+12125550123"


@dataclass
class Mailbox:
    """What a real SMTP server received; it answers 451 (try again later) to the next `refuse` messages."""

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: int = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 Requested action aborted: try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert envelope.rcpt_tos == [message["To"]]
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[tuple[str, str]]:
        """(subject, plain text) of the messages to `address`, with the text's line ends as written (SMTP sends
        CRLF)."""
        return [(m["Subject"], text_of(m)) for m in self.messages if m["To"] == address]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


@dataclass
class SmsGateway:
    """What a real HTTP endpoint received; it answers 503 to the next `refuse` posts."""

    url: str = ""
    received: list[dict] = field(default_factory=list)
    refuse: int = 0

    async def receive(self, request: Request) -> JSONResponse:
        if self.refuse:
            self.refuse -= 1
            return JSONResponse({"error": "busy"}, status_code=503)
        self.received.append(await request.json())
        return JSONResponse({"accepted": True})


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
async def sms_gateway() -> AsyncIterator[SmsGateway]:
    gateway = SmsGateway()
    app = Starlette(routes=[Route("/sms", gateway.receive, methods=["POST"])])
    async with serving_on_a_port(app) as ws_url:
        gateway.url = ws_url.replace("ws://", "http://").removesuffix("/graphql") + "/sms"
        yield gateway


@pytest.fixture
async def shop(open_shop, mailbox: Mailbox, sms_gateway: SmsGateway) -> AsyncIterator[Api]:
    # The notifier's own loop waits an hour between passes: the tests run each pass themselves.
    async with open_shop(
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        sms_endpoint=sms_gateway.url,
        email_from="Shop <orders@shop.example>",
        carrier_webhook_secrets=f"UPS={SECRETS['UPS']}",
        notification_poll_seconds=3600,
        notification_retry_seconds=0,
        notification_max_attempts=3,
    ) as served:
        yield served


async def notify(shop: Api) -> None:
    await shop.app.state.services.notifier.run_once()


async def opt_in_to_sms(shop: Api, customer: str, phone: str) -> None:
    body = await shop.run(
        "UpdateMyNotificationPreferences",
        {"input": {"sms": True, "phone": phone}},
        token=shop.token("customer", customer),
    )
    assert body["data"]["updateNotificationPreferences"]["userErrors"] == []


async def ship(shop: Api, customer: str = "alice", key: str = "k-1") -> dict:
    """A placed order, picked and shipped with UPS."""
    order = (await place(shop, customer, key=key))["order"]
    fulfillment_order = (await detail(shop, order["id"]))["fulfillmentOrders"][0]["id"]
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": fulfillment_order})
    await step(
        shop,
        "ShipFulfillmentOrder",
        {"fulfillmentOrderId": fulfillment_order, "carrier": "UPS", "trackingNumber": f"1Z{key.upper()}"},
    )
    return order


async def notifications(shop: Api) -> list[tuple[str, str, str, str, int]]:
    """(event type, channel, recipient, status, attempts) of every notification row."""
    async with shop.db.read() as session:
        rows = (
            await session.exec(
                sa.select(
                    OrderEvent.type,
                    Notification.channel,
                    Notification.recipient,
                    Notification.status,
                    Notification.attempts,
                )
                .join(OrderEvent, OrderEvent.id == Notification.event_id)
                .order_by(Notification.id)
            )
        ).all()
    return [tuple(row) for row in rows]


async def test_a_shipped_order_is_emailed_and_texted_to_a_customer_who_opted_in(
    shop: Api, mailbox: Mailbox, sms_gateway: SmsGateway
) -> None:
    await opt_in_to_sms(shop, "alice", "+1 (212) 555-0123")
    order = await ship(shop)
    number = order["number"]
    await notify(shop)

    # Placed and shipped; starting fulfillment, payments and routing are not news for the customer.
    (confirmed, confirmed_text), (shipped, shipped_text) = mailbox.to("alice@shop.example")
    assert (confirmed, shipped) == (f"Order {number} is confirmed", f"A parcel of order {number} has shipped")
    for told in ("Hello Alice Shopper,", "1 × Trail Runner  $120.00", "Tax: $5.04", "Total: $131.03"):
        assert told in confirmed_text
    assert "Expected delivery by November 25, 2026." in confirmed_text
    assert "UPS, tracking number 1ZK-1" in shipped_text
    assert "Track this parcel: https://www.ups.com/track?tracknum=1ZK-1" in shipped_text
    assert all(m["From"] == "Shop <orders@shop.example>" for m in mailbox.messages)
    assert [(sms["to"], sms["text"]) for sms in sms_gateway.received] == [
        (ALICE_PHONE, f"Shop: order {number} is confirmed, total $131.03."),
        (
            ALICE_PHONE,
            f"Shop: a parcel of order {number} has shipped. Track it: https://www.ups.com/track?tracknum=1ZK-1",
        ),
    ]
    assert await notifications(shop) == [
        ("ORDER_PLACED", "EMAIL", "alice@shop.example", "SENT", 1),
        ("ORDER_PLACED", "SMS", ALICE_PHONE, "SENT", 1),
        ("SHIPMENT_CREATED", "EMAIL", "alice@shop.example", "SENT", 1),
        ("SHIPMENT_CREATED", "SMS", ALICE_PHONE, "SENT", 1),
    ]
    # Each message carries a reference of its own, for a receiver to recognise a repeat.
    references = [m["Message-ID"] for m in mailbox.messages] + [sms["reference"] for sms in sms_gateway.received]
    assert len(set(references)) == 4

    # Another pass sends nothing again; what happens next is sent on its own.
    await notify(shop)
    assert len(mailbox.messages) == 2
    assert len(sms_gateway.received) == 2
    second = (await place(shop, key="k-2"))["order"]
    await shop.run("CancelMyOrder", {"input": {"orderId": second["id"]}}, token=shop.token("customer", "alice"))
    await notify(shop)
    await notify(shop)
    assert [m["Subject"] for m in mailbox.messages[2:]] == [
        f"Order {second['number']} is confirmed",
        f"Order {second['number']} is cancelled",
    ]
    # The cancellation is told by its reason code (a customer's own: CUSTOMER_REQUEST by default).
    assert [sms["text"] for sms in sms_gateway.received[2:]] == [
        f"Shop: order {second['number']} is confirmed, total $131.03.",
        f"Shop: order {second['number']} is cancelled (at your request).",
    ]


async def test_carrier_scans_tell_the_customer_when_the_parcel_is_out_for_delivery_and_delivered(
    shop: Api, mailbox: Mailbox
) -> None:
    number = (await ship(shop))["number"]
    scans = (("e-1", "IN_TRANSIT", 2), ("e-2", "OUT_FOR_DELIVERY", 40), ("e-3", "DELIVERED", 44))
    for event_id, status, hours in scans:
        response = await post(shop, {**carrier_event(event_id, status, hours), "trackingNumber": "1ZK-1"})
        assert response.json()["outcome"] == "MOVED"
    await notify(shop)
    # In transit is no news: the customer heard it shipped. The only parcel's delivery is the whole order's.
    assert [subject for subject, _ in mailbox.to("alice@shop.example")] == [
        f"Order {number} is confirmed",
        f"A parcel of order {number} has shipped",
        f"A parcel of order {number} is out for delivery",
        f"Order {number} has been delivered",
    ]


async def test_customers_hear_only_on_the_channels_they_chose(
    shop: Api, mailbox: Mailbox, sms_gateway: SmsGateway
) -> None:
    # Bob switched order updates off; Newbie keeps the default: email, no SMS.
    body = await shop.run(
        "UpdateMyNotificationPreferences",
        {"input": {"email": False, "sms": False}},
        token=shop.token("customer", "bob"),
    )
    assert body["data"]["updateNotificationPreferences"]["userErrors"] == []
    await ship(shop, "bob", key="bob-1")
    newbies = await ship(shop, "newbie", key="newbie-1")
    await notify(shop)
    assert mailbox.to("bob@shop.example") == []
    assert [subject for subject, _ in mailbox.to("newbie@shop.example")] == [
        f"Order {newbies['number']} is confirmed",
        f"A parcel of order {newbies['number']} has shipped",
    ]
    assert sms_gateway.received == []
    assert {(channel, recipient) for _, channel, recipient, _, _ in await notifications(shop)} == {
        ("EMAIL", "newbie@shop.example")
    }


async def test_a_send_that_fails_once_is_retried_and_delivered_exactly_once(
    shop: Api, mailbox: Mailbox, sms_gateway: SmsGateway
) -> None:
    await opt_in_to_sms(shop, "alice", ALICE_PHONE)
    mailbox.refuse = sms_gateway.refuse = 1
    order = (await place(shop))["order"]

    await notify(shop)
    assert mailbox.messages == []
    assert sms_gateway.received == []
    assert await notifications(shop) == [
        ("ORDER_PLACED", "EMAIL", "alice@shop.example", "PENDING", 1),
        ("ORDER_PLACED", "SMS", ALICE_PHONE, "PENDING", 1),
    ]
    async with shop.db.read() as session:
        errors = (await session.exec(sa.select(Notification.last_error).order_by(Notification.id))).scalars().all()
    assert "451" in errors[0]
    assert "503" in errors[1]

    await notify(shop)
    await notify(shop)
    assert [m["Subject"] for m in mailbox.messages] == [f"Order {order['number']} is confirmed"]
    assert [sms["to"] for sms in sms_gateway.received] == [ALICE_PHONE]
    assert await notifications(shop) == [
        ("ORDER_PLACED", "EMAIL", "alice@shop.example", "SENT", 2),
        ("ORDER_PLACED", "SMS", ALICE_PHONE, "SENT", 2),
    ]


async def test_a_send_that_keeps_failing_is_failed_after_the_last_attempt(
    shop: Api, mailbox: Mailbox, sms_gateway: SmsGateway
) -> None:
    await opt_in_to_sms(shop, "alice", ALICE_PHONE)
    mailbox.refuse = sms_gateway.refuse = 100
    await place(shop)
    for _ in range(5):  # two passes more than the three attempts allowed
        await notify(shop)
    assert await notifications(shop) == [
        ("ORDER_PLACED", "EMAIL", "alice@shop.example", "FAILED", 3),
        ("ORDER_PLACED", "SMS", ALICE_PHONE, "FAILED", 3),
    ]
    assert mailbox.refuse == sms_gateway.refuse == 97  # no attempt after the last
    mailbox.refuse = sms_gateway.refuse = 0
    await notify(shop)
    assert mailbox.messages == []
    assert sms_gateway.received == []


async def test_notifiers_of_several_processes_send_each_message_once(
    shop: Api, mailbox: Mailbox, sms_gateway: SmsGateway
) -> None:
    await opt_in_to_sms(shop, "alice", ALICE_PHONE)
    for n in range(4):
        await place(shop, key=f"k-{n}")
    services = shop.app.state.services
    others = [Database(shop.db.url) for _ in range(2)]
    try:
        await asyncio.gather(
            services.notifier.run_once(), *(notifier_for(services.settings, db).run_once() for db in others)
        )
    finally:
        for db in others:
            await db.dispose()
    subjects = [m["Subject"] for m in mailbox.messages]
    assert len(subjects) == len(set(subjects)) == 4
    assert len(sms_gateway.received) == len({sms["reference"] for sms in sms_gateway.received}) == 4
    assert {status for *_, status, _ in await notifications(shop)} == {"SENT"}


async def test_without_smtp_or_an_sms_endpoint_messages_are_files_in_the_outbox(open_shop, tmp_path: Path) -> None:
    async with open_shop(notification_outbox=tmp_path, notification_poll_seconds=3600) as shop:
        await opt_in_to_sms(shop, "alice", ALICE_PHONE)
        order = (await place(shop))["order"]
        await notify(shop)
    emails, texts = sorted(tmp_path.glob("*.eml")), sorted(tmp_path.glob("*.sms.txt"))
    assert len(emails) == len(texts) == 1
    message = email.message_from_bytes(emails[0].read_bytes(), policy=email.policy.default)
    assert (message["To"], message["Subject"]) == ("alice@shop.example", f"Order {order['number']} is confirmed")
    number = order["number"]
    assert texts[0].read_text() == f"To: {ALICE_PHONE}\n\nordergraph: order {number} is confirmed, total $131.03.\n"


async def test_demo_history_is_not_notified_but_what_happens_next_is(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    db = Database(await database_factory.new_url())
    try:
        await upgrade(db)
        await seed_demo(db, customers=5, orders=30, anchor=NOW)
        notifier = notifier_for(Settings(database_url=db.url, notification_outbox=tmp_path), db)
        await notifier.prepare()
        await notifier.run_once()
        assert list(tmp_path.iterdir()) == []
        async with change(db.write) as session:
            order = (
                (
                    await session.exec(
                        sa.select(Order)
                        .join(Customer, Customer.id == Order.customer_id)
                        .where(Customer.notify_email)
                        .order_by(Order.id)
                        .limit(1)
                    )
                )
                .scalars()
                .one()
            )
            append_event(
                session,
                order=order,
                customer_id=order.customer_id,
                type=EventType.ORDER_CANCELLED,
                message=f"Order {order.number} cancelled.",
                visibility=EventVisibility.CUSTOMER,
                actor=(ActorKind.AGENT, "Test agent"),
            )
        await notifier.run_once()
        async with db.read() as session:
            queued = (await session.exec(sa.select(Notification.status))).scalars().all()
    finally:
        await db.dispose()
    assert queued
    assert set(queued) == {"SENT"}
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_an_email_carries_hostile_and_right_to_left_text_exactly_and_adds_no_header() -> None:
    """A subject with a line break and a header after it, control characters, Arabic and Czech: the parsed email has
    that subject, sender and text, and no header the text tried to add."""
    from datetime import UTC, datetime

    from ordergraph.resolvers.notifications import Rendered, email_message

    subject = "طلبك OG-1 \r\nBcc: thief@example.com \u0007 Žluťoučký kůň " * 3
    text = "Dobrý den,\n\u0000 \u0007 % _ \\ مرحبا \U0001f381\n"
    rendered = Rendered(subject, "<p>مرحبا</p>", text, "sms", "ar", ())
    message = email_message(
        rendered,
        sender="Obchod Žluťoučký <shop@example.cz>",
        recipient="jan@example.cz",
        reference="notification-7",
        at=datetime(2026, 12, 8, tzinfo=UTC),
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    # A header is one line: the break arrives as a space, inside the subject, and adds no header.
    assert parsed["Subject"] == subject.replace("\r\n", " ")
    assert parsed.keys() == [
        "Content-Type",
        "MIME-Version",
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Content-Language",
    ]
    assert parsed["From"] == "Obchod Žluťoučký <shop@example.cz>"
    assert parsed["To"] == "jan@example.cz"
    assert parsed["Message-ID"] == "<notification-7@example.cz>"
    assert parsed["Content-Language"] == "ar"
    assert text_of(parsed) == text
    assert html_of(parsed) == "<p>مرحبا</p>"
