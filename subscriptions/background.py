"""Stopping the background tasks the app starts (outbox relay, event hub)."""

import asyncio

CANCEL_AGAIN_SECONDS = 1.0


async def cancel_and_wait(task: asyncio.Task) -> None:
    """Cancels `task` until it ends. Once is not always enough: redis-py can swallow a cancellation that lands
    inside one of its calls, and the task's loop then goes on as if nothing happened."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=CANCEL_AGAIN_SECONDS)
    if not task.cancelled():
        task.exception()  # retrieved, not raised: stopping goes on; the task's loop logged what went wrong
