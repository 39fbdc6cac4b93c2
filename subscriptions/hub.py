"""This process's end of the broadcast channel: one subscription to it, fanned out to local subscribers.

The hub keeps `position`, the newest sequence it has passed on. Whatever reaches it with a number it has
passed is a duplicate and dropped; a number beyond the next means something was missed (a lost message,
a Redis restart) and the gap is read back from the database, once for the whole process, before going on.
So every local subscriber sees each event once, in sequence order.

Each subscriber has a bounded queue. The hub never waits for one: when a subscriber's queue is full the
event is dropped for it and it is marked lagging, and it catches up from the database itself before
taking more from its queue. Memory stays bounded and a slow subscriber never delays the others.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import sqlalchemy as sa
from broadcaster import Broadcast
from broadcaster._base import Subscriber as Inbox
from sqlmodel import select

from ordergraph.loaders import Loaders
from ordergraph.models import OrderEvent
from ordergraph.models.database import Database
from ordergraph.subscriptions.background import cancel_and_wait
from ordergraph.subscriptions.backoff import Backoff
from ordergraph.subscriptions.interests import CustomerOrders, Interest, OneOrder
from ordergraph.subscriptions.wire import RESUBSCRIBED, decode_event, encode_payload

logger = logging.getLogger("ordergraph.hub")

PAGE_SIZE = 500


class Delivery:
    """One event as delivered: its loaders are made when first asked for, fresh for this event, and shared by
    every local subscriber it is delivered to, as are the executions of their selections (`executions`, keyed
    by document, variables and viewer: see schema.subscription) and the encoding of each execution's result
    (`payload`): subscribers with the same execution are sent the same text, only their ids differ."""

    __slots__ = ("_counts", "_db", "_loaders", "_payloads", "event", "executions")

    def __init__(self, event: OrderEvent, db: Database) -> None:
        self.event = event
        self._db = db
        self._loaders: Loaders | None = None
        self.executions: dict[tuple, object] = {}  # schema.subscription.SharedExecution by key
        # id(data) -> (data, extensions, encoded payload); the data is held, so its id is not reused meanwhile.
        self._payloads: dict[int, tuple[dict, dict | None, str]] = {}
        # id(data) -> (data, its object count): the actual cost of a shared result, counted once.
        self._counts: dict[int, tuple[dict, int]] = {}

    def payload(self, data: dict, extensions: dict | None) -> str:
        """The `next` message's payload (subscriptions.wire.encode_payload) for a result of this event: encoded
        once per shared execution result (the same `data` object) with equal extensions."""
        cached = self._payloads.get(id(data))
        if cached is not None and cached[0] is data and cached[1] == extensions:
            return cached[2]
        encoded = encode_payload(data, extensions)
        self._payloads[id(data)] = (data, extensions, encoded)
        return encoded

    def object_count(self, data: dict, count: Callable[[dict], int]) -> int:
        """`count(data)` for a result of this event, worked out once per shared execution result (the same
        `data` object) rather than once per subscriber it is sent to."""
        cached = self._counts.get(id(data))
        if cached is not None and cached[0] is data:
            return cached[1]
        counted = count(data)
        self._counts[id(data)] = (data, counted)
        return counted

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self._db)
        return self._loaders


@dataclass(eq=False)
class LiveSubscriber:
    interest: Interest
    queue: asyncio.Queue[Delivery]
    last_sequence: int
    lagging: bool = False

    def offer(self, delivery: Delivery) -> None:
        try:
            self.queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.lagging = True


@dataclass
class _Subscribers:
    by_customer: dict[int, set[LiveSubscriber]] = field(default_factory=lambda: defaultdict(set))
    by_order: dict[int, set[LiveSubscriber]] = field(default_factory=lambda: defaultdict(set))
    everything: set[LiveSubscriber] = field(default_factory=set)

    def bucket(self, interest: Interest) -> set[LiveSubscriber]:
        if isinstance(interest, CustomerOrders):
            return self.by_customer[interest.customer_id]
        if isinstance(interest, OneOrder):
            return self.by_order[interest.order_id]
        return self.everything

    def add(self, subscriber: LiveSubscriber) -> None:
        self.bucket(subscriber.interest).add(subscriber)

    def remove(self, subscriber: LiveSubscriber) -> None:
        bucket = self.bucket(subscriber.interest)
        bucket.discard(subscriber)
        if not bucket and isinstance(subscriber.interest, CustomerOrders):
            del self.by_customer[subscriber.interest.customer_id]
        elif not bucket and isinstance(subscriber.interest, OneOrder):
            del self.by_order[subscriber.interest.order_id]

    def interested_in(self, event: OrderEvent) -> list[LiveSubscriber]:
        candidates = [*self.by_customer.get(event.customer_id, ()), *self.everything]
        if event.order_id is not None:
            candidates.extend(self.by_order.get(event.order_id, ()))
        return [s for s in candidates if s.interest.matches(event)]


class Hub:
    def __init__(self, db: Database, broadcast: Broadcast, *, channel: str, queue_size: int) -> None:
        self.db = db
        self.channel = channel
        self.broadcast = broadcast
        self.queue_size = queue_size
        self.position = 0
        self._subscribers = _Subscribers()
        self._exit_stack = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None
        # The database is the only source of what was missed: back-filling waits for it rather than skip anything.
        self._back_fill_backoff = Backoff(logger, "event hub cannot read the database (%r); retrying in %.2fs")
        # Told the number of events each finished back-fill passed on; the server's metrics listen.
        self.observe_back_fill: Callable[[int], None] = lambda events: None

    async def start(self) -> None:
        # Subscribe before reading the position: anything committed in between arrives on the channel.
        inbox = await self._exit_stack.enter_async_context(self.broadcast.subscribe(self.channel))
        self.position = await self._newest_sequence()
        self._task = asyncio.create_task(self._run(inbox), name="event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        await self._exit_stack.aclose()

    async def stream(self, interest: Interest, after: int | None) -> AsyncIterator[Delivery]:
        """The events of `interest` after sequence `after` from the database, then live, with no gap and no
        duplicate; without `after`, live from now."""
        subscriber = LiveSubscriber(
            interest,
            asyncio.Queue(self.queue_size),
            last_sequence=self.position if after is None else after,
            lagging=after is not None,
        )
        # Registered before replaying: what is published meanwhile waits in the queue (or marks it lagging).
        self._subscribers.add(subscriber)
        try:
            while True:
                if subscriber.lagging:
                    subscriber.lagging = False
                    up_to = self.position  # everything up to here is committed and has been offered
                    async for delivery in self._replay(interest, subscriber.last_sequence, up_to):
                        subscriber.last_sequence = delivery.event.sequence
                        yield delivery
                    subscriber.last_sequence = max(subscriber.last_sequence, up_to)
                    continue
                delivery = await subscriber.queue.get()
                if delivery.event.sequence > subscriber.last_sequence:
                    subscriber.last_sequence = delivery.event.sequence
                    yield delivery
        finally:
            self._subscribers.remove(subscriber)

    async def _run(self, inbox: Inbox) -> None:
        async for message in inbox:
            if message.message == RESUBSCRIBED:
                await self._back_fill_backoff.retry(self._back_fill)
                continue
            try:
                event = decode_event(message.message)
            except (ValueError, TypeError, KeyError):
                logger.exception("dropped a message that is not an event: %r", message.message[:200])
                continue
            if event.sequence <= self.position:
                continue
            if event.sequence > self.position + 1:
                await self._back_fill_backoff.retry(self._back_fill)
            if event.sequence == self.position + 1:
                self._dispatch(event)

    def _dispatch(self, event: OrderEvent) -> None:
        self.position = event.sequence
        subscribers = self._subscribers.interested_in(event)
        if subscribers:
            delivery = Delivery(event, self.db)
            for subscriber in subscribers:
                subscriber.offer(delivery)

    async def _back_fill(self) -> None:
        """Passes on everything committed after `position`, read from the database."""
        passed_on = 0
        while True:
            async with self.db.read() as session:
                events = (
                    await session.exec(
                        select(OrderEvent)
                        .where(OrderEvent.sequence > self.position)
                        .order_by(OrderEvent.sequence)
                        .limit(PAGE_SIZE)
                    )
                ).all()
            for event in events:
                self._dispatch(event)
            passed_on += len(events)
            if len(events) < PAGE_SIZE:
                self.observe_back_fill(passed_on)
                return

    async def _replay(self, interest: Interest, after: int, up_to: int) -> AsyncIterator[Delivery]:
        while after < up_to:
            async with self.db.read() as session:
                events = (
                    await session.exec(
                        select(OrderEvent)
                        .where(OrderEvent.sequence > after, OrderEvent.sequence <= up_to, *interest.where())
                        .order_by(OrderEvent.sequence)
                        .limit(PAGE_SIZE)
                    )
                ).all()
            for event in events:
                yield Delivery(event, self.db)
            if len(events) < PAGE_SIZE:
                return
            after = events[-1].sequence

    async def _newest_sequence(self) -> int:
        async with self.db.read() as session:
            return (await session.exec(select(sa.func.coalesce(sa.func.max(OrderEvent.sequence), 0)))).one()
