"""Automatic persisted queries (Apollo's APQ): documents clients registered by the sha256 of their text, so that
later requests send the hash alone (schema/trusted_documents.py resolves them; the manifest's hashes never come
from here).

The embedded default keeps them in this process's memory, a bounded LRU; with Redis (production, many processes)
they live in Redis under `<prefix>:apq:<sha256>`, each for a day after it was registered, so that every process
knows what a client registered on any. Either way a document over the size bound is run but not kept, and a
store that cannot answer finds nothing: the client then sends the text again, which runs. Never an error.
"""

import asyncio
import logging
from collections import OrderedDict

import redis.asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger("ordergraph.persisted_queries")

MAX_DOCUMENT_BYTES = 100_000  # as QueryLimits.max_document_bytes: a larger document is refused anyway


class MemoryPersistedQueries:
    """schema.trusted_documents.PersistedQueryStore for one process: the most recently used documents, at most
    `max_entries` of them and `max_bytes` of text."""

    def __init__(
        self, *, max_entries: int = 10_000, max_bytes: int = 20_000_000, max_document_bytes: int = MAX_DOCUMENT_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_document_bytes = max_document_bytes
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    async def get(self, digest: str) -> str | None:
        document = self._documents.get(digest)
        if document is not None:
            self._documents.move_to_end(digest)
        return document

    async def put(self, digest: str, document: str) -> None:
        size = len(document.encode())
        if size > self.max_document_bytes:
            return
        previous = self._documents.pop(digest, None)
        if previous is not None:
            self._bytes -= len(previous.encode())
        self._documents[digest] = document
        self._bytes += size
        while len(self._documents) > self.max_entries or self._bytes > self.max_bytes:
            _, dropped = self._documents.popitem(last=False)
            self._bytes -= len(dropped.encode())

    def __len__(self) -> int:
        return len(self._documents)


class RedisPersistedQueries:
    """schema.trusted_documents.PersistedQueryStore shared by every process through Redis."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        redis_prefix: str,
        ttl_seconds: int = 24 * 3600,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        self._client = client
        self._prefix = redis_prefix
        self.ttl_seconds = ttl_seconds
        self.max_document_bytes = max_document_bytes

    def key(self, digest: str) -> str:
        return f"{self._prefix}:apq:{digest}"

    async def get(self, digest: str) -> str | None:
        try:
            # Shielded, as the cost limiter's calls (server/rate_limit.py): a cancellation that lands while
            # redis-py sets up a connection could otherwise be swallowed.
            found = await asyncio.shield(self._client.get(self.key(digest)))
        except (RedisError, OSError) as exc:
            logger.warning("persisted queries: Redis unreachable (%s); answering not found", exc.__class__.__name__)
            return None
        if found is None:
            return None
        try:
            return found.decode() if isinstance(found, bytes) else str(found)
        except UnicodeDecodeError:
            return None

    async def put(self, digest: str, document: str) -> None:
        text = document.encode()
        if len(text) > self.max_document_bytes:
            return
        try:
            await asyncio.shield(self._client.set(self.key(digest), text, ex=self.ttl_seconds))
        except (RedisError, OSError) as exc:
            logger.warning("persisted queries: Redis unreachable (%s); not registered", exc.__class__.__name__)
