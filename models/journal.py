"""The accounting journal: one balanced entry per invoice, credit note, capture and refund (docs/domain.md,
Accounting), written in the transaction that issues or moves the money.

Accounts (one chart for every market; amounts in the entry's currency):

    RECEIVABLES       what customers owe: debited by invoices, credited by captures (and the reverse for credit
                      notes and refunds), so it nets to zero for an order whose documents follow its payments
    CASH_CLEARING     money at the payment gateway: debited by captures, credited by refunds
    REVENUE           goods, net of tax: credited by invoices, debited by credit notes
    SHIPPING_REVENUE  shipping, net of tax: likewise
    TAX_PAYABLE       tax collected, one account with the rate on each line (a tax report groups by it)

Invariants: every entry balances (Σ debit = Σ credit); a line has a debit or a credit, never both, never
negative; Σ CASH_CLEARING (debit − credit) per currency = captured − refunded in the payment ledger. A capture's
or refund's entries, its documents and its ledger rows carry one timestamp, so any period reconciles exactly.
"""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.invoice import SHIPPING, DocumentKind, Part, tax_summary


class Account(StrEnum):
    RECEIVABLES = "RECEIVABLES"
    CASH_CLEARING = "CASH_CLEARING"
    REVENUE = "REVENUE"
    SHIPPING_REVENUE = "SHIPPING_REVENUE"
    TAX_PAYABLE = "TAX_PAYABLE"


class JournalEntryKind(StrEnum):
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"
    CAPTURE = "CAPTURE"
    REFUND = "REFUND"


class JournalEntry(SQLModel, table=True):
    """One booking. `document_number` is the invoice or credit note it books, or (a capture, a refund) the one
    issued with it."""

    __tablename__ = "journal_entry"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: JournalEntryKind = Field(sa_type=enum_column(JournalEntryKind))
    currency: str = Field(max_length=3)
    order_id: int = Field(sa_type=BigIntId, foreign_key="orders.id", index=True)
    order_number: str
    document_number: str = Field(max_length=40)

    __table_args__ = (sa.Index("ix_journal_entry_posted", "posted_at", "id"),)


class JournalLine(SQLModel, table=True):
    __tablename__ = "journal_line"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    entry_id: int = Field(sa_type=BigIntId, foreign_key="journal_entry.id", index=True)
    position: int
    account: Account = Field(sa_type=enum_column(Account))
    debit_minor: int = 0
    credit_minor: int = 0
    # TAX_PAYABLE lines: the rate, in parts per million.
    tax_rate_ppm: int | None = None

    __table_args__ = (
        sa.CheckConstraint(
            "debit_minor >= 0 AND credit_minor >= 0 AND (debit_minor = 0 OR credit_minor = 0)", name="one_side"
        ),
    )


# An entry's lines before they are written: (account, debit, credit, tax rate ppm).
Posting = tuple[Account, int, int, int | None]


def document_postings(
    kind: JournalEntryKind,
    total_minor: int,
    goods_net: int,
    shipping_net: int,
    tax_by_rate: list[tuple[int | None, int]],
) -> list[Posting]:
    """An invoice: receivables debited with its total, revenue, shipping revenue and tax per rate credited; a
    credit note the mirror image. Balanced because total = goods net + shipping net + Σ tax."""
    invoice = kind is JournalEntryKind.INVOICE
    postings: list[Posting] = [_side(Account.RECEIVABLES, total_minor, debit=invoice, rate=None)]
    postings.append(_side(Account.REVENUE, goods_net, debit=not invoice, rate=None))
    postings.append(_side(Account.SHIPPING_REVENUE, shipping_net, debit=not invoice, rate=None))
    postings.extend(_side(Account.TAX_PAYABLE, tax, debit=not invoice, rate=ppm) for ppm, tax in tax_by_rate)
    return [p for p in postings if p[1] or p[2]]


def entry_for_document(kind: DocumentKind, parts: Sequence[Part]) -> tuple[JournalEntryKind, list[Posting]]:
    """The entry booking an invoice or credit note made of these parts."""
    entry = JournalEntryKind.INVOICE if kind is DocumentKind.INVOICE else JournalEntryKind.CREDIT_NOTE
    goods = sum(p.net_minor for p in parts if p.key != SHIPPING)
    shipping = sum(p.net_minor for p in parts if p.key == SHIPPING)
    taxes = [(ppm, tax) for ppm, _net, tax in tax_summary(parts)]
    return entry, document_postings(entry, sum(p.gross_minor for p in parts), goods, shipping, taxes)


def money_postings(kind: JournalEntryKind, amount_minor: int) -> list[Posting]:
    """A capture moves receivables into the gateway's clearing account; a refund moves it back."""
    capture = kind is JournalEntryKind.CAPTURE
    return [
        _side(Account.CASH_CLEARING, amount_minor, debit=capture, rate=None),
        _side(Account.RECEIVABLES, amount_minor, debit=not capture, rate=None),
    ]


def _side(account: Account, amount: int, *, debit: bool, rate: int | None) -> Posting:
    """A posting of `amount` on the debit (or credit) side; a negative amount goes to the other side."""
    if amount < 0:
        amount, debit = -amount, not debit
    return (account, amount, 0, rate) if debit else (account, 0, amount, rate)
