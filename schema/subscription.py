"""Live order events over graphql-transport-ws. Each field replays the events after `after` from the log,
then continues live, in sequence order, with no gap and no duplicate."""

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Annotated, Any

import strawberry
from graphql.execution.executor import CollectedErrors
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from ordergraph.schema.awaitables import is_awaitable
from ordergraph.schema.bulk_exports import BulkExportSubscriptions
from ordergraph.schema.enums import OrderStatus
from ordergraph.schema.event import OrderEvent
from ordergraph.schema.info import Info
from ordergraph.schema.node import parse_global_id
from ordergraph.schema.scalars import BigInt
from ordergraph.subscriptions import live
from ordergraph.subscriptions.context import current_delivery

AFTER = "Replay the events with a higher sequence first (the last sequence the client saw); live only when null."


@strawberry.input
class OrderEventFilter:
    types: list[str] | None = strawberry.field(default=None, description="Event types (`OrderEvent.type`).")
    status: list[OrderStatus] | None = strawberry.field(
        default=None, description="Events of orders in these statuses when the event is delivered."
    )
    customer_id: strawberry.ID | None = None


@strawberry.type
class Subscription(BulkExportSubscriptions):
    @strawberry.subscription(
        description="The signed-in customer's own orders (a company's admins and approvers: also every order of "
        "their company); CUSTOMER-visible events only."
    )
    async def my_order_updates(
        self, info: Info, after: Annotated[BigInt | None, strawberry.argument(description=AFTER)] = None
    ) -> AsyncIterator[OrderEvent]:
        return await live.my_order_updates(info.context, after=after)

    @strawberry.subscription(description="Agents: every event, optionally filtered.")
    async def order_events(
        self,
        info: Info,
        after: Annotated[BigInt | None, strawberry.argument(description=AFTER)] = None,
        filter: OrderEventFilter | None = None,
    ) -> AsyncIterator[OrderEvent]:
        filter = filter or OrderEventFilter()
        customer_id = parse_global_id(filter.customer_id, "Customer")[1] if filter.customer_id else None
        return await live.order_events(
            info.context, after=after, types=filter.types or [], statuses=filter.status or [], customer_id=customer_id
        )

    @strawberry.subscription(description="One order: its customer (CUSTOMER-visible events) or an agent.")
    async def order_updated(
        self,
        info: Info,
        id: strawberry.ID,
        after: Annotated[BigInt | None, strawberry.argument(description=AFTER)] = None,
    ) -> AsyncIterator[OrderEvent]:
        return await live.order_updated(info.context, order_id=parse_global_id(id, "Order")[1], after=after)


class SharedExecution:
    """One execution of a selection for an event, and every subscriber waiting for its result: each waits on a
    future of its own, resolved by one callback when the execution ends (no shield and no callback per waiter),
    and a subscriber going away cancels its own future, never the execution the others are waiting for."""

    __slots__ = ("_task", "_waiters")

    def __init__(self, execution: Awaitable[Any]) -> None:
        self._task = asyncio.ensure_future(execution)
        self._waiters: list[asyncio.Future[Any]] = []
        self._task.add_done_callback(self._finished)

    def result(self) -> Any:
        """The result, or a future of it while the execution runs (graphql-core takes either)."""
        if self._task.done():
            return self._task.result()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    def _finished(self, task: asyncio.Future[Any]) -> None:
        error = None if task.cancelled() else task.exception()  # retrieved even when nobody waits any more
        for waiter in self._waiters:
            if waiter.done():
                continue
            if task.cancelled():
                waiter.cancel()
            elif error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(task.result())
        self._waiters.clear()


class SharedEventExecution(StrawberryGraphQLCoreExecutionContext):
    """Subscribers of this process that are delivered the same event with the same document, variables and
    viewer share one execution of their selection: the first runs it, the others await its result. (Everything
    else executes as usual: there is no event being delivered in its task.)"""

    _shared_key: tuple | None = None  # set on a subscription's executor before its first event

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable  # decided once per type (schema/awaitables.py)

    def build_per_event_executor(self, payload: Any) -> "SharedEventExecution":
        """graphql-core's (a copy with the event as root value and errors of its own), without copy.copy's
        __reduce_ex__ round, which cost several times as much once per subscriber per event; the sharing key is
        worked out once per subscription, here, and carried by every copy."""
        if self._shared_key is None:
            self._shared_key = self._sharing_key()
        executor = object.__new__(type(self))
        executor.__dict__.update(self.__dict__)
        executor.root_value = payload
        executor.collected_errors = CollectedErrors()
        return executor

    def _sharing_key(self) -> tuple:
        operation, viewer = self.operation, self.context_value.viewer
        return (
            operation.loc.source.body if operation.loc else id(operation),
            operation.name.value if operation.name else None,
            json.dumps(self.variable_values.coerced, sort_keys=True, default=str),
            viewer.role,
            viewer.customer_id,
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        delivery = current_delivery.get()
        if delivery is None or self.root_value is not delivery.event:
            return super().execute_operation(serially)
        key = self._shared_key or self._sharing_key()
        shared = delivery.executions.get(key)
        if shared is None:
            result = super().execute_operation(serially)
            if not inspect.isawaitable(result):
                return result
            shared = delivery.executions[key] = SharedExecution(result)
        return shared.result()
