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

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Order, OrderEvent
from ordergraph.models.enums import ActorKind, EventType, EventVisibility
from ordergraph.resolvers.access import Role, Viewer

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
) -> OrderEvent:
    """Records an event of this change; it gets its sequence number when the change commits."""
    event = OrderEvent(
        order_id=order.id if order else None,
        customer_id=customer_id,
        type=type,
        message=message,
        visibility=visibility,
        actor_kind=actor[0],
        actor_name=actor[1],
    )
    session.info.setdefault(_PENDING, []).append(event)
    return event


def has_numbered_events(session: AsyncSession) -> bool:
    """Whether this session's transaction wrote events (once it has committed, they await the relay)."""
    return session.info.get(_NUMBERED, False)


def actor_of(viewer: Viewer) -> tuple[ActorKind, str | None]:
    return (ActorKind.CUSTOMER if viewer.role is Role.CUSTOMER else ActorKind.AGENT, viewer.name)


SYSTEM = (ActorKind.SYSTEM, None)


async def _insert_pending_events(session: AsyncSession) -> None:
    events: list[OrderEvent] = session.info.pop(_PENDING, [])
    if not events:
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.exec(select(sa.func.pg_advisory_xact_lock(_SEQUENCE_LOCK_KEY)))
    last = (await session.exec(select(sa.func.coalesce(sa.func.max(col(OrderEvent.sequence)), 0)))).one()
    assert last is not None  # COALESCE(MAX(sequence), 0) is never NULL
    for number, event in enumerate(events, start=last + 1):
        event.sequence = number
    session.add_all(events)
    await session.flush()
    session.info[_NUMBERED] = True
