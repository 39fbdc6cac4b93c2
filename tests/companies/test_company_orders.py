"""Business orders (#21) through the clients' documents: ship-to locations, purchase-order numbers, contract prices,
payment on account against the credit limit, approvals (approved, rejected, expired), invoices with due dates and
the payments that settle them, and a buyer never reaching another company's data."""

import asyncio
from datetime import datetime, timedelta

import sqlalchemy as sa
from company_factories import CompanyRefs, add_company, credit_used
from conftest import Api
from factories import NOW
from test_placement import snapshot
from test_returns import deliver, request

from ordergraph.models import Company, InventoryLevel, Invoice, InvoicePayment, Notification, Order, OrderEvent
from ordergraph.schema.node import encode_global_id


def company_order(refs: CompanyRefs, lines=(("SKU-1", 1),), *, key="c-1", po=None, method="ON_ACCOUNT", **extra):
    body = {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "deliveryMethodCode": "STANDARD",
        "companyLocationId": refs.location(),
        "paymentMethod": method,
        "idempotencyKey": key,
        **extra,
    }
    if po is not None:
        body["purchaseOrderNumber"] = po
    if method == "CARD":
        body.setdefault("paymentToken", "tok_visa")
    return body


async def place(shop: Api, refs: CompanyRefs, role="buyer", **kw) -> dict:
    body = await shop.run(
        "PlaceCompanyOrder", {"input": company_order(refs, **kw)}, token=shop.token("customer", refs.customer(role))
    )
    assert "errors" not in body, body
    return body["data"]["placeOrder"]


async def decide(shop: Api, order_id: str, token: str, *, approve=True, reason=None) -> dict:
    name = "ApproveOrder" if approve else "RejectOrder"
    variables = {"orderId": order_id, **({} if approve else {"reason": reason})}
    body = await shop.run(name, {"input": variables}, token=token)
    return body


async def fulfil(shop: Api, order_id: str) -> dict:
    """Starts and ships every fulfillment order of the order (agents, the console's documents)."""
    agent = shop.token("agent")
    body = await shop.run("AgentOrderDetail", {"id": order_id}, token=agent)
    for fo in body["data"]["node"]["fulfillmentOrders"]:
        started = await shop.run("StartFulfillment", {"input": {"fulfillmentOrderId": fo["id"]}}, token=agent)
        assert started["data"]["startFulfillment"]["userErrors"] == [], started
        shipped = await shop.run(
            "ShipFulfillmentOrder",
            {"input": {"fulfillmentOrderId": fo["id"], "carrier": "UPS", "trackingNumber": f"1Z{fo['id'][-6:]}"}},
            token=agent,
        )
        assert shipped["data"]["shipFulfillmentOrder"]["userErrors"] == [], shipped
    return (await shop.run("AgentOrderDetail", {"id": order_id}, token=agent))["data"]["node"]


async def held(shop: Api, sku: str = "SKU-1") -> int:
    """Units of the SKU reserved anywhere (the shop starts with none)."""
    async with shop.db.read() as session:
        query = sa.select(sa.func.coalesce(sa.func.sum(InventoryLevel.reserved), 0)).where(InventoryLevel.sku == sku)
        return int((await session.exec(query)).one()[0])


async def event_types(shop: Api, order_number: str) -> list[str]:
    async with shop.db.read() as session:
        order = (await session.exec(sa.select(Order).where(Order.number == order_number))).scalar_one()
        rows = await session.exec(
            sa.select(OrderEvent.type).where(OrderEvent.order_id == order.id).order_by(OrderEvent.sequence)
        )
        return [row[0] for row in rows.all()]


