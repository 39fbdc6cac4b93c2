"""Invoices and credit notes follow the payment ledger: one invoice per capture (its total the amount captured),
one credit note per refund, numbered gaplessly per series and year, each booked in a balanced journal entry."""

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from conftest import Api
from factories import NOW
from invoicing_helpers import (
    amount,
    assert_documents_balance,
    assert_journal_balances,
    credit_notes,
    order_documents,
)
from test_fulfillment import detail, split_order, step
from test_order_changes import db_id
from test_placement import place
from test_returns import deliver, pdf_text, request

from ordergraph.models import DocumentSeries, Invoice, Order
from ordergraph.models.columns import utcnow
from ordergraph.resolvers import payments
from ordergraph.resolvers.access import Role, Viewer
from ordergraph.resolvers.events import change
from ordergraph.resolvers.order_state import order_for_change

AGENT = Viewer(role=Role.AGENT, name="Test agent")
YEAR = utcnow().year  # documents are dated by the wall clock, like the payment ledger


async def test_a_split_shipment_a_partial_cancellation_and_a_return_balance_to_the_ledger(shop: Api) -> None:
    order_id, newark_fo, brooklyn_fo = await split_order(shop)
    for fo in (newark_fo, brooklyn_fo):
        await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo})
    shipped = await step(
        shop, "ShipFulfillmentOrder", {"fulfillmentOrderId": newark_fo, "carrier": "UPS", "trackingNumber": "1Z1"}
    )
    order = await order_documents(shop, order_id)
    (first,) = order["invoices"]
    assert first["number"] == f"INV-US-{YEAR}-000001"
    assert first["total"] == {"amount": "168.78", "currency": "USD"}  # what the shipment captured
    assert [(li["sku"], li["quantity"]) for li in first["lines"]] == [("SKU-1", 1), ("SKU-2", 3), (None, 1)]
    assert first["lines"][-1]["isShipping"]
    assert first["lines"][-1]["description"] == "Shipping"
    assert first["seller"]["name"] == "Ordergraph Inc."
    assert first["buyer"]["name"] == "Alice Shopper"
    assert first["buyer"]["email"] == "alice@shop.example"
    assert first["pdfUrl"] == f"/invoices/{first['number']}.pdf"
    assert_documents_balance(order)

    # One sock comes back and is refunded: a credit note correcting the first invoice.
    await step(
        shop,
        "RecordShipmentEvent",
        {"shipmentId": shipped["shipment"]["id"], "status": "DELIVERED", "carrierEventId": "d1"},
    )
    socks = (await request(shop, order_id, [("SKU-2", 1)]))["return"]
    received = await shop.run("ReceiveReturn", {"input": {"returnId": socks["id"]}}, token=shop.token("agent"))
    assert received["data"]["receiveReturn"]["userErrors"] == []
    order = await order_documents(shop, order_id)
    (note,) = credit_notes(order).values()
    assert note["number"] == f"CRN-US-{YEAR}-000001"
    assert note["corrects"] == first["number"]
    assert note["total"]["amount"] == "13.00"
    assert [(li["sku"], li["quantity"], li["tax"]["amount"]) for li in note["lines"]] == [("SKU-2", 1, "0.50")]
    assert_documents_balance(order)

    # The pickup unit is cancelled: the shipping still authorised for the shipped part is captured and invoiced.
    cancelled = await shop.run("CancelMyOrder", {"input": {"orderId": order_id}}, token=shop.token("agent"))
    assert cancelled["data"]["cancelOrder"]["userErrors"] == []
    order = await order_documents(shop, order_id)
    assert [i["number"] for i in order["invoices"]] == [first["number"], f"INV-US-{YEAR}-000002"]
    remainder = order["invoices"][1]
    assert [li["isShipping"] for li in remainder["lines"]] == [True]
    assert remainder["total"]["amount"] == "1.25"
    assert_documents_balance(order)
    await assert_journal_balances(shop, db_id(order_id))


