"""The cyclic garbage collector tuned for a long-running server (settings gc_freeze and gc_threshold).

Python's full collection walks every object alive: here the modules, the schema, SQLAlchemy's tables and caches,
some 300,000 objects. With Python's defaults one ran about every 25 requests of an order history and paused it for
150 to 350 ms (issue #20): that pause was the server's p99, and the collector took some 12 ms a request on average.

- gc_freeze (default on): once start-up is done (imports, the schema, the services; the demo seed comes before),
  what is alive is moved to the collector's permanent generation, which no collection walks. A full collection then
  walks only what requests have left behind: its pause fell to 15-25 ms, the collector's share to about 2 ms a
  request. Those objects stay as long as the process (they are its code and its schema); reference counting still
  frees anything they stop holding.
- gc_threshold (default 0: Python's 700): allocations between young-generation collections. Measured with the
  freeze, a higher one (2,000; 10,000) saved no CPU and made each middle-generation collection longer (18-40 ms
  instead of 4), so the default keeps Python's; it is there for a workload that measures otherwise.
- Refreezing (`Collector`, with gc_freeze): a process holding thousands of live subscriptions also
  holds millions of long-lived objects made later (each subscription's task, generators, execution context and
  extensions; each socket's context). A full collection scans them all with the event loop stopped: with 10,000
  subscriptions it took 1 to 12 s (bench.fanout), and every delivery waited for it. Here whatever has survived a
  full collection is frozen as well (`gc.freeze`), within a second of it: no later collection scans it, so full
  collections only look at what became long-lived since. Frozen objects that become garbage are still freed by
  reference counting when nothing refers to them; only garbage held in reference cycles among them waits, for the
  next thaw: every `thaw_seconds` everything is unfrozen and the next full collection reclaims it (one long pause
  that often).
"""

import asyncio
import gc
import logging

from ordergraph.subscriptions.background import cancel_and_wait

logger = logging.getLogger("ordergraph.gc")

_frozen = False  # once per process: every app a test process builds runs its start-up


def tune_garbage_collector(*, freeze: bool, threshold: int) -> None:
    """Applies the settings to this process; `threshold` 0 keeps Python's thresholds."""
    global _frozen
    if threshold > 0:
        _, middle, old = gc.get_threshold()
        gc.set_threshold(threshold, middle, old)
    if freeze and not _frozen:
        gc.collect()  # what start-up left as garbage is freed, not kept for ever
        gc.freeze()
        _frozen = True
        logger.debug("garbage collector: %d objects frozen, thresholds %s", gc.get_freeze_count(), gc.get_threshold())


CHECK_SECONDS = 1.0


class Collector:
    def __init__(self, *, thaw_seconds: float) -> None:
        self.thaw_seconds = thaw_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gc-freezer")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            gc.unfreeze()  # what it froze may be collected again (a test process builds many apps)

    async def _run(self) -> None:
        full_collections = _full_collections()
        since_thaw = 0.0
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            since_thaw += CHECK_SECONDS
            if since_thaw >= self.thaw_seconds:
                since_thaw = 0.0
                logger.info("unfreezing %d objects for the next full collection", gc.get_freeze_count())
                gc.unfreeze()
            elif _full_collections() != full_collections:
                gc.freeze()  # what survived that collection is not scanned again
            full_collections = _full_collections()


def _full_collections() -> int:
    return gc.get_stats()[2]["collections"]