async def test_above_the_threshold_an_order_waits_then_is_approved_routed_shipped_and_invoiced(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world, approval_threshold_minor=20_000, prices={"SKU-1": 10_000})
    placed = await place(shop, acme, lines=(("SKU-1", 2),), po="PO-1001")
    assert placed["userErrors"] == []
    order = placed["order"]
    # The contract price (100.00) replaces the catalogue's (120.00): 200.00 + 5.99 shipping, NY tax 4 %.
    assert [line["unitPrice"]["amount"] for line in order["lines"]] == ["100.00"]
    assert order["total"] == {"amount": "214.23", "currency": "USD"}
    assert order["status"] == "AWAITING_APPROVAL"
    assert order["approval"]["state"] == "PENDING"
    assert order["approval"]["expiresAt"] == (NOW + timedelta(hours=48)).isoformat()
    assert order["purchaseOrderNumber"] == "PO-1001"
    assert order["company"] == {"id": acme.global_id, "name": "Acme Corp"}
    assert order["paymentMethod"] == "ON_ACCOUNT"
    assert order["paymentTermsDays"] == 30
    assert order["shippingAddress"]["line1"] == "20 Main St"
    assert await held(shop) == 2  # stock held while it waits
    assert await credit_used(shop.db, acme) == 21_423

    # Nothing of it may move before someone decides.
    agent = shop.token("agent")
    detail = (await shop.run("AgentOrderDetail", {"id": order["id"]}, token=agent))["data"]["node"]
    start = await shop.run(
        "StartFulfillment", {"input": {"fulfillmentOrderId": detail["fulfillmentOrders"][0]["id"]}}, token=agent
    )
    assert [e["code"] for e in start["data"]["startFulfillment"]["userErrors"]] == ["AWAITING_APPROVAL"]

    # The buyer sees it waiting; the approver sees it to decide; the buyer may not decide.
    mine = await shop.run("PendingApprovals", token=shop.token("customer", acme.customer("buyer")))
    assert mine["extensions"]["cost"]["requestedQueryCost"] <= 15_000
    assert [o["number"] for o in mine["data"]["pendingApprovals"]] == [order["number"]]
    theirs = await shop.run("PendingApprovals", token=shop.token("customer", acme.customer("approver")))
    assert [o["number"] for o in theirs["data"]["pendingApprovals"]] == [order["number"]]
    refused = await decide(shop, order["id"], shop.token("customer", acme.customer("buyer")))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    approved = await decide(shop, order["id"], shop.token("customer", acme.customer("approver")))
    payload = approved["data"]["approveOrder"]
    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "CONFIRMED"
    assert payload["order"]["approval"]["state"] == "APPROVED"
    assert payload["order"]["approval"]["decidedAt"] == NOW.isoformat()
    again = await decide(shop, order["id"], shop.token("customer", acme.customer("admin")))
    assert [e["code"] for e in again["data"]["approveOrder"]["userErrors"]] == ["NOT_AWAITING_APPROVAL"]

    shipped = await fulfil(shop, order["id"])
    assert shipped["status"] == "SHIPPED"
    assert await held(shop) == 0
    assert await event_types(shop, order["number"]) == [
        "ORDER_PLACED",
        "PAYMENT_AUTHORIZED",
        "ORDER_APPROVAL_REQUESTED",
        "ORDER_ROUTED",
        "ORDER_APPROVED",
        "FULFILLMENT_STARTED",
        "SHIPMENT_CREATED",
        "PAYMENT_CAPTURED",
    ]

    # The invoice bills the company at the contract prices, with the PO number, due in 30 days.
    invoices = await shop.run("MyCompanyInvoices", {}, token=shop.token("customer", acme.customer("admin")))
    [invoice] = invoices["data"]["companyInvoices"]
    assert invoice["buyerCompanyName"] == "Acme Corp"
    assert invoice["company"]["id"] == acme.global_id
    assert invoice["purchaseOrderNumber"] == "PO-1001"
    assert invoice["total"]["amount"] == "214.23"
    assert invoices["extensions"]["cost"]["requestedQueryCost"] <= 5_000  # a page of invoices, cheap to ask for
    # The buyer's own invoice view (the SPA's order page) prints the contract prices and the company as buyer.
    mine = await shop.run("MyOrderInvoices", {"id": order["id"]}, token=shop.token("customer", acme.customer("buyer")))
    [printed] = mine["data"]["node"]["invoices"]
    assert printed["number"] == invoice["number"]
    assert [(line["sku"], line["unitPrice"]["amount"]) for line in printed["lines"] if line["sku"]] == [
        ("SKU-1", "100.00")
    ]
    assert printed["buyer"]["name"] == "Acme Corp Accounts Payable"
    assert printed["buyer"]["taxId"] == "US-TAX-123"
    assert printed["buyer"]["address"]["line1"] == "1 Billing Plaza"
    issued = datetime.fromisoformat(invoice["issuedAt"])
    assert datetime.fromisoformat(invoice["dueAt"]) == issued + timedelta(days=30)
    assert invoice["amountDue"]["amount"] == "214.23"
    assert invoice["settledAt"] is None

    # Paid in two instalments: settled, and the company's credit is back.
    for amount, reference in (("100.00", "BANK-1"), ("114.23", "BANK-2")):
        paid = await shop.run(
            "RecordInvoicePayment",
            {"input": {"invoiceNumber": invoice["number"], "amount": amount, "reference": reference}},
            token=agent,
        )
        assert paid["data"]["recordInvoicePayment"]["userErrors"] == [], paid
    settled = paid["data"]["recordInvoicePayment"]["invoice"]
    assert settled["amountDue"]["amount"] == "0.00"
    assert settled["amountPaid"]["amount"] == "214.23"
    assert settled["settledAt"] is not None
    assert [p["amount"]["amount"] for p in settled["payments"]] == ["100.00", "114.23"]
    assert await credit_used(shop.db, acme) == 0
    over = await shop.run(
        "RecordInvoicePayment",
        {"input": {"invoiceNumber": invoice["number"], "amount": "0.01", "reference": "BANK-3"}},
        token=agent,
    )
    assert [e["code"] for e in over["data"]["recordInvoicePayment"]["userErrors"]] == ["AMOUNT_EXCEEDS_DUE"]
    unpaid = await shop.run("MyUnpaidCompanyInvoices", {}, token=shop.token("customer", acme.customer("admin")))
    assert unpaid["data"]["companyInvoices"] == []


