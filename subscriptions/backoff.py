"""Retrying with backoff: the one way the app's background loops wait out a database or Redis that is away.

Used by the outbox relay (a publish pass), the event hub (reading back what it missed), the Redis listener
(reconnecting) and the notifier (a pass over the outbox and the queue). It lives here, in subscriptions/,
beside background.py that stops those loops: that is the lowest room running background tasks, below
server/ (the notifier imports it from here), and nothing further down retries — models, loaders and
resolvers answer a request, refusing or failing rather than waiting.

A `Backoff` keeps one loop's delay. Its invariants:

- The first failure, and the first after a success, waits `first` seconds; each further failure waits twice
  the one before, never more than `last` (0.05 s, 0.1 s, 0.2 s … up to 2 s by default).
- A success resets it: `reset()` (which `retry` calls itself), and the next failure waits `first` again.
- Every wait is announced by one warning, `logger.warning(message, error, delay)`: the message names the
  loop and has two placeholders, the error and the delay in seconds.
- Cancellation is never swallowed. Only `Exception` is retried; `CancelledError` (a `BaseException`) passes
  through, and the waits are where a cancellation lands. redis-py can swallow a cancellation that lands inside
  one of its calls and the loop would carry on: `background.cancel_and_wait` cancels again until the task
  ends, and a failure seen by a task that has been asked to cancel (`Task.cancelling()`, the request a
  swallowed cancellation leaves behind) raises `CancelledError` here instead of retrying.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

FIRST_RETRY_SECONDS = 0.05
LAST_RETRY_SECONDS = 2.0

T = TypeVar("T")


class Backoff:
    """One loop's doubling delay between attempts, from `first` to at most `last` seconds."""

    def __init__(
        self,
        logger: logging.Logger,
        message: str,
        *,
        first: float = FIRST_RETRY_SECONDS,
        last: float = LAST_RETRY_SECONDS,
    ) -> None:
        if not 0 < first <= last:
            raise ValueError(f"backoff needs 0 < first <= last, not {first} and {last}")
        self.logger = logger
        self.message = message
        self.first = first
        self.last = last
        self._delay = first

    @property
    def delay(self) -> float:
        """How long the next failure waits."""
        return self._delay

    def reset(self) -> None:
        """After a success: the next failure waits `first` again."""
        self._delay = self.first

    async def failed(self, error: BaseException) -> None:
        """After a failure: warns, waits the current delay, and doubles it (up to `last`) for the next one.
        Raises `CancelledError` instead when the task has been asked to cancel (its cancellation swallowed)."""
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        self.logger.warning(self.message, error, self._delay)
        await asyncio.sleep(self._delay)
        self._delay = min(self._delay * 2, self.last)

    async def retry(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()`'s result, called again after each failure until it succeeds."""
        while True:
            try:
                result = await call()
            except Exception as error:  # noqa: BLE001  (whatever the attempt raised, it is tried again)
                await self.failed(error)
            else:
                self.reset()
                return result
