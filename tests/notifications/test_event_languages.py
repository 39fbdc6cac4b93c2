"""A customer reads their order's timeline in their language (#19): a Czech customer's `MyOrderDetail` (the contract
document) shows Czech messages rendered from the events' types, reasons, parcels and returns; an English customer
reads the stored texts unchanged; agents read the stored text; and a page of events costs no statement per event."""

from datetime import timedelta

import sqlalchemy as sa
from conftest import Api
from factories import NOW
from test_live_harness import LiveClient, serving_on_a_port
from test_order_changes import db_id
from test_placement import place
from test_returns import deliver, request

from ordergraph.models import OrderEvent

LANGUAGE = """mutation($input: UpdateMyLanguageInput!) { updateMyLanguage(input: $input) { userErrors { code } } }"""


async def walked_order(shop: Api, customer: str, key: str) -> tuple[str, str]:
    """An order placed, partly cancelled, shipped, delivered, and one unit returned and refunded. Returns its ID and
    number."""
    placed = (await place(shop, customer, key=key, lines=(("SKU-1", 1), ("SKU-2", 3))))["order"]
    detail = await shop.run("MyOrderDetail", {"id": placed["id"]}, token=shop.token("customer", customer))
    socks = next(line for line in detail["data"]["node"]["lines"] if line["sku"] == "SKU-2")
    cancelled = await shop.run(
        "CancelMyOrder",
        {"input": {"orderId": placed["id"], "lines": [{"orderLineId": socks["id"], "quantity": 1}]}},
        token=shop.token("customer", customer),
    )
    assert cancelled["data"]["cancelOrder"]["userErrors"] == [], cancelled
    await deliver(shop, placed["id"], event_id=key)
    shop.set_clock(NOW + timedelta(days=2))
    returned = (await request(shop, placed["id"], [("SKU-2", 1)], token=shop.token("customer", customer)))["return"]
    if returned["status"] == "REQUESTED":
        await shop.run("ApproveReturn", {"input": {"returnId": returned["id"]}}, token=shop.token("agent"))
    await shop.run("ReceiveReturn", {"input": {"returnId": returned["id"]}}, token=shop.token("agent"))
    shop.set_clock(NOW)
    return placed["id"], placed["number"]


async def timeline(shop: Api, order_id: str, token: str) -> tuple[list[tuple[str, str]], int]:
    """(type, message) of the order's timeline as MyOrderDetail shows it, and the SQL statements it took."""
    with shop.statements() as executed:
        body = await shop.run("MyOrderDetail", {"id": order_id}, token=token)
    assert "errors" not in body, body
    edges = body["data"]["node"]["timeline"]["edges"]
    selects = [s for s in executed if s.lstrip().upper().startswith(("SELECT", "WITH", "("))]
    return [(edge["node"]["type"], edge["node"]["message"]) for edge in edges], len(selects)


async def stored(shop: Api, order_id: str) -> dict[str, list[str]]:
    async with shop.db.read() as session:
        rows = (
            await session.exec(
                sa.select(OrderEvent.type, OrderEvent.message)
                .where(OrderEvent.order_id == db_id(order_id), OrderEvent.visibility == "CUSTOMER")
                .order_by(OrderEvent.sequence)
            )
        ).all()
    found: dict[str, list[str]] = {}
    for kind, message in rows:
        found.setdefault(kind, []).append(message)
    return found


async def test_a_czech_customer_reads_the_timeline_in_czech_an_english_one_as_stored(shop: Api) -> None:
    choice = await shop.post(LANGUAGE, {"input": {"locale": "cs"}}, token=shop.token("customer", "bob"))
    assert choice.json()["data"]["updateMyLanguage"]["userErrors"] == []
    czech_id, czech_number = await walked_order(shop, "bob", "cs-walk")
    english_id, _ = await walked_order(shop, "alice", "en-walk")

    czech, czech_statements = await timeline(shop, czech_id, shop.token("customer", "bob"))
    messages = dict(czech)
    assert len(czech) >= 9, czech
    assert messages["ORDER_PLACED"] == f"Objednávka {czech_number} byla vytvořena."
    assert messages["LINES_CANCELLED"] == f"Některé položky objednávky {czech_number} byly zrušeny (na vaši žádost)."
    assert messages["FULFILLMENT_STARTED"] == "Vaše zboží připravujeme."
    assert messages["SHIPMENT_CREATED"] == f"Balík z objednávky {czech_number} byl odeslán."
    assert messages["SHIPMENT_DELIVERED"] == "Balík UPS 1Z0 byl doručen."
    assert messages["ORDER_DELIVERED"] == f"Vše z objednávky {czech_number} bylo doručeno."
    rma = next(m for kind, m in czech if kind == "RETURN_REQUESTED").split()[3]
    assert rma.startswith("RMA-")
    assert messages["RETURN_REQUESTED"] == f"Žádost o vrácení {rma} na 1 ks byla přijata."
    assert messages["RETURN_RECEIVED"] == f"Vrácení {rma}: přijato 1 z 1 ks."
    assert messages["REFUND_ISSUED"].startswith(f"Za vrácení {rma} jsme vrátili ")
    assert messages["REFUND_ISSUED"].replace("\xa0", " ").endswith(" US$.")  # Babel: "12,34 US$"
    # The stored English text is left as it was written, and agents read it.
    agent, _ = await timeline(shop, czech_id, shop.token("agent"))
    assert dict(agent)["ORDER_PLACED"] == f"Order {czech_number} placed."

    # English customers read exactly what was stored, and their page costs no more than a few batched statements
    # above the Czech one's, however many events it holds (none per event).
    english, english_statements = await timeline(shop, english_id, shop.token("customer", "alice"))
    as_stored = await stored(shop, english_id)
    assert len(english) == len(czech)
    for kind, message in english:
        assert message in as_stored[kind], (kind, message)
    assert czech_statements - english_statements <= 4 < len(czech), (czech_statements, english_statements)


async def test_a_czech_customers_live_updates_are_in_czech(shop: Api) -> None:
    choice = await shop.post(LANGUAGE, {"input": {"locale": "cs"}}, token=shop.token("customer", "bob"))
    assert choice.json()["data"]["updateMyLanguage"]["userErrors"] == []
    async with (
        serving_on_a_port(shop.app) as url,
        LiveClient.connect(url, shop.token("customer", "bob")) as spa,
    ):
        updates = await spa.subscribe("MyOrderUpdates", {"after": "0"})
        number = (await place(shop, "bob", key="cs-live"))["order"]["number"]
        async with shop.db.read() as session:
            last = (
                await session.exec(
                    sa.select(sa.func.max(OrderEvent.sequence)).where(
                        OrderEvent.customer_id == shop.world.customers["bob"], OrderEvent.visibility == "CUSTOMER"
                    )
                )
            ).one()[0]
        live = await updates.events_until(last)
    assert ("ORDER_PLACED", f"Objednávka {number} byla vytvořena.") in [(e["type"], e["message"]) for e in live]