async def test_a_rejected_order_releases_its_stock_and_credit(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world, approval_threshold_minor=10_000)
    order = (await place(shop, acme, lines=(("SKU-1", 3),)))["order"]
    assert order["status"] == "AWAITING_APPROVAL"
    assert await held(shop) == 3
    assert await credit_used(shop.db, acme) > 0

    rejected = await decide(
        shop, order["id"], shop.token("customer", acme.customer("admin")), approve=False, reason="Over budget"
    )
    payload = rejected["data"]["rejectOrder"]
    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "CANCELLED"
    assert payload["order"]["approval"]["state"] == "REJECTED"
    assert [line["quantityCancelled"] for line in payload["order"]["lines"]] == [3]
    assert await held(shop) == 0
    assert await credit_used(shop.db, acme) == 0
    types = await event_types(shop, order["number"])
    assert types[-3:] == ["ORDER_APPROVAL_REJECTED", "ORDER_CANCELLED", "PAYMENT_VOIDED"]
    pending = await shop.run("PendingApprovals", token=shop.token("customer", acme.customer("approver")))
    assert pending["data"]["pendingApprovals"] == []

    # The buyer reads the approval's steps in their language.
    buyer = shop.token("customer", acme.customer("buyer"))
    await shop.run("UpdateMyLanguage", {"input": {"locale": "cs"}}, token=buyer)
    detail = (await shop.run("MyOrderDetail", {"id": order["id"]}, token=buyer))["data"]["node"]
    messages = {e["node"]["type"]: e["node"]["message"] for e in detail["timeline"]["edges"]}
    assert messages["ORDER_APPROVAL_REQUESTED"] == f"Objednávka {order['number']} čeká na schválení vaší firmou."
    assert messages["ORDER_APPROVAL_REJECTED"] == f"Objednávka {order['number']} nebyla schválena."


