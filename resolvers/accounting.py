"""The accounting journal: posting (in the transaction that issues a document or moves money) and the export
(`accountingEntries` and the CSV download) for admins, agents and analysts. Entries carry no personal data: an
order number, a document number, accounts and amounts.

The chart of accounts and the invariants are models.journal's. The export is keyset-paged on (posted_at, id)
within [from, to) in UTC; `from` must not be after `to`.
"""

import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Order
from ordergraph.models.columns import id_of
from ordergraph.models.invoice import Invoice, Part
from ordergraph.models.journal import (
    JournalEntry,
    JournalEntryKind,
    JournalLine,
    Posting,
    entry_for_document,
    money_postings,
)
from ordergraph.models.money import to_decimal
from ordergraph.models.tax import rate_of_ppm
from ordergraph.resolvers.access import require_staff
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import BadUserInput
from ordergraph.resolvers.pagination import Connection, Sort, page_size

ENTRY_SORT = Sort("accountingEntries", ("posted_at", "id"), descending=False)
MAX_RANGE_DAYS = 366 * 5
CSV_BATCH = 500
CSV_COLUMNS = (
    "entry_id",
    "posted_at",
    "kind",
    "order_number",
    "document_number",
    "currency",
    "account",
    "tax_rate",
    "debit",
    "credit",
)


async def post_document(session: AsyncSession, order: Order, document: Invoice, parts: Sequence[Part]) -> JournalEntry:
    """The entry booking an invoice (or credit note) with these lines."""
    kind, postings = entry_for_document(document.kind, parts)
    return await _post(session, order, kind, document.number, postings, at=document.issued_at)


async def post_money(
    session: AsyncSession,
    order: Order,
    kind: JournalEntryKind,
    amount_minor: int,
    document_number: str,
    *,
    at: datetime,
) -> JournalEntry:
    """The entry booking a capture or a refund at `at` (the ledger row's time), named by the document issued
    with it."""
    return await _post(session, order, kind, document_number, money_postings(kind, amount_minor), at=at)


async def _post(
    session: AsyncSession,
    order: Order,
    kind: JournalEntryKind,
    document_number: str,
    postings: list[Posting],
    *,
    at: datetime,
) -> JournalEntry:
    if sum(p[1] for p in postings) != sum(p[2] for p in postings):
        raise RuntimeError(f"unbalanced journal entry for {document_number}: {postings}")
    entry = JournalEntry(
        posted_at=at,
        kind=kind,
        currency=order.currency,
        order_id=id_of(order),
        order_number=order.number,
        document_number=document_number,
    )
    session.add(entry)
    await session.flush()
    for position, (account, debit, credit, ppm) in enumerate(postings, 1):
        session.add(
            JournalLine(
                entry_id=id_of(entry),
                position=position,
                account=account,
                debit_minor=debit,
                credit_minor=credit,
                tax_rate_ppm=ppm,
            )
        )
    return entry


# --- the export -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime  # exclusive


def period(from_: date, to: date) -> Period:
    """The days `from_` … `to`, both included, in UTC. BAD_USER_INPUT when `from` is after `to` or the range is
    longer than five years."""
    if from_ > to:
        raise BadUserInput("`from` must not be after `to`.")
    if to >= date.max:
        raise BadUserInput("`to` must be before the year 9999 ends.")
    if (to - from_).days > MAX_RANGE_DAYS:
        raise BadUserInput(f"A range spans at most {MAX_RANGE_DAYS} days.")
    start = datetime.combine(from_, time(), tzinfo=UTC)
    return Period(start, datetime.combine(to, time(), tzinfo=UTC) + timedelta(days=1))


def parse_day(value: str | None, name: str) -> date:
    """A query-string day (YYYY-MM-DD) for the CSV route; BAD_USER_INPUT otherwise."""
    try:
        if value is None or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadUserInput(f"`{name}` must be a day written YYYY-MM-DD.") from None


async def list_entries(ctx: RequestContext, span: Period, *, first: int | None, after: str | None) -> Connection:
    """A page of the journal in posting order, for admins, agents and analysts."""
    require_staff(ctx.viewer)
    size = page_size(first, ctx.max_page_size)
    cursor = ENTRY_SORT.decode(after, (datetime, int))
    async with ctx.read() as session:
        rows = await _entries(session, span, cursor, size + 1)
    return Connection(rows[:size], ENTRY_SORT, len(rows) > size, cursor is not None)


async def _entries(session: AsyncSession, span: Period, cursor: tuple | None, limit: int) -> list[JournalEntry]:
    query = select(JournalEntry).where(
        col(JournalEntry.posted_at) >= span.start, col(JournalEntry.posted_at) < span.end
    )
    if cursor is not None:
        posted, entry_id = cursor
        query = query.where(
            (col(JournalEntry.posted_at) > posted)
            | ((col(JournalEntry.posted_at) == posted) & (col(JournalEntry.id) > entry_id))
        )
    query = query.order_by(col(JournalEntry.posted_at), col(JournalEntry.id)).limit(limit)
    return list((await session.exec(query)).all())


async def entries_csv(ctx: RequestContext, span: Period) -> AsyncIterator[str]:
    """The journal lines of the period as CSV, streamed in pages of CSV_BATCH entries (the same order and rows as
    `accountingEntries`, one row per line). Access is checked before the first row: call `check_export` first."""
    cursor: tuple | None = None
    yield _csv_row(CSV_COLUMNS)
    while True:
        async with ctx.read() as session:
            entries = await _entries(session, span, cursor, CSV_BATCH)
            ids = [id_of(e) for e in entries]
            lines = (
                list(
                    (
                        await session.exec(
                            select(JournalLine)
                            .where(col(JournalLine.entry_id).in_(ids))
                            .order_by(col(JournalLine.entry_id), col(JournalLine.position))
                        )
                    ).all()
                )
                if ids
                else []
            )
        by_entry: dict[int, list[JournalLine]] = {}
        for line in lines:
            by_entry.setdefault(line.entry_id, []).append(line)
        chunk = io.StringIO()
        for entry in entries:
            for line in by_entry.get(id_of(entry), []):
                chunk.write(_csv_row(csv_values(entry, line)))
        if chunk.tell():
            yield chunk.getvalue()
        if len(entries) < CSV_BATCH:
            return
        cursor = (entries[-1].posted_at, id_of(entries[-1]))


def check_export(ctx: RequestContext) -> None:
    require_staff(ctx.viewer)


def csv_values(entry: JournalEntry, line: JournalLine) -> tuple[str, ...]:
    """One CSV row: amounts as decimals in the entry's currency, the rate as a decimal fraction."""
    rate = "" if line.tax_rate_ppm is None else str(rate_of_ppm(line.tax_rate_ppm))
    return (
        str(entry.id),
        entry.posted_at.isoformat(),
        entry.kind.value,
        entry.order_number,
        entry.document_number,
        entry.currency,
        line.account.value,
        rate,
        str(to_decimal(line.debit_minor, entry.currency)),
        str(to_decimal(line.credit_minor, entry.currency)),
    )


def _csv_row(values: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()
