"""eraseCustomerPersonalData (#18): a customer with orders shipped, returned, cancelled and held, notes, saved
addresses and messages in the outbox folder is erased; then every text, varchar and JSON column of every table
(reflected from the database) and every file under the outbox folder is scanned for the erased values, and none is
left, while orders and amounts are. Afterwards nothing is sent to the customer and nothing about them changes."""

import email
import email.policy
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import TEST_SECRET, Api
from test_fulfillment import detail, step
from test_placement import order_input
from test_returns import deliver, line_ids

from ordergraph.models import Customer, CustomerErasure, Notification, Order, Payment
from ordergraph.resolvers.access import Role
from ordergraph.schema.node import encode_global_id
from ordergraph.server.auth import issue_token

NAME = "Zelda Quokkawitz"
EMAIL = "zelda.quokka@mail.example"
PHONE, SMS_PHONE = "(617) 555-0142", "+1 617 555 0143"
HOME = {
    "name": NAME,
    "line1": "742 Xylobrook Terrace",
    "line2": "Flat Q9",
    "city": "Boston",
    "region": "MA",
    "postalCode": "02108",
    "country": "US",
}
WORK = {
    "name": "Z. Quokkawitz",
    "line1": "88 Zantheria Street",
    "city": "Boston",
    "region": "MA",
    "postalCode": "02116",
    "country": "US",
    "phone": "617-555-0144",
}


def phone_spellings(national: str) -> list[str]:
    """ "6175550142" as people write it."""
    a, b, c = national[:3], national[3:6], national[6:]
    return [
        f"+1{national}",
        f"1{national}",
        national,
        f"{a}-{b}-{c}",
        f"({a}) {b}-{c}",
        f"{a}.{b}.{c}",
        f"+1 {a} {b} {c}",
    ]


ERASED_VALUES = [
    "Zelda",
    "Quokkawitz",
    EMAIL,
    "zelda.quokka",
    "Xylobrook",
    "Flat Q9",
    "Zantheria",
    *phone_spellings("6175550142"),
    *phone_spellings("6175550143"),
    *phone_spellings("6175550144"),
]


def findings(where: str, text: str) -> list[str]:
    folded = text.casefold()
    return [f"{where}: {value!r}" for value in ERASED_VALUES if value.casefold() in folded]


async def scan_database(shop: Api) -> list[str]:
    """Every text-like column of every table the database holds (reflected, not the models' list)."""
    found: list[str] = []
    async with shop.db.read() as session:
        connection = await session.connection()

        def text_columns(sync) -> dict[str, list[str]]:
            inspector = sa.inspect(sync)
            columns = {}
            for table in inspector.get_table_names():
                names = [
                    c["name"]
                    for c in inspector.get_columns(table)
                    if isinstance(c["type"], (sa.String, sa.Text, sa.JSON))
                    or any(kind in str(c["type"]).upper() for kind in ("CHAR", "TEXT", "JSON", "CLOB"))
                ]
                if names:
                    columns[table] = names
            return columns

        tables = await connection.run_sync(text_columns)
        assert {"customer", "orders", "order_event", "notification", "customer_erasure"} <= set(tables)
        for table, names in tables.items():
            quoted = ", ".join(f'CAST("{name}" AS TEXT)' for name in names)
            for row in (await session.exec(sa.text(f'SELECT {quoted} FROM "{table}"'))).all():
                for name, value in zip(names, row, strict=True):
                    if value is not None:
                        found += findings(f"{table}.{name}", str(value))
    return found


def scan_folder(folder: Path) -> list[str]:
    found: list[str] = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        found += findings(path.name, raw.decode("utf-8", "replace"))
        if path.suffix == ".eml":
            message = email.message_from_bytes(raw, policy=email.policy.default)
            found += findings(path.name, str(message["To"]) + message.get_body().get_content())
    return found


async def run(shop: Api, operation: str, variables: dict, token: str) -> dict:
    body = await shop.run(operation, variables, token=token)
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert not (payload or {}).get("userErrors"), payload
    return payload


async def order_facts(shop: Api, customer_id: int) -> list[tuple]:
    async with shop.db.read() as session:
        orders = (
            await session.exec(
                sa.select(Order.number, Order.status, Order.total_minor, Order.cancelled_minor, Order.refunded_minor)
                .where(Order.customer_id == customer_id)
                .order_by(Order.id)
            )
        ).all()
        payments = (
            await session.exec(
                sa.select(Payment.authorized_minor, Payment.captured_minor, Payment.refunded_minor)
                .join(Order, Order.id == Payment.order_id)
                .where(Order.customer_id == customer_id)
                .order_by(Payment.id)
            )
        ).all()
    return [tuple(o) for o in orders] + [tuple(p) for p in payments]