async def test_a_shipping_reduction_after_capture_is_credited_on_shipping(shop: Api) -> None:
    order_id, newark_fo, brooklyn_fo = await split_order(shop)
    await leave(shop, newark_fo, brooklyn_fo)
    # The total falls by 5.00 once everything was captured (cheaper shipping, say): a refund, credited on shipping.
    async with shop.db.write() as session:
        stored = await session.get(Order, db_id(order_id))
        await payments.settle_reduction(session, shop.app.state.services.ports.payments, stored, 500)
    order = await order_documents(shop, order_id)
    # The shipment billed 4/5 of the shipping and the pickup the rest: one credit note for each invoice corrected.
    notes = list(credit_notes(order).values())
    assert [note["corrects"] for note in notes] == [invoice["number"] for invoice in order["invoices"]]
    assert sum(amount(note["total"]) for note in notes) == Decimal("5.00")
    assert all(line["isShipping"] for note in notes for line in note["lines"])
    assert_documents_balance(order)
    await assert_journal_balances(shop, db_id(order_id))


async def leave(shop: Api, shipped_fo: str, pickup_fo: str) -> None:
    for fo in (shipped_fo, pickup_fo):
        await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo})
    await step(
        shop, "ShipFulfillmentOrder", {"fulfillmentOrderId": shipped_fo, "carrier": "UPS", "trackingNumber": "1Z9"}
    )
    await step(shop, "MarkReadyForPickup", {"fulfillmentOrderId": pickup_fo})
    await step(shop, "ConfirmPickup", {"fulfillmentOrderId": pickup_fo})


async def test_a_rolled_back_capture_burns_no_number(shop: Api) -> None:
    first = (await place(shop, lines=(("SKU-2", 1),), key="first"))["order"]["id"]
    second = (await place(shop, lines=(("SKU-2", 1),), key="second"))["order"]["id"]
    # A capture whose change then fails rolls back with its invoice and its number.
    with pytest.raises(RuntimeError, match="refused after the capture"):
        await capture_then_fail(shop, first)
    async with shop.db.read() as session:
        assert (await session.exec(sa.select(sa.func.count()).select_from(Invoice))).scalar_one() == 0
        assert (await session.exec(sa.select(DocumentSeries))).scalars().all() == []
    for order_id in (second, first):
        await deliver(shop, order_id, event_id=order_id[-6:])
    numbers = [(await order_documents(shop, order_id))["invoices"][0]["number"] for order_id in (second, first)]
    assert numbers == [f"INV-US-{YEAR}-000001", f"INV-US-{YEAR}-000002"]


async def capture_then_fail(shop: Api, order_id: str) -> None:
    """Captures 1.00 of the order (invoicing it), then fails: the change rolls back whole."""
    async with change(shop.db.write) as session:
        # Like every change, it locks its order first (resolvers.order_state.order_for_change).
        stored = await order_for_change(session, AGENT, db_id(order_id))
        captured = await payments.capture(session, shop.app.state.services.ports.payments, stored, 100)
        assert captured == 100
        raise RuntimeError("refused after the capture")


async def test_fifty_concurrent_captures_take_numbers_one_to_fifty(shop: Api) -> None:
    if shop.backend != "postgresql":
        pytest.skip("SQLite serialises writers whole; the row lock is PostgreSQL's")
    orders = [(await place(shop, lines=(("SKU-2", 1),), key=f"k-{n}"))["order"]["id"] for n in range(50)]
    fos = [(await detail(shop, order_id))["fulfillmentOrders"][0]["id"] for order_id in orders]
    for fo in fos:
        await step(shop, "StartFulfillment", {"fulfillmentOrderId": fo})

    # A capture that fails in the middle of the storm burns nothing either.
    async def failing() -> None:
        with pytest.raises(RuntimeError, match="refused after the capture"):
            await capture_then_fail(shop, orders[0])

    results = await asyncio.gather(
        failing(),
        *(
            step(shop, "ShipFulfillmentOrder", {"fulfillmentOrderId": fo, "carrier": "UPS", "trackingNumber": f"1Z{n}"})
            for n, fo in enumerate(fos)
        ),
    )
    assert all(r["userErrors"] == [] for r in results[1:])
    async with shop.db.read() as session:
        rows = (await session.exec(sa.select(Invoice.sequence, Invoice.number).order_by(Invoice.sequence))).all()
        (counter,) = (await session.exec(sa.select(DocumentSeries))).scalars().all()
    assert [sequence for sequence, _ in rows] == list(range(1, 51))
    assert len({number for _, number in rows}) == 50
    assert counter.last_number == 50
    await assert_journal_balances(shop)


MY_DOCUMENTS = """query($id: ID!) { node(id: $id) { ... on Order { invoices {
  number pdfUrl total { amount } buyer { name } creditNotes { number pdfUrl total { amount } }
} } } }"""


