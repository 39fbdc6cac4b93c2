"""The accounting export over seeded demo data: every journal entry balances, a month's cash lines reconcile to
the payment ledger, the CSV download holds exactly the paged query's lines, and bad input gets coded errors."""

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from conftest import TEST_SECRET, Api, serving
from invoicing_helpers import assert_journal_balances

from ordergraph.models import Invoice, Order, Payment, PaymentTransaction
from ordergraph.models.database import Database
from ordergraph.models.enums import PaymentTransactionKind
from ordergraph.models.invoice import DocumentKind
from ordergraph.resolvers.access import Role
from ordergraph.schema.node import encode_global_id
from ordergraph.server.auth import issue_token
from ordergraph.server.seed import seed_demo

ANCHOR = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
MONTH = ("2026-10-01", "2026-10-31")

ENTRIES = """
query($from: Date!, $to: Date!, $first: Int, $after: String) {
  accountingEntries(from: $from, to: $to, first: $first, after: $after) {
    edges { cursor node {
      postedAt kind currency orderNumber documentNumber
      lines { account taxRate debit { amount currency } credit { amount currency } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture(scope="module")
async def books(database_factory) -> AsyncIterator[Api]:
    """The demo data of 300 orders, served."""
    url = await database_factory.new_url()
    db = Database(url)
    await seed_demo(db, seed=7, customers=30, orders=300, anchor=ANCHOR)
    await db.dispose()
    async with serving(url, None, database_factory.backend) as served:  # type: ignore[arg-type]
        yield served


async def page_through(books: Api, token: str, first: int = 37) -> list[dict]:
    entries, after = [], None
    while True:
        variables = {"from": MONTH[0], "to": MONTH[1], "first": first, "after": after}
        body = (await books.post(ENTRIES, variables, token=token)).json()
        assert "errors" not in body, body
        page = body["data"]["accountingEntries"]
        entries += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return entries
        after = page["pageInfo"]["endCursor"]


async def test_every_seeded_entry_balances_and_cash_is_the_ledger(books: Api) -> None:
    cash = await assert_journal_balances(books)
    assert cash  # the demo captured money
    # Documents follow the ledger order by order: Σ invoices − Σ credit notes = captured − refunded.
    signed = sa.case((Invoice.kind == DocumentKind.INVOICE, Invoice.total_minor), else_=-Invoice.total_minor)
    documents = sa.select(Invoice.order_id, sa.func.sum(signed)).group_by(Invoice.order_id)
    money = sa.case(
        (PaymentTransaction.kind == PaymentTransactionKind.CAPTURE, PaymentTransaction.amount_minor),
        (PaymentTransaction.kind == PaymentTransactionKind.REFUND, -PaymentTransaction.amount_minor),
        else_=0,
    )
    ledger = (
        sa.select(Payment.order_id, sa.func.sum(money))
        .join(Payment, Payment.id == PaymentTransaction.payment_id)
        .group_by(Payment.order_id)
    )
    async with books.db.read() as session:
        by_document = {o: int(t) for o, t in (await session.exec(documents)).all() if t}
        by_ledger = {o: int(t) for o, t in (await session.exec(ledger)).all() if t}
        refunded_orders = (await session.exec(sa.select(sa.func.count()).where(Order.refunded_minor > 0))).scalar_one()
    assert by_document == by_ledger
    assert refunded_orders > 0  # credit notes were made too


async def test_a_month_balances_reconciles_and_the_csv_holds_the_same_lines(books: Api) -> None:
    entries = await page_through(books, books.token("analyst"))
    assert len(entries) > 50
    debit: dict[str, Decimal] = defaultdict(Decimal)
    credit: dict[str, Decimal] = defaultdict(Decimal)
    cash: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        assert entry["postedAt"][:7] == "2026-10"
        entry_debit = sum(Decimal(line["debit"]["amount"]) for line in entry["lines"])
        assert entry_debit == sum(Decimal(line["credit"]["amount"]) for line in entry["lines"]), entry
        debit[entry["currency"]] += entry_debit
        for line in entry["lines"]:
            credit[entry["currency"]] += Decimal(line["credit"]["amount"])
            if line["account"] == "CASH_CLEARING":
                cash[entry["currency"]] += Decimal(line["debit"]["amount"]) - Decimal(line["credit"]["amount"])
    assert debit == credit
    # The month's cash lines are the month's captures less its refunds in the payment ledger.
    money = sa.case(
        (PaymentTransaction.kind == PaymentTransactionKind.CAPTURE, PaymentTransaction.amount_minor),
        (PaymentTransaction.kind == PaymentTransactionKind.REFUND, -PaymentTransaction.amount_minor),
        else_=0,
    )
    query = (
        sa.select(Payment.currency, sa.func.sum(money))
        .join(Payment, Payment.id == PaymentTransaction.payment_id)
        .where(
            PaymentTransaction.created_at >= datetime(2026, 10, 1, tzinfo=UTC),
            PaymentTransaction.created_at < datetime(2026, 11, 1, tzinfo=UTC),
        )
        .group_by(Payment.currency)
    )
    async with books.db.read() as session:
        ledger = {currency: Decimal(int(total)) / 100 for currency, total in (await session.exec(query)).all()}
    assert dict(cash) == ledger

    # The CSV: one row per line, in the same order, for admins, agents and analysts alike.
    for role in ("admin", "agent", "analyst"):
        response = await books.client.get(
            f"/accounting/entries.csv?from={MONTH[0]}&to={MONTH[1]}",
            headers={"Authorization": f"Bearer {books.token(role)}"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        expected = [
            (e["documentNumber"], e["kind"], line["account"], line["debit"]["amount"], line["credit"]["amount"])
            for e in entries
            for line in e["lines"]
        ]
        assert [(r["document_number"], r["kind"], r["account"], r["debit"], r["credit"]) for r in rows] == expected
    # Paging in other sizes gives the same entries.
    assert await page_through(books, books.token("agent"), first=100) == entries


def customer_token() -> str:
    """The first seeded customer's."""
    subject = encode_global_id("Customer", 1)
    return issue_token(TEST_SECRET, role=Role.CUSTOMER, subject=subject, name="Customer", ttl_seconds=600)