async def test_a_card_order_awaiting_approval_is_voided_when_rejected(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world, approval_threshold_minor=10_000, payment_terms_days=None)
    order = (await place(shop, acme, lines=(("SKU-1", 1),), method="CARD"))["order"]
    assert order["status"] == "AWAITING_APPROVAL"
    assert order["paymentMethod"] == "CARD"
    rejected = await decide(shop, order["id"], shop.token("agent"), approve=False)
    assert rejected["data"]["rejectOrder"]["order"]["status"] == "CANCELLED"
    on_account = await place(shop, acme, key="c-2")
    assert [e["code"] for e in on_account["userErrors"]] == ["ON_ACCOUNT_UNAVAILABLE"]


async def test_an_undecided_approval_expires_and_releases_everything(open_shop) -> None:
    # The sweep's own loop waits an hour between passes: the test runs each pass itself.
    async with open_shop(approval_sweep_seconds=3600) as shop:
        await _expires(shop)


async def _expires(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world, approval_threshold_minor=10_000)
    order = (await place(shop, acme, lines=(("SKU-1", 2),)))["order"]
    sweep = shop.app.state.services.approvals
    assert await sweep.run_once() == 0  # not yet
    shop.set_clock(NOW + timedelta(hours=48))
    late = await decide(shop, order["id"], shop.token("customer", acme.customer("approver")))
    assert [e["code"] for e in late["data"]["approveOrder"]["userErrors"]] == ["APPROVAL_EXPIRED"]
    assert await sweep.run_once() == 1
    assert await sweep.run_once() == 0
    async with shop.db.read() as session:
        row = (await session.exec(sa.select(Order).where(Order.number == order["number"]))).scalar_one()
    assert (row.status, row.approval_state) == ("CANCELLED", "EXPIRED")
    assert await held(shop) == 0
    assert await credit_used(shop.db, acme) == 0
    assert "ORDER_APPROVAL_EXPIRED" in await event_types(shop, order["number"])


async def test_concurrent_orders_on_account_never_pass_the_credit_limit(shop: Api) -> None:
    # Each order: 1 × 120.00 + 5.99 shipping + 4 % tax = 131.03; room for three.
    acme = await add_company(shop.db, shop.world, credit_limit_minor=40_000)
    results = await asyncio.gather(*(place(shop, acme, key=f"race-{n}") for n in range(8)))
    placed = [r["order"] for r in results if r["order"]]
    refused = [r["userErrors"][0]["code"] for r in results if not r["order"]]
    assert len(placed) == 3
    assert refused == ["CREDIT_LIMIT_EXCEEDED"] * 5
    assert await credit_used(shop.db, acme) == 3 * 13_103
    assert await held(shop) == 3  # the refused orders hold no stock
    async with shop.db.read() as session:
        assert (await session.exec(sa.select(sa.func.count()).select_from(Order))).one()[0] == 3


async def test_a_purchase_order_number_is_unique_within_its_company(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world, purchase_order_required=True)
    globex = await add_company(shop.db, shop.world, "globex")
    missing = await place(shop, acme)
    assert [e["code"] for e in missing["userErrors"]] == ["PURCHASE_ORDER_REQUIRED"]
    assert (await place(shop, acme, po="PO-7", key="a"))["userErrors"] == []
    before = await snapshot(shop)
    taken = await place(shop, acme, po=" PO-7 ", key="b", role="approver")
    assert [e["code"] for e in taken["userErrors"]] == ["PURCHASE_ORDER_NUMBER_TAKEN"]
    assert await snapshot(shop) == before
    assert (await place(shop, globex, po="PO-7", key="c"))["userErrors"] == []  # another company's numbering

    # Racing buyers with one new number: one order, the others refused with the code, nothing else written.
    results = await asyncio.gather(
        *(
            place(shop, acme, po="PO-RACE", key=f"race-{n}", role=role)
            for n, role in enumerate(("buyer", "approver", "admin") * 2)
        )
    )
    assert sum(1 for r in results if r["order"]) == 1
    assert sorted(r["userErrors"][0]["code"] for r in results if not r["order"]) == ["PURCHASE_ORDER_NUMBER_TAKEN"] * 5
    async with shop.db.read() as session:
        count = sa.select(sa.func.count()).select_from(Order).where(Order.purchase_order_number == "PO-RACE")
        assert (await session.exec(count)).one()[0] == 1


