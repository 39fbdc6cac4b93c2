"""Carrier webhooks over HTTP: POST /webhooks/carriers/{carrier}, signed with the carrier's secret. Signed events move
the shipment and the order; anything unsigned, unknown or malformed changes nothing and says why."""

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from conftest import Api
from factories import NOW
from test_fulfillment import detail, event_types, ledger, step
from test_live_harness import LiveClient, serving_on_a_port
from test_placement import place

from ordergraph.models import OrderEvent, Shipment, ShipmentEvent

SECRETS = {"UPS": "ups-shared-secret", "FedEx": "fedex-shared-secret"}
TRACKING = "1ZWEBHOOK1"


@pytest.fixture
async def shop(open_shop) -> AsyncIterator[Api]:
    # USPS is a carrier we ship with but have no secret for.
    async with open_shop(carrier_webhook_secrets=" UPS=ups-shared-secret , FedEx=fedex-shared-secret") as served:
        yield served


def signed(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def carrier_event(event_id: str, status: str, hours: float, **fields: object) -> dict:
    return {
        "carrierEventId": event_id,
        "trackingNumber": TRACKING,
        "status": status,
        "occurredAt": (NOW + timedelta(hours=hours)).isoformat(),
        **fields,
    }


async def post(
    shop: Api,
    payload: dict | bytes,
    *,
    carrier: str = "UPS",
    secret: str | None = SECRETS["UPS"],
    signature: str | None = None,
) -> httpx.Response:
    """Posts like a carrier: the body signed with `secret` (or the given signature header, or none)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None or secret is not None:
        headers["X-Ordergraph-Signature"] = signature if signature is not None else signed(body, secret)
    return await shop.client.post(f"/webhooks/carriers/{carrier}", content=body, headers=headers)


async def shipped_order(shop: Api, carrier: str = "UPS", tracking_number: str = TRACKING) -> tuple[str, str]:
    """A placed order, picked and shipped: (order ID, shipment ID)."""
    order = (await place(shop, key=f"{carrier}-{tracking_number}"))["order"]
    fulfillment_order = (await detail(shop, order["id"]))["fulfillmentOrders"][0]["id"]
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": fulfillment_order})
    shipped = await step(
        shop,
        "ShipFulfillmentOrder",
        {"fulfillmentOrderId": fulfillment_order, "carrier": carrier, "trackingNumber": tracking_number},
    )
    return order["id"], shipped["shipment"]["id"]


async def tracking_rows(shop: Api) -> dict:
    """What a carrier event could change: shipments, their carrier scans and the event log."""
    async with shop.db.read() as session:
        shipments = (await session.exec(sa.select(Shipment.id, Shipment.status).order_by(Shipment.id))).all()
        scans = (
            await session.exec(
                sa.select(ShipmentEvent.carrier_event_id, ShipmentEvent.status).order_by(ShipmentEvent.id)
            )
        ).all()
        events = (
            await session.exec(
                sa.select(OrderEvent.type, OrderEvent.actor_kind, OrderEvent.actor_name).order_by(OrderEvent.sequence)
            )
        ).all()
    return {
        "shipments": [tuple(r) for r in shipments],
        "scans": [tuple(r) for r in scans],
        "events": [tuple(r) for r in events],
    }


async def test_a_signed_event_moves_the_shipment_and_the_order(shop: Api) -> None:
    order_id, _ = await shipped_order(shop)
    assert (await detail(shop, order_id))["status"] == "SHIPPED"

    moved = await post(shop, carrier_event("ups-1", "IN_TRANSIT", 2, location="Newark, NJ"))
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"outcome": "MOVED", "shipmentStatus": "IN_TRANSIT"}
    # The carrier's name in the path is matched whatever its case.
    delivered = await post(shop, carrier_event("ups-2", "DELIVERED", 30, description="Left at the door"), carrier="ups")
    assert delivered.json() == {"outcome": "MOVED", "shipmentStatus": "DELIVERED"}

    order = await detail(shop, order_id)
    assert order["status"] == "DELIVERED"
    assert ledger(order) == {"SKU-1": (1, 1)}
    assert order["fulfillmentOrders"][0]["status"] == "DELIVERED"
    assert order["shipments"][0]["deliveredAt"] == (NOW + timedelta(hours=30)).isoformat()
    assert [e["status"] for e in order["shipments"][0]["events"]] == ["LABEL_CREATED", "IN_TRANSIT", "DELIVERED"]
    assert event_types(order)[-3:] == ["SHIPMENT_IN_TRANSIT", "SHIPMENT_DELIVERED", "ORDER_DELIVERED"]
    rows = await tracking_rows(shop)
    assert rows["events"][-3:] == [
        ("SHIPMENT_IN_TRANSIT", "CARRIER", "UPS"),
        ("SHIPMENT_DELIVERED", "CARRIER", "UPS"),
        ("ORDER_DELIVERED", "CARRIER", "UPS"),
    ]


async def test_unsigned_wrongly_signed_and_unknown_carriers_get_401_and_change_nothing(shop: Api) -> None:
    await shipped_order(shop)
    await shipped_order(shop, carrier="USPS", tracking_number="94USPS1")
    event = carrier_event("ups-1", "IN_TRANSIT", 2)
    body = json.dumps(event).encode()
    before = await tracking_rows(shop)
    refusals = {
        "no signature": await post(shop, event, secret=None),
        "another secret": await post(shop, event, secret="guessed"),
        "FedEx's secret": await post(shop, event, secret=SECRETS["FedEx"]),
        "another body's signature": await post(shop, event, signature=signed(body + b" ", SECRETS["UPS"])),
        "bare hex": await post(shop, event, signature=signed(body, SECRETS["UPS"]).removeprefix("sha256=")),
        "empty header": await post(shop, event, signature=""),
        "a carrier without a secret": await post(
            shop, {**event, "trackingNumber": "94USPS1"}, carrier="USPS", secret="anything"
        ),
        "an unknown carrier": await post(shop, event, carrier="pigeon", secret="anything"),
    }
    for case, response in refusals.items():
        assert response.status_code == 401, case
        assert response.json()["error"] == "UNAUTHENTICATED", case
    assert await tracking_rows(shop) == before
    # The same event, signed right, is accepted.
    assert (await post(shop, event)).json()["outcome"] == "MOVED"


async def test_malformed_events_get_400_with_a_code_and_change_nothing(shop: Api) -> None:
    await shipped_order(shop)
    event = carrier_event("ups-1", "IN_TRANSIT", 2)
    before = await tracking_rows(shop)
    cases = [
        (b"{not json", 400, "INVALID_JSON", None),
        (b"\xff\xfe", 400, "INVALID_JSON", None),
        (b'["IN_TRANSIT"]', 400, "INVALID_JSON", None),
        ({k: v for k, v in event.items() if k != "carrierEventId"}, 400, "INVALID_INPUT", ["carrierEventId"]),
        ({**event, "trackingNumber": 12345}, 400, "INVALID_INPUT", ["trackingNumber"]),
        ({**event, "status": "LOST_AT_SEA"}, 400, "INVALID_INPUT", ["status"]),
        ({**event, "status": "LABEL_CREATED"}, 400, "INVALID_INPUT", ["status"]),
        ({**event, "occurredAt": "yesterday"}, 400, "INVALID_INPUT", ["occurredAt"]),
        ({**event, "location": ["Newark"]}, 400, "INVALID_INPUT", ["location"]),
        ({**event, "carrierEventId": "x" * 129}, 400, "INVALID_INPUT", ["carrierEventId"]),
        ({**event, "trackingNumber": "1ZNEVERSHIPPED"}, 404, "NOT_FOUND", ["trackingNumber"]),
        ({**event, "description": "x" * 70_000}, 413, "PAYLOAD_TOO_LARGE", None),
    ]
    for payload, status_code, code, field in cases:
        response = await post(shop, payload)
        assert response.status_code == status_code, (payload, response.text)
        assert response.json()["error"] == code, payload
        assert response.json().get("field") == field, payload
    assert await tracking_rows(shop) == before


async def test_a_replayed_event_is_acknowledged_and_recorded_once(shop: Api) -> None:
    order_id, _ = await shipped_order(shop)
    event = carrier_event("ups-1", "IN_TRANSIT", 2)
    first, replay = await post(shop, event), await post(shop, event)
    assert first.json() == {"outcome": "MOVED", "shipmentStatus": "IN_TRANSIT"}
    assert replay.status_code == 200
    assert replay.json() == {"outcome": "DUPLICATE", "shipmentStatus": "IN_TRANSIT"}
    rows = await tracking_rows(shop)
    assert [scan for scan in rows["scans"] if scan[0] == "ups-1"] == [("ups-1", "IN_TRANSIT")]
    assert event_types(await detail(shop, order_id)).count("SHIPMENT_IN_TRANSIT") == 1


async def test_an_older_event_is_kept_but_never_moves_the_shipment_back(shop: Api) -> None:
    order_id, _ = await shipped_order(shop)
    assert (await post(shop, carrier_event("ups-2", "OUT_FOR_DELIVERY", 6))).json()["outcome"] == "MOVED"
    late = await post(shop, carrier_event("ups-1", "IN_TRANSIT", 2))
    assert late.status_code == 200
    assert late.json() == {"outcome": "KEPT", "shipmentStatus": "OUT_FOR_DELIVERY"}
    order = await detail(shop, order_id)
    assert order["shipments"][0]["status"] == "OUT_FOR_DELIVERY"
    # Kept in the shipment's history, in the order the scans happened.
    assert [e["status"] for e in order["shipments"][0]["events"]] == ["LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY"]
    assert event_types(order)[-1] == "SHIPMENT_OUT_FOR_DELIVERY"  # the late scan is history, not news


async def test_an_exception_and_the_next_scan_show_live_on_the_agent_console(shop: Api) -> None:
    order_id, shipment_id = await shipped_order(shop)
    async with shop.db.read() as session:
        last = (await session.exec(sa.select(sa.func.max(OrderEvent.sequence)))).scalar_one()
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, shop.token("agent")) as console:
        feed = await console.subscribe("LiveOrderEvents", {"after": str(last)})
        assert (await post(shop, carrier_event("ups-1", "IN_TRANSIT", 2))).status_code == 200
        assert (await post(shop, carrier_event("ups-2", "EXCEPTION", 20, description="Address not found"))).json() == {
            "outcome": "MOVED",
            "shipmentStatus": "EXCEPTION",
        }
        in_transit, exception = await feed.take(2)
        assert in_transit["type"] == "SHIPMENT_IN_TRANSIT"
        assert (exception["type"], exception["order"]["id"]) == ("SHIPMENT_EXCEPTION", order_id)
        assert exception["actor"] == {"kind": "CARRIER", "name": "UPS"}
        assert "Address not found" in exception["message"]

        # The carrier tries again: the shipment moves on from the exception.
        retried = await post(shop, carrier_event("ups-3", "IN_TRANSIT", 30))
        assert retried.json() == {"outcome": "MOVED", "shipmentStatus": "IN_TRANSIT"}
        moved_on = await feed.next()
        assert (moved_on["type"], moved_on["order"]["status"]) == ("SHIPMENT_IN_TRANSIT", "SHIPPED")
    order = await detail(shop, order_id)
    assert [(s["id"], s["status"]) for s in order["shipments"]] == [(shipment_id, "IN_TRANSIT")]


async def test_text_and_times_a_carrier_could_not_have_meant_get_400_and_change_nothing(shop: Api) -> None:
    """The webhook's text follows recordShipmentEvent's rules (schema/input_rules.py), and its time must be a real
    one in 2000…2099."""
    await shipped_order(shop)
    event = carrier_event("ups-1", "IN_TRANSIT", 2)
    before = await tracking_rows(shop)
    cases = [
        ({**event, "description": "Left\x00at the door"}, ["description"]),
        ({**event, "description": "Bell \x07"}, ["description"]),
        ({**event, "location": "Newark\nNJ"}, ["location"]),
        ({**event, "location": "Newark \x85"}, ["location"]),
        ({**event, "location": "x" * 501}, ["location"]),
        ({**event, "carrierEventId": "ups-\x00"}, ["carrierEventId"]),
        ({**event, "trackingNumber": TRACKING + "\x00"}, ["trackingNumber"]),
        ({**event, "trackingNumber": "1Z" * 33}, ["trackingNumber"]),
        ({**event, "status": "IN_TRANSIT\x00"}, ["status"]),
        ({**event, "occurredAt": "99999-01-01T00:00:00Z"}, ["occurredAt"]),
        ({**event, "occurredAt": "2026-13-45T00:00:00Z"}, ["occurredAt"]),
        ({**event, "occurredAt": "2026-02-30"}, ["occurredAt"]),
        ({**event, "occurredAt": "9999-12-31T23:59:59-05:00"}, ["occurredAt"]),  # past what a time can hold in UTC
        ({**event, "occurredAt": "0001-01-01T00:00:00+01:00"}, ["occurredAt"]),
        ({**event, "occurredAt": "1999-12-31T23:59:59Z"}, ["occurredAt"]),
        ({**event, "occurredAt": "2100-01-01T00:00:00Z"}, ["occurredAt"]),
        ({**event, "occurredAt": 1_790_000_000}, ["occurredAt"]),
        ({**event, "occurredAt": ["2026-11-20"]}, ["occurredAt"]),
        ({**event, "occurredAt": "2026-11-20T17:00:00Z" + " " * 100}, ["occurredAt"]),
        ({**event, "occurredAt": "\u0662\u0660\u0662\u0666-11-20T17:00:00Z"}, ["occurredAt"]),
    ]
    for payload, field in cases:
        # json.dumps escapes the control characters as JSON allows (\u0000): the body is well-formed JSON.
        response = await post(shop, payload)
        assert response.status_code == 400, (payload, response.text)
        assert response.json()["error"] == "INVALID_INPUT", (payload, response.text)
        assert response.json()["field"] == field, (payload, response.text)
    assert await tracking_rows(shop) == before
    # Tab, line feed and carriage return are text in a description, and a time with an offset is taken in UTC.
    fine = await post(
        shop, {**event, "description": "Left at the door\r\n\tby the porch", "occurredAt": "2026-11-20T12:00:00-05:00"}
    )
    assert fine.json() == {"outcome": "MOVED", "shipmentStatus": "IN_TRANSIT"}, fine.text


async def test_bodies_the_json_parser_cannot_take_are_refused_before_the_signature_is_checked(shop: Api) -> None:
    await shipped_order(shop)
    before = await tracking_rows(shop)
    deep = b'{"carrierEventId": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    long_number = b'{"carrierEventId": ' + b"7" * 5_000 + b"}"
    for body in (deep, long_number, b'{"carrierEventId": "\xff"}'):
        for signature in (None, signed(body, SECRETS["UPS"])):
            response = await post(shop, body, secret=None, signature=signature)
            assert response.status_code == 400, response.text
            assert response.json()["error"] == "INVALID_JSON", response.text
    assert await tracking_rows(shop) == before


async def test_a_body_over_64_kib_is_refused_as_it_is_read(shop: Api) -> None:
    """By its Content-Length before a byte is read, and without one once 64 KiB have come in."""

    class Chunks:
        def __init__(self) -> None:
            self.sent = 0

        async def __aiter__(self):
            while self.sent < 30_000_000:
                self.sent += 16 * 1024
                yield b" " * (16 * 1024)

    for headers in ({"Content-Length": "30000000"}, {}):
        chunks = Chunks()
        response = await shop.client.post(
            "/webhooks/carriers/UPS", content=chunks, headers={"Content-Type": "application/json", **headers}
        )
        assert response.status_code == 413
        assert response.json()["error"] == "PAYLOAD_TOO_LARGE"
        assert chunks.sent <= (0 if headers else 64 * 1024 + 16 * 1024), chunks.sent
