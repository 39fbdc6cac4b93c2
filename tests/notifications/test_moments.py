# ruff: noqa: F811  (the fixtures imported from test_notifications are parameters of the tests by name)
"""Every moment a customer hears about, walked through the API with a split order (two parcels), sent to a real SMTP
server and a real HTTP SMS receiver on loopback; the signed document links in the emails opened without a login;
languages (Czech, Arabic), preferences per moment, SMS quiet hours, a held order and a pickup reminder."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from conftest import TEST_SECRET, Api
from factories import NOW
from test_fulfillment import split_order, step
from test_notifications import (  # noqa: F401  (mailbox, shop, sms_gateway: fixtures)
    ALICE_PHONE,
    Mailbox,
    SmsGateway,
    html_of,
    mailbox,
    notify,
    opt_in_to_sms,
    shop,
    sms_gateway,
    text_of,
)
from test_order_changes import db_id
from test_placement import NEW_ADDRESS, place
from test_returns import line_ids, pdf_text, request

from ordergraph.models import FulfillmentOrder, FulfillmentOrderLine, Notification, OrderEvent, OrderLine, Return
from ordergraph.models.enums import DeliveryKind, FulfillmentOrderStatus
from ordergraph.resolvers.localization import missing_texts
from ordergraph.resolvers.signed_links import DocumentLink, DocumentPurpose, sign
from ordergraph.schema.node import encode_global_id

LANGUAGE = """mutation($input: UpdateMyLanguageInput!) {
  updateMyLanguage(input: $input) { customer { notificationPreferences { locale } } userErrors { code field } }
}"""
PREFERENCES = """mutation($input: NotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    customer {
      notificationPreferences { email sms locale timeZone quietHours { start end } moments { moment email sms } }
    }
    userErrors { code field }
  }
}"""
LINK = re.compile(r"http://shop\.test/d/[A-Za-z0-9_\-.]+")


async def choose_language(shop: Api, customer: str, locale: str | None) -> dict:
    body = (await shop.post(LANGUAGE, {"input": {"locale": locale}}, token=shop.token("customer", customer))).json()
    return body["data"]["updateMyLanguage"]


async def two_parcels(shop: Api, order: dict) -> tuple[str, str]:
    """The order's one Newark fulfillment order split in two parcels (the socks in a fulfillment order of their own,
    with their reservation: same location). Returns the two fulfillment orders' IDs."""
    order_id = db_id(order["id"])
    async with shop.db.write() as session:
        (first,) = (
            (
                await session.exec(
                    sa.select(FulfillmentOrder).where(
                        FulfillmentOrder.order_id == order_id, FulfillmentOrder.status == FulfillmentOrderStatus.OPEN
                    )
                )
            )
            .scalars()
            .all()
        )
        socks = (
            await session.exec(sa.select(OrderLine).where(OrderLine.order_id == order_id, OrderLine.sku == "SKU-2"))
        ).scalar_one()
        second = FulfillmentOrder(
            order_id=order_id, location_id=first.location_id, kind=DeliveryKind.SHIP, status=FulfillmentOrderStatus.OPEN
        )
        session.add(second)
        await session.flush()
        await session.exec(
            sa.update(FulfillmentOrderLine)
            .where(
                FulfillmentOrderLine.fulfillment_order_id == first.id, FulfillmentOrderLine.order_line_id == socks.id
            )
            .values(fulfillment_order_id=second.id)
        )
        return encode_global_id("FulfillmentOrder", first.id), encode_global_id("FulfillmentOrder", second.id)


async def ship(shop: Api, fulfillment_order: str, tracking: str) -> str:
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": fulfillment_order})
    shipped = await step(
        shop,
        "ShipFulfillmentOrder",
        {"fulfillmentOrderId": fulfillment_order, "carrier": "UPS", "trackingNumber": tracking},
    )
    return shipped["shipment"]["id"]


async def scan(shop: Api, shipment: str, event_id: str, status: str, hours: int) -> None:
    moved = await step(
        shop,
        "RecordShipmentEvent",
        {
            "shipmentId": shipment,
            "carrierEventId": event_id,
            "status": status,
            "occurredAt": (NOW + timedelta(hours=hours)).isoformat(),
            "location": "Newark, NJ",
            "description": "Carrier's own words",
        },
    )
    assert moved["userErrors"] == []


