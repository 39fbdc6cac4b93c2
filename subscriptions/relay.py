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

import sqlalchemy as sa
from broadcaster import Broadcast
from sqlmodel import select

from ordergraph.models.database import Database
from ordergraph.models.event import EventRelay, OrderEvent
from ordergraph.subscriptions.background import cancel_and_wait
from ordergraph.subscriptions.backoff import Backoff
from ordergraph.subscriptions.wire import encode_event

logger = logging.getLogger("ordergraph.relay")

BATCH_SIZE = 500


class OutboxRelay:
    def __init__(self, db: Database, broadcast: Broadcast, *, channel: str, poll_seconds: float) -> None:
        self.db = db
        self.broadcast = broadcast
        self.channel = channel
        self.poll_seconds = poll_seconds
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """A local change has committed events: publish them now rather than at the next poll."""
        self._woken.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

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
                return False
            for event in events:
                await self.broadcast.publish(self.channel, encode_event(event))
            relay.published_sequence = events[-1].sequence
        return True

    async def _behind(self) -> bool:
        """Whether anything is committed after the watermark (read without the lock: polls are cheap)."""
        newest = select(sa.func.max(OrderEvent.sequence)).scalar_subquery()
        async with self.db.read() as session:
            published, last = (await session.exec(select(EventRelay.published_sequence, newest))).one()
        return last is not None and last > published
