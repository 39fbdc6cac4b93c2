"""The event log, written in the same transaction as the change it records (the outbox).

Every change runs inside `change()`. Its events are inserted last, just before commit, with sequence
numbers taken under a lock that is held until that commit: the next writer to number events waits
for it, so numbers are handed out in commit order and a reader resuming `after: N` never skips a
lower number that commits later. On PostgreSQL the lock is a transaction-level advisory lock; SQLite
writers are serialised already (BEGIN IMMEDIATE). After commit the outbox relay (subscriptions.relay)
publishes them; `has_numbered_events` tells the session's owner that there is something to publish.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from enum import StrEnum
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Order, OrderEvent
from ordergraph.models.enums import ActorKind, EventType, EventVisibility
from ordergraph.resolvers.access import Role, Viewer, internal_text

WriteSession = Callable[[], AbstractAsyncContextManager[AsyncSession]]

_PENDING = "ordergraph.pending_events"
_NUMBERED = "ordergraph.numbered_events"
# Any constant shared by every writer of the log; the value spells "og-seq".
_SEQUENCE_LOCK_KEY = 0x6F672D736571


@asynccontextmanager
async def change(write: WriteSession) -> AsyncIterator[AsyncSession]:
    """One change: a write transaction that commits whole, its events numbered in commit order."""
    async with write() as session:
        yield session
        await _insert_pending_events(session)


def append_event(
    session: AsyncSession,
    *,
    customer_id: int,
    type: EventType,
    message: str,
    visibility: EventVisibility,
    actor: tuple[ActorKind, str | None],
    order: Order | None = None,
    reason_code: StrEnum | None = None,
    internal_note: str | None = None,
    shipment_id: int | None = None,
    return_id: int | None = None,
) -> OrderEvent:
    """Records an event of this change; it gets its sequence number when the change commits.

    `message` is read by everyone who may see the event (a CUSTOMER-visible one: the customer, their emails and
    texts), so it never quotes what a person wrote for agents: that is `internal_note`, which only agents read.
    `reason_code` is a cancellation's or a hold's code, which the message is built from. `shipment_id` and
    `return_id` name the parcel or the return the event is about (notifications tell of that one)."""
    event = OrderEvent(
        order_id=order.id if order else None,
        customer_id=customer_id,
        type=type,
        message=message,
        visibility=visibility,
        reason_code=reason_code.value if reason_code is not None else None,
        internal_note=internal_note,
        actor_kind=actor[0],
        actor_name=actor[1],
        shipment_id=shipment_id,
        return_id=return_id,
    )
    session.info.setdefault(_PENDING, []).append(event)
    return event


def has_numbered_events(session: AsyncSession) -> bool:
    """Whether this session's transaction wrote events (once it has committed, they await the relay)."""
    return session.info.get(_NUMBERED, False)


CANCELLATION_EVENTS = frozenset({EventType.ORDER_CANCELLED, EventType.LINES_CANCELLED})
HOLD_EVENTS = frozenset({EventType.ORDER_HELD})
Code = TypeVar("Code", bound=StrEnum)


def reason_code(event: OrderEvent, codes: type[Code], types: frozenset[EventType]) -> Code | None:
    """The event's reason code as one of `codes`, when it is an event of `types` that has one."""
    if event.type not in types or event.reason_code is None:
        return None
    return codes(event.reason_code)


def with_internal_note(viewer: Viewer, event: OrderEvent, message: str | None) -> str | None:
    """The event's message as this viewer reads it (`message`: what the viewer may read of the stored one), with
    the event's internal note after it for agents, so that a console showing messages shows the note too."""
    note = internal_text(viewer, event.internal_note)
    if note is None:
        return message
    return f"{message} Internal note: {note}" if message else f"Internal note: {note}"


def actor_of(viewer: Viewer) -> tuple[ActorKind, str | None]:
    return (ActorKind.CUSTOMER if viewer.role is Role.CUSTOMER else ActorKind.AGENT, viewer.name)


SYSTEM = (ActorKind.SYSTEM, None)


async def _insert_pending_events(session: AsyncSession) -> None:
    """Numbers and inserts the change's events: the change's other writes are flushed first, so that only the
    lock and one INSERT (whose statement reads the highest number once the lock is held) come after it."""
    events: list[OrderEvent] = session.info.pop(_PENDING, [])
    if not events:
        return
    await session.flush()
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_SEQUENCE_LOCK_KEY)))
    last = sa.select(sa.func.coalesce(sa.func.max(col(OrderEvent.sequence)), 0)).scalar_subquery()
    # One statement for all (executemany, sent as one INSERT of many rows), compiled once per process.
    numbered = await connection.execute(
        sa.insert(OrderEvent)
        .values(sequence=last + sa.bindparam("n", type_=sa.BigInteger))
        .returning(col(OrderEvent.id), col(OrderEvent.sequence)),
        [
            {**{name: getattr(event, name) for name in _EVENT_COLUMNS}, "n": n}
            for n, event in enumerate(events, start=1)
        ],
    )
    # The statement numbered them last + 1, last + 2, … in the order they were appended.
    ids = dict(sorted((sequence, id_) for id_, sequence in numbered.all()))
    for event, (sequence, id_) in zip(events, ids.items(), strict=True):
        event.id, event.sequence = id_, sequence
    session.info[_NUMBERED] = True


# Every column but the two the INSERT gives (the id, and the sequence number taken under the lock).
_EVENT_COLUMNS = tuple(key for key in sa.inspect(OrderEvent).columns.keys() if key not in ("id", "sequence"))
