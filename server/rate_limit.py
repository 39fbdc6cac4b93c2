"""Per-caller rate limits on query cost: a leaky bucket per caller that drains at a steady rate.

The embedded default keeps buckets in this process's memory; with Redis (production, many processes) the
bucket lives in Redis and is updated by one Lua script, so concurrent requests on any process see one level.
"""

import asyncio
import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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


class RedisCostLimiter:
    """schema.limits.CostLimiter shared by every process through Redis."""

    def __init__(self, client: aioredis.Redis, *, redis_prefix: str) -> None:
        self._take = client.register_script(_TAKE)
        self._prefix = redis_prefix

    async def take(self, caller: str, cost: int, bucket: Bucket) -> float:
        call = self._take(keys=[f"{self._prefix}:cost:{caller}"], args=[cost, bucket.capacity, bucket.drain_per_second])
        try:
            # Shielded: redis-py can swallow a cancellation that lands while it sets up a connection, and the
            # request (a subscription whose socket closed) would then never end. The call finishes on its own.
            retry = await asyncio.shield(call)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            # Redis away (restarting): serve unlimited rather than not at all; the per-request limits still hold.
            logger.warning("cost limiter: Redis unreachable (%s); not rate limiting", exc.__class__.__name__)
            return 0.0
        return float(retry)