async def test_concurrent_payments_never_overpay_an_invoice(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world)
    order = (await place(shop, acme))["order"]
    await fulfil(shop, order["id"])
    async with shop.db.read() as session:
        invoice = (await session.exec(sa.select(Invoice).where(Invoice.company_id == acme.id))).scalar_one()
    agent = shop.token("agent")
    amount = f"{invoice.total_minor / 100:.2f}"
    results = await asyncio.gather(
        *(
            shop.run(
                "RecordInvoicePayment",
                {"input": {"invoiceNumber": invoice.number, "amount": amount, "reference": f"WIRE-{n}"}},
                token=agent,
            )
            for n in range(6)
        )
    )
    errors = [r["data"]["recordInvoicePayment"]["userErrors"] for r in results]
    assert sorted(e[0]["code"] if e else "OK" for e in errors) == ["AMOUNT_EXCEEDS_DUE"] * 5 + ["OK"]
    async with shop.db.read() as session:
        paid = (await session.exec(sa.select(Invoice.paid_minor).where(Invoice.id == invoice.id))).one()[0]
        payments = (await session.exec(sa.select(sa.func.count()).select_from(InvoicePayment))).one()[0]
        used = (await session.exec(sa.select(Company.credit_used_minor).where(Company.id == acme.id))).one()[0]
    assert (paid, payments, used) == (invoice.total_minor, 1, 0)


async def test_an_agent_places_for_a_buyer_and_cancelling_gives_the_credit_back(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world)
    buyer = encode_global_id("Customer", shop.world.customers[acme.customer("buyer")])
    body = await shop.run(
        "PlaceCompanyOrderOnBehalf",
        {"input": company_order(acme, customerId=buyer, po="PO-A1")},
        token=shop.token("agent"),
    )
    order = body["data"]["placeOrder"]["order"]
    assert order["status"] == "CONFIRMED"
    assert order["customer"]["id"] == buyer
    assert await credit_used(shop.db, acme) == 13_103
    cancelled = await shop.run(
        "CancelMyOrder", {"input": {"orderId": order["id"]}}, token=shop.token("customer", acme.customer("buyer"))
    )
    assert cancelled["data"]["cancelOrder"]["userErrors"] == []
    assert await credit_used(shop.db, acme) == 0