@pytest.fixture
async def shop(open_shop, tmp_path: Path):
    async with open_shop(notification_outbox=tmp_path, notification_poll_seconds=3600) as served:
        yield served


async def seed_zelda(shop: Api) -> tuple[str, str, str]:
    """Alice becomes Zelda: profile, SMS, two saved addresses, four orders (shipped, delivered and returned,
    cancelled with a reason, held), notes quoting her details, and the messages the notifier wrote."""
    customer_id = encode_global_id("Customer", shop.world.customers["alice"])
    me = issue_token(TEST_SECRET, role=Role.CUSTOMER, subject=customer_id, name=NAME, ttl_seconds=3600)
    agent = shop.token("agent")
    await run(shop, "UpdateMyProfile", {"input": {"name": NAME, "email": EMAIL, "phone": PHONE}}, me)
    await run(shop, "UpdateMyNotificationPreferences", {"input": {"sms": True, "phone": SMS_PHONE}}, me)
    await run(shop, "AddMyAddress", {"input": {"address": HOME, "defaultShipping": True, "defaultBilling": True}}, me)
    await run(shop, "AddMyAddress", {"input": {"address": WORK}}, me)

    def placed(payload: dict) -> str:
        return payload["order"]["id"]

    shipped = placed(await run(shop, "PlaceOrder", {"input": order_input(address=HOME, key="z-1")}, me))
    fo = (await detail(shop, shipped))["fulfillmentOrders"][0]["id"]
    await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo})
    await step(
        shop, "ShipFulfillmentOrder", {"fulfillmentOrderId": fo, "carrier": "UPS", "trackingNumber": "1ZERASE01"}
    )

    returned = placed(await run(shop, "PlaceOrder", {"input": order_input(address=WORK, key="z-2")}, me))
    await deliver(shop, returned, event_id="erase")
    lines = await line_ids(shop, returned)
    request = {
        "orderId": returned,
        "method": "MAIL",
        "lines": [{"orderLineId": lines["SKU-1"], "quantity": 1, "reason": "SIZE_OR_FIT"}],
    }
    ret = (await run(shop, "RequestReturn", {"input": request}, me))["return"]
    if ret["status"] == "REQUESTED":
        await run(shop, "ApproveReturn", {"input": {"returnId": ret["id"]}}, agent)
    await run(shop, "ReceiveReturn", {"input": {"returnId": ret["id"]}}, agent)

    cancelled = placed(await run(shop, "PlaceOrder", {"input": order_input(address=HOME, key="z-3")}, me))
    await run(
        shop,
        "AgentCancelOrder",
        {"input": {"orderId": cancelled, "reason": f"{NAME} called from 617.555.0142 to cancel"}},
        agent,
    )
    held = placed(
        await run(
            shop,
            "PlaceOrderOnBehalf",
            {"input": order_input(address=WORK, key="z-4", customerId=customer_id)},
            agent,
        )
    )
    await run(
        shop, "HoldOrder", {"input": {"orderId": held, "reason": f"Check {EMAIL} and 742 Xylobrook Terrace"}}, agent
    )
    for visibility in ("INTERNAL", "CUSTOMER"):
        note = {
            "orderId": held,
            "message": f"Hi Zelda, we will call +1 617 555 0143 ({visibility})",
            "visibility": visibility,
        }
        await run(shop, "AddOrderNote", {"input": note}, agent)
    await shop.app.state.services.notifier.run_once()
    return customer_id, shipped, held


