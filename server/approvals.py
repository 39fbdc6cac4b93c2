"""The approval sweep (#21): every `approval_sweep_seconds`, business orders whose approval is still PENDING past
its expiry are cancelled as EXPIRED, releasing their stock and their company's credit
(resolvers.company_orders.expire_approvals). Every process may run it: each order is locked and checked again."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from ordergraph.resolvers.company_orders import expire_approvals
from ordergraph.resolvers.events import WriteSession
from ordergraph.resolvers.ports.payment import PaymentGateway

logger = logging.getLogger("ordergraph.approvals")


class ApprovalSweep:
    def __init__(
        self, write: WriteSession, gateway: PaymentGateway, clock: Callable[[], datetime], every_seconds: float
    ) -> None:
        self.write = write
        self.gateway = gateway
        self.clock = clock
        self.every_seconds = every_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="approval-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping.set()
            await asyncio.gather(self._task, return_exceptions=True)

    async def run_once(self) -> int:
        """One pass; answers how many approvals expired."""
        return await expire_approvals(self.write, self.gateway, self.clock())

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.every_seconds)
                return
            except TimeoutError:
                pass
            try:
                expired = await self.run_once()
                if expired:
                    logger.info("%d approval(s) expired", expired)
            except Exception as error:  # noqa: BLE001  (the database away: the next pass tries again)
                logger.warning("approval sweep could not run: %r", error)