async def rows(shop: Api) -> list[tuple[str, str, str, str]]:
    """(event type, moment, channel, status) of every notification."""
    async with shop.db.read() as session:
        found = await session.exec(
            sa.select(OrderEvent.type, Notification.moment, Notification.channel, Notification.status)
            .join(OrderEvent, OrderEvent.id == Notification.event_id)
            .order_by(Notification.id)
        )
    return [tuple(row) for row in found.all()]


async def test_a_split_order_walks_through_every_moment(open_shop, mailbox: Mailbox, sms_gateway: SmsGateway) -> None:
    async with open_shop(
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        sms_endpoint=sms_gateway.url,
        email_from="Shop <orders@shop.example>",
        public_url="http://shop.test",
        notification_poll_seconds=3600,
        notification_retry_seconds=0,
    ) as shop:
        await opt_in_to_sms(shop, "alice", ALICE_PHONE)
        agent = shop.token("agent")
        order = (await place(shop, lines=(("SKU-1", 2), ("SKU-2", 3)), key="split"))["order"]
        number = order["number"]
        await notify(shop)

        # Shipping changed by an agent; one sock cancelled; the parcels shipped, one delayed, then both delivered.
        changed = await shop.run(
            "AgentChangeShipping",
            {"input": {"orderId": order["id"], "deliveryMethodCode": "STANDARD", "shippingAddress": NEW_ADDRESS}},
            token=agent,
        )
        assert changed["data"]["updateOrderShipping"]["userErrors"] == []
        socks = (await line_ids(shop, order["id"]))["SKU-2"]
        cancelled = await shop.run(
            "AgentCancelOrder",
            {
                "input": {
                    "orderId": order["id"],
                    "lines": [{"orderLineId": socks, "quantity": 1}],
                    "reasonCode": "OUT_OF_STOCK",
                    "reason": "Agent-only: the bin was empty",
                }
            },
            token=agent,
        )
        assert cancelled["data"]["cancelOrder"]["userErrors"] == []
        await notify(shop)
        first, second = await two_parcels(shop, order)
        runners, socks_parcel = await ship(shop, first, "1ZRUN"), await ship(shop, second, "1ZSOCK")
        await scan(shop, runners, "r-1", "EXCEPTION", 10)
        await scan(shop, runners, "r-2", "OUT_FOR_DELIVERY", 30)
        await scan(shop, runners, "r-3", "DELIVERED", 34)
        await notify(shop)
        await scan(shop, socks_parcel, "s-1", "DELIVERED", 40)
        note = await shop.run(
            "AddOrderNote",
            {"input": {"orderId": order["id"], "message": "Your socks come in a gift box.", "visibility": "CUSTOMER"}},
            token=agent,
        )
        assert note["data"]["addOrderNote"]["userErrors"] == []
        await shop.run("AddOrderNote", {"input": {"orderId": order["id"], "message": "Internal: VIP"}}, token=agent)

        # A return by mail, approved by an agent, received and refunded.
        requested = await request(shop, order["id"], [("SKU-1", 1)])
        assert requested["userErrors"] == []
        ret = requested["return"]
        approved = await shop.run("ApproveReturn", {"input": {"returnId": ret["id"]}}, token=agent)
        assert approved["data"]["approveReturn"]["userErrors"] == []
        await notify(shop)
        received = await shop.run("ReceiveReturn", {"input": {"returnId": ret["id"]}}, token=agent)
        assert received["data"]["receiveReturn"]["userErrors"] == []
        await notify(shop)
        await notify(shop)  # nothing is sent twice

        emails = [m for m in mailbox.messages if m["To"] == "alice@shop.example"]
        subjects = [m["Subject"] for m in emails]
        async with shop.db.read() as session:
            rma = (await session.exec(sa.select(Return.rma_number).where(Return.id == db_id(ret["id"])))).scalar_one()
        assert subjects == [
            f"Order {number} is confirmed",
            f"Shipping of order {number} changed",
            f"Part of order {number} is cancelled",
            f"A parcel of order {number} has shipped",
            f"A parcel of order {number} has shipped",
            f"A parcel of order {number} is delayed",
            f"A parcel of order {number} is out for delivery",
            f"A parcel of order {number} was delivered",
            f"Order {number} has been delivered",
            f"A message about your order {number}",
            f"We received your return request {rma}",
            f"Your return {rma} is approved",
            f"We received your return {rma}",
            "Your refund of $124.80 is on its way",
        ]
        assert len(sms_gateway.received) == len(emails)  # every moment texted too, each once
        assert Counter(status for *_, status in await rows(shop)) == {"SENT": 2 * len(emails)}
        assert len({m["Message-ID"] for m in emails}) == len(emails)
        texts = {m["Subject"]: text_of(m) for m in emails}
        everything = "\n".join(
            [*texts.values(), *(html_of(m) for m in emails), *(s["text"] for s in sms_gateway.received)]
        )

        # Content: items, quantities, amounts with taxes, the promise, each parcel with its tracking link.
        confirmed = texts[f"Order {number} is confirmed"]
        for told in (
            "2 × Trail Runner  $240.00",
            "3 × Wool Socks  $37.50",
            "Shipping: $5.99",
            "Tax: $11.34",
            "Total: $294.83",
        ):
            assert told in confirmed, told
        assert "Expected delivery by" in confirmed
        assert "77 Elsewhere Ave" in texts[f"Shipping of order {number} changed"]
        cancel_text = texts[f"Part of order {number} is cancelled"]
        assert "(out of stock)" in cancel_text
        assert "1 × Wool Socks" in cancel_text
        shipped = [text_of(m) for m in emails if m["Subject"] == f"A parcel of order {number} has shipped"]
        assert "2 × Trail Runner" in shipped[0]
        assert "https://www.ups.com/track?tracknum=1ZRUN" in shipped[0]
        assert "2 × Wool Socks" in shipped[1]
        assert "https://www.ups.com/track?tracknum=1ZSOCK" in shipped[1]
        assert "Parcel 2" in shipped[1]
        assert "1ZRUN" in texts[f"A parcel of order {number} is delayed"]
        assert "Your socks come in a gift box." in texts[f"A message about your order {number}"]
        assert "Refund: $124.80" in texts["Your refund of $124.80 is on its way"]
        assert "1 of 1 item(s)" in texts[f"We received your return {rma}"]
        # Nothing internal: no agent's note, no carrier's free text, no minor units, no ids.
        for never in ("Agent-only", "Internal: VIP", "bin was empty", "back in stock", "12480", "29913"):
            assert never not in everything, never
        assert not re.search(r"\b(Order|Return|Shipment|Customer):\d", everything)

        # The label link: absolute, opens without a login, only that label, and not after it expires.
        approval = texts[f"Your return {rma} is approved"]
        (url,) = LINK.findall(approval)
        assert url in html_of(next(m for m in emails if m["Subject"] == f"Your return {rma} is approved"))
        assert any(url in s["text"] for s in sms_gateway.received)
        path = url.removeprefix("http://shop.test")
        opened = await shop.client.get(path)
        assert opened.status_code == 200
        assert opened.headers["content-type"] == "application/pdf"
        pages, label = pdf_text(opened.content)
        assert (pages, rma in label, "RETURN LABEL" in label) == (1, True, True)
        token = path.removeprefix("/d/")
        payload, signature = token.split(".")
        for tampered in (
            sign(DocumentLink(DocumentPurpose.RETURN_LABEL, "RMA-OTHER", NOW + timedelta(days=999)), "wrong secret"),
            f"{payload}x.{signature}",
            sign(DocumentLink(DocumentPurpose.RETURN_LABEL, rma, NOW), "another server").split(".")[0]
            + "."
            + signature,
            "garbage",
        ):
            refused = await shop.client.get(f"/d/{tampered}")
            assert (refused.status_code, refused.json()["error"]) == (403, "INVALID_LINK")
        expired = sign(
            DocumentLink(DocumentPurpose.RETURN_LABEL, rma, datetime.now(UTC) - timedelta(seconds=1)), TEST_SECRET
        )
        gone = await shop.client.get(f"/d/{expired}")
        assert (gone.status_code, gone.json()["error"]) == (410, "LINK_EXPIRED")
        # Each shipped parcel's email links its invoice; the refund's, the credit note.
        (invoice_url, *_) = LINK.findall(shipped[0])
        invoice = await shop.client.get(invoice_url.removeprefix("http://shop.test"))
        assert invoice.status_code == 200
        assert "INVOICE" in pdf_text(invoice.content)[1]
        (credit_url,) = LINK.findall(texts["Your refund of $124.80 is on its way"])
        credit = await shop.client.get(credit_url.removeprefix("http://shop.test"))
        assert "CREDIT NOTE" in pdf_text(credit.content)[1]
        # Signed as the server signs, but for a document this return does not have (a drop-off pass), or none.
        for purpose, document in ((DocumentPurpose.DROP_OFF_PASS, rma), (DocumentPurpose.RETURN_LABEL, "RMA-NOPE")):
            other = sign(DocumentLink(purpose, document, datetime.now(UTC) + timedelta(days=1)), TEST_SECRET)
            assert (await shop.client.get(f"/d/{other}")).status_code == 404