async def test_erasure_leaves_no_personal_value_in_any_table_or_outbox_file(shop: Api, tmp_path: Path) -> None:
    customer_id, shipped, held = await seed_zelda(shop)
    alice = shop.world.customers["alice"]
    assert list(tmp_path.glob("*.eml")), "the notifier wrote emails"
    assert list(tmp_path.glob("*.sms.txt")), "the notifier wrote texts"
    assert await scan_database(shop), "the scan finds the values before erasure"
    assert scan_folder(tmp_path), "the scan finds the values in the messages before erasure"
    # Messages queued and not yet sent when the erasure comes (the notifier's queue step alone): they must never go.
    shipment = (await detail(shop, shipped))["shipments"][0]["id"]
    out = {"shipmentId": shipment, "status": "OUT_FOR_DELIVERY", "carrierEventId": "before-erasure"}
    await step(shop, "RecordShipmentEvent", out)
    assert await shop.app.state.services.notifier._queue_batch()
    async with shop.db.read() as session:
        assert "PENDING" in set((await session.exec(sa.select(Notification.status))).scalars().all())
    facts = await order_facts(shop, alice)
    files_before = len(list(tmp_path.iterdir()))

    for token in (shop.token("analyst"), shop.token("customer", "alice")):
        body = await shop.run("EraseCustomerPersonalData", {"input": {"customerId": customer_id}}, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    erased = await run(shop, "EraseCustomerPersonalData", {"input": {"customerId": customer_id}}, shop.token("agent"))
    customer = erased["customer"]
    assert (customer["name"], customer["email"], customer["phone"], customer["addressBook"]) == (
        "Erased customer",
        f"erased-{alice}@invalid",
        None,
        [],
    )
    assert customer["erasedAt"]

    left = await scan_database(shop)
    assert left == [], "\n".join(left)
    assert scan_folder(tmp_path) == []
    assert await order_facts(shop, alice) == facts  # orders and amounts stay
    async with shop.db.read() as session:
        (record,) = (await session.exec(sa.select(CustomerErasure))).scalars().all()
        statuses = set((await session.exec(sa.select(Notification.status))).scalars().all())
        bob = await session.get(Customer, shop.world.customers["bob"])
    assert (record.customer_id, record.actor_kind, record.actor_name) == (alice, "AGENT", "Test agent")
    assert "orders=4" in record.scrubbed.split()
    assert "customer_address=3" in record.scrubbed.split()
    assert record.outbox_files_deleted == files_before
    assert bob.email == "bob@shop.example"  # nobody else is touched
    assert "PENDING" not in statuses

    # Afterwards: no message for a new event on their order, no change, no sign-in, no second erasure.
    files = sorted(p.name for p in tmp_path.iterdir())
    await step(shop, "RecordShipmentEvent", {"shipmentId": shipment, "status": "DELIVERED", "carrierEventId": "after"})
    await shop.app.state.services.notifier.run_once()
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    async with shop.db.read() as session:
        assert set((await session.exec(sa.select(Notification.status))).scalars().all()) <= {"SENT", "CANCELLED"}
    me = issue_token(TEST_SECRET, role=Role.CUSTOMER, subject=customer_id, name=NAME, ttl_seconds=3600)
    body = await shop.run("MyAddresses", {}, token=me)
    assert body["errors"][0]["extensions"]["code"] == "CUSTOMER_ERASED"
    before = await scan_database(shop), await order_facts(shop, alice)
    for operation, variables, token in (
        ("UpdateMyProfile", {"input": {"name": NAME}}, me),
        ("AddMyAddress", {"input": {"address": HOME}}, me),
        ("UpdateCustomer", {"input": {"customerId": customer_id, "email": EMAIL}}, shop.token("agent")),
        ("AgentAddCustomerAddress", {"input": {"customerId": customer_id, "address": HOME}}, shop.token("agent")),
        (
            "PlaceOrderOnBehalf",
            {"input": order_input(address=HOME, key="z-9", customerId=customer_id)},
            shop.token("agent"),
        ),
        ("EraseCustomerPersonalData", {"input": {"customerId": customer_id}}, shop.token("agent")),
        ("AgentChangeShipping", {"input": {"orderId": held, "shippingAddress": HOME}}, shop.token("agent")),
    ):
        body = await shop.run(operation, variables, token=token)
        payload = next(iter(body["data"].values()))
        assert [e["code"] for e in payload["userErrors"]] == ["CUSTOMER_ERASED"], operation
    assert (await scan_database(shop), await order_facts(shop, alice)) == before


async def test_erased_values_are_found_in_text_however_a_phone_is_written() -> None:
    from ordergraph.resolvers.erasure import PersonalValues, redact

    pattern = PersonalValues(frozenset({NAME, "Zelda"}), frozenset({"+16175550142"})).pattern()
    assert pattern is not None
    for spelling in phone_spellings("6175550142"):
        assert redact(f"call {spelling} now", pattern) == "call [erased] now", spelling
    assert redact("call 6175550142 9 now", pattern) == "call [erased] 9 now"
    assert redact("order 16175550142999", pattern) == "order 16175550142999"  # a longer number is another
    assert redact('{"to": "zelda QUOKKAWITZ", "n": 1}', pattern) == '{"to": "[erased]", "n": 1}'
    assert re.fullmatch(r"\[erased\]", redact(NAME, pattern))
