"""A broadcaster backend over Redis pub/sub that survives Redis restarts.

broadcaster 0.3.1's own Redis backend delivers nothing with redis-py 8 and its listener dies for good when
the connection drops. This one keeps one subscribing connection per process; when it drops, it reconnects
with backoff, subscribes again and tells the listener so (a `RESUBSCRIBED` event per channel), because
pub/sub keeps nothing for a subscriber that was away: what was published meanwhile must come from the
database. Publishing raises while Redis is down; the outbox relay retries.
"""

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ordergraph.subscriptions.background import cancel_and_wait
from ordergraph.subscriptions.backoff import Backoff
from ordergraph.subscriptions.wire import RESUBSCRIBED

logger = logging.getLogger("ordergraph.broadcast")

# How long a read waits before the listener looks at its channels again; also bounds how long a new
# channel waits to be subscribed.
POLL_SECONDS = 1.0


class RedisBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._publisher = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        # No silent reconnects inside redis-py on the subscribing connection: a reconnect must be seen here,
        # so that the listener hears about it and back-fills.
        self._subscriber = aioredis.from_url(
            url, socket_connect_timeout=2, health_check_interval=5, retry=Retry(NoBackoff(), 0)
        )
        self._channels: set[str] = set()
        self._channels_changed = asyncio.Event()
        self._published: asyncio.Queue[Event] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None

    @property
    def publisher(self) -> aioredis.Redis:
        """The client that publishes (server/tracing.py traces its calls; the subscribing one's endless listen is
        not a call to trace)."""
        return self._publisher

    async def connect(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="redis-broadcast-listener")

    async def disconnect(self) -> None:
        if self._listener is not None:
            await cancel_and_wait(self._listener)
        await self._publisher.aclose()
        await self._subscriber.aclose()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        self._channels_changed.set()

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        self._channels_changed.set()

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._published.get()

    async def _listen(self) -> None:
        backoff = Backoff(logger, "Redis subscription lost (%s); reconnecting in %.2fs")
        while True:
            while not self._channels:
                self._channels_changed.clear()
                await self._channels_changed.wait()
            pubsub = self._subscriber.pubsub()
            try:
                lost = await self._receive(pubsub, backoff)
            finally:
                try:
                    await pubsub.aclose()
                except (aioredis.RedisError, OSError):
                    pass
            await backoff.failed(lost)

    async def _receive(self, pubsub: aioredis.client.PubSub, backoff: Backoff) -> Exception:
        """Passes on what the subscription receives until its connection is lost; returns what lost it."""
        try:
            subscribed = await self._follow_channels(pubsub, set())
            while True:
                message = await pubsub.get_message(timeout=POLL_SECONDS)
                if message is None:
                    subscribed = await self._follow_channels(pubsub, subscribed)
                elif message["type"] == "subscribe":
                    backoff.reset()  # connected and listening again
                    self._published.put_nowait(Event(message["channel"].decode(), RESUBSCRIBED))
                elif message["type"] == "message":
                    self._published.put_nowait(Event(message["channel"].decode(), message["data"].decode()))
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as error:
            return error

    async def _follow_channels(self, pubsub: aioredis.client.PubSub, subscribed: set[str]) -> set[str]:
        """Subscribes to channels added since, unsubscribes from channels dropped since."""
        self._channels_changed.clear()
        wanted = set(self._channels)
        if wanted - subscribed:
            await pubsub.subscribe(*(wanted - subscribed))
        if subscribed - wanted:
            await pubsub.unsubscribe(*(subscribed - wanted))
        return wanted


def publishers(broadcast: Broadcast) -> list[aioredis.Redis]:
    """The Redis clients this broadcast publishes with (none for broadcaster's own backends)."""
    backend = getattr(broadcast, "_backend", None)
    return [backend.publisher] if isinstance(backend, RedisBackend) else []


def broadcast_for(url: str) -> Broadcast:
    """`redis://` and `rediss://` get the backend above; anything else (`memory://`) broadcaster's own."""
    if urlsplit(url).scheme in ("redis", "rediss"):
        return Broadcast(backend=RedisBackend(url))
    return Broadcast(url)