async def test_pdfs_for_the_customer_and_agents_not_analysts_nor_other_customers(shop: Api) -> None:
    order_id = (await place(shop, lines=(("SKU-2", 2),)))["order"]["id"]
    await deliver(shop, order_id)
    shop.set_clock(NOW + timedelta(days=2))
    returned = (await request(shop, order_id, [("SKU-2", 1)]))["return"]
    await shop.run("ReceiveReturn", {"input": {"returnId": returned["id"]}}, token=shop.token("agent"))
    mine = await shop.post(MY_DOCUMENTS, {"id": order_id}, token=shop.token("customer", "alice"))
    order = mine.json()["data"]["node"]
    (invoice,) = order["invoices"]
    (note,) = credit_notes(order).values()

    def bearer(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    for url, title, total in (
        (invoice["pdfUrl"], "INVOICE", invoice["total"]["amount"]),
        (note["pdfUrl"], "CREDIT NOTE", note["total"]["amount"]),
    ):
        for token in (shop.token("customer", "alice"), shop.token("agent"), shop.token("admin")):
            response = await shop.client.get(url, headers=bearer(token))
            assert response.status_code == 200, (url, response.text)
            assert response.headers["content-type"] == "application/pdf"
        pages, text = pdf_text(response.content)
        assert pages == 1
        assert (title in text, total in text, "Ordergraph Inc." in text) == (True, True, True)
        analyst = await shop.client.get(url, headers=bearer(shop.token("analyst")))
        assert analyst.status_code == 403
        assert analyst.json()["error"] == "FORBIDDEN"
        bob = await shop.client.get(url, headers=bearer(shop.token("customer", "bob")))
        unknown_url = url.rsplit("-", 1)[0] + "-999999.pdf"
        unknown = await shop.client.get(unknown_url, headers=bearer(shop.token("customer", "alice")))
        assert bob.status_code == unknown.status_code == 404
        assert bob.content == unknown.content
        assert (await shop.client.get(url)).status_code == 401
    for probe in ("/invoices/INV-US-2026-%00.pdf", "/invoices/x.pdf", f"/invoices/{'9' * 5000}.pdf"):
        response = await shop.client.get(probe, headers=bearer(shop.token("agent")))
        assert response.status_code == 404, probe
    assert (
        note["number"]
        in pdf_text((await shop.client.get(note["pdfUrl"], headers=bearer(shop.token("agent")))).content)[1]
    )
    assert (
        invoice["number"]
        in pdf_text((await shop.client.get(note["pdfUrl"], headers=bearer(shop.token("agent")))).content)[1]
    )  # the invoice it corrects
    # Analysts see the documents in the graph, without the buyer and without the PDF.
    masked = (await shop.post(MY_DOCUMENTS, {"id": order_id}, token=shop.token("analyst"))).json()["data"]["node"]
    assert masked["invoices"][0]["buyer"] is None
    assert masked["invoices"][0]["pdfUrl"] is None
    assert masked["invoices"][0]["total"] == invoice["total"]
    # Another customer does not see the order at all.
    other = (
        await shop.post(
            "query($id: ID!) { node(id: $id) { ... on Order { invoices { number } } } }",
            {"id": order_id},
            token=shop.token("customer", "bob"),
        )
    ).json()
    assert other["data"]["node"] is None or "errors" in other


async def test_invoices_over_a_page_of_orders_are_one_statement(shop: Api) -> None:
    for n in range(3):
        order_id = (await place(shop, lines=(("SKU-2", 1),), key=f"k-{n}"))["order"]["id"]
        await deliver(shop, order_id, event_id=order_id[-6:])
    query = """{ orders(first: 10) { edges { node { number invoices { number total { amount }
      lines { sku } taxes { rate } creditNotes { number } } } } } }"""
    with shop.statements() as statements:
        body = (await shop.post(query, token=shop.token("agent"))).json()
    assert "errors" not in body, body
    assert sum(len(e["node"]["invoices"]) for e in body["data"]["orders"]["edges"]) == 3
    by_order = [s for s in statements if "FROM invoice" in s and "invoice.order_id IN" in s]
    credit_notes = [s for s in statements if "FROM invoice" in s and "invoice.corrects_invoice_id IN" in s]
    lines = [s for s in statements if "FROM invoice_line" in s]
    # One statement each for the page's invoices, all their lines (taxes come from the same loader), and the
    # credit notes of all of them.
    assert (len(by_order), len(lines), len(credit_notes)) == (1, 1, 1), statements
