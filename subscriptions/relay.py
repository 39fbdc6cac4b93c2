"""The outbox relay: publishes committed events to the broadcast channel, in sequence order.

Events get their sequence numbers in commit order as they are written (resolvers.events); the relay only
carries them. Its published watermark lives in the database (`event_relay`), locked while a batch is
published, so the relays of several processes take turns and never skip anything: an event committed by
a process that died before publishing, or while Redis was down, is still after the watermark and the next
relay pass (any process's; each polls) publishes it. A crash after publishing but before the watermark moves
publishes a batch twice; every process drops what it has already seen (subscriptions.hub).
"""

import asyncio
import logging
from collections.abc import Callable

import sqlalchemy as sa
from broadcaster import Broadcast
from opentelemetry import trace
from sqlmodel import select

from ordergraph.models.database import Database
from ordergraph.models.event import EventRelay, OrderEvent
from ordergraph.subscriptions.background import cancel_and_wait
from ordergraph.subscriptions.backoff import Backoff
from ordergraph.subscriptions.wire import encode_event

logger = logging.getLogger("ordergraph.relay")

BATCH_SIZE = 500
MAX_LINKS = 32  # writers a batch's span links to, at most


class OutboxRelay:
    def __init__(self, db: Database, broadcast: Broadcast, *, channel: str, poll_seconds: float) -> None:
        self.db = db
        self.broadcast = broadcast
        self.channel = channel
        self.poll_seconds = poll_seconds
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Told (events just published, lag: newest committed sequence minus newest published) after each
        # look at the outbox; the server's metrics listen.
        self.observe: Callable[[int, int], None] = lambda published, lag: None
        # OpenTelemetry (server/tracing.py): the publish of a batch is a span, a child of the first write that
        # woke the relay since the last batch and linked to the others, so a change is followed to its delivery.
        self.tracer: trace.Tracer = trace.NoOpTracer()
        self._wakers: list[trace.SpanContext] = []

    def wake(self, by: trace.SpanContext | None = None) -> None:
        """A local change has committed events: publish them now rather than at the next poll. `by`: the
        change's span, when traced."""
        if by is not None and len(self._wakers) < MAX_LINKS:
            self._wakers.append(by)
        self._woken.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, *, flush_seconds: float = 0.0) -> None:
        """Stops polling; with flush_seconds, first publishes what is committed, for at most that long (a
        process draining hands nothing over it could carry itself; what it cannot, the next relay does)."""
        if self._task is not None:
            await cancel_and_wait(self._task)
        if flush_seconds > 0:
            try:
                await asyncio.wait_for(self.publish_pending(), flush_seconds)
            except Exception as error:  # noqa: BLE001  (the outbox keeps it for another process's relay)
                logger.warning("outbox relay could not flush on stop: %r", error)

    async def _run(self) -> None:
        backoff = Backoff(logger, "outbox relay could not publish (%r); retrying in %.2fs")
        while True:
            try:
                await asyncio.wait_for(self._woken.wait(), self.poll_seconds)
            except TimeoutError:
                pass  # the poll: other processes' commits, and whatever they failed to publish
            self._woken.clear()
            try:
                await self.publish_pending()
                backoff.reset()
            except Exception as error:  # noqa: BLE001  (Redis or the database away: the events wait in the outbox)
                await backoff.failed(error)
                self._woken.set()

    async def publish_pending(self) -> None:
        while await self._publish_batch():
            pass

    async def _publish_batch(self) -> bool:
        """Publishes the next batch after the watermark and moves it; False when there was nothing."""
        if not await self._behind():
            return False
        wakers, self._wakers = self._wakers, []
        parent = trace.set_span_in_context(trace.NonRecordingSpan(wakers[0])) if wakers else None
        with self.tracer.start_as_current_span(
            "relay publish", context=parent, kind=trace.SpanKind.PRODUCER, links=[trace.Link(w) for w in wakers]
        ) as span:
            published = await self._publish_locked()
            span.set_attribute("ordergraph.events", published)
        if not published:
            return False
        self.observe(published, 0)
        return True

    async def _publish_locked(self) -> int:
        """Publishes the next batch under the watermark's lock and moves it; the number of events published."""
        async with self.db.write() as session:
            relay = (await session.exec(select(EventRelay).where(EventRelay.id == 1).with_for_update())).one()
            events = (
                await session.exec(
                    select(OrderEvent)
                    .where(OrderEvent.sequence > relay.published_sequence)
                    .order_by(OrderEvent.sequence)
                    .limit(BATCH_SIZE)
                )
            ).all()
            if not events:
                return 0
            for event in events:
                await self.broadcast.publish(self.channel, encode_event(event))
            relay.published_sequence = events[-1].sequence
        return len(events)

    async def _behind(self) -> bool:
        """Whether anything is committed after the watermark (read without the lock: polls are cheap)."""
        newest = select(sa.func.max(OrderEvent.sequence)).scalar_subquery()
        async with self.db.read() as session:
            published, last = (await session.exec(select(EventRelay.published_sequence, newest))).one()
        self.observe(0, max(0, (last or 0) - published))
        return last is not None and last > published
