"""What the invoicing tests share: the documents of an order through the API, and the ledgers from the database."""

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from conftest import Api

from ordergraph.models import JournalEntry, JournalLine, Payment, PaymentTransaction
from ordergraph.models.enums import PaymentTransactionKind
from ordergraph.models.journal import Account

ORDER_INVOICES = """
query($id: ID!) { node(id: $id) { ... on Order {
  number
  payments { capturedAmount { amount } refundedAmount { amount } }
  invoices {
    number issuedAt currency pdfUrl
    total { amount currency } netTotal { amount } taxTotal { amount }
    seller { name taxId address { line1 city country } }
    buyer { name email taxId address { line1 city postalCode country } }
    lines {
      sku description quantity isShipping unitPrice { amount } taxRate net { amount } tax { amount } total { amount }
    }
    taxes { rate taxableAmount { amount } tax { amount } total { amount } }
    creditNotes {
      number corrects pdfUrl total { amount } taxTotal { amount }
      lines { sku quantity isShipping net { amount } tax { amount } total { amount } }
      taxes { rate tax { amount } }
    }
  }
} } }
"""


async def order_documents(shop: Api, order_id: str, token: str | None = None) -> dict:
    body = (await shop.post(ORDER_INVOICES, {"id": order_id}, token=token or shop.token("agent"))).json()
    assert "errors" not in body, body
    return body["data"]["node"]


def amount(money: dict) -> Decimal:
    return Decimal(money["amount"])


def credit_notes(order: dict) -> dict[str, dict]:
    """Every credit note of the order, by number."""
    return {note["number"]: note for invoice in order["invoices"] for note in invoice["creditNotes"]}


def assert_documents_balance(order: dict) -> None:
    """Σ invoices − Σ credit notes = captured − refunded, and every document adds up line by line and per rate."""
    captured = sum(amount(p["capturedAmount"]) for p in order["payments"])
    refunded = sum(amount(p["refundedAmount"]) for p in order["payments"])
    invoiced = sum(amount(i["total"]) for i in order["invoices"])
    credited = sum(amount(n["total"]) for n in credit_notes(order).values())
    assert invoiced == captured, order
    assert credited == refunded, order
    for document in [*order["invoices"], *credit_notes(order).values()]:
        lines = document["lines"]
        assert sum(amount(li["total"]) for li in lines) == amount(document["total"])
        assert all(amount(li["net"]) + amount(li["tax"]) == amount(li["total"]) for li in lines)
        assert sum(amount(t["tax"]) for t in document["taxes"]) == amount(document["taxTotal"])


async def ledger_minor(shop: Api, order_db_id: int | None = None) -> dict[str, tuple[int, int]]:
    """Per currency: (captured, refunded) in the payment ledger."""
    query = (
        sa.select(Payment.currency, PaymentTransaction.kind, sa.func.sum(PaymentTransaction.amount_minor))
        .join(Payment, Payment.id == PaymentTransaction.payment_id)
        .where(PaymentTransaction.kind.in_([PaymentTransactionKind.CAPTURE, PaymentTransactionKind.REFUND]))
        .group_by(Payment.currency, PaymentTransaction.kind)
    )
    if order_db_id is not None:
        query = query.where(Payment.order_id == order_db_id)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    async with shop.db.read() as session:
        for currency, kind, total in (await session.exec(query)).all():
            totals[currency][0 if kind == PaymentTransactionKind.CAPTURE else 1] += int(total)
    return {c: (v[0], v[1]) for c, v in totals.items()}


async def assert_journal_balances(shop: Api, order_db_id: int | None = None) -> dict[str, int]:
    """Every entry balances; returns the CASH_CLEARING balance (debit − credit) per currency, which must equal
    captured − refunded in the payment ledger."""
    query = sa.select(
        JournalEntry.id, JournalEntry.currency, JournalLine.account, JournalLine.debit_minor, JournalLine.credit_minor
    ).join(JournalLine, JournalLine.entry_id == JournalEntry.id)
    if order_db_id is not None:
        query = query.where(JournalEntry.order_id == order_db_id)
    per_entry: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    cash: dict[str, int] = defaultdict(int)
    async with shop.db.read() as session:
        for entry_id, currency, account, debit, credit in (await session.exec(query)).all():
            per_entry[entry_id][0] += debit
            per_entry[entry_id][1] += credit
            if account == Account.CASH_CLEARING:
                cash[currency] += debit - credit
    assert per_entry, "no journal entries"
    unbalanced = {e: v for e, v in per_entry.items() if v[0] != v[1]}
    assert unbalanced == {}
    ledger = await ledger_minor(shop, order_db_id)
    assert dict(cash) == {c: captured - refunded for c, (captured, refunded) in ledger.items()}
    return dict(cash)