async def test_czech_and_arabic_customers_read_their_language(
    shop: Api, mailbox: Mailbox, sms_gateway: SmsGateway
) -> None:
    assert await choose_language(shop, "bob", "cs") == {
        "customer": {"notificationPreferences": {"locale": "cs"}},
        "userErrors": [],
    }
    assert (await choose_language(shop, "newbie", "ar"))["userErrors"] == []
    assert (await choose_language(shop, "bob", "xx"))["userErrors"] == [
        {"code": "UNSUPPORTED_LOCALE", "field": ["locale"]}
    ]
    await opt_in_to_sms(shop, "newbie", "+971501234567")
    czech = (await place(shop, "bob", key="cs-1"))["order"]["number"]
    arabic = (await place(shop, "newbie", key="ar-1"))["order"]["number"]
    await notify(shop)

    (cs,) = [m for m in mailbox.messages if m["To"] == "bob@shop.example"]
    assert cs["Subject"] == f"Objednávka {czech} je potvrzena"
    assert cs["Content-Language"] == "cs"
    text = text_of(cs)
    assert "Dobrý den, Bob" in text.replace("\xa0", " ") or "Dobrý den," in text
    assert "Celkem: 131,03" in text.replace("\xa0", " ")
    assert 'lang="cs"' in html_of(cs)

    (ar,) = [m for m in mailbox.messages if m["To"] == "newbie@shop.example"]
    assert ar["Subject"] == f"تم تأكيد الطلب {arabic}"
    html = html_of(ar)
    assert 'dir="rtl"' in html
    assert 'lang="ar"' in html
    assert "الإجمالي" in html
    (sms,) = sms_gateway.received
    assert sms["text"].startswith("Shop: تم تأكيد الطلب")