async def test_bad_input_and_customers_get_coded_errors(books: Api) -> None:
    analyst = books.token("analyst")
    cases = [
        ({"from": "2026-10-31", "to": "2026-10-01"}, "BAD_USER_INPUT"),  # from after to
        ({"from": "2026-10-01", "to": "2026-10-31", "first": 100_000}, "BAD_USER_INPUT"),
        ({"from": "9999-12-01", "to": "9999-12-31"}, "BAD_USER_INPUT"),
        ({"from": "2000-01-01", "to": "2026-10-31"}, "BAD_USER_INPUT"),  # more than five years
        ({"from": "2026-10-01", "to": "2026-10-31", "first": -1}, "BAD_USER_INPUT"),
        ({"from": "2026-10-01", "to": "2026-10-31", "after": "not-a-cursor"}, "BAD_USER_INPUT"),
    ]
    for variables, code in cases:
        body = (await books.post(ENTRIES, variables, token=analyst)).json()
        assert body["errors"][0]["extensions"]["code"] == code, (variables, body)
        assert body["data"] is None or body["data"]["accountingEntries"] is None
    for bad_day in ("2026-13-01", "yesterday", "2026-10-01T00:00:00"):
        body = (await books.post(ENTRIES, {"from": bad_day, "to": "2026-10-31"}, token=analyst)).json()
        assert body["errors"][0]["extensions"]["code"], body
    customer = (await books.post(ENTRIES, {"from": MONTH[0], "to": MONTH[1]}, token=customer_token())).json()
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    def get(query: str, token: str | None) -> object:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return books.client.get(f"/accounting/entries.csv{query}", headers=headers)

    for query in ("", "?from=2026-10-01", "?from=2026-10-31&to=2026-10-01", "?from=2026-1-1&to=2026-10-01"):
        response = await get(query, analyst)
        assert response.status_code == 400, query
        assert response.json()["error"] == "BAD_USER_INPUT"
    assert (await get(f"?from={MONTH[0]}&to={MONTH[1]}", customer_token())).status_code == 403
    assert (await get(f"?from={MONTH[0]}&to={MONTH[1]}", None)).status_code == 401
