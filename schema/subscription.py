"""Live order events over graphql-transport-ws. Each field replays the events after `after` from the log,
then continues live, in sequence order, with no gap and no duplicate."""

import asyncio
import inspect
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

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
class Subscription:
    @strawberry.subscription(description="The signed-in customer's own orders; CUSTOMER-visible events only.")
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


class SharedEventExecution(StrawberryGraphQLCoreExecutionContext):
    """Subscribers of this process that are delivered the same event with the same document, variables and
    viewer share one execution of their selection: the first runs it, the others await its result. (Everything
    else executes as usual: there is no event being delivered in its task.)"""

    def execute_operation(self, serially: bool | None = None) -> Any:
        delivery = current_delivery.get()
        if delivery is None or self.root_value is not delivery.event:
            return super().execute_operation(serially)
        operation, viewer = self.operation, self.context_value.viewer
        key = (
            operation.loc.source.body if operation.loc else id(operation),
            operation.name.value if operation.name else None,
            json.dumps(self.variable_values.coerced, sort_keys=True, default=str),
            viewer.role,
            viewer.customer_id,
        )
        execution = delivery.executions.get(key)
        if execution is None:
            result = super().execute_operation(serially)
            if not inspect.isawaitable(result):
                return result
            execution = delivery.executions[key] = asyncio.ensure_future(result)
        # One subscriber going away must not cancel the execution the others are waiting for.
        return asyncio.shield(execution)