async def test_a_buyer_never_reaches_another_companys_data(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world, approval_threshold_minor=10_000)
    globex = await add_company(shop.db, shop.world, "globex", approval_threshold_minor=10_000)
    order = (await place(shop, acme, po="PO-1"))["order"]
    await decide(shop, order["id"], shop.token("agent"))
    await fulfil(shop, order["id"])
    pending = (await place(shop, acme, key="c-2"))["order"]
    before = await snapshot(shop)
    outsider = shop.token("customer", globex.customer("approver"))

    # Another company's location, order, approval and invoices: as if unknown; nothing changes.
    foreign = await shop.run("PlaceCompanyOrder", {"input": company_order(acme, key="x")}, token=outsider)
    assert [e["code"] for e in foreign["data"]["placeOrder"]["userErrors"]] == ["NOT_FOUND"]
    consumer = await shop.run(
        "PlaceCompanyOrder", {"input": company_order(acme, key="y")}, token=shop.token("customer", "alice")
    )
    assert [e["code"] for e in consumer["data"]["placeOrder"]["userErrors"]] == ["NOT_FOUND"]
    for approve in (True, False):
        probe = await decide(shop, pending["id"], outsider, approve=approve)
        field = "approveOrder" if approve else "rejectOrder"
        assert [e["code"] for e in probe["data"][field]["userErrors"]] == ["NOT_FOUND"]
    assert (await shop.run("PendingApprovals", token=outsider))["data"]["pendingApprovals"] == []
    invoices = await shop.run("MyCompanyInvoices", {}, token=outsider)
    assert invoices["data"]["companyInvoices"] == []
    probe = await shop.post(
        "query($c: ID) { companyInvoices(companyId: $c) { number } }", {"c": acme.global_id}, token=outsider
    )
    assert probe.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    async with shop.db.read() as session:
        number = (await session.exec(sa.select(Invoice.number).where(Invoice.company_id == acme.id))).one()[0]
    for token in (outsider, shop.token("customer", acme.customer("admin")), shop.token("analyst")):
        paid = await shop.run(
            "RecordInvoicePayment",
            {"input": {"invoiceNumber": number, "amount": "1.00", "reference": "X"}},
            token=token,
        )
        assert paid["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A buyer of the same company sees only their own invoices; the approver theirs and the company's.
    other_buyer = await shop.run("MyCompanyInvoices", {}, token=shop.token("customer", acme.customer("approver")))
    assert [i["number"] for i in other_buyer["data"]["companyInvoices"]] == [number]
    assert await snapshot(shop) == before


async def test_the_buyer_hears_received_while_it_waits_and_confirmed_once_approved(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world, approval_threshold_minor=10_000)
    order = (await place(shop, acme))["order"]
    notifier = shop.app.state.services.notifier
    await notifier.run_once()
    await decide(shop, order["id"], shop.token("customer", acme.customer("approver")))
    await notifier.run_once()
    async with shop.db.read() as session:
        rows = await session.exec(
            sa.select(OrderEvent.type, Notification.moment)
            .join(OrderEvent, OrderEvent.id == Notification.event_id)
            .where(Notification.channel == "EMAIL")
            .order_by(Notification.id)
        )
        moments = [tuple(row) for row in rows.all()]
    assert moments == [("ORDER_PLACED", "ORDER_RECEIVED"), ("ORDER_APPROVED", "ORDER_CONFIRMED")]


async def test_a_return_on_account_takes_the_refund_off_what_is_due_and_the_credit_used(shop: Api) -> None:
    acme = await add_company(shop.db, shop.world)
    buyer = shop.token("customer", acme.customer("buyer"))
    order = (await place(shop, acme, lines=(("SKU-2", 2),)))["order"]
    assert order["total"]["amount"] == "32.23"  # 2 × 12.50 + 5.99, 4 % tax
    await deliver(shop, order["id"])
    assert await credit_used(shop.db, acme) == 3_223
    returned = (await request(shop, order["id"], [("SKU-2", 1)], token=buyer))["return"]
    received = await shop.run("ReceiveReturn", {"input": {"returnId": returned["id"]}}, token=shop.token("agent"))
    assert received["data"]["receiveReturn"]["return"]["refundAmount"]["amount"] == "13.00"
    assert await credit_used(shop.db, acme) == 1_923
    [invoice] = (await shop.run("MyCompanyInvoices", {}, token=buyer))["data"]["companyInvoices"]
    assert invoice["amountDue"]["amount"] == "19.23"
    paid = await shop.run(
        "RecordInvoicePayment",
        {"input": {"invoiceNumber": invoice["number"], "amount": "19.23", "reference": "WIRE-R"}},
        token=shop.token("agent"),
    )
    settled = paid["data"]["recordInvoicePayment"]["invoice"]
    assert settled["amountDue"]["amount"] == "0.00"
    assert settled["settledAt"] is not None
    assert await credit_used(shop.db, acme) == 0
