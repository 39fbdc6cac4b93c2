"""Per-caller rate limits on query cost: a leaky bucket per caller that drains at a steady rate.

The embedded default keeps buckets in this process's memory; with Redis (production, many processes) the
bucket lives in Redis and is updated by one Lua script, so concurrent requests on any process see one level.
"""

import asyncio
import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ordergraph.schema.limits import Bucket

logger = logging.getLogger("ordergraph.rate_limit")


def _level_after(level: float, updated: float, now: float, bucket: Bucket) -> float:
    return max(0.0, level - (now - updated) * bucket.drain_per_second)


class MemoryCostLimiter:
    """schema.limits.CostLimiter for one process."""

    MAX_CALLERS = 100_000  # beyond this, the longest-idle buckets go (they have drained by then anyway)

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, caller: str, cost: int, bucket: Bucket) -> float:
        now = time.monotonic()
        level = _level_after(*self._buckets.pop(caller, (0.0, now)), now, bucket)
        if level + cost > bucket.capacity:
            self._buckets[caller] = (level, now)
            return (level + cost - bucket.capacity) / bucket.drain_per_second
        self._buckets[caller] = (level + cost, now)
        if len(self._buckets) > self.MAX_CALLERS:
            del self._buckets[next(iter(self._buckets))]
        return 0.0


# KEYS[1]: the bucket; ARGV: cost, capacity, drain per second. Redis's own clock, so processes agree.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local cost, capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'level', 'updated')
local level = tonumber(state[1]) or 0
local updated = tonumber(state[2]) or now
level = math.max(0, level - (now - updated) * rate)
local retry = 0
if level + cost > capacity then
  retry = (level + cost - capacity) / rate
else
  level = level + cost
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(retry)
"""


def _retrieve(task: "asyncio.Future[object]") -> None:
    if not task.cancelled():
        task.exception()


class RedisCostLimiter:
    """schema.limits.CostLimiter shared by every process through Redis.

    While Redis is away (an error, or no answer within `timeout` seconds) each process limits on buckets of its
    own (a MemoryCostLimiter), asking Redis again every `retry_seconds`, and goes back to Redis as soon as it
    answers. Each outage is logged once when it starts and once when it ends."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        redis_prefix: str,
        timeout: float = 0.5,
        retry_seconds: float = 1.0,
        fallback: MemoryCostLimiter | None = None,
    ) -> None:
        self._take = client.register_script(_TAKE)
        self._prefix = redis_prefix
        self._timeout = timeout
        self._retry_seconds = retry_seconds
        self._fallback = fallback or MemoryCostLimiter()
        self._away_until: float | None = None  # while Redis is away: when to ask it again

    @property
    def redis_away(self) -> bool:
        return self._away_until is not None

    async def take(self, caller: str, cost: int, bucket: Bucket) -> float:
        if self._away_until is not None and time.monotonic() < self._away_until:
            return await self._fallback.take(caller, cost, bucket)
        call = asyncio.ensure_future(
            self._take(keys=[f"{self._prefix}:cost:{caller}"], args=[cost, bucket.capacity, bucket.drain_per_second])
        )
        call.add_done_callback(_retrieve)  # a call given up on may still fail later: not an unretrieved error
        try:
            # Shielded: redis-py can swallow a cancellation that lands while it sets up a connection, and the
            # request (a subscription whose socket closed) would then never end. The call finishes on its own.
            retry = await asyncio.wait_for(asyncio.shield(call), self._timeout)
        except (RedisError, TimeoutError, OSError) as exc:
            # Redis away (restarting, or not answering): limit in this process; the per-request limits still hold.
            if self._away_until is None:
                logger.warning(
                    "cost limiter: Redis unreachable (%s); rate limiting in this process until it is back",
                    exc.__class__.__name__,
                )
            self._away_until = time.monotonic() + self._retry_seconds
            return await self._fallback.take(caller, cost, bucket)
        if self._away_until is not None:
            self._away_until = None
            logger.warning("cost limiter: Redis is back; rate limiting in Redis again")
        return float(retry)