def test_no_text_is_missing_in_the_shipped_languages() -> None:
    assert {locale: missing_texts(locale) for locale in ("en", "cs", "ar")} == {"en": [], "cs": [], "ar": []}


async def test_a_held_order_is_received_not_confirmed_until_released(shop: Api, mailbox: Mailbox) -> None:
    held = (await place(shop, "newbie", lines=(("TV", 1),), address=NEW_ADDRESS))["order"]
    assert held["status"] == "ON_HOLD"
    await notify(shop)
    number = held["number"]
    ((subject, text),) = mailbox.to("newbie@shop.example")
    assert subject == f"We received your order {number}"
    assert "confirmed" not in subject
    assert "checking it" in text
    released = await shop.run("ReleaseOrderHold", {"input": {"orderId": held["id"]}}, token=shop.token("agent"))
    assert released["data"]["releaseOrderHold"]["userErrors"] == []
    await notify(shop)
    assert [s for s, _ in mailbox.to("newbie@shop.example")] == [
        f"We received your order {number}",
        f"Order {number} is confirmed",
    ]


async def test_preferences_per_moment_and_quiet_hours(shop: Api, mailbox: Mailbox, sms_gateway: SmsGateway) -> None:
    # Alice texts only about shipping; quiet hours around now in Prague hold her texts back, never drop them.
    prague = datetime.now(UTC).astimezone(ZoneInfo("Europe/Prague"))
    start, end = prague - timedelta(hours=1), prague + timedelta(hours=1)
    body = (
        await shop.post(
            PREFERENCES,
            {
                "input": {
                    "sms": True,
                    "phone": ALICE_PHONE,
                    "timeZone": "Europe/Prague",
                    "quietHoursStart": start.strftime("%H:%M"),
                    "quietHoursEnd": end.strftime("%H:%M"),
                    "moments": [{"moment": "ORDER_CONFIRMED", "sms": False}],
                }
            },
            token=shop.token("customer", "alice"),
        )
    ).json()["data"]["updateNotificationPreferences"]
    assert body["userErrors"] == []
    preferences = body["customer"]["notificationPreferences"]
    assert preferences["quietHours"] == {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
    assert preferences["timeZone"] == "Europe/Prague"
    assert {"moment": "ORDER_CONFIRMED", "email": True, "sms": False} in preferences["moments"]
    assert {"moment": "PARCEL_SHIPPED", "email": True, "sms": True} in preferences["moments"]
    for refused, code in (
        ({"timeZone": "Mars/Olympus"}, "INVALID_TIME_ZONE"),
        ({"quietHoursStart": "25:00", "quietHoursEnd": "07:00"}, "INVALID_INPUT"),
    ):
        answer = (await shop.post(PREFERENCES, {"input": refused}, token=shop.token("customer", "alice"))).json()
        assert answer["data"]["updateNotificationPreferences"]["userErrors"][0]["code"] == code

    order = (await place(shop, key="quiet"))["order"]
    fo = (
        await shop.post(
            "query($id: ID!) { node(id: $id) { ... on Order { fulfillmentOrders { id } } } }",
            {"id": order["id"]},
            token=shop.token("agent"),
        )
    ).json()["data"]["node"]["fulfillmentOrders"][0]["id"]
    await ship(shop, fo, "1ZQUIET")
    await notify(shop)
    assert [m["Subject"] for m in mailbox.messages] == [
        f"Order {order['number']} is confirmed",
        f"A parcel of order {order['number']} has shipped",
    ]
    assert sms_gateway.received == []  # the shipped text waits for the end of the quiet hours
    async with shop.db.read() as session:
        waiting = (
            await session.exec(
                sa.select(Notification.moment, Notification.status, Notification.next_attempt_at).where(
                    Notification.channel == "SMS"
                )
            )
        ).all()
    assert [(moment, status) for moment, status, _ in waiting] == [("PARCEL_SHIPPED", "PENDING")]
    assert abs(waiting[0][2] - end.replace(second=0, microsecond=0)) < timedelta(minutes=1)


async def test_ready_for_pickup_and_a_reminder_before_the_window_ends(shop: Api, mailbox: Mailbox) -> None:
    order_id, _, brooklyn = await split_order(shop)
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": brooklyn})
    await step(shop, "MarkReadyForPickup", {"fulfillmentOrderId": brooklyn})
    await notify(shop)
    ready = [(s, t) for s, t in mailbox.to("alice@shop.example") if "ready for pickup" in s]
    ((_, text),) = ready
    assert "Brooklyn Store" in text
    assert "1 × Trail Runner" in text
    async with shop.db.write() as session:
        reminder = (
            await session.exec(sa.select(Notification).where(Notification.moment == "PICKUP_REMINDER"))
        ).scalar_one()
        ready_at = (
            await session.exec(sa.select(OrderEvent.occurred_at).where(OrderEvent.type == "READY_FOR_PICKUP"))
        ).scalar_one()
        # Due a day before the seven-day window ends; brought forward here to be sent now.
        assert reminder.next_attempt_at == ready_at + timedelta(days=6)
        reminder.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(reminder)
    await notify(shop)
    reminders = [t for s, t in mailbox.to("alice@shop.example") if s.startswith("Reminder:")]
    assert len(reminders) == 1
    assert "Brooklyn Store" in reminders[0]
    assert db_id(order_id)


async def test_no_reminder_once_the_order_is_collected(shop: Api, mailbox: Mailbox) -> None:
    _, _, brooklyn = await split_order(shop)
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": brooklyn})
    await step(shop, "MarkReadyForPickup", {"fulfillmentOrderId": brooklyn})
    await step(shop, "ConfirmPickup", {"fulfillmentOrderId": brooklyn})
    await notify(shop)  # queues the reminder, due in six days
    async with shop.db.write() as session:
        await session.exec(
            sa.update(Notification)
            .where(Notification.moment == "PICKUP_REMINDER")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await notify(shop)
    assert not [s for s, _ in mailbox.to("alice@shop.example") if s.startswith("Reminder:")]
    assert ("READY_FOR_PICKUP", "PICKUP_REMINDER", "EMAIL", "SKIPPED") in await rows(shop)
